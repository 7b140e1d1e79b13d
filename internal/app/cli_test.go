package app

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/token"
)

// runCLIArgs runs asc-auth outside Actions and returns exit code, stdout
// and stderr.
func runCLIArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Main(context.Background(), Env{
		Args: args, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
		Now: func() time.Time { return fixedNow }, ReadFile: os.ReadFile, Version: "v9.9.9",
	})
	return code, stdout.String(), stderr.String()
}

func TestCLI(t *testing.T) {
	t.Parallel()
	keyPath := filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")
	verify := func(t *testing.T, tok string) token.Claims {
		t.Helper()
		c, err := token.Verify(strings.TrimSpace(tok), func(string) (*ecdsa.PublicKey, error) { return demoPublicKey(t), nil }, fixedNow)
		if err != nil {
			t.Fatalf("printed token does not verify: %v (%q)", err, tok)
		}
		return c
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
		check      func(t *testing.T, stdout string)
	}{
		{
			name: "token from a key file, key ID from its name",
			args: []string{"token", "--issuer-id", testIssuerID, "--private-key-path", keyPath},
			check: func(t *testing.T, out string) {
				if c := verify(t, out); c.KeyID != "DEMOKEY001" || c.Issuer != testIssuerID {
					t.Errorf("claims %+v", c)
				}
			},
		},
		{
			name: "scopes and lifetime",
			args: []string{"token", "--private-key-path", keyPath, "--scope", "GET /v1/apps", "--scope", "GET /v1/builds", "--token-lifetime", "300", "--in-house"},
			check: func(t *testing.T, out string) {
				c := verify(t, out)
				if len(c.Scope) != 2 || c.Lifetime() != 5*time.Minute || c.Audience[0] != token.AudienceEnterprise || c.Subject != "user" {
					t.Errorf("claims %+v", c)
				}
			},
		},
		{
			name: "decode prints header and claims",
			args: []string{"token", "--private-key-path", keyPath, "--decode"},
			check: func(t *testing.T, out string) {
				var d struct {
					Header map[string]any
					Claims map[string]any
				}
				if err := json.Unmarshal([]byte(out), &d); err != nil || d.Header["kid"] != "DEMOKEY001" || d.Claims["aud"] != token.AudienceTeam {
					t.Errorf("decoded %q (%v)", out, err)
				}
			},
		},
		{name: "invalid inputs, all reported", args: []string{"token", "--key-id", "x", "--private-key", "nope", "--token-lifetime", "0"}, wantCode: exitFailure, wantStderr: "input token-lifetime"},
		{name: "unknown flag", args: []string{"token", "--key", "x"}, wantCode: exitUsage, wantStderr: "flag provided but not defined"},
		{name: "stray argument", args: []string{"token", "extra"}, wantCode: exitUsage, wantStderr: "want 0 argument(s), got 1"},
		{name: "unknown command", args: []string{"mint"}, wantCode: exitUsage, wantStderr: "unknown command"},
		{name: "no command", args: nil, wantCode: exitUsage, wantStderr: "Usage:"},
		{name: "version", args: []string{"version"}, check: func(t *testing.T, out string) {
			if out != "asc-auth v9.9.9\n" {
				t.Errorf("version printed %q", out)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLIArgs(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.wantStderr)
			}
			if tc.check != nil {
				tc.check(t, stdout)
			}
		})
	}
}

func TestCLIReportsEveryInvalidInputOnItsOwnLine(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLIArgs(t, "token", "--key-id", "x", "--issuer-id", "y", "--private-key", "nope")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != exitFailure || len(lines) != 3 {
		t.Fatalf("exit %d, %d lines, want 3:\n%s", code, len(lines), stderr)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "asc-auth: input ") || strings.Contains(l, "nope") {
			t.Errorf("line %q", l)
		}
	}
}
