package actionstest_test

import (
	"os"
	"testing"

	"github.com/asc-auth/action/internal/actions/actionstest"
)

func TestNew(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	for _, key := range []string{"GITHUB_ACTIONS", "CI"} {
		if got := r.Getenv(key); got != "true" {
			t.Errorf("%s = %q, want true", key, got)
		}
	}
	for _, key := range []string{"RUNNER_TEMP", "GITHUB_WORKSPACE", "HOME"} {
		if fi, err := os.Stat(r.Getenv(key)); err != nil || !fi.IsDir() {
			t.Errorf("%s = %q is not a directory: %v", key, r.Getenv(key), err)
		}
	}
	for key, file := range map[string]string{"GITHUB_OUTPUT": r.OutputFile, "GITHUB_ENV": r.EnvFile, "GITHUB_STEP_SUMMARY": r.SummaryFile} {
		if r.Getenv(key) != file {
			t.Errorf("%s = %q, want %q", key, r.Getenv(key), file)
		}
		if data, err := os.ReadFile(file); err != nil || len(data) != 0 {
			t.Errorf("%s: want an empty file, got %q, %v", key, data, err)
		}
	}
	if len(r.Outputs()) != 0 || len(r.Env()) != 0 || r.Summary() != "" || r.Masks() != nil || r.Annotations() != nil {
		t.Error("a new runner has something recorded")
	}
}

func TestInputsAndEnv(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	r.SetInput("key-id", " K1 ")
	r.SetInput("issuer id", "I1")
	if got := r.Getenv("INPUT_KEY-ID"); got != " K1 " {
		t.Errorf("INPUT_KEY-ID = %q", got)
	}
	if got := r.Getenv("INPUT_ISSUER_ID"); got != "I1" {
		t.Errorf("INPUT_ISSUER_ID = %q", got)
	}
	rt := r.Runtime()
	if got := rt.Input("key-id"); got != "K1" {
		t.Errorf("Input(key-id) = %q", got)
	}
	r.Setenv("INPUT_KEY-ID", "")
	if got := rt.Input("key-id"); got != "" {
		t.Errorf("after unsetting, Input(key-id) = %q", got)
	}
}
