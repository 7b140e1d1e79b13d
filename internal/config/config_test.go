package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"15m", 15 * time.Minute, ""},
		{"900", 15 * time.Minute, ""},
		{"1200", 20 * time.Minute, ""},
		{"20m", 20 * time.Minute, ""},
		{"2m", 2 * time.Minute, ""},
		{"1m", 0, "from 2m to 20m"},
		{"150s", 150 * time.Second, ""},
		{"0", 0, "positive"},
		{"0s", 0, "positive"},
		{"-5m", 0, "positive"},
		{"-300", 0, "positive"},
		{"1201", 0, "over the 20m"},
		{"1h", 0, "over the 20m"},
		{"119s", 0, "from 2m to 20m"},
		{"150.5s", 0, "whole seconds"},
		{"99999999999999999999", 0, "not a duration"},
		{"soon", 0, "not a duration"},
		{"15 m", 0, "not a duration"},
	}
	for _, tc := range tests {
		got, err := ParseLifetime(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLifetime(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLifetime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestKeyIDFromFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/keys/AuthKey_DEMOKEY001.p8": "DEMOKEY001",
		"AuthKey_DEMOKEY001.p8":       "DEMOKEY001",
		"AuthKey_demokey001.p8":       "",
		"AuthKey_DEMOKEY001.pem":      "",
		"key.p8":                      "",
		"AuthKey_.p8":                 "",
	} {
		if got := keyIDFromFileName(in); got != want {
			t.Errorf("keyIDFromFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseLifetime(f *testing.F) {
	for _, s := range []string{"15m", "900", "-1", "1h", "1e3s", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseLifetime(s)
		if err == nil && (d < 2*time.Minute || d > 20*time.Minute || d%time.Second != 0) {
			t.Fatalf("ParseLifetime(%q) = %v, outside what Apple accepts", s, d)
		}
	})
}

func TestInputFlagIsFirstSentence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   Input
		want string
	}{
		{Input{Description: "A path, e.g. one under runner.temp. More."}, "A path, e.g. one under runner.temp."},
		{Input{Description: "One sentence only"}, "One sentence only"},
		{Input{Description: "Parts at once. More.", Default: "4"}, "Parts at once. (default 4)"},
		{Input{Description: "A switch. More.", Default: "false", Bool: true}, "A switch."},
	}
	for _, tc := range tests {
		if got := tc.in.Flag(); got != tc.want {
			t.Errorf("Flag() = %q, want %q", got, tc.want)
		}
	}
}

// TestParserErrorsAreOneLine checks that an error from any parser (keys,
// session, bundle, fastlane) becomes one input error of one line, with no
// package prefix.
func TestParserErrorsAreOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input, value string
	}{
		{"fastlane JSON with two faults", InputAPIKeyJSON, `{"duration": -5}`},
		{"not a key", InputPrivateKey, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"},
		{"not a session", InputSession, "---\n- 1\n"},
		{"not an ipa", InputUploadFile, "config_test.go"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Parse(Env{Input: func(name string) string {
				if name == tc.input {
					return tc.value
				}
				return ""
			}, ReadFile: os.ReadFile})
			var found bool
			for _, e := range unjoinErrs(err) {
				var ie *InputError
				if !errors.As(e, &ie) || ie.Input != tc.input {
					continue
				}
				found = true
				if msg := ie.Error(); strings.Contains(msg, "\n") {
					t.Errorf("%q is not one line", msg)
				}
				for _, pkg := range []string{"fastlane:", "bundle:", "keys:", "session:"} {
					if strings.Contains(ie.Problem, pkg) || strings.Contains(ie.Fix, pkg) {
						t.Errorf("%q has a stray %s prefix", ie.Error(), pkg)
					}
				}
			}
			if !found {
				t.Errorf("no error names input %s: %v", tc.input, err)
			}
		})
	}
}
