package nativetest

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// targets are the release's binaries, by the runner's names for them.
var targets = []struct{ os, arch, asset, cacheArch string }{
	{"macOS", "ARM64", "asc-auth-darwin-arm64", "arm64"},
	{"macOS", "X64", "asc-auth-darwin-amd64", "x64"},
	{"Linux", "X64", "asc-auth-linux-amd64", "x64"},
	{"Linux", "ARM64", "asc-auth-linux-arm64", "arm64"},
}

// fakeRelease serves a release's assets on loopback, as GitHub serves
// https://github.com/OWNER/REPO/releases/download/VERSION/NAME, and counts
// the requests.
type fakeRelease struct {
	version string
	assets  map[string][]byte
	url     string // the download URL: server and version

	mu       sync.Mutex
	requests []string
}

func newFakeRelease(t *testing.T, version string, assets map[string][]byte) *fakeRelease {
	t.Helper()
	f := &fakeRelease{version: version, assets: assets}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, req.Method+" "+req.URL.Path)
		f.mu.Unlock()
		name, ok := strings.CutPrefix(req.URL.Path, "/"+version+"/")
		if name == "SHA256SUMS" {
			fmt.Fprint(w, f.sums())
			return
		}
		data, found := f.assets[name]
		if !ok || !found {
			http.NotFound(w, req)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/" + version
	return f
}

// sums is the release's SHA256SUMS, as build-release.sh writes it.
func (f *fakeRelease) sums() string {
	var b strings.Builder
	for _, tg := range targets {
		if data, ok := f.assets[tg.asset]; ok {
			fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), tg.asset)
		}
	}
	return b.String()
}

// requestsSince returns the requests made after the first n.
func (f *fakeRelease) requestsSince(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests[n:]...)
}

func (f *fakeRelease) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// fakeAssets are stand-ins for the four binaries: scripts that leave a mark
// if anything runs them.
func fakeAssets() map[string][]byte {
	m := map[string][]byte{}
	for _, tg := range targets {
		m[tg.asset] = []byte("#!/bin/sh\n# stand-in for " + tg.asset + "\ntouch \"$RUNNER_TEMP/ran-" + tg.asset + "\"\n")
	}
	return m
}

// fakeGo writes a go command that records how it was called and builds a
// stand-in binary, and returns its directory.
func fakeGo(t *testing.T) (dir, log string) {
	t.Helper()
	dir = t.TempDir()
	log = filepath.Join(dir, "calls")
	script := `#!/bin/sh
if [ "$1" = version ]; then echo "go version go0.0 fake"; exit 0; fi
echo "$PWD GOOS=$GOOS GOARCH=$GOARCH CGO_ENABLED=$CGO_ENABLED $*" >>"` + log + `"
while [ $# -gt 0 ]; do
	if [ "$1" = -o ]; then printf '#!/bin/sh\necho built from source\n' >"$2"; chmod +x "$2"; fi
	shift
done
`
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, log
}

// pathWithoutGo is PATH without any directory that holds a go command.
func pathWithoutGo(t *testing.T) string {
	t.Helper()
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "go")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "bash")); err == nil {
				t.Skip("go lives beside bash on this machine; cannot hide it")
			}
			continue
		}
		keep = append(keep, d)
	}
	return strings.Join(keep, string(filepath.ListSeparator))
}

// installScript is the script the install step runs.
var installScript = filepath.Join(repoRoot, ".github/scripts/install-asc-auth.sh")

// runScript runs the install script with env on top of a runner's
// environment and returns its standard output, standard error and exit code.
func runScript(t *testing.T, env map[string]string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("bash", installScript)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "RUNNER_") && !strings.HasPrefix(k, "ASC_AUTH_") && !strings.HasPrefix(k, "GITHUB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = exit.ExitCode()
	}
	return out.String(), errb.String(), code
}
