package actions_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/runnersim"
)

func TestInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, env, value string
		wantRaw, want    string
	}{
		{name: "key-id", env: "INPUT_KEY-ID", value: "  ABC123\n", wantRaw: "  ABC123\n", want: "ABC123"},
		{name: "Issuer ID", env: "INPUT_ISSUER_ID", value: "x", wantRaw: "x", want: "x"},
		{name: "missing", env: "INPUT_OTHER", value: "x", wantRaw: "", want: ""},
		{name: "private-key", env: "INPUT_PRIVATE-KEY", value: "-----BEGIN-----\nAB\n-----END-----\n", wantRaw: "-----BEGIN-----\nAB\n-----END-----\n", want: "-----BEGIN-----\nAB\n-----END-----"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			r.Setenv(tt.env, tt.value)
			rt := r.Runtime()
			if got := rt.RawInput(tt.name); got != tt.wantRaw {
				t.Errorf("RawInput(%q) = %q, want %q", tt.name, got, tt.wantRaw)
			}
			if got := rt.Input(tt.name); got != tt.want {
				t.Errorf("Input(%q) = %q, want %q", tt.name, got, tt.want)
			}
			// Input must agree with go-githubactions' GetInput.
			gha := githubactions.New(githubactions.WithGetenv(r.Getenv), githubactions.WithWriter(io.Discard))
			if got, want := rt.Input(tt.name), gha.GetInput(tt.name); got != want {
				t.Errorf("Input(%q) = %q, go-githubactions GetInput = %q", tt.name, got, want)
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	rt := r.Runtime()
	rt.Errorf("Bad key: p8, really", "key %s: %d%% done\nsecond line", "AuthKey.p8", 50)
	rt.Warningf("", "no title")
	rt.Noticef("Token", "expires in %d minutes", 20)
	rt.Infof("plain %s", "line")
	rt.Group("Minting")
	rt.EndGroup()

	want := "::error title=Bad key%3A p8%2C really::key AuthKey.p8: 50%25 done%0Asecond line\n" +
		"::warning::no title\n" +
		"::notice title=Token::expires in 20 minutes\n" +
		"plain line\n" +
		"::group::Minting\n" +
		"::endgroup::\n"
	if got := r.Stdout.String(); got != want {
		t.Errorf("stdout =\n%s\nwant\n%s", got, want)
	}
	got := r.Annotations()
	wantAnn := []runnersim.Annotation{
		{Level: "error", Title: "Bad key: p8, really", Message: "key AuthKey.p8: 50% done\nsecond line"},
		{Level: "warning", Message: "no title"},
		{Level: "notice", Title: "Token", Message: "expires in 20 minutes"},
	}
	if len(got) != len(wantAnn) {
		t.Fatalf("Annotations() = %+v, want %+v", got, wantAnn)
	}
	for i := range got {
		if got[i] != wantAnn[i] {
			t.Errorf("Annotations()[%d] = %+v, want %+v", i, got[i], wantAnn[i])
		}
	}
	if err := rt.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
}

// TestMessagesAreRedacted checks that a masked value never reaches what the
// Runtime prints itself, whatever the runner's masking does: a server that
// echoes a token back in an error must not get it logged.
func TestMessagesAreRedacted(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	rt := r.Runtime()
	const tok = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"
	rt.Mask(tok)
	rt.Errorf("401 for "+tok, "App Store Connect said: bad token %s", tok)
	rt.Warningf("", "%s", tok)
	rt.Noticef("", "%s", tok)
	rt.Infof("echo %s", tok)
	rt.Group("group " + tok)
	rt.EndGroup()
	if err := rt.AddStepSummary("| Token | " + tok + " |"); err != nil {
		t.Fatal(err)
	}
	if err := rt.SetOutput("token", tok); err != nil {
		t.Fatal(err)
	}
	out := r.Stdout.String()
	if strings.Count(out, tok) != 1 || !strings.Contains(out, "::add-mask::"+tok) {
		t.Errorf("the token is printed outside its add-mask command:\n%s", out)
	}
	if summary := r.Summary(); strings.Contains(summary, tok) {
		t.Errorf("summary holds the token: %s", summary)
	}
	if r.Outputs()["token"] != tok {
		t.Errorf("the output itself must stay whole")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestErrKeepsFirstWriteError(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	rt := actions.New(r.Getenv, failingWriter{})
	rt.Mask("secret") // must not panic, as go-githubactions would
	rt.Errorf("t", "m")
	if err := rt.Err(); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("Err() = %v, want the write error", err)
	}
}

// TestInfofCannotIssueCommands feeds Infof text that tries to start a
// workflow command on a new line or at the start of the line.
func TestInfofCannotIssueCommands(t *testing.T) {
	t.Parallel()
	for _, hostile := range []string{
		"state COMPLETE\n::stop-commands::x",
		"::add-mask::nothing",
		"  ::error::forged",
		"a\r\n::warning::forged",
	} {
		r := actionstest.New(t)
		rt := r.Runtime()
		rt.Infof("upload: %s", hostile)
		rt.Infof("%s", hostile)
		if got := runnersim.ParseCommands(r.Stdout.Bytes()); len(got) != 0 {
			t.Errorf("Infof(%q) issued commands %+v:\n%s", hostile, got, r.Stdout)
		}
		if n := strings.Count(r.Stdout.String(), "\n"); n != 2 {
			t.Errorf("Infof(%q) wrote %d lines, want 2", hostile, n)
		}
	}
}
