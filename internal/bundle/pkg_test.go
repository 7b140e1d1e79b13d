package bundle_test

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

// xarParts splits a .pkg from bundletest into its TOC text and its heap.
func xarParts(t testing.TB, pkg []byte) (toc string, heap []byte) {
	t.Helper()
	tocLen := binary.BigEndian.Uint64(pkg[8:])
	zr, err := zlib.NewReader(bytes.NewReader(pkg[28 : 28+tocLen]))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(text), pkg[28+tocLen:]
}

// rewriteTOC rebuilds a .pkg from bundletest with its TOC edited, keeping
// the header and TOC checksum consistent, so that the test reaches what
// lies behind them.
func rewriteTOC(t testing.TB, pkg []byte, edit func(string) string) []byte {
	t.Helper()
	toc, heap := xarParts(t, pkg)
	text := edit(toc)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(text))
	zw.Close()
	out := bytes.Clone(pkg[:28])
	binary.BigEndian.PutUint64(out[8:], uint64(z.Len()))
	binary.BigEndian.PutUint64(out[16:], uint64(len(text)))
	sum := sha1.Sum(z.Bytes())
	out = append(out, z.Bytes()...)
	out = append(out, sum[:]...)
	return append(out, heap[20:]...)
}

// replaceIn returns an edit that replaces old with new in the TOC, failing
// the test if old is not there.
func replaceIn(t testing.TB, old, new string) func(string) string {
	return func(toc string) string {
		if !strings.Contains(toc, old) {
			t.Fatalf("TOC has no %q:\n%s", old, toc)
		}
		return strings.Replace(toc, old, new, 1)
	}
}

func TestInspectPKG(t *testing.T) {
	t.Parallel()
	full := bundle.Info{BundleID: bundletest.DefaultBundleID, ShortVersion: bundletest.DefaultShortVersion,
		BuildVersion: bundletest.DefaultBuildVersion, MinOSVersion: "12.0"}
	twoApps := []byte(`<installer-gui-script minSpecVersion="2"><pkg-ref id="a"><bundle-version>
		<bundle id="com.example.a" path="A.app" CFBundleVersion="1"/>
		<bundle id="com.example.b" path="B.app" CFBundleVersion="1"/>
		</bundle-version></pkg-ref></installer-gui-script>`)
	appAndHelper := []byte(`<installer-gui-script><pkg-ref id="a"><bundle-version>
		<bundle id="com.example.helper" path="Library/LaunchAgents/Helper.app" CFBundleShortVersionString="8" CFBundleVersion="8"/>
		<bundle id="com.example.main" path="Main.app" CFBundleShortVersionString="1.1" CFBundleVersion="11"/>
		</bundle-version></pkg-ref></installer-gui-script>`)
	productOnly := []byte(`<?xml version="1.0"?><installer-gui-script minSpecVersion="2"><product id="com.example.product" version="2.0"/></installer-gui-script>`)
	pkgInfoOnly := []byte(`<pkg-info identifier="com.example.component" version="3.1" format-version="2"/>`)
	otherBundle := []byte(`<installer-gui-script><product id="com.example.p" version="5.0"/><pkg-ref id="x"><bundle-version>
		<bundle id="com.example.app" path="./App.app/" CFBundleShortVersionString="4.0" CFBundleVersion="40"/></bundle-version></pkg-ref></installer-gui-script>`)

	tests := []struct {
		name  string
		opts  bundletest.PKGOptions
		data  func(t *testing.T) []byte // instead of opts
		want  bundle.Info
		kind  bundle.Kind
		words []string
	}{
		{name: "complete", opts: bundletest.PKGOptions{BundleID: "com.example.mac", ShortVersion: "3.2.1", BuildVersion: "321", MinOSVersion: "13.5"},
			want: bundle.Info{BundleID: "com.example.mac", ShortVersion: "3.2.1", BuildVersion: "321", MinOSVersion: "13.5"}},
		{name: "stored", opts: bundletest.PKGOptions{Stored: true}, want: full},
		{name: "Distribution only", opts: bundletest.PKGOptions{Omit: []string{"PackageInfo"}}, want: full},
		{name: "component only", opts: bundletest.PKGOptions{Omit: []string{"Distribution"}},
			want: bundle.Info{BundleID: full.BundleID, ShortVersion: full.ShortVersion, BuildVersion: full.BuildVersion}},
		{name: "missing short version", opts: bundletest.PKGOptions{Omit: []string{"CFBundleShortVersionString"}},
			want: bundle.Info{BundleID: full.BundleID, BuildVersion: full.BuildVersion, MinOSVersion: "12.0", Missing: []string{"CFBundleShortVersionString"}}},
		{name: "missing build version", opts: bundletest.PKGOptions{Omit: []string{"CFBundleVersion"}},
			want: bundle.Info{BundleID: full.BundleID, ShortVersion: full.ShortVersion, MinOSVersion: "12.0", Missing: []string{"CFBundleVersion"}}},
		{name: "missing both versions", opts: bundletest.PKGOptions{Omit: []string{"CFBundleShortVersionString", "CFBundleVersion", "PackageInfo"}},
			want: bundle.Info{BundleID: full.BundleID, MinOSVersion: "12.0", Missing: []string{"CFBundleShortVersionString", "CFBundleVersion"}}},
		{name: "product only", opts: bundletest.PKGOptions{Distribution: productOnly, Omit: []string{"PackageInfo"}},
			want: bundle.Info{BundleID: "com.example.product", ShortVersion: "2.0", Missing: []string{"CFBundleVersion"}}},
		{name: "pkg-info only", opts: bundletest.PKGOptions{PackageInfo: pkgInfoOnly, Omit: []string{"Distribution"}},
			want: bundle.Info{BundleID: "com.example.component", ShortVersion: "3.1", Missing: []string{"CFBundleVersion"}}},
		{name: "bundle preferred to product", opts: bundletest.PKGOptions{Distribution: otherBundle, Omit: []string{"PackageInfo"}},
			want: bundle.Info{BundleID: "com.example.app", ShortVersion: "4.0", BuildVersion: "40"}},
		{name: "app preferred to a helper app deeper down", opts: bundletest.PKGOptions{Distribution: appAndHelper, Omit: []string{"PackageInfo"}},
			want: bundle.Info{BundleID: "com.example.main", ShortVersion: "1.1", BuildVersion: "11"}},
		{name: "versions from PackageInfo when Distribution lacks them",
			opts: bundletest.PKGOptions{Distribution: []byte(`<installer-gui-script><product id="com.example.demo"/></installer-gui-script>`)},
			want: bundle.Info{BundleID: full.BundleID, ShortVersion: full.ShortVersion, BuildVersion: full.BuildVersion}},

		{name: "no bundle ID", opts: bundletest.PKGOptions{Omit: []string{"CFBundleIdentifier"}},
			kind: bundle.KindMissing, words: []string{"names no bundle ID"}},
		{name: "neither file", opts: bundletest.PKGOptions{Omit: []string{"Distribution", "PackageInfo"}},
			kind: bundle.KindLayout, words: []string{"neither a Distribution file nor a component's PackageInfo"}},
		{name: "two apps", opts: bundletest.PKGOptions{Distribution: twoApps, Omit: []string{"PackageInfo"}},
			kind: bundle.KindLayout, words: []string{"installs 2 apps", `"com.example.a", "com.example.b"`}},
		{name: "malformed Distribution", opts: bundletest.PKGOptions{Distribution: []byte(`<installer-gui-script><product id="x">`)},
			kind: bundle.KindPlist, words: []string{"Distribution is malformed: it is not well-formed XML"}},
		{name: "empty PackageInfo", opts: bundletest.PKGOptions{PackageInfo: []byte(" "), Omit: []string{"Distribution"}},
			kind: bundle.KindPlist, words: []string{`"Demo.pkg/PackageInfo" is malformed: it has no root element`}},

		{name: "corrupt TOC", data: func(t *testing.T) []byte {
			p := mustPKG(t, bundletest.PKGOptions{})
			p[40] ^= 0xFF
			return p
		}, kind: bundle.KindDamaged, words: []string{"table of contents"}},
		{name: "TOC checksum mismatch", data: func(t *testing.T) []byte {
			p := mustPKG(t, bundletest.PKGOptions{})
			p[28+binary.BigEndian.Uint64(p[8:])] ^= 1
			return p
		}, kind: bundle.KindDamaged, words: []string{"does not match its sha1 checksum"}},
		{name: "truncated heap", data: func(t *testing.T) []byte {
			p := mustPKG(t, bundletest.PKGOptions{})
			return p[:len(p)-200]
		}, kind: bundle.KindDamaged, words: []string{"heap is 200 bytes shorter than its table of contents says: the file is truncated"}},
		{name: "truncated TOC", data: func(t *testing.T) []byte {
			return mustPKG(t, bundletest.PKGOptions{})[:100]
		}, kind: bundle.KindDamaged, words: []string{"past the end of the file"}},
		{name: "only a header", data: func(t *testing.T) []byte {
			return mustPKG(t, bundletest.PKGOptions{})[:20]
		}, kind: bundle.KindDamaged, words: []string{"shorter than a xar header"}},
		{name: "TOC over the cap", data: func(t *testing.T) []byte {
			p := mustPKG(t, bundletest.PKGOptions{})
			binary.BigEndian.PutUint64(p[16:], 1<<40)
			return p
		}, kind: bundle.KindTooLarge, words: []string{"table of contents is larger than the 4 MiB cap"}},
		{name: "TOC size disagrees with header", data: func(t *testing.T) []byte {
			p := mustPKG(t, bundletest.PKGOptions{})
			binary.BigEndian.PutUint64(p[16:], binary.BigEndian.Uint64(p[16:])-1)
			return p
		}, kind: bundle.KindDamaged, words: []string{"inflates to a size other than"}},
		{name: "xar version 2", data: func(t *testing.T) []byte {
			p := mustPKG(t, bundletest.PKGOptions{})
			p[7] = 2
			return p
		}, kind: bundle.KindUnsupported, words: []string{"xar format version 2"}},
		{name: "TOC not xar XML", data: func(t *testing.T) []byte {
			return rewriteTOC(t, mustPKG(t, bundletest.PKGOptions{}), func(string) string { return "<html/>" })
		}, kind: bundle.KindDamaged, words: []string{"not valid xar XML"}},
		{name: "Distribution data corrupt", data: func(t *testing.T) []byte {
			p := mustPKG(t, bundletest.PKGOptions{})
			p[28+binary.BigEndian.Uint64(p[8:])+20+3] ^= 1
			return p
		}, kind: bundle.KindDamaged, words: []string{"Distribution does not match its sha1 checksum"}},
		{name: "Distribution size over the cap", data: func(t *testing.T) []byte {
			return rewriteTOC(t, mustPKG(t, bundletest.PKGOptions{Stored: true}), func(toc string) string {
				i := strings.Index(toc, "<data>")
				i += strings.Index(toc[i:], "<size>")
				j := strings.Index(toc[i:], "</size>")
				return toc[:i] + "<size>2000000000" + toc[i+j:]
			})
		}, kind: bundle.KindTooLarge, words: []string{"Distribution is larger than the 1 MiB cap"}},
		{name: "Distribution beyond the heap", data: func(t *testing.T) []byte {
			return rewriteTOC(t, mustPKG(t, bundletest.PKGOptions{}), replaceIn(t, "<offset>20</offset>", "<offset>900000</offset>"))
		}, kind: bundle.KindDamaged, words: []string{"shorter than its table of contents says"}},
		{name: "Distribution size disagrees", data: func(t *testing.T) []byte {
			return rewriteTOC(t, mustPKG(t, bundletest.PKGOptions{}), func(toc string) string {
				i := strings.Index(toc, "<data>")
				i += strings.Index(toc[i:], "<size>")
				return toc[:i] + "<size>1" + toc[i+len("<size>"):] // one digit more
			})
		}, kind: bundle.KindDamaged, words: []string{"Distribution extracts to a size other than"}},
		{name: "xz encoding", data: func(t *testing.T) []byte {
			return rewriteTOC(t, mustPKG(t, bundletest.PKGOptions{}), replaceIn(t, "application/x-gzip", "application/x-xz"))
		}, kind: bundle.KindUnsupported, words: []string{`encoded as "application/x-xz"`}},
		{name: "two Distribution files", data: func(t *testing.T) []byte {
			return rewriteTOC(t, mustPKG(t, bundletest.PKGOptions{Omit: []string{"PackageInfo"}}), func(toc string) string {
				i := strings.Index(toc, "<file ")
				j := strings.LastIndex(toc, "</file>") + len("</file>")
				return toc[:j] + toc[i:j] + toc[j:]
			})
		}, kind: bundle.KindLayout, words: []string{"2 Distribution files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var data []byte
			if tt.data != nil {
				data = tt.data(t)
			} else {
				data = mustPKG(t, tt.opts)
			}
			info, err := inspect(data, "Demo.pkg")
			if tt.kind != 0 {
				checkError(t, err, tt.kind, append(tt.words, "Demo.pkg: ")...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Kind, want.UTI, want.Platform = "pkg", "com.apple.pkg", "MAC_OS"
			if !infoEqual(info, want) {
				t.Errorf("got  %+v\nwant %+v", info, want)
			}
		})
	}
}

// TestTruncatedPKG cuts a valid .pkg at every byte: each cut must be
// refused, never panic.
func TestTruncatedPKG(t *testing.T) {
	t.Parallel()
	data := mustPKG(t, bundletest.PKGOptions{})
	for n := 1; n < len(data); n++ {
		_, err := inspect(data[:n], "Demo.pkg")
		if err == nil {
			t.Fatalf("cut at %d of %d: no error", n, len(data))
		}
		checkOneLine(t, err)
	}
}
