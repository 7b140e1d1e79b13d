package spaceauth

import (
	"io"
	"strings"
)

// sessionStarts are the starts of a line that carries a session, after
// colour codes, leading white space and an opening quote: the escaped form
// or the YAML's first lines, and the shell lines spaceauth prints.
var sessionStarts = []string{
	"---",
	"- " + cookieMarker,
	cookieMarker,
	"export FASTLANE_SESSION",
	"export SPACESHIP_SESSION",
	"FASTLANE_SESSION=",
	"SPACESHIP_SESSION=",
}

// Passthrough is an io.Writer that copies what it is given to another
// writer, except the lines that carry a session. It decides at the start
// of each line: as soon as a line can no longer be a session line, what
// was held back is written and the rest of the line follows byte by byte,
// so that a prompt with no newline ("Please enter the 6 digit code: ")
// reaches the person before they are asked to type. A line that starts as
// a session line ("---", "- !ruby/object:HTTP::Cookie",
// "export FASTLANE_SESSION=", …) is swallowed whole, and so are the
// indented lines of a YAML block that follows one; Note is written once
// in its place.
//
// It is a filter for a person's terminal, not a secret scanner: a line
// that begins like ordinary text is shown as it comes.
type Passthrough struct {
	w    io.Writer
	Note string // written once, instead of the first swallowed line

	held   []byte // the current line's bytes while undecided
	state  lineState
	inYAML bool // the previous line was swallowed as YAML
	noted  bool
	last   byte // the last byte written
	err    error
}

type lineState int

const (
	undecided lineState = iota
	passing
	swallowing
)

// NewPassthrough returns a Passthrough writing to w.
func NewPassthrough(w io.Writer) *Passthrough {
	return &Passthrough{w: w, Note: "[asc-auth: the session was read; it is not shown]\n"}
}

// Write filters p; it reports len(p) unless the underlying writer fails.
func (t *Passthrough) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	var out []byte
	for _, c := range p {
		switch t.state {
		case passing:
			out = append(out, c)
			if c == '\n' {
				t.state = undecided
			}
		case swallowing:
			if c == '\n' {
				t.state = undecided
			}
		case undecided:
			t.held = append(t.held, c)
			out = t.decide(out, c == '\n')
		}
	}
	if len(out) > 0 {
		t.last = out[len(out)-1]
		if _, err := t.w.Write(out); err != nil {
			t.err = err
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes a last line left undecided at the end of the input, unless
// it could be part of a session, and ends the output with a newline if it
// does not end with one, so that what is printed next starts a line.
func (t *Passthrough) Flush() error {
	if t.err != nil {
		return t.err
	}
	var out []byte
	if t.state == undecided && len(t.held) > 0 {
		out = t.decide(nil, true)
	}
	if len(out) > 0 {
		t.last = out[len(out)-1]
	}
	if t.last != 0 && t.last != '\n' {
		out = append(out, '\n')
		t.last = '\n'
	}
	if len(out) > 0 {
		_, t.err = t.w.Write(out)
	}
	return t.err
}

// decide looks at the held bytes of the current line; end says the line
// is complete. It returns out with whatever may now be shown.
func (t *Passthrough) decide(out []byte, end bool) []byte {
	line := string(t.held)
	if !end && endsInEscape(line) {
		return out // wait for the colour code to finish
	}
	visible := StripANSI(strings.TrimSuffix(line, "\n"))
	switch t.classify(visible, end) {
	case passing:
		t.inYAML = false
		out = append(out, t.held...)
		t.held = t.held[:0]
		t.state = passing
		if end {
			t.state = undecided
		}
	case swallowing:
		if !t.noted {
			t.noted = true
			out = append(out, t.Note...)
		}
		t.held = t.held[:0]
		t.state = swallowing
		if end {
			t.state = undecided
		}
	}
	return out
}

// classify says what the visible text of a line so far makes it.
func (t *Passthrough) classify(visible string, end bool) lineState {
	if t.inYAML {
		switch {
		case visible == "" && !end:
			return undecided
		case strings.HasPrefix(visible, " ") || strings.HasPrefix(visible, "\t") || strings.HasPrefix(visible, "-"):
			return swallowing
		}
		return passing
	}
	s := strings.TrimLeft(visible, " \t'\"")
	for _, start := range sessionStarts {
		if strings.HasPrefix(s, start) {
			t.inYAML = start == "---" || start == "- "+cookieMarker
			return swallowing
		}
	}
	if end {
		return passing
	}
	for _, start := range sessionStarts {
		if strings.HasPrefix(start, s) {
			return undecided // it may still become one
		}
	}
	return passing
}

// endsInEscape reports whether s ends inside an escape sequence.
func endsInEscape(s string) bool {
	i := strings.LastIndexByte(s, 0x1b)
	if i < 0 {
		return false
	}
	_, complete := escapeLen(s[i:])
	return !complete
}
