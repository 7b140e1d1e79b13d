package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSessionCLI runs asc-auth session from a file and from standard
// input: it prints the expiry as outputs and never the session.
func TestSessionCLI(t *testing.T) {
	t.Parallel()
	sim, url := sessionSimulator(t)
	valid, validS := readSession(t, "valid.session")
	sim.RegisterSession(myacinfo(validS), true)
	expired, _ := readSession(t, "expired.session")
	file := filepath.Join(t.TempDir(), "session.txt")
	if err := os.WriteFile(file, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "from a file, checked live", args: []string{"--file", file, "--session-base-url", url},
			wantStdout: "session-expires-at=", wantStderr: "The Apple ID session is valid"},
		{name: "from standard input, unchecked", args: []string{"--session-check=false"}, stdin: valid,
			wantStdout: "session-days-left="},
		{name: "expired", args: []string{"--session-check=false"}, stdin: expired,
			wantCode: exitFailure, wantStderr: "expired on"},
		{name: "nothing given", wantCode: exitUsage, wantStderr: "no session given"},
		{name: "not a session", stdin: "hello", wantCode: exitFailure, wantStderr: "input session:"},
		{name: "missing file", args: []string{"--file", filepath.Join(t.TempDir(), "nope")}, wantCode: exitFailure, wantStderr: "cannot read the session"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			code := Main(t.Context(), Env{
				Args: append([]string{"session"}, tc.args...), Getenv: func(string) string { return "" },
				Stdin: strings.NewReader(tc.stdin), Stdout: &stdout, Stderr: &stderr,
				Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile, Version: "test",
			})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stdout %q lacks %q or stderr %q lacks %q", stdout.String(), tc.wantStdout, stderr.String(), tc.wantStderr)
			}
			for _, c := range validS.Cookies {
				if len(c.Value) >= 8 && (strings.Contains(stdout.String(), c.Value) || strings.Contains(stderr.String(), c.Value)) {
					t.Errorf("cookie %s's value was printed", c.Name)
				}
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// TestActionFailsWhenTheLogCannotBeWritten: a log that lost lines, masks
// perhaps among them, must not pass as a success.
func TestActionFailsWhenTheLogCannotBeWritten(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	env := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_PRIVATE-KEY-PATH": filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8"),
		"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out")}
	code := Main(t.Context(), Env{
		Getenv: func(k string) string { return env[k] }, Stdout: failingWriter{}, Stderr: &stderr,
		Now: func() time.Time { return fixedNow }, ReadFile: os.ReadFile,
	})
	if code != exitFailure || !strings.Contains(stderr.String(), "writing the log failed") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
