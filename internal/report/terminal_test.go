package report

import (
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/actions"
)

// Both adapters are Reports.
var (
	_ Report = (*Terminal)(nil)
	_ Report = (*actions.Runtime)(nil)
)

func TestTerminal(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	term := NewTerminal(&out, nil)
	const tok = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"
	term.Mask(tok)
	term.Infof("minted %s", tok)
	term.Warningf("App Store Connect", "rate limit low")
	term.Errorf("", "401: %s", tok)
	term.Noticef("Build", "processed\n")
	term.Group("Uploading App.ipa")
	term.EndGroup()
	if err := term.SetOutput("token", tok); err != nil {
		t.Fatal(err)
	}
	if err := term.ExportEnv("FASTLANE_SESSION", "secret"); err != nil {
		t.Fatal(err)
	}
	want := "minted ***\nwarning: App Store Connect: rate limit low\nerror: 401: ***\nnotice: Build: processed\n▸ Uploading App.ipa\n"
	if out.String() != want {
		t.Errorf("printed\n%q\nwant\n%q", out.String(), want)
	}
	if v, ok := term.Output("token"); !ok || v != tok {
		t.Errorf("the output must be kept whole: %q", v)
	}
	if got := term.Redact("x " + tok); got != "x ***" {
		t.Errorf("Redact = %q", got)
	}
	if p, _ := term.HostPath("/a/b"); p != "/a/b" {
		t.Errorf("HostPath = %q", p)
	}
}
