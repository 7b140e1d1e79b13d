package report

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/asc-auth/action/internal/redact"
)

// KV is one output or exported variable.
type KV struct{ Name, Value string }

// Terminal is a [Report] for a person at a shell. Log lines and
// annotations go to its writer (standard error) as plain text, annotations
// as "warning: TITLE: message" and groups as "▸ title", each with the known
// secrets taken out, since a terminal has no masking of its own. Outputs
// are kept, for the command to print as it sees fit; exported variables
// are dropped, as a shell has no later steps; the step summary
// is dropped, the log having said the same. It is safe for concurrent use.
type Terminal struct {
	w       io.Writer
	secrets *redact.Set

	mu      sync.Mutex
	outputs []KV
	err     error // the first failed write
}

// NewTerminal returns a Terminal writing to w, hiding secrets (which it
// adds to on Mask).
func NewTerminal(w io.Writer, secrets *redact.Set) *Terminal {
	if secrets == nil {
		secrets = new(redact.Set)
	}
	return &Terminal{w: w, secrets: secrets}
}

func (t *Terminal) line(prefix, title, msg string) {
	if title != "" {
		prefix += title + ": "
	}
	text := t.secrets.Redact(prefix + msg)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := io.WriteString(t.w, strings.TrimRight(text, "\n")+"\n"); err != nil && t.err == nil {
		t.err = err
	}
}

// Infof writes one line.
func (t *Terminal) Infof(format string, args ...any) { t.line("", "", fmt.Sprintf(format, args...)) }

// Noticef writes "notice: TITLE: message".
func (t *Terminal) Noticef(title, format string, args ...any) {
	t.line("notice: ", title, fmt.Sprintf(format, args...))
}

// Warningf writes "warning: TITLE: message".
func (t *Terminal) Warningf(title, format string, args ...any) {
	t.line("warning: ", title, fmt.Sprintf(format, args...))
}

// Errorf writes "error: TITLE: message".
func (t *Terminal) Errorf(title, format string, args ...any) {
	t.line("error: ", title, fmt.Sprintf(format, args...))
}

// Group writes "▸ title".
func (t *Terminal) Group(title string) { t.line("▸ ", "", title) }

// EndGroup does nothing: a terminal shows no group's end.
func (t *Terminal) EndGroup() {}

// Mask registers secrets to hide from every later line.
func (t *Terminal) Mask(values ...string) { t.secrets.Add(values...) }

// SetOutput keeps an output for the command to print.
func (t *Terminal) SetOutput(name, value string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.outputs = append(t.outputs, KV{name, value})
	return nil
}

// ExportEnv does nothing: a shell has no later steps to export to, and
// the value may be a secret.
func (t *Terminal) ExportEnv(string, string) error { return nil }

// AddStepSummary drops the summary: the log has said the same.
func (t *Terminal) AddStepSummary(string) error { return nil }

// HostPath returns path: outside a container the two are the same.
func (t *Terminal) HostPath(path string) (string, error) { return path, nil }

// Outputs returns the outputs set so far, in order.
func (t *Terminal) Outputs() []KV {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]KV(nil), t.outputs...)
}

// Output returns the last value set for name.
func (t *Terminal) Output(name string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.outputs) - 1; i >= 0; i-- {
		if t.outputs[i].Name == name {
			return t.outputs[i].Value, true
		}
	}
	return "", false
}

// Redact takes the known secrets out of text, for messages printed
// elsewhere (the command's final error).
func (t *Terminal) Redact(text string) string { return t.secrets.Redact(text) }

// Err reports the first failed write, if any.
func (t *Terminal) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}
