package app

import (
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/demo"
)

// TestActionBuildNumber runs the token and build-number steps against the
// demo simulator, whose sample app has builds 7 to 12 and an upload of 13
// still processing.
func TestActionBuildNumber(t *testing.T) {
	t.Parallel()
	demoKey := readTestdata(t, "AuthKey_DEMOKEY001.p8")
	_, url := testSimulator(t, time.Now)
	tests := []struct {
		name       string
		inputs     map[string]string
		wantLatest string
		wantNext   string
	}{
		{"in-flight upload counts", map[string]string{"app": demo.BundleID}, "13", "14"},
		{"one marketing version", map[string]string{"app": demo.BundleID, "version": "1.0"}, "10", "11"},
		{"another platform has none", map[string]string{"app": demo.BundleID, "platform": "MAC_OS", "initial-build-number": "1.0.0"}, "", "1.0.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			for k, v := range map[string]string{
				"key-id": demo.KeyID, "issuer-id": demo.IssuerID, "private-key": string(demoKey),
				"build-number": "true", "api-base-url": url,
			} {
				r.SetInput(k, v)
			}
			for k, v := range tc.inputs {
				r.SetInput(k, v)
			}
			code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout, Now: time.Now, ReadFile: nil, Version: "test"})
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, r.Stdout)
			}
			out := r.Outputs()
			if out["latest-build-number"] != tc.wantLatest || out["next-build-number"] != tc.wantNext || out["app-id"] == "" {
				t.Errorf("outputs %v; want latest %q next %q", out, tc.wantLatest, tc.wantNext)
			}
			if !strings.Contains(r.Summary(), "### Build number") || !strings.Contains(r.Summary(), "`"+tc.wantNext+"`") {
				t.Errorf("summary:\n%s", r.Summary())
			}
		})
	}
}
