package actions_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sethvargo/go-githubactions"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/runnersim"
)

// zeroDelimiter is the delimiter drawn from a reader of zero bytes.
const zeroDelimiter = "ghadelimiter_00000000-0000-4000-8000-000000000000"

// zeros returns a reader with enough zero bytes for many delimiters.
func zeros() io.Reader { return bytes.NewReader(make([]byte, 1<<10)) }

// fileCommand is SetOutput or ExportEnv and the file it writes.
type fileCommand struct {
	name  string
	write func(rt *actions.Runtime, name, value string) error
	file  func(r *actionstest.Runner) string
	env   string
}

func fileCommands() []fileCommand {
	return []fileCommand{
		{"SetOutput", (*actions.Runtime).SetOutput, func(r *actionstest.Runner) string { return r.OutputFile }, "GITHUB_OUTPUT"},
		{"ExportEnv", (*actions.Runtime).ExportEnv, func(r *actionstest.Runner) string { return r.EnvFile }, "GITHUB_ENV"},
	}
}

func parseFile(t *testing.T, path string) []runnersim.KV {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kvs, err := runnersim.ParseFileCommands(data)
	if err != nil {
		t.Fatalf("ParseFileCommands(%q): %v", data, err)
	}
	return kvs
}

func TestFileCommandHostileValues(t *testing.T) {
	t.Parallel()
	values := map[string]string{
		"go-githubactions delimiter":   "\n_GitHubActionsFileCommandDelimeter_\nEVIL=1\n",
		"closes and reopens old delim": "x\n_GitHubActionsFileCommandDelimeter_\nEVIL=1\nY<<_GitHubActionsFileCommandDelimeter_",
		"looks like our delimiter":     "ghadelimiter_\nghadelimiter_00000000-0000-4000-8000-000000000001\nEVIL=1",
		"carriage returns":             "a\r\nb\rc\r",
		"equals and heredoc markers":   "a=b<<c\n=\n<<\nNAME<<EOF\nEOF",
		"empty":                        "",
		"only newlines":                "\n\n",
		"leading and trailing white":   "  padded \t",
		"PEM":                          "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----\n",
		"percent and workflow command": "%0A::add-mask::x\n::error::y",
		"non-UTF-8 and NUL":            "\xff\x00\xfe",
	}
	for _, fc := range fileCommands() {
		for name, value := range values {
			t.Run(fc.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				r := actionstest.New(t)
				if err := fc.write(r.Runtime(), "token", value); err != nil {
					t.Fatalf("%s: %v", fc.name, err)
				}
				kvs := parseFile(t, fc.file(r))
				if len(kvs) != 1 || kvs[0].Name != "token" || kvs[0].Value != value {
					t.Errorf("parsed %q, want one entry token=%q", kvs, value)
				}
			})
		}
	}
}

func TestFileCommandAppends(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	rt := r.Runtime()
	for _, kv := range []runnersim.KV{{Name: "a", Value: "1"}, {Name: "b", Value: "two\nlines"}, {Name: "a", Value: "3"}} {
		if err := rt.SetOutput(kv.Name, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.ExportEnv("ASC_TOKEN_FILE", "/tmp/x"); err != nil {
		t.Fatal(err)
	}
	if got := parseFile(t, r.OutputFile); len(got) != 3 {
		t.Errorf("got %d entries, want 3: %q", len(got), got)
	}
	outputs := r.Outputs()
	if len(outputs) != 2 || outputs["a"] != "3" || outputs["b"] != "two\nlines" {
		t.Errorf("Outputs() = %q", outputs)
	}
	if env := r.Env(); len(env) != 1 || env["ASC_TOKEN_FILE"] != "/tmp/x" {
		t.Errorf("Env() = %q", env)
	}
}

func TestFileCommandFormat(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	if err := r.Runtime(actions.WithRand(zeros())).SetOutput("key-id", "v"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(r.OutputFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "key-id<<" + zeroDelimiter + "\nv\n" + zeroDelimiter + "\n"
	if string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}
}

func TestFileCommandRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value string
	}{
		{name: "empty name", key: "", value: "s3cr3t"},
		{name: "equals in name", key: "a=b", value: "s3cr3t"},
		{name: "heredoc in name", key: "a<<b", value: "s3cr3t"},
		{name: "LF in name", key: "a\nb", value: "s3cr3t"},
		{name: "CR in name", key: "a\rb", value: "s3cr3t"},
		{name: "delimiter in name", key: "x" + zeroDelimiter, value: "s3cr3t"},
		{name: "delimiter line in value", key: "token", value: "x\n" + zeroDelimiter + "\nEVIL=1"},
		{name: "delimiter inside value", key: "token", value: "x" + zeroDelimiter + "y"},
	}
	for _, fc := range fileCommands() {
		for _, tt := range tests {
			t.Run(fc.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				r := actionstest.New(t)
				err := fc.write(r.Runtime(actions.WithRand(zeros())), tt.key, tt.value)
				if err == nil {
					t.Fatalf("%s(%q, %q) succeeded, want an error", fc.name, tt.key, tt.value)
				}
				if strings.Contains(err.Error(), tt.value) {
					t.Errorf("error %q holds the value", err)
				}
				if data, _ := os.ReadFile(fc.file(r)); len(data) != 0 {
					t.Errorf("file = %q, want nothing written", data)
				}
			})
		}
	}
}

func TestFileCommandEnvironment(t *testing.T) {
	t.Parallel()
	for _, fc := range fileCommands() {
		t.Run(fc.name+"/unset", func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			r.Setenv(fc.env, "")
			err := fc.write(r.Runtime(), "a", "b")
			if err == nil || !strings.Contains(err.Error(), fc.env+" is not set") {
				t.Errorf("error = %v, want one saying %s is not set", err, fc.env)
			}
		})
		t.Run(fc.name+"/missing file is created", func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			path := filepath.Join(t.TempDir(), "new")
			r.Setenv(fc.env, path)
			if err := fc.write(r.Runtime(), "a", "b"); err != nil {
				t.Fatal(err)
			}
			if kvs := parseFile(t, path); len(kvs) != 1 || kvs[0] != (runnersim.KV{Name: "a", Value: "b"}) {
				t.Errorf("parsed %q", kvs)
			}
		})
		t.Run(fc.name+"/unwritable", func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			r.Setenv(fc.env, filepath.Join(t.TempDir(), "no", "such", "dir"))
			if err := fc.write(r.Runtime(), "a", "b"); err == nil || !strings.Contains(err.Error(), fc.env) {
				t.Errorf("error = %v, want one naming %s", err, fc.env)
			}
		})
		t.Run(fc.name+"/rand fails", func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			rt := r.Runtime(actions.WithRand(iotest.ErrReader(io.ErrUnexpectedEOF)))
			if err := fc.write(rt, "a", "b"); err == nil {
				t.Error("succeeded without randomness")
			}
			if data, _ := os.ReadFile(fc.file(r)); len(data) != 0 {
				t.Errorf("file = %q, want nothing written", data)
			}
		})
	}
}

// TestGoGitHubActionsSetOutputIsInjectable documents why this package writes
// file commands itself: go-githubactions v1.4.0 always uses the delimiter
// _GitHubActionsFileCommandDelimeter_, so a value holding that line ends its
// entry early and the rest of the value is read as further entries.
func TestGoGitHubActionsSetOutputIsInjectable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		value   string
		want    []runnersim.KV
		wantErr bool
	}{
		{
			// Injects EVIL and swallows the real closing delimiter: a clean parse.
			name:  "clean injection",
			value: "x\n_GitHubActionsFileCommandDelimeter_\nEVIL=1\nY<<_GitHubActionsFileCommandDelimeter_",
			want:  []runnersim.KV{{Name: "token", Value: "x"}, {Name: "EVIL", Value: "1"}, {Name: "Y", Value: ""}},
		},
		{
			// The runner sets EVIL=1 before it reaches the stray closing
			// delimiter and fails the step; the strict parser rejects it.
			name:    "injection then stray delimiter",
			value:   "\n_GitHubActionsFileCommandDelimeter_\nEVIL=1\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			gha := githubactions.New(githubactions.WithGetenv(r.Getenv), githubactions.WithWriter(io.Discard))
			gha.SetOutput("token", tt.value)
			data, err := os.ReadFile(r.OutputFile)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "\nEVIL=1\n") {
				t.Fatalf("file %q has no injected line", data)
			}
			got, err := runnersim.ParseFileCommands(data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFileCommands() error = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !slices.Equal(got, tt.want) {
				t.Errorf("parsed %q, want %q", got, tt.want)
			}

			// The same value through Runtime.SetOutput stays one output.
			r2 := actionstest.New(t)
			if err := r2.Runtime().SetOutput("token", tt.value); err != nil {
				t.Fatal(err)
			}
			if kvs := parseFile(t, r2.OutputFile); !slices.Equal(kvs, []runnersim.KV{{Name: "token", Value: tt.value}}) {
				t.Errorf("Runtime.SetOutput wrote %q", kvs)
			}
		})
	}
}

func TestAddStepSummary(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	rt := r.Runtime()
	for _, md := range []string{"## Token minted", "| key | expires |\n|---|---|\n"} {
		if err := rt.AddStepSummary(md); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := r.Summary(), "## Token minted\n| key | expires |\n|---|---|\n"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}

	r.Setenv("GITHUB_STEP_SUMMARY", "")
	if err := rt.AddStepSummary("x"); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY") {
		t.Errorf("error = %v, want one naming GITHUB_STEP_SUMMARY", err)
	}
}
