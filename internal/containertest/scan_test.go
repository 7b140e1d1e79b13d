package containertest

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pemKey matches a PEM private-key block with a body, the pattern image
// secret scanners flag. (The product holds the words PRIVATE KEY, in its
// key parser's messages, but never a block with a body.)
var pemKey = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]{40,}`)

// demoKeyBody returns the bundled demo key's base64 body, one line of it
// long enough to be unique.
func demoKeyBody(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(string(data)) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return lines
}

// scan reports what of the test world a file holds: a private key, the
// demo key's body, or the simulator and its validator.
func scan(t *testing.T, name string, data []byte, body []string) {
	t.Helper()
	if m := pemKey.Find(data); m != nil {
		t.Errorf("%s holds a PEM private key block", name)
	}
	for _, l := range body {
		if bytes.Contains(data, []byte(l)) {
			t.Errorf("%s holds the demo key's base64 body", name)
		}
	}
	for _, pkg := range []string{"internal/ascsim", "kin-openapi", "internal/bundle/bundletest", "internal/devcmd", "internal/demo", "internal/notarysim"} {
		if bytes.Contains(data, []byte("github.com/asc-auth/action/"+strings.TrimPrefix(pkg, "internal/"))) || bytes.Contains(data, []byte(pkg+".")) {
			t.Errorf("%s links %s", name, pkg)
		}
	}
}

// TestScanFindsTheTestWorld checks the scan itself on the development
// build, which does embed the key and the simulator.
func TestScanFindsTheTestWorld(t *testing.T) {
	t.Parallel()
	bin := build(t, "-tags", "dev")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !pemKey.Match(data) {
		t.Errorf("the scan misses the dev build's embedded key")
	}
	if !bytes.Contains(data, []byte("internal/ascsim.")) {
		t.Errorf("the scan misses the dev build's simulator")
	}
	if !bytes.Contains(data, []byte(demoKeyBody(t)[0])) {
		t.Errorf("the scan misses the dev build's demo key body")
	}
}

// TestProductBinaryHoldsNoTestWorld builds asc-auth as users install it
// and as the image does, and scans it.
func TestProductBinaryHoldsNoTestWorld(t *testing.T) {
	t.Parallel()
	bin := build(t)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	scan(t, "the product binary", data, demoKeyBody(t))
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	for _, dep := range []string{"kin-openapi", "gorilla/mux", "jsonschema", "smithy-go"} {
		if strings.Contains(string(out), dep) {
			t.Errorf("the product binary links %s", dep)
		}
	}
}

// TestContainerImageHoldsNoTestWorld exports the built image's file system and
// scans every file in it.
func TestContainerImageHoldsNoTestWorld(t *testing.T) {
	image := imageOrSkip(t)
	ctr, err := exec.Command("podman", "--storage-driver", "vfs", "create", image).Output()
	if err != nil {
		t.Fatalf("podman create: %v", err)
	}
	id := strings.TrimSpace(string(ctr))
	t.Cleanup(func() { exec.Command("podman", "--storage-driver", "vfs", "rm", id).Run() })
	tarball, err := exec.Command("podman", "--storage-driver", "vfs", "export", id).Output()
	if err != nil {
		t.Fatalf("podman export: %v", err)
	}
	body := demoKeyBody(t)
	tr := tar.NewReader(bytes.NewReader(tarball))
	files := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files++
		scan(t, h.Name, data, body)
	}
	if files == 0 {
		t.Fatal("the image has no files")
	}
}

// build compiles the command as the Dockerfile does, with extra flags.
func build(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "asc-auth")
	args := append([]string{"build", "-trimpath", "-ldflags", "-s -w", "-o", bin}, flags...)
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
