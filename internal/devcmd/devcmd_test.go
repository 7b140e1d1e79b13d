package devcmd

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/app"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/demo"
)

var fixedNow = time.Date(2026, 11, 22, 9, 42, 18, 0, time.UTC)

var keyPath = filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")

func demoKey(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run runs the development build's asc-auth outside Actions and returns
// exit code, stdout and stderr.
func run(t *testing.T, ctx context.Context, now func() time.Time, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := app.Main(ctx, app.Env{
		Args: args, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
		Now: now, ReadFile: os.ReadFile, Version: "test", PollInterval: 100 * time.Millisecond,
		Extra: Commands(demoKey(t)),
	})
	return code, stdout.String(), stderr.String()
}

func TestSimulatorCLI(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve, print how to use it, and stop at once
	code, stdout, stderr := run(t, ctx, time.Now, "simulator", "-listen", "127.0.0.1:0")
	if code != app.ExitOK || !strings.Contains(stdout, "App Store Connect simulator at http://127.0.0.1:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestSimulatorLogsRequests starts the simulator command, sends it a
// request it must refuse, and reads the log line for it.
func TestSimulatorLogsRequests(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	done := make(chan int)
	go func() {
		done <- app.Main(ctx, app.Env{Args: []string{"simulator"}, Getenv: func(string) string { return "" },
			Stdout: stdout, Stderr: stderr, Now: time.Now, Extra: Commands(demoKey(t))})
	}()
	var url string
	for url == "" {
		select {
		case code := <-done:
			t.Fatalf("the simulator stopped: exit %d, %s", code, stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if m := regexp.MustCompile(`at (http://\S+)`).FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
	}
	resp, err := http.Get(url + "/v1/apps?filter[colour]=red")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	<-done
	if !strings.Contains(stderr.String(), "GET /v1/apps?filter[colour]=red 401") {
		t.Errorf("the simulator's log lacks the request:\n%s", stderr)
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBuildNumberCLI(t *testing.T) {
	t.Parallel()
	_, url := testSimulator(t, func() time.Time { return fixedNow })
	fixed := func() time.Time { return fixedNow }
	code, stdout, stderr := run(t, t.Context(), fixed, "build-number", "--api-base-url", url, "--app", demo.BundleID,
		"--issuer-id", demo.IssuerID, "--private-key-path", keyPath)
	if code != app.ExitOK || !strings.HasPrefix(stdout, "latest-build-number=13\nnext-build-number=14\napp-id=") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = run(t, t.Context(), fixed, "build-number", "--api-base-url", url, "--app", "com.example.nope",
		"--issuer-id", demo.IssuerID, "--private-key-path", keyPath)
	if code != app.ExitFailure || !strings.Contains(stderr, "no app with bundle ID com.example.nope is visible to this key") {
		t.Fatalf("unknown app: exit %d, stderr %q", code, stderr)
	}
}

func TestDemoCLI(t *testing.T) {
	t.Parallel()
	code, out, stderr := run(t, t.Context(), time.Now, "demo")
	if code != app.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"token=***", "APP_STORE_CONNECT_API_KEY_KEY=***", "### App Store Connect token", `"kid": "DEMOKEY001"`,
		"next-build-number=14", "upload-state=COMPLETE", "processing-state=VALID", "### Upload",
		"### TestFlight", `"result":"skipped-automatic"`, `"name":"Public Beta"`, "beta-review-state=WAITING_FOR_REVIEW", "what-to-test-locales=de-DE,en-US",
		"notarization-status=Accepted", "stapled=true", "### Notarization", "Stapled the ticket", "to Demo.pkg"} {
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
	if err := demo.WriteIPA(ipa); err != nil {
		t.Fatal(err)
	}
	base := []string{"upload", "--api-base-url", url, "--issuer-id", demo.IssuerID, "--private-key-path", keyPath}

	code, out, stderr := run(t, t.Context(), time.Now, append(base, "--wait-for-processing", "1m", ipa)...)
	if code != app.ExitOK || !strings.Contains(out, "upload-state=COMPLETE\n") || !strings.Contains(out, "processing-state=VALID\n") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	if strings.Contains(stderr, "::") || !strings.Contains(stderr, "▸ Uploading Demo.ipa") {
		t.Errorf("stderr shows raw workflow commands or no progress group:\n%s", stderr)
	}
	// The same build again: its number is taken now.
	code, _, stderr = run(t, t.Context(), time.Now, append(base, ipa)...)
	if code != app.ExitFailure || !strings.Contains(stderr, "the next free build number is 15") {
		t.Errorf("second upload: exit %d, stderr %s", code, stderr)
	}
	if code, _, stderr = run(t, t.Context(), time.Now, "upload", ipa, "extra"); code != app.ExitUsage || !strings.Contains(stderr, "want 1 argument(s), got 2") {
		t.Errorf("two files: exit %d, stderr %s", code, stderr)
	}
}

// testSimulator starts the demo simulator on a free port for one test,
// dated by now, and stops it when the test ends.
func testSimulator(t *testing.T, now func() time.Time) (*ascsim.Server, string) {
	t.Helper()
	sim, url, err := demo.StartSimulator(demoKey(t), now, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, url
}
