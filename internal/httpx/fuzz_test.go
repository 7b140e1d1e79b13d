package httpx

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzRedactURLString checks the property every log line relies on: a
// secret put in a URL's query, fragment or user information never comes
// out, whether or not the rest of the URL parses, and the output is one
// line of valid UTF-8.
func FuzzRedactURLString(f *testing.F) {
	for _, seed := range [][2]string{
		{"up.example/part1", "X-Amz-Signature=abc123"},
		{"[bad/x", "sig=secret"},
		{"h.example/a%zz", "p%41ss"},
		{"h.example/a b\n", "tok\xff"},
		{"", "secret"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, rest, secret string) {
		if len(secret) < 4 || strings.ContainsAny(secret, "/?#@") {
			t.Skip() // too short to tell apart, or not user information
		}
		for _, in := range []string{
			"https://" + rest + "?" + secret,
			"https://" + rest + "#" + secret,
			"https://" + secret + "@" + rest,
			"https://user:" + secret + "@" + rest,
		} {
			out := RedactURLString(in)
			if strings.Contains(out, "\n") || strings.Contains(out, "\r") || !validUTF8(out) {
				t.Errorf("RedactURLString(%q) = %q: not one line of valid UTF-8", in, out)
			}
			// The secret may legitimately stand in what is kept, the scheme
			// and what follows it, once escaped and folded.
			kept := "https://" + rest + " " + RedactURLString("https://"+rest) + " " + clean(rest)
			if strings.Contains(out, secret) && !strings.Contains(kept, secret) {
				t.Errorf("RedactURLString(%q) = %q: the secret %q is still there", in, out, secret)
			}
		}
	})
}

// FuzzRetryAfter checks that any header value gives a delay that is not
// negative, and that delay-seconds read back exactly.
func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{"0", "120", " 7 ", "-1", "1e3", "Sat, 01 Mar 2025 12:00:30 GMT", "Saturday, 01-Mar-25 12:01:00 GMT", "Sat Mar  1 12:00:30 2025", "99999999999"} {
		f.Add(seed)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := RetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("RetryAfter(%q) = %s, %t", v, d, ok)
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil && (!ok || d != time.Duration(n)*time.Second) {
			t.Fatalf("RetryAfter(%q) = %s, %t; want %d seconds", v, d, ok, n)
		}
	})
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
