package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/cifake"
	"github.com/asc-auth/action/internal/session"
)

const (
	ghToken = "github_pat_11STORETESTTOKEN0123456789"
	glToken = "glpat-STORETESTTOKEN01"
	ccToken = "CCIPAT_STORETESTTOKEN01"
	brToken = "BITRISETESTTOKEN0123"
)

// storeWorld is the fakes a store test talks to.
type storeWorld struct {
	gh       *cifake.GitHub
	gl       *cifake.GitLab
	cc       *cifake.CircleCI
	br       *cifake.Bitrise
	checkURL string // the App Store Connect simulator, for the live check
	valid    string
	validS   *session.Session
}

func newStoreWorld(t testing.TB) *storeWorld {
	t.Helper()
	w := &storeWorld{gh: cifake.NewGitHub(), gl: cifake.NewGitLab(), cc: cifake.NewCircleCI(), br: cifake.NewBitrise()}
	t.Cleanup(func() { w.gh.Close(); w.gl.Close(); w.cc.Close(); w.br.Close() })
	w.gh.AddRepo("acme/app", 101)
	w.gh.AddRepo("acme/lib", 102)
	w.gh.AddEnv("acme/app", "prod")
	w.gh.AddOrg("acme")
	w.gh.Grant(ghToken, cifake.RepoScope("acme/app"), cifake.EnvScope("acme/app", "prod"), cifake.OrgScope("acme"))
	w.gh.Grant("ghs_WORKFLOWTOKEN0123456789") // a workflow's own token: no secrets permission
	w.gl.AddScope("projects/acme/app")
	w.gl.AddScope("groups/7")
	w.gl.Grant(glToken, "projects/acme/app", "groups/7")
	w.cc.AddScope("project/gh/acme/app")
	w.cc.AddScope("context/5e3c")
	w.cc.Grant(ccToken, "project/gh/acme/app", "context/5e3c")
	w.br.AddScope("apps/9f8e7d")
	w.br.Grant(brToken, "apps/9f8e7d")

	sim, err := ascsim.New(ascsim.WithClock(func() time.Time { return sessionNow }))
	if err != nil {
		t.Fatal(err)
	}
	w.checkURL, err = sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	w.valid, w.validS = readSession(t, "valid.session")
	sim.RegisterSession(myacinfo(w.validS), true)
	_, expiringS := readSession(t, "expiring.session")
	sim.RegisterSession(myacinfo(expiringS), false) // dead on the server
	return w
}

func (w *storeWorld) writes() int {
	return w.gh.Writes() + w.gl.Writes() + w.cc.Writes() + w.br.Writes()
}

func (w *storeWorld) requests() []cifake.Request {
	var all []cifake.Request
	all = append(all, w.gh.Requests()...)
	all = append(all, w.gl.Requests()...)
	all = append(all, w.cc.Requests()...)
	return append(all, w.br.Requests()...)
}

// run runs asc-auth session store with args, stdin and environment.
func (w *storeWorld) run(t *testing.T, args []string, stdin string, env map[string]string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	all := append([]string{"session", "store", "--session-base-url", w.checkURL, "--github-api-url", w.gh.URL(),
		"--gitlab-url", w.gl.URL(), "--circleci-url", w.cc.URL(), "--bitrise-url", w.br.URL()}, args...)
	code := Main(t.Context(), Env{
		Args: all, Getenv: func(k string) string { return env[k] },
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile, Version: "test",
	})
	return code, stdout.String(), stderr.String()
}

// assertNoValue fails if a cookie value or the session appears in text.
func assertNoValue(t *testing.T, where, text string, s *session.Session, escaped string) {
	t.Helper()
	if strings.Contains(text, strings.TrimSpace(escaped)) {
		t.Errorf("the session is in %s", where)
	}
	for _, c := range s.Cookies {
		if len(c.Value) >= 8 && strings.Contains(text, c.Value) {
			t.Errorf("cookie %s's value is in %s", c.Name, where)
		}
	}
}

func TestSessionStoreDestinations(t *testing.T) {
	t.Parallel()
	w := newStoreWorld(t)
	transcript := spaceauthTranscript(w.valid)
	gh := map[string]string{"GH_TOKEN": ghToken}
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		stdin     string
		stored    func() (string, bool)
		wantOut   string
		requests  int
		plainBody bool // the service takes the value in plain text (over TLS)
	}{
		{name: "GitHub repository, from spaceauth's output", args: []string{"--repo", "acme/app"}, env: gh, stdin: transcript,
			stored: func() (string, bool) {
				s, ok := w.gh.Secret(cifake.RepoScope("acme/app"), "FASTLANE_SESSION")
				return string(s.Plaintext), ok
			}, wantOut: "stored FASTLANE_SESSION in GitHub repository acme/app (created; 2 requests", requests: 2},
		{name: "GitHub repository again, on GHES, token from GITHUB_TOKEN", args: []string{"--repo", "acme/app", "--github-api-url", w.gh.URL() + "/api/v3"},
			env: map[string]string{"GITHUB_TOKEN": ghToken}, stdin: w.valid,
			stored: func() (string, bool) {
				s, ok := w.gh.Secret(cifake.RepoScope("acme/app"), "FASTLANE_SESSION")
				return string(s.Plaintext), ok && s.Updates == 1
			}, wantOut: "(updated; 2 requests", requests: 2},
		{name: "GitHub environment, YAML", args: []string{"--repo", "acme/app", "--env", "prod", "--name", "ASC_SESSION"}, env: gh, stdin: readYAML(t),
			stored: func() (string, bool) {
				s, ok := w.gh.Secret(cifake.EnvScope("acme/app", "prod"), "ASC_SESSION")
				return string(s.Plaintext), ok
			}, wantOut: "in GitHub environment prod of acme/app (created", requests: 2},
		{name: "GitHub organisation, selected", args: []string{"--org", "acme", "--repos", "app,lib"}, env: gh, stdin: "'" + strings.TrimSpace(w.valid) + "'",
			stored: func() (string, bool) {
				s, ok := w.gh.Secret(cifake.OrgScope("acme"), "FASTLANE_SESSION")
				return string(s.Plaintext), ok && s.Visibility == "selected" && len(s.RepoIDs) == 2
			}, wantOut: "GitHub organisation acme (visibility selected: app, lib)", requests: 4},
		{name: "GitLab project by path", args: []string{"--gitlab-project", "acme/app"}, env: map[string]string{"GITLAB_TOKEN": glToken}, stdin: transcript,
			stored:  func() (string, bool) { return w.gl.Value("projects/acme/app", "FASTLANE_SESSION") },
			wantOut: "in GitLab project acme/app (created; 2 requests", requests: 2, plainBody: true},
		{name: "GitLab group", args: []string{"--gitlab-group", "7"}, env: map[string]string{"GITLAB_TOKEN": glToken}, stdin: w.valid,
			stored:  func() (string, bool) { return w.gl.Value("groups/7", "FASTLANE_SESSION") },
			wantOut: "in GitLab group 7 (created", requests: 2, plainBody: true},
		{name: "CircleCI project", args: []string{"--circleci-project", "gh/acme/app"}, env: map[string]string{"CIRCLECI_TOKEN": ccToken}, stdin: w.valid,
			stored:  func() (string, bool) { return w.cc.Value("project/gh/acme/app", "FASTLANE_SESSION") },
			wantOut: "in CircleCI project gh/acme/app", requests: 1, plainBody: true},
		{name: "CircleCI context", args: []string{"--circleci-context", "5e3c"}, env: map[string]string{"CIRCLECI_TOKEN": ccToken}, stdin: w.valid,
			stored:  func() (string, bool) { return w.cc.Value("context/5e3c", "FASTLANE_SESSION") },
			wantOut: "in CircleCI context 5e3c", requests: 1, plainBody: true},
		{name: "Bitrise app, token from a file", args: []string{"--bitrise-app", "9f8e7d", "--token-file", writeTemp(t, brToken+"\n")}, stdin: w.valid,
			stored:  func() (string, bool) { return w.br.Value("apps/9f8e7d", "FASTLANE_SESSION") },
			wantOut: "in Bitrise app 9f8e7d (created; 1 requests", requests: 1, plainBody: true},
	}
	escaped := session.Escaped(w.valid)
	for _, tc := range tests { // in order: the second GitHub case updates the first's secret
		before := len(w.requests())
		code, stdout, stderr := w.run(t, tc.args, tc.stdin, tc.env)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", tc.name, code, stdout, stderr)
		}
		if !strings.Contains(stdout, tc.wantOut) || !strings.Contains(stdout, "session expires 2026-12-20T09:42:18Z (27 days left)") {
			t.Errorf("%s: stdout %q lacks %q", tc.name, stdout, tc.wantOut)
		}
		if !strings.Contains(stderr, "The session is valid") {
			t.Errorf("%s: no live check in %q", tc.name, stderr)
		}
		if v, ok := tc.stored(); !ok || v != escaped {
			t.Errorf("%s: stored %.30q…, %v; want the escaped session", tc.name, v, ok)
		}
		if n := len(w.requests()) - before; n != tc.requests {
			t.Errorf("%s: %d requests, want %d", tc.name, n, tc.requests)
		}
		assertNoValue(t, tc.name+": the output", stdout+stderr, w.validS, escaped)
		for _, r := range w.requests()[before:] {
			assertNoValue(t, tc.name+": "+r.Method+" "+r.Path+" line or headers", r.Line(), w.validS, escaped)
			if !tc.plainBody {
				assertNoValue(t, tc.name+": "+r.Method+" "+r.Path+" body", string(r.Body), w.validS, escaped)
			}
		}
		if strings.Contains(stdout+stderr, ghToken) || strings.Contains(stdout+stderr, brToken) {
			t.Errorf("%s: a token was printed", tc.name)
		}
	}
}

func TestSessionStoreDryRun(t *testing.T) {
	t.Parallel()
	w := newStoreWorld(t)
	code, stdout, stderr := w.run(t, []string{"--repo", "acme/app", "--dry-run"}, spaceauthTranscript(w.valid), nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"dry run: would store FASTLANE_SESSION in GitHub repository acme/app",
		"session: 1438 bytes (the escaped one-line form), 3 cookies, expires 2026-12-20T09:42:18Z (27 days left)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %q lacks %q", stdout, want)
		}
	}
	if len(w.gh.Requests()) != 0 {
		t.Errorf("a dry run sent %d requests", len(w.gh.Requests()))
	}
	if !strings.Contains(stderr, "Please enter the 6 digit code: ") || !strings.Contains(stderr, "not shown") {
		t.Errorf("spaceauth's prompts were not passed through: %q", stderr)
	}
	assertNoValue(t, "the output", stdout+stderr, w.validS, w.valid)
}

func TestSessionStoreStaleKey(t *testing.T) {
	t.Parallel()
	w := newStoreWorld(t)
	w.gh.RotateAfterNextKeyFetch()
	code, stdout, stderr := w.run(t, []string{"--repo", "acme/app", "--no-check"}, w.valid, map[string]string{"GH_TOKEN": ghToken})
	if code != 0 || !strings.Contains(stdout, "(created; 4 requests") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestSessionStoreRefusals: every refusal is one line on standard error,
// and nothing is written anywhere.
func TestSessionStoreRefusals(t *testing.T) {
	t.Parallel()
	w := newStoreWorld(t)
	expired, _ := readSession(t, "expired.session")
	expiring, _ := readSession(t, "expiring.session")
	noauth, _ := readSession(t, "noauth.session")
	gh := map[string]string{"GH_TOKEN": ghToken}
	repo := []string{"--repo", "acme/app"}
	big := strings.Replace(readYAML(t), w.validS.Cookies[1].Value, "DAWTKNV3"+strings.Repeat("a", 50_000), 1)
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		stdin string
		code  int
		want  string
	}{
		{"nothing piped in", repo, gh, "", exitUsage, "no session given"},
		{"not a session", repo, gh, "hello", exitFailure, "not a usable session"},
		{"a transcript without a session", repo, gh, "Please enter the 6 digit code: \nIncorrect verification code\n", exitFailure, "no session in the input"},
		{"cut short", repo, gh, w.valid[:700], exitFailure, "not a usable session: the session is truncated"},
		{"an API key", repo, gh, string(readTestdata(t, "AuthKey_DEMOKEY001.p8")), exitFailure, "not a usable session"},
		{"no authentication cookie", repo, gh, noauth, exitFailure, "not a usable session"},
		{"expired", repo, gh, expired, exitFailure, "the session expired on 2026-10-31T08:00:00Z; nothing was stored"},
		{"dead on the server", repo, gh, expiring, exitFailure, "App Store Connect refused the session (HTTP 401); nothing was stored"},
		{"missing token", repo, nil, w.valid, exitUsage, "no token: set GH_TOKEN or GITHUB_TOKEN"},
		{"wrong token", repo, map[string]string{"GH_TOKEN": "ghp_WRONGTOKEN0123456789"}, w.valid, exitFailure, "GitHub refused the token (401): it is invalid or expired"},
		{"the workflow's token", repo, map[string]string{"GITHUB_TOKEN": "ghs_WORKFLOWTOKEN0123456789"}, w.valid, exitFailure,
			`(403); it needs a fine-grained token on the repository with "Secrets: read and write", or a classic token with repo. A workflow's own GITHUB_TOKEN can never write secrets`},
		{"organisation without permission", []string{"--org", "acme"}, map[string]string{"GH_TOKEN": "ghs_WORKFLOWTOKEN0123456789"}, w.valid, exitFailure, "admin:org"},
		{"invalid name", append([]string{"--name", "GITHUB_SESSION"}, repo...), gh, w.valid, exitUsage, "reserves names starting with GITHUB_"},
		{"invalid name for Bitrise", []string{"--bitrise-app", "9f8e7d", "--name", "FASTLANE-SESSION"}, map[string]string{"BITRISE_TOKEN": brToken}, w.valid, exitUsage, "--name: Bitrise variable name"},
		{"over 48 KB", append([]string{"--no-check"}, repo...), gh, big, exitFailure, "GitHub takes at most 49152 (48 KB) in a secret; nothing was sent"},
		{"no destination", nil, gh, w.valid, exitUsage, "no destination"},
		{"two destinations", []string{"--repo", "acme/app", "--bitrise-app", "x"}, gh, w.valid, exitUsage, "one destination at a time"},
		{"env without repo", []string{"--env", "prod"}, gh, w.valid, exitUsage, "--env needs --repo"},
		{"bad repo", []string{"--repo", "acme"}, gh, w.valid, exitUsage, `--repo "acme" is not OWNER/NAME`},
		{"bad visibility", []string{"--org", "acme", "--visibility", "public"}, gh, w.valid, exitUsage, "give all, private or selected"},
		{"selected without repos", []string{"--org", "acme", "--visibility", "selected"}, gh, w.valid, exitUsage, "needs --repos"},
		{"plain http to another host", append([]string{"--github-api-url", "http://example.com"}, repo...), gh, w.valid, exitUsage, "must use https"},
		{"a token as an argument", append(repo, ghToken), gh, w.valid, exitUsage, "tokens come from the environment"},
		{"bad CircleCI slug", []string{"--circleci-project", "acme/app"}, map[string]string{"CIRCLECI_TOKEN": ccToken}, w.valid, exitUsage, "not a project slug"},
		{"GitLab refuses to mask, and echoes the value", []string{"--gitlab-project", "acme/app", "--gitlab-masked"}, map[string]string{"GITLAB_TOKEN": glToken}, w.valid, exitFailure, "run again without --gitlab-masked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := w.writes()
			code, stdout, stderr := w.run(t, tc.args, tc.stdin, tc.env)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q lacks %q", code, tc.code, stderr, tc.want)
			}
			var lines []string
			for l := range strings.Lines(stderr) {
				if strings.HasPrefix(l, "asc-auth session store:") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Errorf("%d error lines: %q", len(lines), lines)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if n := w.writes() - before; n != 0 && !strings.Contains(tc.name, "GitLab refuses") {
				t.Errorf("the fakes saw %d writes", n)
			}
			assertNoValue(t, "the output", stdout+stderr, w.validS, w.valid)
		})
	}
	if _, ok := w.gh.Secret(cifake.RepoScope("acme/app"), "FASTLANE_SESSION"); ok {
		t.Error("a refused run stored the session")
	}
}

func readYAML(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "session", "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// spaceauthTranscript is shaped like what fastlane spaceauth prints: its
// prompts, then the session underlined and cyan, on its own line and in
// an export line.
func spaceauthTranscript(escaped string) string {
	v := strings.TrimSpace(escaped)
	return "[✔] 🚀 \n" +
		"Two-factor Authentication (6 digits code) is enabled for account 'you@example.com'\n" +
		"Please enter the 6 digit code: 123456\n" +
		"Requesting session...\n" +
		"Successfully logged in to App Store Connect\n\n" +
		"Pass the following via the FASTLANE_SESSION environment variable:\n" +
		"\x1b[4m\x1b[36m" + v + "\x1b[0m\x1b[0m\n\n\n" +
		"Example:\n" +
		"\x1b[4m\x1b[36mexport FASTLANE_SESSION='" + v + "'\x1b[0m\x1b[0m\n"
}
