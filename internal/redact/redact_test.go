package redact

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"nothing registered", nil, "a token eyJ", "a token eyJ"},
		{"every occurrence", []string{"s3cr3t"}, "s3cr3t and s3cr3t", "*** and ***"},
		{"longer first", []string{"abcdef", "abcdefghi"}, "xabcdefghix abcdef", "x***x ***"},
		{"multi-line by line", []string{"line-one\n  line-two  \n"}, "got line-two here", "got *** here"},
		{"blank ignored", []string{"", "  ", "\n"}, "a b", "a b"},
		{"too short to be a secret", []string{"y", "abcde"}, "key abcde", "key abcde"},
		{"a token cut short keeps its payload hidden", []string{"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiI2OWE2In0.c2lnbmF0dXJl"},
			"bad token eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiI2OWE2In0.c2ln...", "bad token ***.***.c2ln..."},
		{"whole multi-line value", []string{"line-1\nline-2"}, "x line-1\nline-2 y", "x *** y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s Set
			s.Add(tc.secrets...)
			if got := s.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAddAfterRedactRebuilds(t *testing.T) {
	t.Parallel()
	var s Set
	s.Add("first-secret")
	_ = s.Redact("first-secret")
	s.Add("second-secret")
	if got := s.Redact("first-secret second-secret"); got != "*** ***" {
		t.Errorf("got %q", got)
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d", s.Len())
	}
}

func TestNilSet(t *testing.T) {
	t.Parallel()
	var s *Set
	if got := s.Redact("x"); got != "x" {
		t.Errorf("got %q", got)
	}
}

// FuzzRedact checks that no registered secret survives in the output,
// whatever text it is embedded in.
func FuzzRedact(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.payload.sig", "401: bad token eyJhbGciOiJFUzI1NiJ9.payload.sig")
	f.Add("myacinfo=DAWTKNV2", `{"errors":[{"detail":"cookie myacinfo=DAWTKNV2"}]}`)
	f.Fuzz(func(t *testing.T, secret, body string) {
		if len(strings.TrimSpace(secret)) < MinLen || strings.ContainsAny(secret, "\r\n*") {
			t.Skip()
		}
		var s Set
		s.Add(secret)
		out := s.Redact(body + secret + body)
		if strings.Contains(out, secret) {
			t.Fatalf("secret %q survives in %q", secret, out)
		}
	})
}
