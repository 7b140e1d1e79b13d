package bundletest_test

import (
	"archive/zip"
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for name, gen := range map[string]func() ([]byte, error){
		"ipa": func() ([]byte, error) {
			return bundletest.IPA(bundletest.IPAOptions{AssetSize: 1000, Set: map[string]any{"A": 1, "B": []string{"x"}}})
		},
		"pkg": func() ([]byte, error) { return bundletest.PKG(bundletest.PKGOptions{}) },
	} {
		a, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		b, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ", name)
		}
	}
}

// countingWriter counts bytes and discards them.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestAssetIsStreamed writes a 128 MiB asset and checks that memory use does
// not grow with it, and that the entry is stored at that size.
//
// The allocation budget is a quarter of the asset: a writer that buffered
// the asset would allocate all of it, while a streaming one allocates only
// a fixed amount, up to about 1 MiB per deflated entry when a collection has
// emptied archive/zip's pool of compressors (5 MiB seen under -race on a
// loaded machine).
func TestAssetIsStreamed(t *testing.T) {
	const size = 128 << 20
	var w countingWriter
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := bundletest.WriteIPA(&w, bundletest.IPAOptions{AssetSize: size}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > size/4 {
		t.Errorf("writing a %d-byte asset allocated %d bytes", size, n)
	}
	if w.n < size || w.n > size+64<<10 {
		t.Errorf("wrote %d bytes for a %d-byte asset", w.n, size)
	}

	small, err := bundletest.IPA(bundletest.IPAOptions{AssetSize: 5000, AssetSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "Payload/Demo.app/Assets.car" {
			continue
		}
		if f.Method != zip.Store || f.UncompressedSize64 != 5000 {
			t.Errorf("asset stored with method %d, size %d", f.Method, f.UncompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, rc); err != nil || n != 5000 {
			t.Errorf("read %d bytes of the asset: %v", n, err)
		}
		return
	}
	t.Error("no asset entry")
}

func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	if _, err := bundletest.IPA(bundletest.IPAOptions{Platform: "WATCH_OS"}); err == nil || !strings.Contains(err.Error(), "WATCH_OS") {
		t.Errorf("unknown platform: %v", err)
	}
	if _, err := bundletest.PKG(bundletest.PKGOptions{Omit: []string{"CFBundleVersoin"}}); err == nil || !strings.Contains(err.Error(), "CFBundleVersoin") {
		t.Errorf("misspelt omission: %v", err)
	}
}

// TestRoundTrip reads back what the generator writes, for every platform.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, platform := range []string{"IOS", "TV_OS", "VISION_OS", "MAC_OS"} {
		for _, xml := range []bool{false, true} {
			data, err := bundletest.IPA(bundletest.IPAOptions{Platform: platform, XML: xml, BundleID: "com.example.rt", ShortVersion: "9.8", BuildVersion: "76"})
			if err != nil {
				t.Fatal(err)
			}
			info, err := bundle.Inspect(bytes.NewReader(data), int64(len(data)), "RT.ipa")
			if err != nil {
				t.Fatal(err)
			}
			if info.Platform != platform || info.BundleID != "com.example.rt" || info.ShortVersion != "9.8" || info.BuildVersion != "76" {
				t.Errorf("%s xml=%v: %+v", platform, xml, info)
			}
		}
	}
	data, err := bundletest.PKG(bundletest.PKGOptions{BundleID: "com.example.rt", ShortVersion: "9.8", BuildVersion: "76", AppName: "R&T"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := bundle.Inspect(bytes.NewReader(data), int64(len(data)), "RT.pkg")
	if err != nil {
		t.Fatal(err)
	}
	if info.BundleID != "com.example.rt" || info.ShortVersion != "9.8" || info.BuildVersion != "76" || info.Missing != nil {
		t.Errorf("pkg: %+v", info)
	}
}
