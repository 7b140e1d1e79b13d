package bundle_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

// maxFuzzAlloc bounds what one Inspect may allocate: the 4 MiB Info.plist
// cap, the 4 MiB TOC cap and what parsing them costs. An input that claims
// gigabytes must not get anywhere near it.
const maxFuzzAlloc = 64 << 20

// ipaSeeds are generated .ipa files covering each plist format, platform
// and layout problem.
func ipaSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, opts := range []bundletest.IPAOptions{
		{},
		{XML: true},
		{Platform: "TV_OS"},
		{Platform: "VISION_OS", XML: true},
		{Platform: "MAC_OS"},
		{Omit: []string{"CFBundleSupportedPlatforms", "DTPlatformName"}},
		{Omit: []string{"CFBundleVersion"}},
		{Extra: []bundletest.File{{Name: "Payload/Other.app/Info.plist", Data: []byte("<plist/>")}}},
		{Extra: []bundletest.File{{Name: "../x"}}},
	} {
		seeds = append(seeds, mustIPA(f, opts))
	}
	return seeds
}

func pkgSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, opts := range []bundletest.PKGOptions{
		{},
		{Stored: true},
		{Omit: []string{"Distribution"}},
		{Omit: []string{"PackageInfo", "CFBundleVersion"}},
	} {
		seeds = append(seeds, mustPKG(f, opts))
	}
	b, err := os.ReadFile(filepath.Join(fixtureDir, "libarchive-bzip2-md5.pkg"))
	if err != nil {
		f.Fatal(err)
	}
	return append(seeds, b)
}

// checkFuzzResult checks the properties every Inspect result has.
func checkFuzzResult(t *testing.T, info bundle.Info, err error, kind string, n uint64) {
	t.Helper()
	if n > maxFuzzAlloc {
		t.Fatalf("Inspect allocated %d bytes", n)
	}
	if err != nil {
		checkOneLine(t, err)
		return
	}
	if info.BundleID == "" {
		t.Fatal("success with an empty BundleID")
	}
	if info.Kind != kind {
		t.Fatalf("Kind %q, want %q", info.Kind, kind)
	}
	switch kind {
	case bundle.KindIPA:
		if info.UTI != bundle.UTIIPA || !slices.Contains([]string{"IOS", "TV_OS", "VISION_OS", "MAC_OS"}, info.Platform) {
			t.Fatalf("bad UTI or platform: %+v", info)
		}
		if info.ShortVersion == "" || info.BuildVersion == "" || info.Missing != nil {
			t.Fatalf("an .ipa accepted without versions: %+v", info)
		}
	case bundle.KindPKG:
		if info.UTI != bundle.UTIPKG || info.Platform != bundle.PlatformMacOS {
			t.Fatalf("bad UTI or platform: %+v", info)
		}
		// Missing names exactly the empty versions.
		if (info.ShortVersion == "") != slices.Contains(info.Missing, "CFBundleShortVersionString") ||
			(info.BuildVersion == "") != slices.Contains(info.Missing, "CFBundleVersion") {
			t.Fatalf("Missing disagrees with the fields: %+v", info)
		}
	}
}

// FuzzInspectIPA feeds whole files, named .ipa, to Inspect.
func FuzzInspectIPA(f *testing.F) {
	for _, s := range ipaSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var info bundle.Info
		var err error
		n := allocated(func() { info, err = inspect(data, "Fuzz.ipa") })
		checkFuzzResult(t, info, err, bundle.KindIPA, n)
	})
}

// FuzzInspectPKG feeds whole files, named .pkg, to Inspect.
func FuzzInspectPKG(f *testing.F) {
	for _, s := range pkgSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var info bundle.Info
		var err error
		n := allocated(func() { info, err = inspect(data, "Fuzz.pkg") })
		checkFuzzResult(t, info, err, bundle.KindPKG, n)
	})
}

// FuzzInfoPlist fuzzes the Info.plist inside a valid .ipa, past the zip
// layer's checksums that whole-file mutations rarely get through.
func FuzzInfoPlist(f *testing.F) {
	for _, opts := range []bundletest.IPAOptions{{}, {XML: true}, {Platform: "TV_OS"}, {Platform: "VISION_OS", XML: true}} {
		f.Add(mustInfoPlist(f, opts))
	}
	b, err := os.ReadFile(filepath.Join(fixtureDir, "Info-libplist.plist"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, plist []byte) {
		data := mustIPA(t, bundletest.IPAOptions{InfoPlist: plist})
		var info bundle.Info
		var err error
		n := allocated(func() { info, err = inspect(data, "Fuzz.ipa") })
		checkFuzzResult(t, info, err, bundle.KindIPA, n)
	})
}

// FuzzDistribution fuzzes the Distribution and PackageInfo inside a valid
// .pkg, past the xar layer's checksums.
func FuzzDistribution(f *testing.F) {
	f.Add(bundletest.Distribution(bundletest.PKGOptions{}), bundletest.PackageInfo(bundletest.PKGOptions{}))
	f.Add(bundletest.Distribution(bundletest.PKGOptions{Omit: []string{"CFBundleVersion"}}), []byte(`<pkg-info identifier="a" version="1"/>`))
	f.Fuzz(func(t *testing.T, dist, pkgInfo []byte) {
		data := mustPKG(t, bundletest.PKGOptions{Distribution: dist, PackageInfo: pkgInfo})
		var info bundle.Info
		var err error
		n := allocated(func() { info, err = inspect(data, "Fuzz.pkg") })
		checkFuzzResult(t, info, err, bundle.KindPKG, n)
	})
}
