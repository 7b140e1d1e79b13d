package app

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/cifake"
	"github.com/asc-auth/action/internal/sessionwatch"
)

// TestSessionWatch runs the scheduled watch's whole life against the fake
// issues API: a first warning opens one issue, a second run comments on
// it, a renewal closes it, and a dead session opens a new one; each holds
// the renewal command.
func TestSessionWatch(t *testing.T) {
	t.Parallel()
	gh := cifake.NewGitHub()
	t.Cleanup(gh.Close)
	gh.AddRepo("acme/app", 101)
	const issuesToken = "ghs_ISSUESONLYTOKEN0123"
	gh.Grant(issuesToken, cifake.IssuesScope("acme/app"))
	sim, err := ascsim.New(ascsim.WithClock(func() time.Time { return sessionNow }))
	if err != nil {
		t.Fatal(err)
	}
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	valid, validS := readSession(t, "valid.session")
	sim.RegisterSession(myacinfo(validS), true)
	expiring, expiringS := readSession(t, "expiring.session")
	sim.RegisterSession(myacinfo(expiringS), true) // alive, but 3 days left

	run := func(sess string, extra ...string) (int, string, string) {
		env := map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_API_URL": gh.URL(), "GITHUB_TOKEN": issuesToken, "FASTLANE_SESSION": sess}
		var stdout, stderr strings.Builder
		code := Main(t.Context(), Env{
			Args: append([]string{"session", "watch", "--session-base-url", simURL}, extra...), Getenv: func(k string) string { return env[k] },
			Stdout: &stdout, Stderr: &stderr, Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile, Version: "test",
		})
		return code, stdout.String(), stderr.String()
	}
	const command = "fastlane spaceauth -u <your Apple ID> | asc-auth session store --repo acme/app"
	steps := []struct {
		name     string
		session  string
		args     []string
		want     string
		issues   int // open issues after
		comments int // on the newest issue
	}{
		{"healthy, no issue: nothing", valid, nil, "no issue to open or close (1 requests)", 0, 0},
		{"three days left opens an issue", expiring, nil, "opened issue #1", 1, 0},
		{"the next run comments on it", expiring, nil, "commented issue #1", 1, 1},
		{"a wider margin still comments", expiring, []string{"--days", "30"}, "commented issue #1", 1, 2},
		{"a fresh session closes it", valid, nil, "closed issue #1", 0, 3},
		{"healthy again: nothing", valid, nil, "no issue to open or close", 0, 3},
	}
	for _, st := range steps {
		code, stdout, stderr := run(st.session, st.args...)
		if code != 0 || !strings.Contains(stdout, st.want) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", st.name, code, stdout, stderr)
		}
		open := 0
		for _, i := range gh.Issues("acme/app") {
			if i.State == "open" {
				open++
			}
		}
		if open != st.issues {
			t.Errorf("%s: %d open issues, want %d", st.name, open, st.issues)
		}
		if is := gh.Issues("acme/app"); len(is) > 0 && len(is[len(is)-1].Comments) != st.comments {
			t.Errorf("%s: %d comments, want %d", st.name, len(is[len(is)-1].Comments), st.comments)
		}
		for _, c := range append(slices.Clone(validS.Cookies), expiringS.Cookies...) {
			if strings.Contains(stdout+stderr, c.Value) {
				t.Errorf("%s: a cookie value was printed", st.name)
			}
		}
	}
	first := gh.Issues("acme/app")[0]
	if !strings.Contains(first.Title, "FASTLANE_SESSION expires in 3 day(s)") || !strings.Contains(first.Body, command) ||
		!strings.Contains(first.Body, sessionwatch.Marker) || !strings.Contains(first.Comments[0], command) ||
		!strings.Contains(first.Comments[2], "A fresh session is stored") {
		t.Errorf("issue %+v", first)
	}

	// Dead: App Store Connect refuses the session.
	sim.RegisterSession(myacinfo(validS), false)
	code, stdout, stderr := run(valid)
	if code != 0 || !strings.Contains(stdout, "opened issue #2") {
		t.Fatalf("dead: exit %d, %q %q", code, stdout, stderr)
	}
	dead := gh.Issues("acme/app")[1]
	if !strings.Contains(dead.Title, "no longer works") || !strings.Contains(dead.Body, command) || strings.Contains(dead.Body, "you@") {
		t.Errorf("dead issue %+v", dead)
	}
	// Missing: no secret reaches the job.
	if code, stdout, _ := run(""); code != 0 || !strings.Contains(stdout, "commented issue #2") {
		t.Errorf("missing: exit %d, %q", code, stdout)
	}
	// A token without issues permission: one line naming it.
	env := map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_TOKEN": "ghs_NOPERMISSION0123"}
	gh.Grant("ghs_NOPERMISSION0123")
	var stderr2 strings.Builder
	code = Main(t.Context(), Env{Args: []string{"session", "watch", "--no-check", "--github-api-url", gh.URL()},
		Getenv: func(k string) string { return env[k] }, Stdout: new(strings.Builder), Stderr: &stderr2,
		Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile})
	if code != exitFailure || !strings.Contains(stderr2.String(), "issues: write") {
		t.Errorf("no permission: exit %d, %q", code, stderr2.String())
	}
	for _, r := range gh.Requests() {
		for _, c := range validS.Cookies {
			if strings.Contains(r.Line()+string(r.Body), c.Value) {
				t.Fatalf("a cookie value was sent to the issues API in %s %s", r.Method, r.Path)
			}
		}
	}
}
