package nativetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const version = "v1.2.3"

// pinned is the environment of a release's install step on a runner: the
// pinned version and sums, with the test's server as the download URL.
func pinned(t *testing.T, f *fakeRelease, runnerOS, arch string) (env map[string]string, toolCache string) {
	t.Helper()
	toolCache = t.TempDir()
	return map[string]string{
		"RUNNER_OS": runnerOS, "RUNNER_ARCH": arch, "RUNNER_TOOL_CACHE": toolCache, "RUNNER_TEMP": t.TempDir(),
		"ASC_AUTH_VERSION": version, "ASC_AUTH_SHA256SUMS": f.sums(), "ASC_AUTH_DOWNLOAD_URL": f.url,
		"ASC_AUTH_SOURCE_BUILD": "false",
	}, toolCache
}

func TestInstallChoosesTheAsset(t *testing.T) {
	t.Parallel()
	f := newFakeRelease(t, version, fakeAssets())
	for _, tg := range targets {
		t.Run(tg.os+"/"+tg.arch, func(t *testing.T) {
			t.Parallel()
			env, toolCache := pinned(t, f, tg.os, tg.arch)
			before := f.count()
			stdout, stderr, code := runScript(t, env)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			want := filepath.Join(toolCache, "asc-auth", "1.2.3", tg.cacheArch, "asc-auth")
			if stdout != want+"\n" {
				t.Errorf("printed %q, want %q", stdout, want)
			}
			got, err := os.ReadFile(want)
			if err != nil || string(got) != string(f.assets[tg.asset]) {
				t.Errorf("installed %q (%v), want the %s asset", got, err, tg.asset)
			}
			if fi, err := os.Stat(want); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("mode %v (%v), want 0755", fi.Mode(), err)
			}
			if _, err := os.Stat(filepath.Dir(want) + ".complete"); err != nil {
				t.Errorf("no tool-cache marker: %v", err)
			}
			// Requests from parallel subtests interleave; this one's is among them.
			if reqs := f.requestsSince(before); !slices.Contains(reqs, "GET /"+version+"/"+tg.asset) {
				t.Errorf("requests %q, want GET /%s/%s", reqs, version, tg.asset)
			}
			if !strings.Contains(stderr, "downloaded, SHA-256 verified") {
				t.Errorf("the log does not say which way was taken:\n%s", stderr)
			}
			assertNothingRan(t, env["RUNNER_TEMP"])
		})
	}
}

// TestInstallReusesTheToolCache runs the install three times in one job:
// the second finds the binary in the tool cache and downloads nothing; the
// third finds it changed and downloads it again.
func TestInstallReusesTheToolCache(t *testing.T) {
	t.Parallel()
	f := newFakeRelease(t, version, fakeAssets())
	env, _ := pinned(t, f, "macOS", "ARM64")
	first, stderr, code := runScript(t, env)
	if code != 0 || f.count() != 1 {
		t.Fatalf("first install: exit %d, %d requests:\n%s", code, f.count(), stderr)
	}
	second, stderr, code := runScript(t, env)
	if code != 0 || second != first || f.count() != 1 {
		t.Fatalf("second install: exit %d, printed %q (first %q), %d requests in all, want 1:\n%s", code, second, first, f.count(), stderr)
	}
	if !strings.Contains(stderr, "from the tool cache, SHA-256 verified") {
		t.Errorf("the second install's log:\n%s", stderr)
	}

	bin := strings.TrimSpace(first)
	if err := os.WriteFile(bin, []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	third, stderr, code := runScript(t, env)
	if code != 0 || third != first || f.count() != 2 {
		t.Fatalf("after tampering: exit %d, %d requests in all, want 2:\n%s", code, f.count(), stderr)
	}
	if got, _ := os.ReadFile(bin); string(got) != string(f.assets["asc-auth-darwin-arm64"]) {
		t.Errorf("the tool cache holds %q after a fresh download", got)
	}
	if !strings.Contains(stderr, "::warning title=asc-auth install::the tool cache's") {
		t.Errorf("no warning about the changed binary:\n%s", stderr)
	}
}

// TestInstallRefuses covers every way the install fails: one error line,
// nothing printed for the next step, nothing left in the tool cache, and
// nothing run.
func TestInstallRefuses(t *testing.T) {
	t.Parallel()
	all := newFakeRelease(t, version, fakeAssets()).sums()
	var wrong, withoutTarget strings.Builder // the sums with linux-amd64's changed, and without it
	for line := range strings.Lines(all) {
		if strings.HasSuffix(line, "  asc-auth-linux-amd64\n") {
			wrong.WriteString(strings.Repeat("0", 64) + "  asc-auth-linux-amd64\n")
			continue
		}
		wrong.WriteString(line)
		withoutTarget.WriteString(line)
	}
	noLinuxAMD64 := fakeAssets()
	delete(noLinuxAMD64, "asc-auth-linux-amd64")
	goDir, goLog := fakeGo(t)

	tests := []struct {
		name     string
		assets   map[string][]byte // the release's; nil: all four
		change   map[string]string
		want     string // in the error line
		requests int
	}{
		{name: "checksum mismatch", change: map[string]string{"ASC_AUTH_SHA256SUMS": wrong.String()},
			want: "asc-auth-linux-amd64 of v1.2.3 has SHA-256 ", requests: 1},
		{name: "windows", change: map[string]string{"RUNNER_OS": "Windows"},
			want: "Windows runners are not supported; use the action on a Linux (ubuntu-*) or macOS (macos-*) runner"},
		{name: "32-bit", change: map[string]string{"RUNNER_ARCH": "X86"}, want: "unsupported RUNNER_ARCH 'X86'"},
		{name: "download elsewhere", change: map[string]string{"ASC_AUTH_DOWNLOAD_URL": "https://example.com/v1.2.3"},
			want: "ASC_AUTH_DOWNLOAD_URL must be a GitHub release download URL"},
		{name: "loopback in the user part only", change: map[string]string{"ASC_AUTH_DOWNLOAD_URL": "http://127.0.0.1:1@example.com/v1.2.3"},
			want: "ASC_AUTH_DOWNLOAD_URL must be a GitHub release download URL"},
		{name: "missing asset, no source builds", assets: noLinuxAMD64, change: map[string]string{"ASC_AUTH_SHA256SUMS": all},
			want: "downloading asc-auth-linux-amd64 of v1.2.3 failed (", requests: 1},
		{name: "target not in the pinned sums", change: map[string]string{"ASC_AUTH_SHA256SUMS": withoutTarget.String()},
			want: "the pinned SHA256SUMS has no single entry for asc-auth-linux-amd64"},
		{name: "bad pinned version", change: map[string]string{"ASC_AUTH_VERSION": "1.2.3"}, want: "the pinned version '1.2.3' is not vX.Y.Z"},
		{name: "nothing pinned, no source builds", change: map[string]string{"ASC_AUTH_VERSION": ""},
			want: "no release is pinned (main or a fork), and source builds are off"},
		{name: "nothing pinned, no go", change: map[string]string{"ASC_AUTH_VERSION": "", "ASC_AUTH_SOURCE_BUILD": "true", "PATH": pathWithoutGo(t), "GITHUB_ACTION_PATH": t.TempDir()},
			want: "there is no Go on PATH to build asc-auth from source; add actions/setup-go before this step"},
	}
	t.Cleanup(func() {
		if calls, _ := os.ReadFile(goLog); len(calls) > 0 {
			t.Errorf("go was run: %s", calls)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assets := tt.assets
			if assets == nil {
				assets = fakeAssets()
			}
			srv := newFakeRelease(t, version, assets)
			env, toolCache := pinned(t, srv, "Linux", "X64")
			env["PATH"] = goDir + string(filepath.ListSeparator) + os.Getenv("PATH")
			for k, v := range tt.change {
				env[k] = v
			}
			stdout, stderr, code := runScript(t, env)
			if code == 0 || stdout != "" {
				t.Fatalf("exit %d, printed %q; want a failure and nothing for the next step", code, stdout)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); !strings.HasPrefix(lines[len(lines)-1], "::error title=asc-auth install::") ||
				!strings.Contains(lines[len(lines)-1], tt.want) || strings.Count(stderr, "::error") != 1 {
				t.Errorf("log:\n%s\nwant one error line with %q", stderr, tt.want)
			}
			if n := srv.count(); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			filepath.WalkDir(toolCache, func(path string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					t.Errorf("left in the tool cache: %s", path)
				}
				return nil
			})
			assertNothingRan(t, env["RUNNER_TEMP"])
		})
	}
}

// TestInstallBuildsFromSource covers the two ways to a source build: no
// release pinned (main and forks), and a pinned asset that cannot be
// downloaded where source builds are allowed.
func TestInstallBuildsFromSource(t *testing.T) {
	t.Parallel()
	partial := fakeAssets()
	delete(partial, "asc-auth-darwin-arm64")
	g := newFakeRelease(t, version, partial)
	full := newFakeRelease(t, version, fakeAssets())
	tests := []struct {
		name     string
		server   *fakeRelease
		version  string
		requests int
		log      string
	}{
		{name: "nothing pinned", server: full, log: "no release is pinned (main or a fork): building asc-auth from source"},
		{name: "asset missing", server: g, version: version, requests: 1,
			log: "::warning title=asc-auth install::downloading asc-auth-darwin-arm64 of v1.2.3 failed ("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			goDir, goLog := fakeGo(t)
			env, _ := pinned(t, tt.server, "macOS", "ARM64")
			sums := tt.server.sums() + "0000000000000000000000000000000000000000000000000000000000000000  asc-auth-darwin-arm64\n"
			action := filepath.Join(t.TempDir(), "action")
			change := map[string]string{
				"ASC_AUTH_VERSION": tt.version, "ASC_AUTH_SHA256SUMS": sums, "ASC_AUTH_SOURCE_BUILD": "true",
				"PATH": goDir + string(filepath.ListSeparator) + os.Getenv("PATH"), "GITHUB_ACTION_PATH": filepath.Join(action, "native"),
			}
			for k, v := range change {
				env[k] = v
			}
			if err := os.MkdirAll(filepath.Join(action, "native"), 0o755); err != nil {
				t.Fatal(err)
			}
			before := tt.server.count()
			stdout, stderr, code := runScript(t, env)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if want := filepath.Join(env["RUNNER_TEMP"], "asc-auth-source", "asc-auth"); stdout != want+"\n" {
				t.Errorf("printed %q, want %q", stdout, want)
			}
			if !strings.Contains(stderr, tt.log) {
				t.Errorf("log:\n%s\nwant %q", stderr, tt.log)
			}
			if n := tt.server.count() - before; n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			calls, _ := os.ReadFile(goLog)
			want := action + " GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 build -trimpath -o " + filepath.Join(env["RUNNER_TEMP"], "asc-auth-source", "asc-auth") + " .\n"
			if string(calls) != want {
				t.Errorf("go was called:\n%s\nwant:\n%s", calls, want)
			}
		})
	}
}

// assertNothingRan checks that no stand-in binary left its mark.
func assertNothingRan(t *testing.T, runnerTemp string) {
	t.Helper()
	if marks, _ := filepath.Glob(filepath.Join(runnerTemp, "ran-*")); len(marks) > 0 {
		t.Errorf("a binary ran: %v", marks)
	}
}
