package containertest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/runnersim"
	"github.com/asc-auth/action/internal/token"
)

const issuerID = "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1"

// runner is one job's worth of the runner's folders on the host.
type runner struct {
	t                                      *testing.T
	workspace, temp, home, workflow, fcDir string
	output, env, summary                   string // host paths of the file commands
}

func newRunner(t *testing.T) *runner {
	t.Helper()
	root := t.TempDir()
	r := &runner{t: t, workspace: filepath.Join(root, "work", "repo", "repo"), temp: filepath.Join(root, "work", "_temp")}
	r.home = filepath.Join(r.temp, "_github_home")
	r.workflow = filepath.Join(r.temp, "_github_workflow")
	r.fcDir = filepath.Join(r.temp, "_runner_file_commands")
	for _, d := range []string{r.workspace, r.home, r.workflow, r.fcDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.output = filepath.Join(r.fcDir, "set_output_7e3a")
	r.env = filepath.Join(r.fcDir, "set_env_7e3a")
	r.summary = filepath.Join(r.fcDir, "step_summary_7e3a")
	for _, f := range []string{r.output, r.env, r.summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// toContainer rewrites a host path as the runner rewrites input values.
func (r *runner) toContainer(p string) string {
	for _, m := range r.mounts() {
		if rel, err := filepath.Rel(m[0], p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join(m[1], rel)
		}
	}
	return p
}

// mounts lists the runner's bind mounts, most specific first.
func (r *runner) mounts() [][2]string {
	return [][2]string{
		{r.home, "/github/home"},
		{r.workflow, "/github/workflow"},
		{r.fcDir, "/github/file_commands"},
		{r.workspace, "/github/workspace"},
		{r.temp, "/github/runner_temp"},
	}
}

// run starts the image with inputs and returns its log and exit code.
func (r *runner) run(image string, inputs map[string]string) (string, int) {
	r.t.Helper()
	args := []string{"--runtime", "runc", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
		"run", "--rm", "--network=host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
		"--workdir", "/github/workspace"}
	for _, m := range r.mounts() {
		args = append(args, "-v", m[0]+":"+m[1])
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true", "HOME": "/github/home",
		"GITHUB_WORKSPACE": "/github/workspace", "RUNNER_TEMP": "/github/runner_temp",
		"GITHUB_OUTPUT":       r.toContainer(r.output),
		"GITHUB_ENV":          r.toContainer(r.env),
		"GITHUB_STEP_SUMMARY": r.toContainer(r.summary),
	}
	for name, v := range inputs {
		env["INPUT_"+strings.ToUpper(name)] = r.toContainer(v)
	}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, image)
	out, err := exec.Command("podman", args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		r.t.Fatalf("podman: %v\n%s", err, out)
	}
	return string(out), 0
}

func (r *runner) fileCommands(path string) map[string]string {
	r.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		r.t.Fatal(err)
	}
	kvs, err := runnersim.ParseFileCommands(data)
	if err != nil {
		r.t.Fatalf("%s breaks the runner's rules: %v", filepath.Base(path), err)
	}
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv.Name] = kv.Value
	}
	return m
}

func imageOrSkip(t *testing.T) string {
	image := os.Getenv("ASC_AUTH_IMAGE")
	if image == "" {
		t.Skip("ASC_AUTH_IMAGE is not set; .ci/run builds the image and sets it")
	}
	return image
}

func demoKey(t *testing.T) (string, *ecdsa.PublicKey) {
	t.Helper()
	data, err := os.ReadFile("../../testdata/AuthKey_DEMOKEY001.p8")
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

// TestContainerMintsToken runs the token step in the image as the runner
// would and checks the outputs with a strict parser, the token's signature
// and claims, the key file on the host, and the masking of the log.
func TestContainerMintsToken(t *testing.T) {
	image := imageOrSkip(t)
	key, pub := demoKey(t)
	r := newRunner(t)
	keyFile := filepath.Join(r.temp, "fastlane", "api_key.json") // ${{ runner.temp }}/fastlane/api_key.json
	log, code := r.run(image, map[string]string{
		"key-id":            "DEMOKEY001",
		"issuer-id":         issuerID,
		"private-key":       key,
		"api-key-json-path": keyFile,
		"export-env":        "true",
		"in-house":          "false",
	})
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, log)
	}
	started := time.Now()

	out := r.fileCommands(r.output)
	c, err := token.Verify(out["token"], func(kid string) (*ecdsa.PublicKey, error) { return pub, nil }, started)
	if err != nil {
		t.Fatalf("the token output does not verify: %v", err)
	}
	if c.KeyID != "DEMOKEY001" || c.Issuer != issuerID || c.Audience[0] != token.AudienceTeam || c.Lifetime() > token.MaxLifetime {
		t.Errorf("claims %+v", c)
	}
	if out["token-expires-at"] != c.ExpiresAt.Format(time.RFC3339) {
		t.Errorf("token-expires-at = %q, want %q", out["token-expires-at"], c.ExpiresAt.Format(time.RFC3339))
	}
	// The path comes back as the user wrote it: the host path, not the
	// container path the runner rewrote it to.
	if out["api-key-json-path"] != keyFile {
		t.Errorf("api-key-json-path = %q, want the host path %q", out["api-key-json-path"], keyFile)
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file on the host: %v (%v); want mode 0600", err, fi)
	}
	var written struct {
		KeyID string `json:"key_id"`
	}
	data, _ := os.ReadFile(keyFile)
	if json.Unmarshal(data, &written) != nil || written.KeyID != "DEMOKEY001" {
		t.Errorf("key file holds %s", data)
	}
	if env := r.fileCommands(r.env); env["APP_STORE_CONNECT_API_KEY_PATH"] != keyFile || env["SPACESHIP_CONNECT_API_KEY_ID"] != "DEMOKEY001" {
		t.Errorf("exported env %v", env)
	}

	// Masks come first, and the log shows no secret once masked.
	var masker runnersim.Masker
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if !strings.HasPrefix(lines[0], "::add-mask::") {
		t.Errorf("first log line is not a mask: %.40q", lines[0])
	}
	for _, c := range runnersim.ParseCommands([]byte(log)) {
		if c.Name == "add-mask" {
			masker.Add(c.Message)
		}
	}
	var shown strings.Builder
	for _, l := range lines {
		if s, ok := runnersim.RenderLogLine(l + "\n"); ok {
			shown.WriteString(masker.Mask(s))
		}
	}
	for _, secret := range []string{out["token"], "DEMOKEY001", issuerID, strings.Split(key, "\n")[1]} {
		if strings.Contains(shown.String(), secret) || masker.Mask(secret) != "***" {
			t.Errorf("secret %.12q… is not masked in the log", secret)
		}
	}
	summary, _ := os.ReadFile(r.summary)
	if !strings.Contains(string(summary), "team key") || strings.Contains(string(summary), out["token"]) {
		t.Errorf("step summary:\n%s", summary)
	}
}

// TestContainerRefusesBadInput checks the failure path in the image: a
// non-zero exit, one error annotation per input, no output, no trace.
func TestContainerRefusesBadInput(t *testing.T) {
	image := imageOrSkip(t)
	r := newRunner(t)
	log, code := r.run(image, map[string]string{"key-id": "nope", "private-key": "not a key", "token-lifetime": "1h"})
	if code == 0 {
		t.Fatalf("exit 0 on bad input:\n%s", log)
	}
	var titles []string
	for _, c := range runnersim.ParseCommands([]byte(log)) {
		if c.Name == "error" {
			titles = append(titles, c.Properties["title"])
		}
	}
	want := []string{"Invalid input private-key", "Invalid input key-id", "Invalid input token-lifetime"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("error annotations %q, want %q\n%s", titles, want, log)
	}
	if out := r.fileCommands(r.output); len(out) != 0 {
		t.Errorf("outputs written on failure: %v", out)
	}
	if strings.Contains(log, "goroutine") || strings.Contains(log, "panic") {
		t.Errorf("stack trace in the log:\n%s", log)
	}
}

// TestContainerBuildNumber runs the build-number step in the image against
// the simulator on the host's loopback (the runner gives container actions
// the job's network; podman's host network stands in for it here).
func TestContainerBuildNumber(t *testing.T) {
	image := imageOrSkip(t)
	key, pub := demoKey(t)
	sim, err := ascsim.New()
	if err != nil {
		t.Fatal(err)
	}
	sim.RegisterKey("DEMOKEY001", issuerID, false, pub)
	app := sim.AddApp("com.example.container", "Container")
	for _, n := range []string{"9", "10", "1.2"} {
		sim.AddBuild(app, "IOS", "1.0", n, "VALID", time.Now().Add(-time.Hour))
	}
	sim.AddBuildUpload(app, "IOS", "1.0", "11", "AWAITING_UPLOAD")
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	r := newRunner(t)
	log, code := r.run(image, map[string]string{
		"key-id": "DEMOKEY001", "issuer-id": issuerID, "private-key": key,
		"build-number": "true", "app": "com.example.container", "api-base-url": url,
	})
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, log)
	}
	out := r.fileCommands(r.output)
	if out["latest-build-number"] != "11" || out["next-build-number"] != "12" || out["app-id"] != app {
		t.Errorf("outputs %v; want latest 11, next 12, app-id %s", out, app)
	}
	for _, req := range sim.Requests() {
		if req.Status != 200 {
			t.Errorf("%s %s?%s answered %d: %s", req.Method, req.Path, req.RawQuery, req.Status, req.Note)
		}
	}
}

// TestContainerUpload uploads a generated .ipa from the runner's workspace
// through the image to the simulator and waits for processing.
func TestContainerUpload(t *testing.T) {
	image := imageOrSkip(t)
	key, pub := demoKey(t)
	sim, err := ascsim.New(ascsim.WithPartSize(256 << 10))
	if err != nil {
		t.Fatal(err)
	}
	sim.RegisterKey("DEMOKEY001", issuerID, false, pub)
	sim.AddApp("com.example.container", "Container")
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	r := newRunner(t)
	ipa := filepath.Join(r.workspace, "build", "App.ipa") // ${{ github.workspace }}/build/App.ipa
	if err := os.MkdirAll(filepath.Dir(ipa), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(ipa)
	if err != nil {
		t.Fatal(err)
	}
	if err := bundletest.WriteIPA(f, bundletest.IPAOptions{BundleID: "com.example.container", ShortVersion: "1.0", BuildVersion: "7", AssetSize: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	log, code := r.run(image, map[string]string{
		"key-id": "DEMOKEY001", "issuer-id": issuerID, "private-key": key, "api-base-url": url,
		"upload-file": ipa, "wait-for-processing": "5m",
	})
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, log)
	}
	out := r.fileCommands(r.output)
	if out["upload-state"] != "COMPLETE" || out["processing-state"] != "VALID" || out["build-number"] != "7" || out["bundle-id"] != "com.example.container" {
		t.Errorf("outputs %v", out)
	}
	var puts, patches int
	for _, req := range sim.Requests() {
		switch {
		case req.Method == "PUT":
			puts++
		case req.Method == "PATCH":
			patches++
		}
	}
	if puts < 8 || patches != 1 {
		t.Errorf("%d part PUTs and %d commits, want at least 8 and exactly 1", puts, patches)
	}
	if strings.Contains(log, "X-Amz-Signature") {
		t.Errorf("a presigned URL reached the log")
	}
}

// TestContainerChecksBeforeWriting gives a session and a key file path the
// host could never read: the step must fail before exporting anything.
func TestContainerChecksBeforeWriting(t *testing.T) {
	image := imageOrSkip(t)
	key, _ := demoKey(t)
	sess, err := os.ReadFile("../../testdata/session/valid.session")
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t)
	log, code := r.run(image, map[string]string{
		"key-id": "DEMOKEY001", "private-key": key, "session": string(sess), "session-check": "false",
		"api-key-json-path": "/tmp/api_key.json", // inside the container only
	})
	if code == 0 {
		t.Fatalf("exit 0 with a key file path outside the runner's mounts:\n%s", log)
	}
	if !strings.Contains(log, "api-key-json-path") {
		t.Errorf("the error does not name the input:\n%s", log)
	}
	if env := r.fileCommands(r.env); len(env) != 0 {
		t.Errorf("exported before failing: %v", env)
	}
	if out := r.fileCommands(r.output); len(out) != 0 {
		t.Errorf("outputs before failing: %v", out)
	}
}
