package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/runnersim"
)

// runUploadCLI is "asc-auth upload [flags] FILE": the upload step run from
// a shell. It drives the same step code as the action, on a runner layout
// in a temporary folder, shows the log as a terminal should (no masks,
// annotations as "Error: …") and prints the outputs as NAME=VALUE.
func runUploadCLI(ctx context.Context, args []string, e Env) int {
	f := newInputFlags("asc-auth upload", e.Stderr)
	for input, help := range map[string]string{
		config.InputApp:               "the app's bundle ID or numeric ID (default: from the file)",
		config.InputPlatform:          "IOS, MAC_OS, TV_OS or VISION_OS (default: from the file)",
		config.InputVersion:           "CFBundleShortVersionString, for a .pkg that does not say it",
		config.InputUploadBuildNumber: "CFBundleVersion, for a .pkg that does not say it",
		config.InputWaitForProcessing: "wait this long for processing, e.g. 30m (default: the upload only)",
		config.InputUploadConcurrency: "parts sent at once, 1 to 16 (default 4)",
		config.InputUploadChecksum:    "none (default) or md5",
		config.InputAPIBaseURL:        "the API's base URL (default " + config.DefaultAPIBaseURL + ")",
	} {
		f.string(input, help)
	}
	f.bools[config.InputDryRun] = f.fs.Bool(config.InputDryRun, false, "check the file and the build number, send nothing")
	input, code := f.parseArgs(args, 1, e.Stderr)
	if code != exitOK {
		return code
	}
	withFile := func(name string) string {
		if name == config.InputUploadFile {
			return input("arg0")
		}
		return input(name)
	}
	cfg, m, code := parseCLIConfig(withFile, e)
	if code != exitOK {
		return code
	}

	dir, err := os.MkdirTemp("", "asc-auth-upload-")
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		return exitFailure
	}
	defer os.RemoveAll(dir)
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	log := &renderedLog{w: e.Stderr}
	rt := actions.New(func(k string) string { return env[k] }, log)
	client := newClient(cfg, m, rt.Mask, func(msg string) { rt.Warningf("App Store Connect", "%s", msg) }, e)
	err = runUploadStep(ctx, rt, client, cfg.Upload, e.uploadTuning, e.Now)
	log.flush()
	if printed := printFileCommands(e.Stdout, env["GITHUB_OUTPUT"], func(v string) string { return v }); printed != nil && err == nil {
		err = printed
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		return exitFailure
	}
	return exitOK
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
// each value passed through show (the demo masks there) and with its line
// breaks written as \n.
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

// renderedLog shows workflow commands the way a person at a terminal wants
// them: masks and group ends hidden, annotations and groups as text. It
// holds a partial line until its end arrives.
type renderedLog struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

func (l *renderedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil { // no newline yet: keep the partial line
			l.buf.Reset()
			l.buf.WriteString(line)
			return len(p), nil
		}
		if shown, ok := runnersim.RenderLogLine(line); ok {
			if _, err := io.WriteString(l.w, shown); err != nil {
				return len(p), err
			}
		}
	}
}

func (l *renderedLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rest := strings.TrimSpace(l.buf.String()); rest != "" {
		if shown, ok := runnersim.RenderLogLine(rest + "\n"); ok {
			io.WriteString(l.w, shown)
		}
	}
	l.buf.Reset()
}
