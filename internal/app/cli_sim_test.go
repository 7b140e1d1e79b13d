//go:build !nosimulator

package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
)

func TestSimulatorCLI(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve, print how to use it, and stop at once
	var stdout, stderr strings.Builder
	code := Main(ctx, Env{
		Args: []string{"simulator", "-listen", "127.0.0.1:0"}, Getenv: func(string) string { return "" },
		Stdout: &stdout, Stderr: &stderr, Now: time.Now, DemoKey: readTestdata(t, "AuthKey_DEMOKEY001.p8"),
	})
	if code != exitOK || !strings.Contains(stdout.String(), "App Store Connect simulator at http://127.0.0.1:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

func TestBuildNumberCLI(t *testing.T) {
	t.Parallel()
	_, url := testSimulator(t, func() time.Time { return fixedNow })
	keyPath := filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")
	code, stdout, stderr := runCLIArgs(t, "build-number", "--api-base-url", url, "--app", demoBundleID,
		"--issuer-id", demoIssuerID, "--private-key-path", keyPath)
	if code != exitOK || !strings.HasPrefix(stdout, "latest-build-number=13\nnext-build-number=14\napp-id=") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLIArgs(t, "build-number", "--api-base-url", url, "--app", "com.example.nope",
		"--issuer-id", demoIssuerID, "--private-key-path", keyPath)
	if code != exitFailure || !strings.Contains(stderr, "no app with bundle ID com.example.nope is visible to this key") {
		t.Fatalf("unknown app: exit %d, stderr %q", code, stderr)
	}
}

func TestDemoCLI(t *testing.T) {
	t.Parallel()
	code, out, stderr := runCLIArgs(t, "demo")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"token=***", "APP_STORE_CONNECT_API_KEY_KEY=***", "### App Store Connect token", `"kid": "DEMOKEY001"`,
		"next-build-number=14", "upload-state=COMPLETE", "processing-state=VALID", "### Upload"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "BEGIN PRIVATE KEY") {
		t.Errorf("demo output shows the key")
	}
}

func TestUploadCLI(t *testing.T) {
	t.Parallel()
	_, url := testSimulator(t, time.Now)
	ipa := filepath.Join(t.TempDir(), "Demo.ipa")
	if err := writeDemoIPA(ipa); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")
	run := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := Main(context.Background(), Env{
			Args: args, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
			Now: time.Now, ReadFile: os.ReadFile, Version: "test", uploadTuning: uploadTuning{PollInterval: 100 * time.Millisecond},
		})
		return code, stdout.String(), stderr.String()
	}
	base := []string{"upload", "--api-base-url", url, "--issuer-id", demoIssuerID, "--private-key-path", keyPath}

	code, out, stderr := run(append(base, "--wait-for-processing", "1m", ipa)...)
	if code != exitOK || !strings.Contains(out, "upload-state=COMPLETE\n") || !strings.Contains(out, "processing-state=VALID\n") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	if strings.Contains(stderr, "::") || !strings.Contains(stderr, "▸ Uploading Demo.ipa") {
		t.Errorf("stderr shows raw workflow commands or no progress group:\n%s", stderr)
	}
	// The same build again: its number is taken now.
	code, _, stderr = run(append(base, ipa)...)
	if code != exitFailure || !strings.Contains(stderr, "the next free build number is 15") {
		t.Errorf("second upload: exit %d, stderr %s", code, stderr)
	}
	if code, _, stderr = run("upload", ipa, "extra"); code != exitUsage || !strings.Contains(stderr, "want 1 argument(s), got 2") {
		t.Errorf("two files: exit %d, stderr %s", code, stderr)
	}
}

// testSimulator starts the demo simulator on a free port for one test,
// dated by now, and stops it when the test ends.
func testSimulator(t *testing.T, now func() time.Time) (*ascsim.Server, string) {
	t.Helper()
	sim, url, err := startDemoSimulator(readTestdata(t, "AuthKey_DEMOKEY001.p8"), now, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, url
}
