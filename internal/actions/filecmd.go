package actions

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// delimiterPrefix starts every heredoc delimiter, as in @actions/core since
// CVE-2022-35954; a random UUID follows, so a value cannot guess it and close
// its entry early.
const delimiterPrefix = "ghadelimiter_"

// SetOutput sets the step output name to value, for later steps to read as
// steps.<id>.outputs.<name>. It appends to the file named by GITHUB_OUTPUT
// (the ::set-output command is disabled by GitHub) and fails if that variable
// is unset. Mask secret values first: outputs are not masked.
func (rt *Runtime) SetOutput(name, value string) error {
	return rt.fileCommand("GITHUB_OUTPUT", "output", name, value)
}

// ExportEnv sets the environment variable name to value for later steps of
// the job, by appending to the file named by GITHUB_ENV. It does not change
// the environment of the current process.
func (rt *Runtime) ExportEnv(name, value string) error {
	return rt.fileCommand("GITHUB_ENV", "environment variable", name, value)
}

// AddStepSummary appends markdown to the step summary, the file named by
// GITHUB_STEP_SUMMARY, adding a final newline if it has none. Known secrets
// are taken out: the runner does not mask the summary.
func (rt *Runtime) AddStepSummary(markdown string) error {
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return rt.appendFile("GITHUB_STEP_SUMMARY", rt.secrets.Redact(markdown))
}

// fileCommand appends "name<<DELIM\nvalue\nDELIM\n" to the file named by the
// variable file, which the runner parses after the step (FileCommandManager).
// A name that the runner would read as another form, or a value holding the
// delimiter, is refused and nothing is written.
func (rt *Runtime) fileCommand(file, kind, name, value string) error {
	if name == "" || strings.ContainsAny(name, "=\r\n") || strings.Contains(name, "<<") {
		return fmt.Errorf("actions: %s %q: name must be non-empty and hold no '=', '<<', CR or LF", kind, name)
	}
	delim, err := rt.delimiter()
	if err != nil {
		return fmt.Errorf("actions: %s %q: %w", kind, name, err)
	}
	if strings.Contains(name, delim) || strings.Contains(value, delim) {
		return fmt.Errorf("actions: %s %q: name or value contains the file-command delimiter", kind, name)
	}
	return rt.appendFile(file, name+"<<"+delim+"\n"+value+"\n"+delim+"\n")
}

// delimiter returns delimiterPrefix and a version 4 UUID drawn from rt.rand.
func (rt *Runtime) delimiter() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rt.rand, b[:]); err != nil {
		return "", fmt.Errorf("making a delimiter: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%s%x-%x-%x-%x-%x", delimiterPrefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// appendFile appends data to the file named by the variable file, creating
// it if need be. The data goes in one write so that concurrent writers, which
// open the file in append mode too, cannot split an entry.
func (rt *Runtime) appendFile(file, data string) error {
	path := rt.getenv(file)
	if path == "" {
		return fmt.Errorf("actions: %s is not set: file commands need the GitHub Actions runner", file)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("actions: %s: %w", file, err)
	}
	_, err = f.Write([]byte(data))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("actions: %s: %w", file, err)
	}
	return nil
}
