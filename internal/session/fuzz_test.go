package session

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics; that every session it accepts
// has an authentication cookie, only cookies with valid names, an expiry
// consistent with its cookies, and survives being written out as Psych
// writes it and read again; that Secrets covers every value of it; and
// that every refusal is an *Error carrying one of the fixed templates, so
// that no input byte can reach a log through an error.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, ".session") || strings.HasSuffix(name, ".yaml") {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(b))
		}
	}
	for _, in := range acceptedVariants(f) {
		f.Add(in.text)
	}
	for _, in := range refusedInputs(f) {
		if len(in.text) <= 4096 { // the large ones only slow the fuzzer
			f.Add(in.text)
		}
	}

	templates := make(map[Error]bool)
	for r := rOK + 1; r < numReasons; r++ {
		templates[*r.err()] = true
	}

	f.Fuzz(func(t *testing.T, text string) {
		checkSecrets(t, Secrets(text, nil))
		s, err := Parse(text)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if !templates[*e] {
				t.Fatalf("error %q is not a fixed template", err)
			}
			return
		}
		if len(s.Cookies) == 0 || len(s.Cookies) > maxCookies || !hasAuth(s) {
			t.Fatalf("accepted %d cookies without an authentication cookie", len(s.Cookies))
		}
		for _, c := range s.Cookies {
			if !validName(c.Name) || strings.ContainsFunc(c.Value, isControl) {
				t.Fatalf("accepted a cookie with an invalid name or value")
			}
		}
		if exp, ok := s.ExpiresAt(); ok {
			if !slices.ContainsFunc(s.Cookies, func(c Cookie) bool {
				t, ok := c.ExpiresAt()
				return c.IsAuth() && ok && t.Equal(exp)
			}) {
				t.Fatal("ExpiresAt is no authentication cookie's expiry")
			}
		}
		secrets := Secrets(text, s)
		checkSecrets(t, secrets)
		for _, c := range s.Cookies {
			if len(c.Value) >= minSecret && !slices.Contains(secrets, c.Value) {
				t.Fatal("Secrets lacks a cookie value")
			}
		}
		// Written out as Psych writes it, escaped as spaceauth prints it,
		// the session reads back the same.
		again, err := Parse(strings.ReplaceAll(psych(s), "\n", `\n`))
		if err != nil {
			t.Fatalf("Parse(psych(s)) = %v", err)
		}
		if !sameSession(s, again) {
			t.Fatal("the session changed through psych")
		}
	})
}
