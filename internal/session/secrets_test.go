package session

import (
	"cmp"
	"slices"
	"strings"
	"testing"
)

// mask does to log what the runner does once each secret is registered
// with ::add-mask:: as actions.Mask registers it: the value whole and each
// of its lines, trimmed, each replaced by *** wherever it appears.
func mask(log string, secrets []string) string {
	var all []string
	for _, s := range secrets {
		all = append(all, s)
		for line := range strings.Lines(s) {
			if l := strings.TrimSpace(line); l != "" {
				all = append(all, l)
			}
		}
	}
	slices.SortFunc(all, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, s := range all {
		log = strings.ReplaceAll(log, s, "***")
	}
	return log
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	for _, name := range fixtureNames {
		escaped, plain := fixture(t, name+".session"), fixture(t, name+".yaml")
		values := cookieValues(t, plain)
		for _, tc := range []struct{ form, text string }{{"escaped", escaped}, {"plain", plain}, {"quoted", "'" + escaped + "'\n"}} {
			t.Run(name+"/"+tc.form, func(t *testing.T) {
				t.Parallel()
				s, _ := Parse(tc.text) // nil for noauth
				for _, parsed := range []*Session{nil, s} {
					secrets := Secrets(tc.text, parsed)
					checkSecrets(t, secrets)
					if !slices.Equal(secrets, Secrets(tc.text, parsed)) {
						t.Error("Secrets is not stable")
					}
					for _, want := range append(values, escaped, strings.TrimSuffix(escaped, `\n`)) {
						if !slices.Contains(secrets, want) {
							t.Errorf("Secrets lacks %.12q…", want)
						}
					}
					for _, public := range []string{"---", "- !ruby/object:HTTP::Cookie", "secure: true", `path: "/"`, "domain: apple.com", plain} {
						if slices.Contains(secrets, public) {
							t.Errorf("Secrets lists %.30q, which would blank the log", public)
						}
					}
					// Whatever of the session reaches the log, no value survives masking.
					log := strings.Join([]string{
						"FASTLANE_SESSION=" + escaped, plain, "Cookie: " + strings.Join(values, "; "),
						strings.ReplaceAll(plain, "\n", "\r\n"), "secure: true and --- stay",
					}, "\n")
					masked := mask(log, secrets)
					for _, v := range values {
						if strings.Contains(masked, v[:min(len(v), 12)]) {
							t.Errorf("value %.8q… survives masking", v)
						}
					}
					if !strings.Contains(masked, "secure: true and --- stay") {
						t.Error("masking blanked public text")
					}
				}
			})
		}
	}
}

func TestSecretsOther(t *testing.T) {
	t.Parallel()
	key := fixture(t, demoKeyPath)
	keyLines := strings.Split(strings.TrimSpace(key), "\n")
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"private key", key, keyLines[1:4]},
		{"escaped private key", strings.ReplaceAll(key, "\n", `\n`), append([]string{strings.ReplaceAll(key, "\n", `\n`)}, keyLines[1:4]...)},
		{"one-line garbage", "  s3cr3t-value  ", []string{"  s3cr3t-value  ", "s3cr3t-value"}},
		{"cut session", fixture(t, "valid.session")[:200], []string{fixture(t, "valid.session")[:200]}},
		{"short", "abc", nil},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := Secrets(tc.text, nil)
			checkSecrets(t, secrets)
			for _, w := range tc.want {
				if !slices.Contains(secrets, w) {
					t.Errorf("Secrets lacks %.12q…", w)
				}
			}
			if tc.want == nil && len(secrets) != 0 {
				t.Errorf("Secrets = %q, want none", secrets)
			}
		})
	}
}

// checkSecrets checks that secrets has no duplicates and nothing under
// minSecret bytes.
func checkSecrets(tb testing.TB, secrets []string) {
	tb.Helper()
	seen := make(map[string]bool)
	for _, s := range secrets {
		if len(s) < minSecret {
			tb.Errorf("Secrets lists %q, shorter than %d bytes", s, minSecret)
		}
		if seen[s] {
			tb.Errorf("Secrets lists %.12q… twice", s)
		}
		seen[s] = true
	}
}

// cookieValues reads the values of a fixture's value: lines directly, not
// through Parse.
func cookieValues(tb testing.TB, plain string) []string {
	tb.Helper()
	var values []string
	for line := range strings.Lines(plain) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "value: "); ok {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		tb.Fatal("no values")
	}
	return values
}
