package bundle_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

// inspect runs Inspect on data as a file called name.
func inspect(data []byte, name string) (bundle.Info, error) {
	return bundle.Inspect(bytes.NewReader(data), int64(len(data)), name)
}

// checkError checks that err is a one-line *Error of the kind, with a hint,
// whose text contains every string in want.
func checkError(t *testing.T, err error, kind bundle.Kind, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	var e *bundle.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %q is not *bundle.Error", err, err)
	}
	if e.Kind != kind {
		t.Errorf("kind %v, want %v: %v", e.Kind, kind, err)
	}
	if !errors.Is(err, &bundle.Error{Kind: kind}) {
		t.Errorf("errors.Is(err, &Error{Kind: %v}) is false", kind)
	}
	checkOneLine(t, err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// checkOneLine checks the shape every refusal shares.
func checkOneLine(t testing.TB, err error) {
	t.Helper()
	var e *bundle.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %q is not *bundle.Error", err, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "bundle: ") || strings.ContainsAny(msg, "\n\r") || strings.ContainsAny(e.Hint(), "\n\r") {
		t.Errorf("error is not one line starting with \"bundle: \": %q (hint %q)", msg, e.Hint())
	}
	if e.Hint() == "" {
		t.Errorf("error %q has no hint", msg)
	}
	// The shape every input annotation takes: one line with no prefix.
	var a interface {
		Problem() string
		Hint() string
	}
	if !errors.As(err, &a) || a.Problem() != e.Problem() || a.Hint() != e.Hint() {
		t.Errorf("error %q is not found as a Problem/Hint error", msg)
	}
	if p := a.Problem(); p == "" || strings.HasPrefix(p, "bundle:") || strings.HasPrefix(p, e.File+":") || !strings.HasSuffix(msg, ": "+p) {
		t.Errorf("problem %q of %q is empty, prefixed, or not the error's tail", p, msg)
	}
	if e.Kind.String() == "unknown kind" {
		t.Errorf("error %q has kind %d", msg, e.Kind)
	}
}

func mustIPA(t testing.TB, opts bundletest.IPAOptions) []byte {
	t.Helper()
	b, err := bundletest.IPA(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPKG(t testing.TB, opts bundletest.PKGOptions) []byte {
	t.Helper()
	b, err := bundletest.PKG(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestExtensionMustMatchContent(t *testing.T) {
	t.Parallel()
	ipa := mustIPA(t, bundletest.IPAOptions{})
	pkg := mustPKG(t, bundletest.PKGOptions{})
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}
	dmg := make([]byte, 4096)
	copy(dmg[len(dmg)-512:], "koly")

	tests := []struct {
		name string
		data []byte
		file string
		kind bundle.Kind // 0: success
		want []string
	}{
		{"ipa", ipa, "Demo.ipa", 0, nil},
		{"ipa upper case", ipa, "build/DEMO.IPA", 0, nil},
		{"pkg", pkg, "/tmp/x/Demo.pkg", 0, nil},
		{"ipa named pkg", ipa, "Demo.pkg", bundle.KindExtension, []string{"Demo.pkg", "zip archive", "ends in .pkg"}},
		{"pkg named ipa", pkg, "Demo.ipa", bundle.KindExtension, []string{"xar archive", "ends in .ipa"}},
		{"ipa named zip", ipa, "Demo.zip", bundle.KindExtension, []string{"does not end in .ipa"}},
		{"pkg without extension", pkg, "Demo", bundle.KindExtension, []string{"does not end in .pkg"}},
		{"text named ipa", []byte("hello, world\n"), "Demo.ipa", bundle.KindNotArchive, []string{"not a zip archive"}},
		{"text named pkg", []byte("hello, world\n"), "Demo.pkg", bundle.KindNotArchive, []string{"not a xar archive"}},
		{"text", []byte("hi"), "notes.txt", bundle.KindNotArchive, []string{"neither a zip archive (.ipa) nor a xar archive (.pkg)"}},
		{"gzip", gz, "Demo.ipa.gz", bundle.KindNotArchive, []string{"gzip"}},
		{"dmg", dmg, "Demo.pkg", bundle.KindNotArchive, []string{"disk image"}},
		{"empty", nil, "Demo.ipa", bundle.KindNotArchive, []string{"empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info, err := inspect(tt.data, tt.file)
			if tt.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if info.BundleID != bundletest.DefaultBundleID {
					t.Errorf("BundleID %q", info.BundleID)
				}
				return
			}
			checkError(t, err, tt.kind, tt.want...)
			if tt.file != "" && !strings.Contains(err.Error(), filepath.Base(tt.file)) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestInspectFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ipaPath := filepath.Join(dir, "Demo.ipa")
	if err := os.WriteFile(ipaPath, mustIPA(t, bundletest.IPAOptions{BuildVersion: "314"}), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := bundle.InspectFile(ipaPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.BuildVersion != "314" || info.Kind != bundle.KindIPA {
		t.Errorf("got %+v", info)
	}

	appDir := filepath.Join(dir, "Demo.app")
	if err := os.Mkdir(appDir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = bundle.InspectFile(appDir)
	checkError(t, err, bundle.KindNotArchive, "Demo.app", "folder")

	_, err = bundle.InspectFile(filepath.Join(dir, "absent.ipa"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "bundle: ") {
		t.Errorf("got %v, want a bundle: error wrapping fs.ErrNotExist", err)
	}
}
