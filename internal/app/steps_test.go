package app

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/demo"
	"github.com/asc-auth/action/internal/redact"
	"github.com/asc-auth/action/internal/report"
)

// TestUndeclaredOutputFails: an output set in code but declared nowhere
// fails the step, so that action.yml cannot miss it.
func TestUndeclaredOutputFails(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	r := withDeclaredOutputs(report.NewTerminal(&out, new(redact.Set)))
	if err := r.SetOutput("token", "x"); err != nil {
		t.Errorf("a declared output: %v", err)
	}
	if err := r.SetOutput("not-declared", "x"); err == nil || !strings.Contains(err.Error(), "not declared") {
		t.Errorf("an undeclared output: %v", err)
	}
}

// TestExportedVariablesUnchanged runs every step that exports variables
// and compares their names with those the action exported before its
// steps became units.
func TestExportedVariablesUnchanged(t *testing.T) {
	t.Parallel()
	valid, validS := readSession(t, "valid.session")
	sim, url := sessionSimulator(t)
	sim.RegisterSession(myacinfo(validS), true)
	r := actionstest.New(t)
	for k, v := range map[string]string{
		"key-id": demo.KeyID, "issuer-id": demo.IssuerID, "private-key": string(readTestdata(t, "AuthKey_DEMOKEY001.p8")),
		"export-env": "true", "session": valid, "session-base-url": url, "app-specific-password": "abcd-efgh-ijkl-mnop",
	} {
		r.SetInput(k, v)
	}
	code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout,
		Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile})
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, r.Stdout)
	}
	var got []string
	for name := range r.Env() {
		got = append(got, name)
	}
	slices.Sort(got)
	want := []string{
		"APP_STORE_CONNECT_API_KEY_DURATION", "APP_STORE_CONNECT_API_KEY_IN_HOUSE", "APP_STORE_CONNECT_API_KEY_ISSUER_ID",
		"APP_STORE_CONNECT_API_KEY_IS_KEY_CONTENT_BASE64", "APP_STORE_CONNECT_API_KEY_KEY", "APP_STORE_CONNECT_API_KEY_KEY_ID",
		"APP_STORE_CONNECT_API_KEY_PATH", "FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD", "FASTLANE_SESSION",
		"SPACESHIP_CONNECT_API_IN_HOUSE", "SPACESHIP_CONNECT_API_ISSUER_ID", "SPACESHIP_CONNECT_API_KEY",
		"SPACESHIP_CONNECT_API_KEY_ID", "SPACESHIP_CONNECT_API_TOKEN_DURATION", "SPACESHIP_SESSION",
	}
	if !slices.Equal(got, want) {
		t.Errorf("exported %q\nwant %q", got, want)
	}
}
