package app

import (
	"os"
	"strings"
	"testing"
	"time"
)

// BenchmarkSessionStore measures asc-auth session store from reading
// spaceauth's output to the secret stored, on the local fakes, with the
// live check against the local simulator, and reports the requests each
// destination takes (requests/op; the live check is one more, to the
// simulator, not counted).
func BenchmarkSessionStore(b *testing.B) {
	for _, d := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"github-repo", []string{"--repo", "acme/app"}, map[string]string{"GH_TOKEN": ghToken}},
		{"github-env", []string{"--repo", "acme/app", "--env", "prod"}, map[string]string{"GH_TOKEN": ghToken}},
		{"github-org-selected", []string{"--org", "acme", "--repos", "app,lib"}, map[string]string{"GH_TOKEN": ghToken}},
		{"gitlab-project", []string{"--gitlab-project", "acme/app"}, map[string]string{"GITLAB_TOKEN": glToken}},
		{"circleci-context", []string{"--circleci-context", "5e3c"}, map[string]string{"CIRCLECI_TOKEN": ccToken}},
		{"bitrise-app", []string{"--bitrise-app", "9f8e7d"}, map[string]string{"BITRISE_TOKEN": brToken}},
	} {
		b.Run(d.name, func(b *testing.B) {
			w := newStoreWorld(b)
			in := spaceauthTranscript(w.valid)
			before := len(w.requests())
			b.ResetTimer()
			for b.Loop() {
				var stdout, stderr strings.Builder
				all := append([]string{"session", "store", "--session-base-url", w.checkURL, "--github-api-url", w.gh.URL(),
					"--gitlab-url", w.gl.URL(), "--circleci-url", w.cc.URL(), "--bitrise-url", w.br.URL()}, d.args...)
				code := Main(b.Context(), Env{Args: all, Getenv: func(k string) string { return d.env[k] },
					Stdin: strings.NewReader(in), Stdout: &stdout, Stderr: &stderr,
					Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile, Version: "bench"})
				if code != 0 {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			}
			b.ReportMetric(float64(len(w.requests())-before)/float64(b.N), "requests/op")
		})
	}
}
