package app

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/demo"
	"github.com/asc-auth/action/internal/notarysim"
	"github.com/asc-auth/action/internal/runnersim"
)

// update rewrites the golden files: go test ./internal/app -run Golden -update.
var update = flag.Bool("update", false, "rewrite testdata/golden from what the steps print now")

// variable matches what changes from run to run, with what stands in for
// it: times, durations, rates and sizes of a run against a live clock.
var variable = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "<time>"},
	{regexp.MustCompile(`\b\d+(\.\d+)? ?MB/s`), "<rate>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s)\b`), "<duration>"},
	{regexp.MustCompile(`\(\d+ retried\)`), "(<n> retried)"},
	{regexp.MustCompile(`\d+ requests after processing`), "<n> requests after processing"},
	{regexp.MustCompile(`in preflight, \d+ after`), "in preflight, <n> after"},
}

// progress matches the upload's progress lines, which come every few
// seconds of a live clock, and the states a wait saw on its way: how many
// of those a poll catches depends on the machine's load, not the wording.
var progress = regexp.MustCompile(`(?m)^( *\d+%  .*|build( upload)? \S+: (processing .*|[A-Z_]+))\n`)

func normalise(s string) string {
	s = progress.ReplaceAllString(s, "")
	for _, v := range variable {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestGolden runs each step on the simulator as the runner would and
// compares its log (as the runner shows it, masks applied) and its step
// summary with files under testdata/golden, so that every change of
// wording is reviewed as a diff.
func TestGolden(t *testing.T) {
	demoKey := string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))
	key := map[string]string{"key-id": demo.KeyID, "issuer-id": demo.IssuerID, "private-key": demoKey}
	valid, validS := readSession(t, "valid.session")

	tests := []struct {
		name   string
		now    func() time.Time
		inputs func(t *testing.T, url string) map[string]string
		setup  func(sim *ascsim.Server)
		notary bool // run on the notary stand-in too
	}{
		{name: "token", now: fixedClock, inputs: func(t *testing.T, url string) map[string]string {
			return map[string]string{"api-key-json-path": "/github/runner_temp/api_key.json"}
		}},
		{name: "build-number", now: fixedClock, inputs: func(t *testing.T, url string) map[string]string {
			return map[string]string{"build-number": "true", "app": demo.BundleID, "api-base-url": url}
		}},
		{name: "upload", now: time.Now, inputs: func(t *testing.T, url string) map[string]string {
			path := filepath.Join(t.TempDir(), "App.ipa")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := bundletest.WriteIPA(f, bundletest.IPAOptions{BundleID: demo.BundleID, ShortVersion: "2.0", BuildVersion: "1", AssetSize: 3 << 20, AssetSeed: 7}); err != nil {
				t.Fatal(err)
			}
			return map[string]string{"upload-file": path, "wait-for-processing": "1m", "api-base-url": url}
		}},
		{name: "testflight", now: time.Now, inputs: func(t *testing.T, url string) map[string]string {
			return map[string]string{"api-base-url": url, "app": demo.BundleID, "version": "1.1", "testflight-build-number": "11",
				"testflight-groups": demo.GroupEveryone + "\n" + demo.GroupQA + "\n" + demo.GroupPublic,
				"what-to-test":      "Sign-in", "uses-non-exempt-encryption": "false", "notify-testers": "true",
				"submit-beta-review": "auto", "distribution-timeout": "1m", "expire-build-in-review": "false"}
		}},
		{name: "session", now: func() time.Time { return sessionNow }, inputs: func(t *testing.T, url string) map[string]string {
			return map[string]string{"session": valid, "session-base-url": url, "private-key": ""}
		}, setup: func(sim *ascsim.Server) { sim.RegisterSession(myacinfo(validS), true) }},
		{name: "notarize", now: fixedClock, notary: true, inputs: func(t *testing.T, url string) map[string]string {
			return map[string]string{"notarize-file": writeNotarizeFile(t, "Demo.pkg")}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, url := testSimulator(t, tc.now)
			if tc.setup != nil {
				tc.setup(sim)
			}
			r := actionstest.New(t)
			for k, v := range key {
				r.SetInput(k, v)
			}
			for k, v := range tc.inputs(t, url) {
				r.SetInput(k, v)
			}
			var nsim *notarysim.Server
			if tc.notary {
				var urls map[string]string
				nsim, urls = notarySimulator(t, tc.now, notarysim.WithTicketLag(1))
				for k, v := range urls {
					r.SetInput(k, v)
				}
			}
			code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout, Now: tc.now,
				ReadFile: os.ReadFile, Version: "test", PollInterval: 100 * time.Millisecond})
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, logText(r))
			}
			var masker runnersim.Masker
			var log strings.Builder
			for line := range strings.Lines(r.Stdout.String()) {
				for _, c := range runnersim.ParseCommands([]byte(line)) {
					if c.Name == "add-mask" {
						masker.Add(c.Message)
					}
				}
				if shown, ok := runnersim.RenderLogLine(line); ok {
					log.WriteString(masker.Mask(shown))
				}
			}
			shown, summary := log.String(), masker.Mask(r.Summary())
			if nsim != nil {
				// The submission's ID is random, and RUNNER_TEMP a
				// temporary directory.
				fix := strings.NewReplacer(nsim.Submissions()[0].ID, "<submission-id>", r.Getenv("RUNNER_TEMP"), "$RUNNER_TEMP")
				shown, summary = fix.Replace(shown), fix.Replace(summary)
			}
			checkGolden(t, tc.name+".log", normalise(shown))
			checkGolden(t, tc.name+".summary.md", normalise(summary))
		})
	}
}

func fixedClock() time.Time { return fixedNow }

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/app -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what the step prints now (review, then go test ./internal/app -run Golden -update):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
