// Package spaceauth reads what `fastlane spaceauth` prints: it finds the
// FASTLANE_SESSION in a whole terminal transcript (colour codes, prompts,
// the "export FASTLANE_SESSION='…'" line) or in a value pasted on its own,
// and it passes everything that is not the session through to a person as
// it arrives, so that spaceauth's prompts still reach them when its output
// is piped. It never prints or returns a cookie value in an error.
package spaceauth

import (
	"errors"
	"strings"

	"github.com/asc-auth/action/internal/session"
)

// ErrNotFound means the input holds nothing that looks like a session.
var ErrNotFound = errors.New("spaceauth: no session in the input")

// cookieMarker is in every form of a session: Psych's tag for a cookie.
const cookieMarker = "!ruby/object:HTTP::Cookie"

// Found is a session found in the input.
type Found struct {
	// Raw is the session as it stood in the input, colour codes and
	// quotes removed: the escaped one-line form or the YAML.
	Raw     string
	Session *session.Session
	// Tried lists every candidate examined, Raw among them, so that the
	// caller can mask them all.
	Tried []string
}

// Find finds the session in text: the whole text if it is a session (the
// escaped one-line form or the YAML, in single or double quotes or none),
// else a line that holds one (spaceauth prints it on a line of its own and
// again as "export FASTLANE_SESSION='…'"), else a YAML block of cookies
// in the middle of other output. ANSI colour codes are removed first:
// spaceauth underlines the value and colours it cyan.
//
// If candidates are found but none parses, the error is the
// *session.Error of the first (its text never quotes the input); if none
// is found, it is ErrNotFound.
func Find(text string) (Found, error) {
	clean := strings.ReplaceAll(StripANSI(text), "\r\n", "\n")
	var tried []string
	seen := map[string]bool{}
	var firstErr error // from the first line or block that has a cookie in it
	try := func(c string) (Found, error, bool) {
		c = unquote(strings.TrimSpace(c))
		if c == "" || seen[c] {
			return Found{}, nil, false
		}
		seen[c] = true
		tried = append(tried, c)
		s, err := session.Parse(c)
		if err == nil {
			return Found{Raw: c, Session: s, Tried: tried}, nil, true
		}
		return Found{}, err, false
	}
	if strings.TrimSpace(clean) == "" {
		_, err := session.Parse(clean)
		return Found{}, err
	}
	f, wholeErr, ok := try(clean)
	if ok {
		return f, nil
	}
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	lines := strings.Split(clean, "\n")
	for _, l := range lines {
		if !strings.Contains(l, cookieMarker) {
			continue
		}
		f, err, ok := try(shellValue(l))
		if ok {
			return f, nil
		}
		if err != nil {
			keep(err)
		}
	}
	for _, b := range yamlBlocks(lines) {
		f, err, ok := try(b)
		if ok {
			return f, nil
		}
		if err != nil {
			keep(err)
		}
	}
	switch {
	case firstErr != nil:
		return Found{Tried: tried}, firstErr
	case wholeErr != nil && (nonEmptyLines(lines) <= 1 || strings.Contains(clean, "PRIVATE KEY") || strings.Contains(clean, cookieMarker)):
		// One value that is not a session: Parse says what it is
		// instead (an API key, a shell line, ...).
		return Found{Tried: tried}, wholeErr
	}
	return Found{Tried: tried}, ErrNotFound
}

func nonEmptyLines(lines []string) int {
	n := 0
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

// shellValue takes the value out of "export FASTLANE_SESSION='…'" or
// "FASTLANE_SESSION=…"; other lines are returned trimmed.
func shellValue(line string) string {
	s := strings.TrimSpace(line)
	s = strings.TrimPrefix(s, "export ")
	for _, name := range []string{"FASTLANE_SESSION=", "SPACESHIP_SESSION="} {
		if v, ok := strings.CutPrefix(s, name); ok {
			return v
		}
	}
	return s
}

// unquote removes one pair of surrounding single or double quotes. In
// either, a shell keeps \n as the two characters, which is what spaceship
// reads.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// yamlBlocks returns each run of lines that starts with "---" or a cookie
// item and goes on while lines are indented or list items: the YAML with
// real newlines, in the middle of other output.
func yamlBlocks(lines []string) []string {
	var out []string
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " \t")
		if l != "---" && !strings.HasPrefix(l, "- "+cookieMarker) {
			continue
		}
		j := i + 1
		for j < len(lines) && (strings.HasPrefix(lines[j], " ") || strings.HasPrefix(lines[j], "- ") || lines[j] == "-") {
			j++
		}
		out = append(out, strings.Join(lines[i:j], "\n")+"\n")
		i = j - 1
	}
	return out
}

// StripANSI removes ANSI escape sequences: CSI sequences (colours,
// underline: ESC [ … final byte), OSC sequences (ESC ] … BEL or ESC \)
// and two-byte escapes.
func StripANSI(s string) string {
	if !strings.Contains(s, "\x1b") && !strings.Contains(s, "\u009b") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		n, complete := escapeLen(s[i:])
		if n == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		if !complete {
			break // an escape cut short at the end: drop it
		}
		i += n
	}
	return b.String()
}

// escapeLen returns the length of the escape sequence at the start of s, 0
// if none starts there, and whether it is complete.
func escapeLen(s string) (int, bool) {
	switch {
	case strings.HasPrefix(s, "\u009b"): // 8-bit CSI
		return csiLen(s, 2)
	case len(s) == 0 || s[0] != 0x1b:
		return 0, false
	case len(s) == 1:
		return 1, false
	case s[1] == '[':
		return csiLen(s, 2)
	case s[1] == ']':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1, true
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2, true
			}
		}
		return len(s), false
	}
	return 2, true
}

// csiLen measures a CSI sequence whose parameters start at i: parameter
// bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E.
func csiLen(s string, i int) (int, bool) {
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
		case c >= 0x40 && c <= 0x7e:
			return i + 1, true
		default:
			return i, true // malformed: drop what was read
		}
	}
	return len(s), false
}
