//go:build !nosimulator

package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/runnersim"
)

// runDemo runs the action as the runner would, on the bundled throwaway
// key, against the local App Store Connect simulator, in a temporary
// runner layout, and shows what a workflow would show:
// the log with secrets masked, the outputs, the exported variables and the
// step summary.
func runDemo(ctx context.Context, e Env) int {
	dir, err := os.MkdirTemp("", "asc-auth-demo-")
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return exitFailure
	}
	defer os.RemoveAll(dir)
	files := map[string]string{}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		files[name] = filepath.Join(dir, strings.ToLower(name))
		if err := os.WriteFile(files[name], nil, 0o644); err != nil {
			fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
			return exitFailure
		}
	}
	sim, apiURL, err := startDemoSimulator(e.DemoKey, e.Now, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return exitFailure
	}
	defer sim.Close()
	runnerTemp := filepath.Join(dir, "runner_temp")
	ipa := filepath.Join(dir, "Demo.ipa")
	if err := writeDemoIPA(ipa); err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth demo: %v\n", err)
		return exitFailure
	}
	env := map[string]string{
		"GITHUB_ACTIONS":            "true",
		"CI":                        "true",
		"RUNNER_TEMP":               runnerTemp,
		"GITHUB_WORKSPACE":          dir,
		"GITHUB_OUTPUT":             files["GITHUB_OUTPUT"],
		"GITHUB_ENV":                files["GITHUB_ENV"],
		"GITHUB_STEP_SUMMARY":       files["GITHUB_STEP_SUMMARY"],
		"INPUT_KEY-ID":              demoKeyID,
		"INPUT_ISSUER-ID":           demoIssuerID,
		"INPUT_PRIVATE-KEY":         string(e.DemoKey),
		"INPUT_API-KEY-JSON-PATH":   filepath.Join(runnerTemp, "api_key.json"),
		"INPUT_EXPORT-ENV":          "true",
		"INPUT_IN-HOUSE":            "false",
		"INPUT_BUILD-NUMBER":        "true",
		"INPUT_APP":                 demoBundleID,
		"INPUT_API-BASE-URL":        apiURL,
		"INPUT_UPLOAD-FILE":         ipa,
		"INPUT_WAIT-FOR-PROCESSING": "2m",
	}
	var log bytes.Buffer
	step := e
	step.Args, step.Stdout = nil, &log
	step.uploadTuning = uploadTuning{PollInterval: 250 * time.Millisecond}
	step.Getenv = func(k string) string { return env[k] }
	code := runAction(ctx, step)

	var masker runnersim.Masker
	w := e.Stdout
	fmt.Fprintf(w, "asc-auth demo: the token, build-number and upload steps on the bundled test key (testdata/AuthKey_%s.p8)\n", demoKeyID)
	fmt.Fprintf(w, "against the local App Store Connect simulator at %s\n", apiURL)
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
			return exitFailure
		}
	}
	summary, _ := os.ReadFile(files["GITHUB_STEP_SUMMARY"])
	fmt.Fprintf(w, "\n== Step summary ==\n%s", masker.Mask(string(summary)))
	if code != exitOK {
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
		return exitFailure
	}
	for _, kv := range kvs {
		if kv.Name == "token" {
			fmt.Fprintln(w, "\n== The demo token decoded (a throwaway key, so it may be shown) ==")
			return printDecoded(w, stderr, kv.Value)
		}
	}
	fmt.Fprintln(stderr, "asc-auth demo: the step wrote no token output")
	return exitFailure
}

// writeDemoIPA writes a generated sample .ipa: build 14 of version 1.1, the
// next free build number of the demo app, with 6 MB of stored assets so
// that the upload has several parts.
func writeDemoIPA(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = bundletest.WriteIPA(f, bundletest.IPAOptions{
		BundleID: demoBundleID, ShortVersion: "1.1", BuildVersion: "14", AssetSize: 6 << 20, AssetSeed: 1,
	})
	return errors.Join(err, f.Close())
}
