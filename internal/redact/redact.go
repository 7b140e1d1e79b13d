// Package redact keeps the secrets a process holds or has minted and takes
// them out of any text before it is printed. Both ways of printing use it:
// the runner's log (where ::add-mask:: hides them too) and the terminal
// (which has no masking of its own), each registering a secret once, with
// Mask, wherever it is then shown.
package redact

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// Placeholder replaces a secret, as the runner shows a masked value.
const Placeholder = "***"

// MinLen is the shortest value taken out of text. Every secret the program
// holds is longer (a key ID has 10 characters, a token hundreds); a shorter
// value is a mistyped input, and taking it out would garble the very
// message that explains the mistake. The runner's own masks still hide it.
const MinLen = 6

// Set is a set of secrets. The zero value is empty and ready to use; it is
// safe for concurrent use.
type Set struct {
	mu       sync.Mutex
	values   map[string]bool
	replacer *strings.Replacer // nil until built, and after every Add
}

// Add registers secrets. A multi-line value is registered whole and line by
// line, each line trimmed of surrounding white space, as the runner masks
// it; values and lines shorter than [MinLen] are skipped.
func (s *Set) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range Forms(values...) {
		s.addOne(v)
		if strings.ContainsAny(v, "\r\n") {
			for line := range strings.Lines(v) {
				s.addOne(strings.TrimSpace(line))
			}
		}
	}
}

// Forms returns values and the parts of them that must be hidden on their
// own: each segment of a JSON Web Token, since an echo cut short still
// carries its payload, which decodes to the key ID and issuer ID.
func Forms(values ...string) []string {
	var out []string
	for _, v := range values {
		out = append(out, v)
		if parts := strings.Split(v, "."); len(parts) == 3 && isJWT(parts) {
			out = append(out, parts...)
		}
	}
	return out
}

// isJWT reports whether parts look like a compact JWS: three non-empty
// base64url segments, the first an encoded JSON object ("eyJ").
func isJWT(parts []string) bool {
	if !strings.HasPrefix(parts[0], "eyJ") {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

func (s *Set) addOne(v string) {
	if len(strings.TrimSpace(v)) < MinLen || s.values[v] {
		return
	}
	if s.values == nil {
		s.values = make(map[string]bool)
	}
	s.values[v] = true
	s.replacer = nil
}

// Len reports how many distinct values are registered.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

// Redact returns text with every registered secret replaced by
// [Placeholder]. Where two secrets overlap, the longer one wins, so a value
// that contains another is hidden whole.
func (s *Set) Redact(text string) string {
	if s == nil || text == "" {
		return text
	}
	s.mu.Lock()
	r := s.replacer
	if r == nil && len(s.values) > 0 {
		r = s.build()
		s.replacer = r
	}
	s.mu.Unlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}

// build makes the replacer: strings.Replacer tries its old strings in
// argument order at each position, so longer values go first.
func (s *Set) build() *strings.Replacer {
	vs := make([]string, 0, len(s.values))
	for v := range s.values {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	pairs := make([]string, 0, 2*len(vs))
	for _, v := range vs {
		pairs = append(pairs, v, Placeholder)
	}
	return strings.NewReplacer(pairs...)
}
