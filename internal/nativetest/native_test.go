package nativetest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/runnersim"
	"github.com/asc-auth/action/internal/token"
)

const issuerID = "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1"

var keyPath, _ = filepath.Abs(filepath.Join(repoRoot, "testdata", "AuthKey_DEMOKEY001.p8"))

func demoKey(t *testing.T) (string, *ecdsa.PublicKey) {
	t.Helper()
	data, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), &k.(*ecdsa.PrivateKey).PublicKey
}

// rootInputs reads the container action's inputs and their defaults.
func rootInputs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for name, in := range a.Inputs {
		m[name] = in.Default
	}
	return m
}

// runContainerAction runs bin as the runner runs the container action's
// entry point: every declared input as INPUT_<NAME>, its value or default,
// and the step's file commands. (Paths need no mapping here: the process
// sees the host's paths, as the image sees them once HostPath has mapped
// them back; internal/containertest runs the image itself.)
func (r *jobRunner) runContainerAction(bin string, inputs map[string]string) stepResult {
	r.t.Helper()
	fc := r.newFileCommands()
	env := r.env(fc)
	for name, def := range rootInputs(r.t) {
		v, ok := inputs[name]
		if !ok {
			v = def
		}
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_"))] = v
	}
	cmd := exec.Command(bin)
	cmd.Dir = r.workspace
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	sr := stepResult{id: "container", log: string(out)}
	if exit, ok := err.(*exec.ExitError); ok {
		sr.exit = exit.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	sr.outputs, sr.env, sr.summary = r.parse(fc.output), r.parse(fc.env), r.read(fc.summary)
	return sr
}

var (
	jwt     = regexp.MustCompile(`eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+`)
	rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
)

// normalizer replaces what differs between two runs of the same step: the
// tokens (ES256 signatures are random, and iat moves) with their segments,
// and the times.
func normalizer(logs ...string) *strings.Replacer {
	// Whole tokens first: a Replacer tries its pairs in order, and the
	// header segment is the same in every token.
	var whole, segments []string
	for _, log := range logs {
		for i, tok := range jwt.FindAllString(log, -1) {
			whole = append(whole, tok, fmt.Sprintf("<token %d>", i))
			for j, seg := range strings.Split(tok, ".") {
				segments = append(segments, seg, fmt.Sprintf("<token %d segment %d>", i, j))
			}
		}
	}
	return strings.NewReplacer(append(whole, segments...)...)
}

func normalize(s string, logs ...string) string {
	return rfc3339.ReplaceAllString(normalizer(logs...).Replace(s), "<time>")
}

// normalizeMap normalizes outputs or variables. An empty value is left
// out: a composite's output that its step did not set reads as "", as an
// unset output of a container action does.
func normalizeMap(m map[string]string, logs ...string) map[string]string {
	n := map[string]string{}
	for k, v := range m {
		if v != "" {
			n[k] = normalize(v, logs...)
		}
	}
	return n
}

// TestNativeMatchesContainerAction runs native/action.yml as it is on main
// (the install step builds the binary from this source with go build
// -trimpath) and the container action's entry point on the same inputs,
// and compares everything the runner sees: the exit code, the log with its
// masks, the outputs, the exported variables and the summary. Tokens and
// times are the only differences allowed.
func TestNativeMatchesContainerAction(t *testing.T) {
	t.Parallel()
	key, pub := demoKey(t)
	sim, err := ascsim.New()
	if err != nil {
		t.Fatal(err)
	}
	sim.RegisterKey("DEMOKEY001", issuerID, false, pub)
	app := sim.AddApp("com.example.native", "Native")
	sim.AddBuild(app, "IOS", "1.0", "41", "VALID", time.Now().Add(-time.Hour))
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })

	native := loadComposite(t, filepath.Join(repoRoot, "native", "action.yml"))
	tests := []struct {
		name     string
		inputs   func(r *jobRunner) map[string]string
		wantExit int
		secrets  []string
	}{
		{name: "token, key file and fastlane variables", inputs: func(r *jobRunner) map[string]string {
			return map[string]string{"key-id": "DEMOKEY001", "issuer-id": issuerID, "private-key": key,
				"api-key-json-path": filepath.Join(r.temp, "asc", "api_key.json"), "export-env": "true"}
		}, secrets: []string{"DEMOKEY001", issuerID, strings.Split(key, "\n")[1]}},
		{name: "individual key from a path", inputs: func(r *jobRunner) map[string]string {
			return map[string]string{"private-key-path": keyPath, "token-lifetime": "5m"}
		}, secrets: []string{"DEMOKEY001"}},
		{name: "build number on the simulator", inputs: func(r *jobRunner) map[string]string {
			return map[string]string{"key-id": "DEMOKEY001", "issuer-id": issuerID, "private-key": key,
				"build-number": "true", "app": "com.example.native", "api-base-url": url}
		}, secrets: []string{"DEMOKEY001", issuerID}},
		{name: "invalid inputs", inputs: func(r *jobRunner) map[string]string {
			return map[string]string{"key-id": "nope", "private-key": "not a key", "token-lifetime": "1h"}
		}, wantExit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newJobRunner(t)
			inputs := tt.inputs(r)
			res := r.run(native, inputs, nil)
			install, _ := res.step("install")
			if install.exit != 0 {
				t.Fatalf("install step: exit %d\n%s", install.exit, install.log)
			}
			if !strings.Contains(install.log, "no release is pinned (main or a fork): building asc-auth from source") {
				t.Errorf("the install step does not say it built from source:\n%s", install.log)
			}
			nat, ok := res.step("run")
			if !ok {
				t.Fatal("the run step did not run")
			}
			var keyFile []byte
			if p := inputs["api-key-json-path"]; p != "" {
				keyFile = keyFileOf(t, p)
			}
			ctr := r.runContainerAction(install.outputs["path"], inputs)

			if nat.exit != tt.wantExit || ctr.exit != tt.wantExit {
				t.Fatalf("exit %d native, %d container; want %d\nnative:\n%s\ncontainer:\n%s", nat.exit, ctr.exit, tt.wantExit, nat.log, ctr.log)
			}
			logs := []string{nat.log, ctr.log}
			if a, b := normalize(nat.log, nat.log), normalize(ctr.log, ctr.log); a != b {
				t.Errorf("the logs differ\nnative:\n%s\ncontainer:\n%s", a, b)
			}
			if a, b := normalizeMap(res.outputs, logs...), normalizeMap(ctr.outputs, logs...); !maps.Equal(a, b) {
				t.Errorf("outputs differ\nnative:    %v\ncontainer: %v", a, b)
			}
			// The composite passes on every output the run step set, and no other.
			for name, v := range res.outputs {
				if v != nat.outputs[name] {
					t.Errorf("composite output %s = %.24q, the run step set %.24q", name, v, nat.outputs[name])
				}
			}
			if a, b := normalizeMap(nat.env, logs...), normalizeMap(ctr.env, logs...); !maps.Equal(a, b) {
				t.Errorf("exported variables differ\nnative:    %v\ncontainer: %v", a, b)
			}
			if a, b := normalize(nat.summary, logs...), normalize(ctr.summary, logs...); a != b {
				t.Errorf("summaries differ\nnative:\n%s\ncontainer:\n%s", a, b)
			}
			if tt.wantExit != 0 {
				return
			}
			if tok := res.outputs["token"]; tok != "" {
				if _, err := token.Verify(tok, func(string) (*ecdsa.PublicKey, error) { return pub, nil }, time.Now()); err != nil {
					t.Errorf("the native token does not verify: %v", err)
				}
				tt.secrets = append(tt.secrets, tok)
			}
			assertMasked(t, nat.log, tt.secrets)
			if p := inputs["api-key-json-path"]; p != "" {
				if res.outputs["api-key-json-path"] != p || nat.env["APP_STORE_CONNECT_API_KEY_PATH"] != p {
					t.Errorf("api-key-json-path = %q, want the path as given, %q", res.outputs["api-key-json-path"], p)
				}
				if string(keyFile) != string(keyFileOf(t, p)) {
					t.Error("the key files differ")
				}
			}
		})
	}
}

// keyFileOf reads the key file and checks its mode.
func keyFileOf(t *testing.T, path string) []byte {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, mode %v; want 0600", path, err, fi.Mode())
	}
	data, _ := os.ReadFile(path)
	return data
}

// assertMasked checks the log as the runner shows it: masks come before
// anything else, and no secret shows.
func assertMasked(t *testing.T, log string, secrets []string) {
	t.Helper()
	if !strings.HasPrefix(log, "::add-mask::") {
		t.Errorf("the log does not start with a mask: %.40q", log)
	}
	var m runnersim.Masker
	var shown strings.Builder
	for line := range strings.Lines(log) {
		for _, c := range runnersim.ParseCommands([]byte(line)) {
			if c.Name == "add-mask" {
				m.Add(c.Message)
			}
		}
		if s, ok := runnersim.RenderLogLine(line); ok {
			shown.WriteString(m.Mask(s))
		}
	}
	for _, s := range secrets {
		if strings.Contains(shown.String(), s) || m.Mask(s) != "***" {
			t.Errorf("secret %.8q… shows in the log", s)
		}
	}
}

// releaseBinary builds the Linux binary as the release does, once.
var releaseBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "asc-auth-release")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "asc-auth-linux-amd64")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", bin, ".")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// releasedAction lays out a copy of the action as a release tag has it:
// native/ and setup/ pinned by pin-native-release.sh to a fake release whose
// Linux x64 asset is the real binary, and the install script beside them.
func releasedAction(t *testing.T, served map[string][]byte) (native, setup *composite, f *fakeRelease, override map[string]map[string]string) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the released action's test runs the linux/amd64 binary")
	}
	bin, err := releaseBinary()
	if err != nil {
		t.Fatal(err)
	}
	real, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	assets := fakeAssets()
	assets["asc-auth-linux-amd64"] = real
	sums := filepath.Join(t.TempDir(), "SHA256SUMS")
	if err := os.WriteFile(sums, []byte(newFakeRelease(t, version, assets).sums()), 0o644); err != nil {
		t.Fatal(err)
	}
	maps.Copy(assets, served)
	f = newFakeRelease(t, version, assets)

	dir := t.TempDir()
	for _, file := range []string{"native/action.yml", "setup/action.yml", ".github/scripts/install-asc-auth.sh"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, file)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(file, "action.yml") {
			pin := exec.Command("bash", filepath.Join(repoRoot, ".github/scripts/pin-native-release.sh"), dst, "asc-auth/action", version, sums)
			if out, err := pin.CombinedOutput(); err != nil {
				t.Fatalf("pin: %v\n%s", err, out)
			}
		}
	}
	native = loadComposite(t, filepath.Join(dir, "native", "action.yml"))
	setup = loadComposite(t, filepath.Join(dir, "setup", "action.yml"))
	// The test's stand-in for GitHub's release download URL.
	override = map[string]map[string]string{"install": {"ASC_AUTH_DOWNLOAD_URL": f.url}}
	return native, setup, f, override
}

// TestReleasedNativeAction runs the native action as a release has it:
// the first run in a job downloads and verifies the binary and mints a
// token; the second reuses the tool cache without a request; then the setup
// action puts the same binary on PATH.
func TestReleasedNativeAction(t *testing.T) {
	t.Parallel()
	_, pub := demoKey(t)
	native, setup, f, override := releasedAction(t, nil)
	r := newJobRunner(t)
	inputs := map[string]string{"private-key-path": keyPath, "issuer-id": issuerID}

	for i, wantRequests := range []int{1, 1} {
		res := r.run(native, inputs, override)
		install, _ := res.step("install")
		if res.failed {
			last := res.steps[len(res.steps)-1]
			t.Fatalf("run %d: step %s failed:\n%s", i+1, last.id, last.log)
		}
		if f.count() != wantRequests {
			t.Errorf("run %d: %d requests in all, want %d: %q", i+1, f.count(), wantRequests, f.requestsSince(0))
		}
		want := []string{"downloaded, SHA-256 verified", "from the tool cache, SHA-256 verified"}[i]
		if !strings.Contains(install.log, want) {
			t.Errorf("run %d: the install log does not say %q:\n%s", i+1, want, install.log)
		}
		if _, err := token.Verify(res.outputs["token"], func(string) (*ecdsa.PublicKey, error) { return pub, nil }, time.Now()); err != nil {
			t.Errorf("run %d: token output: %v", i+1, err)
		}
	}

	res := r.run(setup, nil, override)
	if res.failed || f.count() != 1 {
		t.Fatalf("setup: failed %v, %d requests in all:\n%v", res.failed, f.count(), res.steps)
	}
	wantPath := filepath.Join(r.toolCache, "asc-auth", "1.2.3", "x64", "asc-auth")
	if res.outputs["path"] != wantPath || res.outputs["version"] != version {
		t.Errorf("setup outputs %v, want path %s and version %s", res.outputs, wantPath, version)
	}
	step, _ := res.step("version")
	if step.path != filepath.Dir(wantPath)+"\n" {
		t.Errorf("GITHUB_PATH gets %q, want %q", step.path, filepath.Dir(wantPath))
	}
}

// TestReleasedNativeActionRefuses runs a release's native action where the
// binary must not run: a served binary that is not the pinned one, and a
// Windows runner. The install step fails in one line; the run step never
// starts; there are no outputs.
func TestReleasedNativeActionRefuses(t *testing.T) {
	t.Parallel()
	tampered := map[string][]byte{"asc-auth-linux-amd64": []byte("#!/bin/sh\ntouch \"$RUNNER_TEMP/ran-tampered\"\n")}
	tests := []struct {
		name     string
		served   map[string][]byte
		os       string
		want     string
		requests int
	}{
		{name: "checksum mismatch", served: tampered, os: "Linux", requests: 1,
			want: "::error title=asc-auth install::asc-auth-linux-amd64 of v1.2.3 has SHA-256 "},
		{name: "windows", os: "Windows",
			want: "::error title=asc-auth install::Windows runners are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			native, _, f, override := releasedAction(t, tt.served)
			r := newJobRunner(t)
			r.os = tt.os
			res := r.run(native, map[string]string{"private-key-path": keyPath}, override)
			if !res.failed || len(res.steps) != 1 || res.steps[0].id != "install" {
				t.Fatalf("steps run: %+v; want the install step only, failed", res.steps)
			}
			if log := res.steps[0].log; !strings.Contains(log, tt.want) || strings.Count(log, "::error") != 1 {
				t.Errorf("install log:\n%s\nwant one error line with %q", log, tt.want)
			}
			if f.count() != tt.requests {
				t.Errorf("%d requests, want %d", f.count(), tt.requests)
			}
			if res.outputs != nil {
				t.Errorf("outputs %v", res.outputs)
			}
			assertNothingRan(t, r.temp)
		})
	}
}

// TestSetupActionOnMain runs setup/action.yml as it is on main: a source
// build, on PATH for the next step.
func TestSetupActionOnMain(t *testing.T) {
	t.Parallel()
	r := newJobRunner(t)
	res := r.run(loadComposite(t, filepath.Join(repoRoot, "setup", "action.yml")), nil, nil)
	if res.failed {
		last := res.steps[len(res.steps)-1]
		t.Fatalf("step %s failed:\n%s", last.id, last.log)
	}
	want := filepath.Join(r.temp, "asc-auth-source", "asc-auth")
	if res.outputs["path"] != want || res.outputs["version"] != "dev" {
		t.Errorf("outputs %v, want path %s and version dev", res.outputs, want)
	}
	step, _ := res.step("version")
	// The next step finds asc-auth on PATH.
	next := exec.Command("sh", "-c", "asc-auth version")
	next.Env = append(os.Environ(), "PATH="+strings.TrimSpace(step.path)+string(filepath.ListSeparator)+os.Getenv("PATH"))
	if out, err := next.Output(); err != nil || string(out) != "asc-auth dev\n" {
		t.Errorf("asc-auth version on the new PATH: %q, %v", out, err)
	}
}

// TestRunStepRefusesAShellThatDropsInputs runs the native run step under
// dash, which drops variables named with a hyphen: the step fails with one
// clear line instead of running the binary with no inputs.
func TestRunStepRefusesAShellThatDropsInputs(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("dash"); err != nil {
		t.Skip("no dash")
	}
	native := loadComposite(t, filepath.Join(repoRoot, "native", "action.yml"))
	i := slices.IndexFunc(native.Runs.Steps, func(s step) bool { return s.ID == "run" })
	r := newJobRunner(t)
	bin := filepath.Join(r.temp, "asc-auth")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\ntouch \"$RUNNER_TEMP/ran-asc-auth\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dash", "-c", native.Runs.Steps[i].Run)
	cmd.Env = append(os.Environ(), "INPUT_IN-HOUSE=false", "INPUT_KEY-ID=DEMOKEY001", "ASC_AUTH_BIN="+bin, "RUNNER_TEMP="+r.temp)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "::error title=asc-auth::this shell") || strings.Count(string(out), "\n") != 1 {
		t.Errorf("under dash: %v\n%s\nwant one error line", err, out)
	}
	assertNothingRan(t, r.temp)
	// And bash passes them on.
	cmd = exec.Command("bash", "-c", strings.Replace(native.Runs.Steps[i].Run, `exec "$ASC_AUTH_BIN"`, `exec env`, 1))
	cmd.Env = append(os.Environ(), "INPUT_IN-HOUSE=false", "INPUT_KEY-ID=DEMOKEY001")
	if out, err := cmd.Output(); err != nil || !strings.Contains("\n"+string(out), "\nINPUT_KEY-ID=DEMOKEY001\n") {
		t.Errorf("under bash the program does not see INPUT_KEY-ID: %v", err)
	}
}

// TestCompositeScriptsPassShellcheck runs shellcheck on every run: script of
// the two composites, as bash (actionlint checks only workflows' scripts).
func TestCompositeScriptsPassShellcheck(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("no shellcheck (.ci/deps.sh installs it)")
	}
	for _, file := range []string{"native/action.yml", "setup/action.yml"} {
		for _, s := range loadComposite(t, filepath.Join(repoRoot, file)).Runs.Steps {
			script := filepath.Join(t.TempDir(), "step.sh")
			if err := os.WriteFile(script, []byte("#!/usr/bin/env bash\n"+s.Run), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("shellcheck", "-s", "bash", script).CombinedOutput(); err != nil {
				t.Errorf("%s, step %s: shellcheck: %v\n%s", file, s.ID, err, out)
			}
		}
	}
}
