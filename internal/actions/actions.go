// Package actions is the GitHub Actions runtime adapter: the only importer of
// go-githubactions.
//
// A [Runtime] reads inputs, masks secrets, writes outputs, exported
// environment variables and the step summary, issues annotations, and maps
// container paths back to host paths. It reads the environment only through
// the getenv function given to [New], so tests drive it with a map (see the
// actionstest subpackage).
//
// Outputs and exported variables are written by this package rather than by
// go-githubactions, whose v1.4.0 uses a fixed heredoc delimiter that a value
// can close early to inject further entries (the flaw @actions/core fixed for
// CVE-2022-35954). Each entry here gets a fresh random delimiter.
package actions

import (
	"crypto/rand"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"

	"github.com/asc-auth/action/internal/redact"
)

// Runtime is the GitHub Actions runner as seen from inside the action. It is
// safe for concurrent use.
type Runtime struct {
	getenv    func(string) string
	out       *logWriter
	gha       *githubactions.Action
	rand      io.Reader
	mountInfo func() ([]byte, error)

	mu      sync.Mutex
	masked  map[string]bool // values already sent with add-mask
	secrets *redact.Set     // every masked value, taken out of what is printed
}

// Option configures a [Runtime].
type Option func(*Runtime)

// WithRand sets the source of randomness for file-command delimiters. The
// default is crypto/rand; tests pass a fixed reader to pin the delimiter.
func WithRand(r io.Reader) Option {
	return func(rt *Runtime) { rt.rand = r }
}

// WithMountInfo sets the function that returns the text of
// /proc/self/mountinfo, which [Runtime.HostPath] reads to find the runner's
// bind mounts. The default reads the file; a missing file (not Linux) means
// "not in a container".
func WithMountInfo(read func() ([]byte, error)) Option {
	return func(rt *Runtime) { rt.mountInfo = read }
}

// New returns a Runtime that reads the environment with getenv and writes
// workflow commands (masks, annotations, groups, log lines) to out, which is
// standard output in production.
func New(getenv func(string) string, out io.Writer, opts ...Option) *Runtime {
	rt := &Runtime{
		getenv:    getenv,
		out:       &logWriter{w: out},
		rand:      rand.Reader,
		mountInfo: func() ([]byte, error) { return os.ReadFile("/proc/self/mountinfo") },
		masked:    make(map[string]bool),
		secrets:   new(redact.Set),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(rt)
		}
	}
	rt.gha = githubactions.New(
		githubactions.WithGetenv(rt.getenv),
		githubactions.WithWriter(rt.out),
	)
	return rt
}

// Err reports the first error met writing workflow commands to out, if any.
// Writes go on after one (go-githubactions would panic on an error), so the
// caller checks Err once at the end: a log that lost lines, masks among
// them, must fail the step.
func (rt *Runtime) Err() error {
	return rt.out.err()
}

// inputEnv names the variable the runner uses for input name: INPUT_ and the
// name upper-cased with spaces turned into underscores; hyphens are kept, so
// "key-id" is INPUT_KEY-ID.
func inputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// Input returns the named input with surrounding white space trimmed, or ""
// if it is not set. The runner does not enforce required inputs; callers do.
func (rt *Runtime) Input(name string) string {
	return strings.TrimSpace(rt.RawInput(name))
}

// RawInput returns the named input exactly as the runner passed it, for values
// whose white space matters.
func (rt *Runtime) RawInput(name string) string {
	return rt.getenv(inputEnv(name))
}

// logWriter serialises writes to the log and swallows their errors, keeping
// the first for [Runtime.Err].
type logWriter struct {
	mu    sync.Mutex
	w     io.Writer
	first error
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(p); err != nil && l.first == nil {
		l.first = err
	}
	return len(p), nil
}

func (l *logWriter) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}
