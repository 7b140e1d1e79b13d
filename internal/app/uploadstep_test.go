package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/demo"
)

// TestActionUpload runs the upload step as the runner would, against the
// demo simulator: outputs, summary, the duplicate check and the dry run.
func TestActionUpload(t *testing.T) {
	t.Parallel()
	demoKey := readTestdata(t, "AuthKey_DEMOKEY001.p8")
	sim, url := testSimulator(t, time.Now)
	ipa := writeIPA
	tests := []struct {
		name      string
		inputs    func(t *testing.T) map[string]string
		wantCode  int
		wantOut   map[string]string
		wantError string
		mutating  bool // whether POST/PATCH/PUT requests may reach the simulator
	}{
		{
			name: "upload and wait for processing",
			inputs: func(t *testing.T) map[string]string {
				return map[string]string{"upload-file": ipa(t, "2.0", "1"), "wait-for-processing": "1m"}
			},
			wantOut:  map[string]string{"upload-state": "COMPLETE", "processing-state": "VALID", "bundle-id": demo.BundleID, "version": "2.0", "build-number": "1"},
			mutating: true,
		},
		{
			name:      "build number already in flight",
			inputs:    func(t *testing.T) map[string]string { return map[string]string{"upload-file": ipa(t, "1.1", "13")} },
			wantCode:  exitFailure,
			wantError: "the next free build number is 14",
		},
		{
			name: "dry run sends nothing",
			inputs: func(t *testing.T) map[string]string {
				return map[string]string{"upload-file": ipa(t, "3.0", "1"), "dry-run": "true"}
			},
			wantOut: map[string]string{"bundle-id": demo.BundleID, "version": "3.0", "build-number": "1"},
		},
		{
			name: "an override that contradicts the file",
			inputs: func(t *testing.T) map[string]string {
				return map[string]string{"upload-file": ipa(t, "4.0", "1"), "version": "4.1"}
			},
			wantCode:  exitFailure,
			wantError: "input version: is 4.1 but App.ipa says CFBundleShortVersionString 4.0",
		},
		{
			name: "not an ipa",
			inputs: func(t *testing.T) map[string]string {
				return map[string]string{"upload-file": filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")}
			},
			wantCode:  exitFailure,
			wantError: "input upload-file:",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: each case reads the simulator's request log.
			r := actionstest.New(t)
			for k, v := range map[string]string{"key-id": demo.KeyID, "issuer-id": demo.IssuerID, "private-key": string(demoKey), "api-base-url": url} {
				r.SetInput(k, v)
			}
			for k, v := range tc.inputs(t) {
				r.SetInput(k, v)
			}
			before := len(sim.Requests())
			code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout, Now: time.Now,
				ReadFile: os.ReadFile, Version: "test", PollInterval: 100 * time.Millisecond})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, logText(r))
			}
			out := r.Outputs()
			for k, v := range tc.wantOut {
				if out[k] != v {
					t.Errorf("output %s = %q, want %q", k, out[k], v)
				}
			}
			if tc.wantError != "" && !strings.Contains(logText(r), tc.wantError) {
				t.Errorf("log lacks %q:\n%s", tc.wantError, logText(r))
			}
			for _, req := range sim.Requests()[before:] {
				if !tc.mutating && req.Method != "GET" {
					t.Errorf("%s %s reached the simulator", req.Method, req.Path)
				}
			}
			if tc.mutating {
				if !strings.Contains(r.Summary(), "### Upload") || !strings.Contains(r.Summary(), "MB/s") {
					t.Errorf("summary:\n%s", r.Summary())
				}
				if !strings.Contains(r.Stdout.String(), "::group::Uploading App.ipa") || !strings.Contains(r.Stdout.String(), "::endgroup::") {
					t.Errorf("progress is not in a group")
				}
			}
		})
	}
}
