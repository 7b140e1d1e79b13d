package cisecret_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"

	"github.com/asc-auth/action/internal/ciapi"
	"github.com/asc-auth/action/internal/cifake"
	"github.com/asc-auth/action/internal/cisecret"
)

const (
	token = "github_pat_11TESTTOKEN0123456789"
	value = `---\n- !ruby/object:HTTP::Cookie\n  name: myacinfo\n  value: DAWTKNV3secretcookievalue\n`
)

func noWait(context.Context, time.Duration) error { return nil }

func newGitHub(t *testing.T) *cifake.GitHub {
	t.Helper()
	g := cifake.NewGitHub()
	t.Cleanup(g.Close)
	g.AddRepo("acme/app", 101)
	g.AddRepo("acme/lib", 102)
	g.AddEnv("acme/app", "prod")
	g.AddOrg("acme")
	g.Grant(token, cifake.RepoScope("acme/app"), cifake.EnvScope("acme/app", "prod"), cifake.OrgScope("acme"))
	g.Grant("read-only-token")
	return g
}

// assertNoLeak fails if the plaintext appears in any request line, header
// or body the fake received.
func assertNoLeak(t *testing.T, reqs []cifake.Request, plaintext string) {
	t.Helper()
	for _, r := range reqs {
		if strings.Contains(r.Line(), plaintext) || strings.Contains(string(r.Body), plaintext) ||
			strings.Contains(string(r.Body), "DAWTKNV3secretcookievalue") {
			t.Fatalf("the plaintext was sent in %s %s", r.Method, r.Path)
		}
	}
}

func TestGitHubStoresEveryLevel(t *testing.T) {
	t.Parallel()
	g := newGitHub(t)
	tests := []struct {
		name     string
		base     string
		target   cisecret.GitHubTarget
		scope    string
		requests int
		repoIDs  []int64
	}{
		{"repository", g.URL(), cisecret.GitHubTarget{Repo: "acme/app"}, cifake.RepoScope("acme/app"), 2, nil},
		{"repository on GHES", g.URL() + "/api/v3/", cisecret.GitHubTarget{Repo: "acme/app"}, cifake.RepoScope("acme/app"), 2, nil},
		{"environment", g.URL(), cisecret.GitHubTarget{Repo: "acme/app", Env: "prod"}, cifake.EnvScope("acme/app", "prod"), 2, nil},
		{"organisation, all", g.URL(), cisecret.GitHubTarget{Org: "acme", Visibility: "all"}, cifake.OrgScope("acme"), 2, nil},
		{"organisation, selected", g.URL(), cisecret.GitHubTarget{Org: "acme", Visibility: "selected", Repos: []string{"app", "acme/lib"}}, cifake.OrgScope("acme"), 4, []int64{101, 102}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "FASTLANE_SESSION_" + string(rune('A'+i))
			for round, wantCreated := range []bool{true, false} {
				d := cisecret.NewGitHub(tc.base, token, tc.target)
				res, err := d.Store(t.Context(), name, []byte(value))
				if err != nil {
					t.Fatal(err)
				}
				if res.Created != wantCreated {
					t.Errorf("round %d: created %v, want %v", round, res.Created, wantCreated)
				}
				if d.Requests() != tc.requests {
					t.Errorf("%d requests, want %d", d.Requests(), tc.requests)
				}
			}
			s, ok := g.Secret(tc.scope, name)
			if !ok || string(s.Plaintext) != value {
				t.Fatalf("stored %q, %v", s.Plaintext, ok)
			}
			if len(s.Sealed) != len(value)+box.AnonymousOverhead {
				t.Errorf("sealed box of %d bytes", len(s.Sealed))
			}
			if tc.target.Org != "" && (s.Visibility != tc.target.Visibility || len(s.RepoIDs) != len(tc.repoIDs)) {
				t.Errorf("visibility %q, IDs %v", s.Visibility, s.RepoIDs)
			}
		})
	}
	assertNoLeak(t, g.Requests(), value)
}

func TestGitHubStaleKeyIsFetchedOnce(t *testing.T) {
	t.Parallel()
	g := newGitHub(t)
	g.RotateAfterNextKeyFetch()
	d := cisecret.NewGitHub(g.URL(), token, cisecret.GitHubTarget{Repo: "acme/app"})
	if _, err := d.Store(t.Context(), "FASTLANE_SESSION", []byte(value)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range g.Requests() {
		got = append(got, r.Method+" "+http.StatusText(r.Status))
	}
	want := "GET OK,PUT Unprocessable Entity,GET OK,PUT Created"
	if strings.Join(got, ",") != want {
		t.Errorf("requests %s, want %s", strings.Join(got, ","), want)
	}
}

func TestGitHubRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(*cifake.GitHub)
		token  string
		target cisecret.GitHubTarget
		secret string
		value  string
		want   string
		status int
	}{
		{name: "wrong token", token: "nope", want: "invalid or expired", status: 401},
		{name: "no permission", token: "read-only-token", want: "GITHUB_TOKEN can never write secrets", status: 403},
		{name: "unknown repository", target: cisecret.GitHubTarget{Repo: "acme/none"}, want: "not found", status: 404},
		{name: "short public key", setup: func(g *cifake.GitHub) { g.ShortKey(cifake.RepoScope("acme/app")) }, want: "31 bytes"},
		{name: "invalid name", secret: "1SESSION", want: "not starting with a digit"},
		{name: "reserved name", secret: "github_session", want: "reserves names starting with GITHUB_"},
		{name: "a name with a dash", secret: "FASTLANE-SESSION", want: "letters, digits and underscores"},
		{name: "over 48 KB", value: strings.Repeat("x", 48*1024+1), want: "at most 49152"},
		{name: "unknown selected repository", target: cisecret.GitHubTarget{Org: "acme", Visibility: "selected", Repos: []string{"ghost"}}, want: "acme/ghost not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGitHub(t)
			if tc.setup != nil {
				tc.setup(g)
			}
			tok, target, name, v := token, tc.target, "FASTLANE_SESSION", value
			if tc.token != "" {
				tok = tc.token
			}
			if target.Repo == "" && target.Org == "" {
				target.Repo = "acme/app"
			}
			if tc.secret != "" {
				name = tc.secret
			}
			if tc.value != "" {
				v = tc.value
			}
			_, err := cisecret.NewGitHub(g.URL(), tok, target, ciapi.WithBackoff(noWait)).Store(t.Context(), name, []byte(v))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if tc.status != 0 && ciapi.StatusOf(err) != tc.status {
				t.Errorf("status %d, want %d", ciapi.StatusOf(err), tc.status)
			}
			if strings.Contains(err.Error(), "DAWTKNV3") {
				t.Error("the value is in the error")
			}
			if n := g.Writes(); n != 0 {
				t.Errorf("the fake saw %d writes", n)
			}
		})
	}
}

func TestOtherServices(t *testing.T) {
	t.Parallel()
	gl := cifake.NewGitLab()
	t.Cleanup(gl.Close)
	gl.AddScope("projects/acme/app")
	gl.AddScope("groups/42")
	gl.Grant("glpat-TESTTOKEN", "projects/acme/app", "groups/42")
	cc := cifake.NewCircleCI()
	t.Cleanup(cc.Close)
	cc.AddScope("project/gh/acme/app")
	cc.AddScope("context/3f1a")
	cc.Grant("CCIPAT_TESTTOKEN", "project/gh/acme/app", "context/3f1a")
	br := cifake.NewBitrise()
	t.Cleanup(br.Close)
	br.AddScope("apps/0a1b2c")
	br.Grant("BITRISE_TESTTOKEN", "apps/0a1b2c")

	tests := []struct {
		name     string
		dest     cisecret.Destination
		value    func() (string, bool)
		requests [2]int // first store, second store
		created  [2]bool
	}{
		{"gitlab project", cisecret.NewGitLab(gl.URL(), "glpat-TESTTOKEN", "acme/app", false, false),
			func() (string, bool) { return gl.Value("projects/acme/app", "FASTLANE_SESSION") }, [2]int{2, 1}, [2]bool{true, false}},
		{"gitlab group", cisecret.NewGitLab(gl.URL(), "glpat-TESTTOKEN", "42", true, false),
			func() (string, bool) { return gl.Value("groups/42", "FASTLANE_SESSION") }, [2]int{2, 1}, [2]bool{true, false}},
		{"circleci project", cisecret.NewCircleCI(cc.URL(), "CCIPAT_TESTTOKEN", "gh/acme/app", ""),
			func() (string, bool) { return cc.Value("project/gh/acme/app", "FASTLANE_SESSION") }, [2]int{1, 1}, [2]bool{true, true}},
		{"circleci context", cisecret.NewCircleCI(cc.URL(), "CCIPAT_TESTTOKEN", "", "3f1a"),
			func() (string, bool) { return cc.Value("context/3f1a", "FASTLANE_SESSION") }, [2]int{1, 1}, [2]bool{false, false}},
		{"bitrise app", cisecret.NewBitrise(br.URL(), "BITRISE_TESTTOKEN", "0a1b2c"),
			func() (string, bool) { return br.Value("apps/0a1b2c", "FASTLANE_SESSION") }, [2]int{1, 1}, [2]bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := 0
			for round := range 2 {
				res, err := tc.dest.Store(t.Context(), "FASTLANE_SESSION", []byte(value))
				if err != nil {
					t.Fatal(err)
				}
				if n := tc.dest.Requests() - before; n != tc.requests[round] {
					t.Errorf("round %d: %d requests, want %d", round, n, tc.requests[round])
				}
				before = tc.dest.Requests()
				if res.Created != tc.created[round] {
					t.Errorf("round %d: created %v", round, res.Created)
				}
			}
			if v, ok := tc.value(); !ok || v != value {
				t.Errorf("stored %q", v)
			}
		})
	}
	if masked, raw := gl.Flags("projects/acme/app", "FASTLANE_SESSION"); masked || !raw {
		t.Errorf("gitlab masked %v raw %v, want unmasked and raw", masked, raw)
	}
	// Masking a value with spaces is refused, with a hint.
	_, err := cisecret.NewGitLab(gl.URL(), "glpat-TESTTOKEN", "acme/app", false, true).Store(t.Context(), "OTHER", []byte(value))
	if err == nil || !strings.Contains(err.Error(), "without --gitlab-masked") {
		t.Errorf("masked: %v", err)
	}
	for _, tc := range []struct {
		name string
		dest cisecret.Destination
		want string
	}{
		{"gitlab, wrong token", cisecret.NewGitLab(gl.URL(), "wrong", "acme/app", false, false), "401"},
		{"gitlab, no such project", cisecret.NewGitLab(gl.URL(), "glpat-TESTTOKEN", "acme/none", false, false), "not found"},
		{"circleci, wrong token", cisecret.NewCircleCI(cc.URL(), "wrong", "gh/acme/app", ""), "401"},
		{"bitrise, wrong token", cisecret.NewBitrise(br.URL(), "wrong", "0a1b2c"), "401"},
		{"bitrise, bad name", cisecret.NewBitrise(br.URL(), "BITRISE_TESTTOKEN", "0a1b2c"), "variable name"},
	} {
		name := "FASTLANE_SESSION"
		if strings.Contains(tc.name, "bad name") {
			name = "FASTLANE SESSION"
		}
		if _, err := tc.dest.Store(t.Context(), name, []byte(value)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, reqs := range [][]cifake.Request{gl.Requests(), cc.Requests(), br.Requests()} {
		for _, r := range reqs {
			if strings.Contains(r.Line(), "DAWTKNV3") {
				t.Errorf("the value is in the request line or headers of %s %s", r.Method, r.Path)
			}
		}
	}
}

func TestCheckGitHubName(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{"FASTLANE_SESSION": true, "_x": true, "a1": true, "1a": false, "": false,
		"GITHUB_X": false, "github_x": false, "A-B": false, "A B": false, "É": false} {
		if err := cisecret.CheckGitHubName(name); (err == nil) != ok {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestRetriesOnlyIdempotent(t *testing.T) {
	t.Parallel()
	calls := map[string]int{}
	srv := newFlaky(t, calls)
	c := ciapi.New(srv, nil, ciapi.WithBackoff(noWait))
	if _, err := c.Do(t.Context(), http.MethodPut, "/x", map[string]string{}, nil); err == nil {
		t.Fatal("no error")
	}
	if _, err := c.Do(t.Context(), http.MethodPost, "/x", map[string]string{}, nil); !errors.As(err, new(*ciapi.Error)) {
		t.Fatal(err)
	}
	if calls["PUT"] != 3 || calls["POST"] != 1 {
		t.Errorf("calls %v: PUT is tried three times, POST once", calls)
	}
}
