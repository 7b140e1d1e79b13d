package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/demo"
	"github.com/asc-auth/action/internal/testflight"
)

// writeIPA writes a sample .ipa of the demo app.
func writeIPA(t *testing.T, version, build string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "App.ipa")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := bundletest.WriteIPA(f, bundletest.IPAOptions{BundleID: demo.BundleID, ShortVersion: version, BuildVersion: build, AssetSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestActionTestFlight runs the upload and testflight steps together in
// one job on the simulator, as the action.
func TestActionTestFlight(t *testing.T) {
	t.Parallel()
	demoKey := string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))
	tests := []struct {
		name      string
		inputs    map[string]string
		wantCode  int
		wantError string
		// uploaded: whether the upload must have started
		uploaded bool
		check    func(t *testing.T, out map[string]string)
	}{
		{
			name:      "an unknown group fails before the upload",
			inputs:    map[string]string{"testflight-groups": "QA\nNobody"},
			wantCode:  exitFailure,
			wantError: `no beta group with ID or name "Nobody"`,
		},
		{
			name:      "emoji in the notes fail before anything is sent",
			inputs:    map[string]string{"testflight-groups": "QA", "what-to-test": "New icons 🎉"},
			wantCode:  exitFailure,
			wantError: "input what-to-test: contain emoji",
		},
		{
			name:   "a dry run checks the groups and changes nothing",
			inputs: map[string]string{"testflight-groups": "QA", "dry-run": "true"},
			check: func(t *testing.T, out map[string]string) {
				if _, ok := out["beta-groups"]; ok {
					t.Errorf("a dry run set testflight outputs: %v", out)
				}
			},
		},
		{
			name:      "missing export compliance without the input",
			inputs:    map[string]string{"testflight-groups": "QA"},
			wantCode:  exitFailure,
			wantError: "ITSAppUsesNonExemptEncryption",
			uploaded:  true,
		},
		{
			name: "every kind of group, notes in two locales, review submitted",
			inputs: map[string]string{
				"testflight-groups":          demo.GroupEveryone + ", " + demo.GroupQA + "\n" + strings.ToLower(demo.GroupPublic),
				"what-to-test":               "Sign-in",
				"what-to-test-localized":     `{"de-DE": "Anmeldung"}`,
				"uses-non-exempt-encryption": "false",
			},
			uploaded: true,
			check: func(t *testing.T, out map[string]string) {
				var groups []testflight.GroupResult
				if err := json.Unmarshal([]byte(out["beta-groups"]), &groups); err != nil {
					t.Fatalf("beta-groups %q: %v", out["beta-groups"], err)
				}
				got := map[string]string{}
				for _, g := range groups {
					got[g.Name] = g.Result
				}
				want := map[string]string{demo.GroupEveryone: "skipped-automatic", demo.GroupQA: "added", demo.GroupPublic: "added"}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("group %s: %q, want %q (%s)", k, got[k], v, out["beta-groups"])
					}
				}
				if out["beta-review-state"] != "WAITING_FOR_REVIEW" || out["beta-review-submission-id"] == "" ||
					out["what-to-test-locales"] != "de-DE,en-US" || out["build-id"] == "" || out["notification"] == "" {
					t.Errorf("outputs %v", out)
				}
			},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, url := testSimulator(t, time.Now)
			r := actionstest.New(t)
			for k, v := range map[string]string{
				"key-id": demo.KeyID, "issuer-id": demo.IssuerID, "private-key": demoKey, "api-base-url": url,
				"upload-file": writeIPA(t, "5.0", string(rune('1'+i))), "wait-for-processing": "1m",
				"submit-beta-review": "auto", "distribution-timeout": "1m", "expire-build-in-review": "false",
			} {
				r.SetInput(k, v)
			}
			for k, v := range tc.inputs {
				r.SetInput(k, v)
			}
			code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout, Now: time.Now,
				ReadFile: os.ReadFile, Version: "test", PollInterval: 100 * time.Millisecond})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, logText(r))
			}
			if tc.wantError != "" && !strings.Contains(logText(r), tc.wantError) {
				t.Errorf("log lacks %q:\n%s", tc.wantError, logText(r))
			}
			var created bool
			for _, req := range sim.Requests() {
				if req.Method == "POST" && req.Path == "/v1/buildUploads" {
					created = true
				}
			}
			if created != tc.uploaded {
				t.Errorf("a build upload was created: %t, want %t", created, tc.uploaded)
			}
			if tc.check != nil {
				tc.check(t, r.Outputs())
			}
		})
	}
}

// TestTestFlightCLI distributes an existing build from a shell, named by
// its ID, and by its app, version and number.
func TestTestFlightCLI(t *testing.T) {
	t.Parallel()
	_, url := testSimulator(t, time.Now)
	keyPath := filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")
	base := []string{"testflight", "--api-base-url", url, "--issuer-id", demo.IssuerID, "--private-key-path", keyPath}
	var buildID string
	run := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := Main(t.Context(), Env{Args: args, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
			Now: time.Now, ReadFile: os.ReadFile, Version: "test", PollInterval: 100 * time.Millisecond})
		return code, stdout.String(), stderr.String()
	}
	// Build 11 of version 1.1 is processed; its compliance is unanswered.
	code, out, stderr := run(append(base, "--app", demo.BundleID, "--version", "1.1", "--testflight-build-number", "11",
		"--testflight-groups", demo.GroupQA, "--uses-non-exempt-encryption", "false")...)
	if code != exitOK || !strings.Contains(out, "internal-build-state=") || !strings.Contains(stderr, "TestFlight preflight:") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "build-id="); ok {
			buildID = v
		}
	}
	// The same build by its ID: already in the group.
	code, out, stderr = run(append(base, "--build-id", buildID, "--testflight-groups", strings.ToUpper(demo.GroupQA))...)
	if code != exitOK || !strings.Contains(out, `"result":"already"`) {
		t.Fatalf("by ID: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	if code, _, stderr = run(append(base, "--app", demo.BundleID)...); code != exitUsage || !strings.Contains(stderr, "nothing to do") {
		t.Errorf("no build named: exit %d, stderr %s", code, stderr)
	}
}
