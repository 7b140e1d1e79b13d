package bundle_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

// zipOf returns a zip holding the files, deflated.
func zipOf(t testing.TB, files ...bundletest.File) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawZip returns a zip with one entry whose header is given as is and whose
// data is written without compression or checks.
func rawZip(t testing.TB, h *zip.FileHeader, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func deflate(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(data)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestInspectIPA(t *testing.T) {
	t.Parallel()
	plistOK := mustInfoPlist(t, bundletest.IPAOptions{})
	bigValue := strings.Repeat("x", 4<<20)

	tests := []struct {
		name  string
		opts  bundletest.IPAOptions
		data  []byte // instead of opts
		want  bundle.Info
		kind  bundle.Kind // for failures
		words []string    // in the error
	}{
		{name: "binary iOS", opts: bundletest.IPAOptions{BundleID: "com.example.one", ShortVersion: "2.3.4", BuildVersion: "567"},
			want: bundle.Info{BundleID: "com.example.one", ShortVersion: "2.3.4", BuildVersion: "567", Platform: "IOS", MinOSVersion: "16.0"}},
		{name: "XML iOS", opts: bundletest.IPAOptions{XML: true, MinOSVersion: "15.4"},
			want: bundle.Info{Platform: "IOS", MinOSVersion: "15.4"}},
		{name: "binary tvOS", opts: bundletest.IPAOptions{Platform: "TV_OS"}, want: bundle.Info{Platform: "TV_OS", MinOSVersion: "17.0"}},
		{name: "XML tvOS", opts: bundletest.IPAOptions{Platform: "TV_OS", XML: true}, want: bundle.Info{Platform: "TV_OS", MinOSVersion: "17.0"}},
		{name: "binary visionOS", opts: bundletest.IPAOptions{Platform: "VISION_OS"}, want: bundle.Info{Platform: "VISION_OS", MinOSVersion: "1.0"}},
		{name: "XML visionOS", opts: bundletest.IPAOptions{Platform: "VISION_OS", XML: true}, want: bundle.Info{Platform: "VISION_OS", MinOSVersion: "1.0"}},
		{name: "binary macOS", opts: bundletest.IPAOptions{Platform: "MAC_OS"}, want: bundle.Info{Platform: "MAC_OS", MinOSVersion: "12.0"}},
		{name: "platform from DTPlatformName", opts: bundletest.IPAOptions{Platform: "TV_OS", Omit: []string{"CFBundleSupportedPlatforms"}},
			want: bundle.Info{Platform: "TV_OS", MinOSVersion: "17.0"}},
		{name: "platform from UIDeviceFamily", opts: bundletest.IPAOptions{Platform: "VISION_OS", Omit: []string{"CFBundleSupportedPlatforms", "DTPlatformName"}},
			want: bundle.Info{Platform: "VISION_OS", MinOSVersion: "1.0"}},
		{name: "tvOS from UIDeviceFamily", opts: bundletest.IPAOptions{XML: true, Omit: []string{"CFBundleSupportedPlatforms", "DTPlatformName"}, Set: map[string]any{"UIDeviceFamily": []int{3}}},
			want: bundle.Info{Platform: "TV_OS", MinOSVersion: "16.0"}},
		{name: "no platform keys is iOS", opts: bundletest.IPAOptions{Platform: "TV_OS", Omit: []string{"CFBundleSupportedPlatforms", "DTPlatformName", "UIDeviceFamily", "MinimumOSVersion"}},
			want: bundle.Info{Platform: "IOS"}},
		{name: "unknown platform names skipped", opts: bundletest.IPAOptions{Set: map[string]any{"CFBundleSupportedPlatforms": []string{"Whatever", "XROS"}}},
			want: bundle.Info{Platform: "VISION_OS", MinOSVersion: "16.0"}},
		{name: "app named with spaces", opts: bundletest.IPAOptions{AppName: "My Demo"}, want: bundle.Info{Platform: "IOS", MinOSVersion: "16.0"}},

		{name: "simulator build", opts: bundletest.IPAOptions{Set: map[string]any{"CFBundleSupportedPlatforms": []string{"iPhoneSimulator"}}},
			kind: bundle.KindPlatform, words: []string{"simulator", `"iPhoneSimulator"`, "CFBundleSupportedPlatforms"}},
		{name: "watchOS app", opts: bundletest.IPAOptions{Omit: []string{"CFBundleSupportedPlatforms"}, Set: map[string]any{"DTPlatformName": "watchos"}},
			kind: bundle.KindPlatform, words: []string{"watchOS", "DTPlatformName"}},
		{name: "watch device family", opts: bundletest.IPAOptions{Omit: []string{"CFBundleSupportedPlatforms", "DTPlatformName"}, Set: map[string]any{"UIDeviceFamily": []int{4}}},
			kind: bundle.KindPlatform, words: []string{"watchOS", "UIDeviceFamily"}},
		{name: "missing versions", opts: bundletest.IPAOptions{Omit: []string{"CFBundleShortVersionString", "CFBundleVersion"}},
			kind: bundle.KindMissing, words: []string{`"Payload/Demo.app/Info.plist" has no CFBundleShortVersionString or CFBundleVersion`}},
		{name: "missing bundle ID, XML", opts: bundletest.IPAOptions{XML: true, Omit: []string{"CFBundleIdentifier"}},
			kind: bundle.KindMissing, words: []string{"has no CFBundleIdentifier"}},
		{name: "blank version", opts: bundletest.IPAOptions{Set: map[string]any{"CFBundleVersion": "  "}},
			kind: bundle.KindMissing, words: []string{"has no CFBundleVersion"}},
		{name: "version of the wrong type", opts: bundletest.IPAOptions{Set: map[string]any{"CFBundleVersion": 42}},
			kind: bundle.KindPlist, words: []string{"CFBundleVersion is an integer, not a string"}},
		{name: "missing and wrong type", opts: bundletest.IPAOptions{Omit: []string{"CFBundleIdentifier"}, Set: map[string]any{"CFBundleShortVersionString": 1.5}},
			kind: bundle.KindMissing, words: []string{"has no CFBundleIdentifier; CFBundleShortVersionString is a real number, not a string"}},
		{name: "several apps", opts: bundletest.IPAOptions{Extra: []bundletest.File{{Name: "Payload/Other.app/Info.plist", Data: plistOK}}},
			kind: bundle.KindLayout, words: []string{"2 apps", `"Demo.app", "Other.app"`}},
		{name: "traversal", opts: bundletest.IPAOptions{Extra: []bundletest.File{{Name: "../../etc/evil", Data: []byte("x")}}},
			kind: bundle.KindUnsafe, words: []string{"1 entry", `"../../etc/evil"`}},
		{name: "traversal inside Payload", opts: bundletest.IPAOptions{Extra: []bundletest.File{{Name: "Payload/Demo.app/../../x", Data: nil}, {Name: "/etc/passwd"}, {Name: `C:\x`}, {Name: `a\..\..\b`}}},
			kind: bundle.KindUnsafe, words: []string{"4 entries", `"Payload/Demo.app/../../x", "/etc/passwd", "C:\\x" and 1 more`}},
		{name: "malformed plist", opts: bundletest.IPAOptions{InfoPlist: []byte("CFBundleIdentifier = com.example;")},
			kind: bundle.KindPlist, words: []string{"not a valid property list", "neither a binary"}},
		{name: "damaged binary plist", opts: bundletest.IPAOptions{InfoPlist: append([]byte("bplist00"), make([]byte, 64)...)},
			kind: bundle.KindPlist, words: []string{"binary property list is damaged"}},
		{name: "unclosed XML plist", opts: bundletest.IPAOptions{InfoPlist: []byte(`<?xml version="1.0"?><plist><dict><key>CFBundleIdentifier</key>`)},
			kind: bundle.KindPlist, words: []string{"XML"}},
		{name: "array plist", opts: bundletest.IPAOptions{InfoPlist: []byte(`<plist version="1.0"><array><string>x</string></array></plist>`)},
			kind: bundle.KindPlist, words: []string{"top-level value is not a dictionary"}},
		{name: "empty plist element", opts: bundletest.IPAOptions{InfoPlist: []byte(`<plist version="1.0"/>`)},
			kind: bundle.KindPlist, words: []string{"not a dictionary"}},
		{name: "deep XML plist", opts: bundletest.IPAOptions{InfoPlist: []byte(`<plist><dict><key>a</key>` + strings.Repeat("<array>", 100) + strings.Repeat("</array>", 100) + `</dict></plist>`)},
			kind: bundle.KindPlist, words: []string{"deeper than 64 levels"}},
		{name: "huge plist", opts: bundletest.IPAOptions{Set: map[string]any{"Padding": bigValue}},
			kind: bundle.KindTooLarge, words: []string{`"Payload/Demo.app/Info.plist" is larger than the 4 MiB cap`}},

		{name: "not a zip", data: []byte("PK\x03\x04 but then nothing"), kind: bundle.KindDamaged, words: []string{"zip directory cannot be read"}},
		{name: "empty zip", data: zipOf(t), kind: bundle.KindLayout, words: []string{"no Payload/<Name>.app folder"}},
		{name: "zipped .app", data: zipOf(t, bundletest.File{Name: "Demo.app/Info.plist", Data: plistOK}),
			kind: bundle.KindLayout, words: []string{`"Demo.app" at its root`}},
		{name: "zipped .xcarchive", data: zipOf(t, bundletest.File{Name: "Demo.xcarchive/Products/Applications/Demo.app/Info.plist", Data: plistOK}),
			kind: bundle.KindLayout, words: []string{".xcarchive"}},
		{name: "Payload without app", data: zipOf(t, bundletest.File{Name: "Payload/readme.txt"}),
			kind: bundle.KindLayout, words: []string{"Payload folder holds no <Name>.app"}},
		{name: "app without Info.plist", data: zipOf(t, bundletest.File{Name: "Payload/Demo.app/Demo"}),
			kind: bundle.KindLayout, words: []string{`"Payload/Demo.app" has no Info.plist`}},
		{name: "macOS app in an ipa", data: zipOf(t, bundletest.File{Name: "Payload/Demo.app/Contents/Info.plist", Data: plistOK}),
			kind: bundle.KindLayout, words: []string{"macOS app bundle", "uploaded as a .pkg"}},
		{name: "two Info.plist entries", data: zipOf(t, bundletest.File{Name: "Payload/Demo.app/Info.plist", Data: plistOK}, bundletest.File{Name: "Payload/Demo.app/Info.plist", Data: plistOK}),
			kind: bundle.KindLayout, words: []string{"2 entries named"}},
		{name: "plist size in header over cap",
			data: rawZip(t, &zip.FileHeader{Name: "Payload/Demo.app/Info.plist", Method: zip.Deflate, UncompressedSize64: 1 << 40, CompressedSize64: 2}, []byte{3, 0}),
			kind: bundle.KindTooLarge, words: []string{"4 MiB cap"}},
		{name: "plist stream longer than header",
			data: rawZip(t, &zip.FileHeader{Name: "Payload/Demo.app/Info.plist", Method: zip.Deflate, UncompressedSize64: 100, CompressedSize64: uint64(len(deflate(t, []byte(bigValue+"x"))))}, deflate(t, []byte(bigValue+"x"))),
			kind: bundle.KindDamaged, words: []string{"cannot be inflated"}},
		{name: "bad CRC",
			data: rawZip(t, &zip.FileHeader{Name: "Payload/Demo.app/Info.plist", Method: zip.Store, CRC32: crc32.ChecksumIEEE(plistOK) ^ 1, UncompressedSize64: uint64(len(plistOK)), CompressedSize64: uint64(len(plistOK))}, plistOK),
			kind: bundle.KindDamaged, words: []string{"Info.plist"}},
		{name: "unknown compression method",
			data: rawZip(t, &zip.FileHeader{Name: "Payload/Demo.app/Info.plist", Method: 99, UncompressedSize64: 10, CompressedSize64: 3}, []byte("abc")),
			kind: bundle.KindUnsupported, words: []string{"zip method 99"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := tt.data
			if data == nil {
				data = mustIPA(t, tt.opts)
			}
			info, err := inspect(data, "Demo.ipa")
			if tt.kind != 0 {
				checkError(t, err, tt.kind, append(tt.words, "Demo.ipa: ")...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Kind, want.UTI = "ipa", "com.apple.ipa"
			if want.BundleID == "" {
				want.BundleID, want.ShortVersion, want.BuildVersion = bundletest.DefaultBundleID, bundletest.DefaultShortVersion, bundletest.DefaultBuildVersion
			}
			if !infoEqual(info, want) {
				t.Errorf("got  %+v\nwant %+v", info, want)
			}
		})
	}
}

// TestTruncatedIPA cuts a valid .ipa at many points: every cut must be
// refused as damaged, never read as another app or panic.
func TestTruncatedIPA(t *testing.T) {
	t.Parallel()
	data := mustIPA(t, bundletest.IPAOptions{})
	for n := 4; n < len(data); n += 97 {
		_, err := inspect(data[:n], "Demo.ipa")
		if err == nil {
			t.Fatalf("cut at %d of %d: no error", n, len(data))
		}
		checkOneLine(t, err)
	}
	_, err := inspect(data[:len(data)-1], "Demo.ipa")
	checkError(t, err, bundle.KindDamaged, "truncated")
}

// TestIPAReadsOnlyWhatItNeeds inspects an .ipa with a large asset and one
// whose Info.plist claims a huge size, and checks that neither makes
// Inspect allocate more than a little.
func TestIPAReadsOnlyWhatItNeeds(t *testing.T) {
	large := mustIPA(t, bundletest.IPAOptions{AssetSize: 8 << 20})
	claims := rawZip(t, &zip.FileHeader{Name: "Payload/Demo.app/Info.plist", Method: zip.Deflate, UncompressedSize64: 1 << 40, CompressedSize64: 2}, []byte{3, 0})
	for name, data := range map[string][]byte{"8 MiB asset": large, "1 TiB claim": claims} {
		n := allocated(func() { inspect(data, "Demo.ipa") })
		t.Logf("%s: Inspect allocated %d KiB", name, n>>10)
		if n > 1<<20 {
			t.Errorf("%s: Inspect allocated %d bytes", name, n)
		}
	}
}

func infoEqual(a, b bundle.Info) bool {
	return a.Kind == b.Kind && a.BundleID == b.BundleID && a.ShortVersion == b.ShortVersion &&
		a.BuildVersion == b.BuildVersion && a.Platform == b.Platform && a.UTI == b.UTI &&
		a.MinOSVersion == b.MinOSVersion && strings.Join(a.Missing, ",") == strings.Join(b.Missing, ",")
}

func mustInfoPlist(t testing.TB, opts bundletest.IPAOptions) []byte {
	t.Helper()
	b, err := bundletest.InfoPlist(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
