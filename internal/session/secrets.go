package session

import (
	"strings"

	"github.com/asc-auth/action/internal/keys"
)

// minSecret is the shortest string Secrets lists. Masking a shorter one
// (a one-letter cookie value) would star out that text everywhere in the
// log, and it carries too little to matter.
const minSecret = 4

// publicFields are the fields whose lines in the YAML carry nothing
// secret: where a cookie goes and when it was made or expires.
var publicFields = []string{
	"domain:", "for_domain:", "path:", "secure:", "httponly:",
	"expires:", "max_age:", "created_at:", "accessed_at:",
}

// Secrets returns every string that must be masked in logs for a session
// given as text: the value in the escaped form (newlines as \n, as
// spaceauth prints it), as given and trimmed when it is one line, each
// line of the YAML that may hold a secret (the name and value lines), and
// every cookie value: those of s, and those found by scanning the text for
// value: lines, so that s may be nil, for a value that has not been or
// could not be parsed, and the caller can mask before validating.
//
// The YAML with real newlines is not listed whole: the runner masks a
// multi-line secret line by line, and lines such as "---" and
// "secure: true" are public boilerplate whose masking would blank the log.
// Every line that can hold a secret is listed on its own instead.
//
// If text is not a cookie list at all, it may be anything, such as a
// private key pasted into the wrong secret; then the forms keys.SecretForms
// gives are listed too. The list has no duplicates, no strings under four
// bytes, and its order depends only on the arguments.
func Secrets(text string, s *Session) []string {
	var out []string
	seen := make(map[string]bool)
	add := func(v string) {
		if len(v) >= minSecret && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	addOneLine := func(v string) {
		if !strings.ContainsAny(v, "\r\n") {
			add(v)
		}
	}

	trimmed := trim(text)
	unquoted := trimmed
	if len(unquoted) >= 2 && unquoted[0] == '\'' && unquoted[len(unquoted)-1] == '\'' {
		unquoted = trim(unquoted[1 : len(unquoted)-1])
	}
	addOneLine(text)
	addOneLine(trimmed)
	addOneLine(unquoted)
	yamlText, _ := unescape(strings.ReplaceAll(unquoted, "\r\n", "\n"))
	escaped := strings.TrimSuffix(strings.ReplaceAll(yamlText, "\n", `\n`), `\n`)
	if len(escaped) >= minSecret {
		add(escaped)
		add(escaped + `\n`) // as spaceauth prints it, with the final newline
	}

	for line := range strings.Lines(strings.ReplaceAll(yamlText, "\r", "\n")) {
		line = trim(line)
		if !isPublicLine(line) {
			add(line)
		}
		if rest, ok := strings.CutPrefix(line, "value:"); ok {
			add(unquote(trim(rest)))
		}
	}
	if s != nil {
		for _, c := range s.Cookies {
			add(c.Value)
		}
	}
	if !strings.Contains(text, cookieTag) {
		k, _ := keys.Parse(text)
		for _, v := range keys.SecretForms(text, k) {
			add(v)
		}
	}
	return out
}

// isPublicLine reports whether a trimmed line of a session's YAML is
// boilerplate that holds no secret.
func isPublicLine(line string) bool {
	if line == "---" || line == "- "+cookieTag || line == "-" {
		return true
	}
	for _, f := range publicFields {
		if strings.HasPrefix(line, f) {
			return true
		}
	}
	return false
}

// unquote removes one pair of YAML single or double quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
