// Package devcmd holds the commands of the development build: the demo and
// the local App Store Connect simulator. They carry the test world (the
// simulator, its OpenAPI validator, a fixture generator and a throwaway
// key), which the product binary and image must not: main.go registers them
// only under the build tag dev (go run -tags dev . demo).
package devcmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/app"
	"github.com/asc-auth/action/internal/demo"
	"github.com/asc-auth/action/internal/runnersim"
)

// Commands returns the development build's commands, signing with demoKey,
// the bundled throwaway key.
func Commands(demoKey []byte) []app.Command {
	return []app.Command{
		{Name: "demo", Usage: "run the action on the bundled test key and the simulator", Run: func(ctx context.Context, e app.Env, _ []string) int {
			return runDemo(ctx, e, demoKey)
		}},
		{Name: "simulator", Usage: "serve a local App Store Connect simulator [-listen ADDR] [-quiet]", Run: func(ctx context.Context, e app.Env, args []string) int {
			return runSimulatorCLI(ctx, e, demoKey, args)
		}},
	}
}

// runDemo runs the action as the runner would, on the bundled throwaway
// key, against the local App Store Connect simulator, in a temporary
// runner layout, and shows what a workflow would show:
// the log with secrets masked, the outputs, the exported variables and the
// step summary.
func runDemo(ctx context.Context, e app.Env, demoKey []byte) int {
	dir, err := os.MkdirTemp("", "asc-auth-demo-")
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return app.ExitFailure
	}
	defer os.RemoveAll(dir)
	files := map[string]string{}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		files[name] = filepath.Join(dir, strings.ToLower(name))
		if err := os.WriteFile(files[name], nil, 0o644); err != nil {
			fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
			return app.ExitFailure
		}
	}
	sim, apiURL, err := demo.StartSimulator(demoKey, e.Now, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return app.ExitFailure
	}
	defer sim.Close()
	notary, err := demo.StartNotarySimulator(demoKey, e.Now)
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return app.ExitFailure
	}
	defer notary.Close()
	pkg := filepath.Join(dir, "Demo.pkg")
	if err := demo.WritePKG(pkg); err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return app.ExitFailure
	}
	runnerTemp := filepath.Join(dir, "runner_temp")
	ipa := filepath.Join(dir, "Demo.ipa")
	if err := demo.WriteIPA(ipa); err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return app.ExitFailure
	}
	env := map[string]string{
		"GITHUB_ACTIONS":            "true",
		"CI":                        "true",
		"RUNNER_TEMP":               runnerTemp,
		"GITHUB_WORKSPACE":          dir,
		"GITHUB_OUTPUT":             files["GITHUB_OUTPUT"],
		"GITHUB_ENV":                files["GITHUB_ENV"],
		"GITHUB_STEP_SUMMARY":       files["GITHUB_STEP_SUMMARY"],
		"INPUT_KEY-ID":              demo.KeyID,
		"INPUT_ISSUER-ID":           demo.IssuerID,
		"INPUT_PRIVATE-KEY":         string(demoKey),
		"INPUT_API-KEY-JSON-PATH":   filepath.Join(runnerTemp, "api_key.json"),
		"INPUT_EXPORT-ENV":          "true",
		"INPUT_IN-HOUSE":            "false",
		"INPUT_BUILD-NUMBER":        "true",
		"INPUT_APP":                 demo.BundleID,
		"INPUT_API-BASE-URL":        apiURL,
		"INPUT_UPLOAD-FILE":         ipa,
		"INPUT_WAIT-FOR-PROCESSING": "2m",
		// The runner passes every declared default; these matter here.
		"INPUT_SUBMIT-BETA-REVIEW":         "auto",
		"INPUT_EXPIRE-BUILD-IN-REVIEW":     "false",
		"INPUT_DISTRIBUTION-TIMEOUT":       "15m",
		"INPUT_TESTFLIGHT-GROUPS":          demo.GroupEveryone + "\n" + demo.GroupQA + "\n" + demo.GroupPublic,
		"INPUT_WHAT-TO-TEST":               "Try the new sign-in screen.",
		"INPUT_WHAT-TO-TEST-LOCALIZED":     `{"de-DE": "Bitte den neuen Anmeldebildschirm testen."}`,
		"INPUT_USES-NON-EXEMPT-ENCRYPTION": "false",
		"INPUT_NOTIFY-TESTERS":             "true",
		"INPUT_NOTARIZE-FILE":              pkg,
		"INPUT_NOTARIZE-TIMEOUT":           "2m",
		"INPUT_NOTARY-BASE-URL":            notary.NotaryURL(),
		"INPUT_S3-ENDPOINT-URL":            notary.S3URL(),
		"INPUT_TICKET-BASE-URL":            notary.NotaryURL(),
	}
	var log bytes.Buffer
	step := e
	step.Args, step.Stdout = nil, &log
	step.PollInterval = 250 * time.Millisecond
	step.Getenv = func(k string) string { return env[k] }
	code := app.Main(ctx, step)

	var masker runnersim.Masker
	w := e.Stdout
	fmt.Fprintf(w, "asc-auth demo: the token, build-number, upload, testflight and notarize steps on the bundled test key (testdata/AuthKey_%s.p8)\n", demo.KeyID)
	fmt.Fprintf(w, "against the local App Store Connect simulator at %s and the notary stand-in at %s\n", apiURL, notary.NotaryURL())
	fmt.Fprintln(w, "\n== Step log, as the runner shows it ==")
	for line := range strings.Lines(log.String()) {
		for _, c := range runnersim.ParseCommands([]byte(line)) {
			if c.Name == "add-mask" {
				masker.Add(c.Message)
			}
		}
		if shown, ok := runnersim.RenderLogLine(line); ok {
			fmt.Fprint(w, masker.Mask(shown))
		}
	}
	for _, f := range []struct{ title, file string }{
		{"Outputs", "GITHUB_OUTPUT"},
		{"Environment for later steps", "GITHUB_ENV"},
	} {
		fmt.Fprintf(w, "\n== %s ==\n", f.title)
		if err := printFileCommands(w, files[f.file], masker.Mask); err != nil {
			fmt.Fprintf(e.Stderr, "asc-auth demo: %s: %v\n", f.file, err)
			return app.ExitFailure
		}
	}
	summary, _ := os.ReadFile(files["GITHUB_STEP_SUMMARY"])
	fmt.Fprintf(w, "\n== Step summary ==\n%s", masker.Mask(string(summary)))
	if code != app.ExitOK {
		return code
	}
	return printDemoToken(w, e.Stderr, files["GITHUB_OUTPUT"])
}

// printDemoToken decodes the demo token: it is signed by a throwaway key,
// so showing its claims teaches without leaking anything.
func printDemoToken(w, stderr io.Writer, outputFile string) int {
	kvs, err := readFileCommands(outputFile)
	if err != nil {
		fmt.Fprintf(stderr, "asc-auth demo: %v\n", err)
		return app.ExitFailure
	}
	for _, kv := range kvs {
		if kv.Name == "token" {
			fmt.Fprintln(w, "\n== The demo token decoded (a throwaway key, so it may be shown) ==")
			return app.PrintDecoded(w, stderr, kv.Value)
		}
	}
	fmt.Fprintln(stderr, "asc-auth demo: the step wrote no token output")
	return app.ExitFailure
}

// readFileCommands reads a GITHUB_OUTPUT or GITHUB_ENV file by the
// runner's rules; a file that was never written has no entries.
func readFileCommands(path string) ([]runnersim.KV, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return runnersim.ParseFileCommands(data)
}

// printFileCommands prints a file command's entries as NAME=VALUE lines,
// each value masked as the runner would and with its line breaks written
// as \n.
func printFileCommands(w io.Writer, path string, show func(string) string) error {
	kvs, err := readFileCommands(path)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		fmt.Fprintf(w, "%s=%s\n", kv.Name, strings.ReplaceAll(show(kv.Value), "\n", `\n`))
	}
	return nil
}
