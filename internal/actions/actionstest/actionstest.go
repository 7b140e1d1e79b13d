// Package actionstest is a fake GitHub Actions runner for tests: an
// environment map with the runner's usual variables, temporary files for the
// file commands, a buffer for standard output, and strict parsers for what an
// action writes to them.
//
//	r := actionstest.New(t)
//	r.SetInput("key-id", "ABC123")
//	rt := r.Runtime()
//	// ... run the code under test with rt ...
//	got := r.Outputs()["token"]
package actionstest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/runnersim"
)

// Runner is a fake runner for one test. Its methods other than Getenv,
// SetInput and Setenv must be called from the test's goroutine.
type Runner struct {
	tb testing.TB

	// Stdout receives what the action writes to standard output.
	Stdout *bytes.Buffer

	// OutputFile, EnvFile and SummaryFile are the files named by
	// GITHUB_OUTPUT, GITHUB_ENV and GITHUB_STEP_SUMMARY.
	OutputFile, EnvFile, SummaryFile string

	mu  sync.Mutex
	env map[string]string
}

// New returns a Runner whose environment holds GITHUB_ACTIONS=true, CI=true,
// RUNNER_OS, RUNNER_TEMP, GITHUB_WORKSPACE and HOME (fresh temporary
// directories), GITHUB_REPOSITORY, the github.com URLs, and GITHUB_OUTPUT,
// GITHUB_ENV and GITHUB_STEP_SUMMARY naming empty files, as the runner
// creates them before each step.
func New(tb testing.TB) *Runner {
	tb.Helper()
	dir := tb.TempDir()
	r := &Runner{
		tb:          tb,
		Stdout:      new(bytes.Buffer),
		OutputFile:  filepath.Join(dir, "set_output"),
		EnvFile:     filepath.Join(dir, "set_env"),
		SummaryFile: filepath.Join(dir, "step_summary"),
	}
	for _, f := range []string{r.OutputFile, r.EnvFile, r.SummaryFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			tb.Fatalf("actionstest: %v", err)
		}
	}
	r.env = map[string]string{
		"CI":                  "true",
		"GITHUB_ACTIONS":      "true",
		"GITHUB_API_URL":      "https://api.github.com",
		"GITHUB_ENV":          r.EnvFile,
		"GITHUB_OUTPUT":       r.OutputFile,
		"GITHUB_REPOSITORY":   "octo-org/octo-repo",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_STEP_SUMMARY": r.SummaryFile,
		"GITHUB_WORKSPACE":    tb.TempDir(),
		"HOME":                tb.TempDir(),
		"RUNNER_OS":           "Linux",
		"RUNNER_TEMP":         tb.TempDir(),
	}
	return r
}

// Getenv returns the value of the variable key in the fake environment, or
// "" if it is unset. Pass it where os.Getenv would go.
func (r *Runner) Getenv(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.env[key]
}

// Setenv sets key to value in the fake environment; "" unsets it.
func (r *Runner) Setenv(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if value == "" {
		delete(r.env, key)
		return
	}
	r.env[key] = value
}

// SetInput sets the input name as the runner passes it: INPUT_ and the name
// upper-cased, spaces turned into underscores, hyphens kept (INPUT_KEY-ID).
func (r *Runner) SetInput(name, value string) {
	r.Setenv("INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_")), value)
}

// Runtime returns an actions.Runtime wired to this runner. Unless opts say
// otherwise, its mount table is empty, so HostPath behaves as outside a
// container whatever machine runs the test.
func (r *Runner) Runtime(opts ...actions.Option) *actions.Runtime {
	noMounts := actions.WithMountInfo(func() ([]byte, error) { return nil, nil })
	return actions.New(r.Getenv, r.Stdout, append([]actions.Option{noMounts}, opts...)...)
}

// Outputs parses the GITHUB_OUTPUT file with [runnersim.ParseFileCommands] and returns
// the outputs, a later entry overriding an earlier one as on the runner. It
// fails the test if the file does not parse.
func (r *Runner) Outputs() map[string]string {
	r.tb.Helper()
	return r.fileCommands(r.OutputFile)
}

// Env parses the GITHUB_ENV file like [Runner.Outputs].
func (r *Runner) Env() map[string]string {
	r.tb.Helper()
	return r.fileCommands(r.EnvFile)
}

func (r *Runner) fileCommands(file string) map[string]string {
	r.tb.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		r.tb.Fatalf("actionstest: %v", err)
	}
	kvs, err := runnersim.ParseFileCommands(data)
	if err != nil {
		r.tb.Fatalf("actionstest: %s: %v", filepath.Base(file), err)
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Name] = kv.Value
	}
	return m
}

// Summary returns the contents of the step summary file.
func (r *Runner) Summary() string {
	r.tb.Helper()
	data, err := os.ReadFile(r.SummaryFile)
	if err != nil {
		r.tb.Fatalf("actionstest: %v", err)
	}
	return string(data)
}

// Masks returns the values of the ::add-mask:: commands in Stdout, unescaped,
// in order and with any repeats.
func (r *Runner) Masks() []string {
	var masks []string
	for _, c := range runnersim.ParseCommands(r.Stdout.Bytes()) {
		if c.Name == "add-mask" {
			masks = append(masks, c.Message)
		}
	}
	return masks
}

// Annotations returns the ::error, ::warning and ::notice commands in Stdout,
// in order.
func (r *Runner) Annotations() []runnersim.Annotation {
	var as []runnersim.Annotation
	for _, c := range runnersim.ParseCommands(r.Stdout.Bytes()) {
		switch c.Name {
		case "error", "warning", "notice":
			as = append(as, runnersim.Annotation{Level: c.Name, Title: c.Properties["title"], Message: c.Message})
		}
	}
	return as
}
