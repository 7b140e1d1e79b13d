package bundle_test

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

var update = flag.Bool("update", false, "rewrite the fixtures in testdata/bundle with bsdtar and plistutil")

// fixtureDir holds files written by independent encoders (libarchive's xar
// writer, libplist), read by TestFixtures without the tools and used as
// fuzz seeds. `go test ./internal/bundle -run 'Libarchive|Plistutil' -update`
// rewrites them.
const fixtureDir = "../../testdata/bundle"

// requireTool finds an independent reader on PATH. Where CI sets
// ASC_AUTH_CROSSCHECK=required, a missing tool fails the test instead of
// skipping it, so the cross-check cannot silently stop running.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("ASC_AUTH_CROSSCHECK") == "required" {
			t.Fatalf("%s is required for the cross-check but not installed (apt-get install %s)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return path
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBsdtarReadsPKG has libarchive's xar reader, which checks the TOC
// checksum and each file's checksums, list and extract the generated .pkg
// files, and refuse the same damage Inspect refuses.
func TestBsdtarReadsPKG(t *testing.T) {
	t.Parallel()
	bsdtar := requireTool(t, "bsdtar", "libarchive-tools")
	for name, opts := range map[string]bundletest.PKGOptions{
		"zlib":           {},
		"stored":         {Stored: true, BundleID: "com.example.stored"},
		"component only": {Omit: []string{"Distribution"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := mustPKG(t, opts)
			path := writeTemp(t, "Demo.pkg", data)
			list := strings.Fields(string(run(t, bsdtar, "-tf", path)))
			want := []string{"Distribution", "Demo.pkg", "Demo.pkg/PackageInfo", "Demo.pkg/Bom", "Demo.pkg/Payload"}
			if slices.Contains(opts.Omit, "Distribution") {
				want = want[1:]
			}
			if !slices.Equal(list, want) {
				t.Errorf("bsdtar lists %q, want %q", list, want)
			}
			if !slices.Contains(opts.Omit, "Distribution") {
				if got := run(t, bsdtar, "-xOf", path, "Distribution"); !bytes.Equal(got, bundletest.Distribution(opts)) {
					t.Errorf("bsdtar extracts a different Distribution:\n%s", got)
				}
			}
			if got := run(t, bsdtar, "-xOf", path, "Demo.pkg/PackageInfo"); !bytes.Equal(got, bundletest.PackageInfo(opts)) {
				t.Errorf("bsdtar extracts a different PackageInfo:\n%s", got)
			}
			if _, err := bundle.Inspect(bytes.NewReader(data), int64(len(data)), path); err != nil {
				t.Error(err)
			}
		})
	}

	// Damage that both must refuse: the TOC checksum and the Distribution's
	// data.
	data := mustPKG(t, bundletest.PKGOptions{})
	heap := 28 + int(binary.BigEndian.Uint64(data[8:])) // after the header and the TOC
	for name, at := range map[string]int{"TOC checksum": heap, "Distribution data": heap + 20 + 3} {
		bad := bytes.Clone(data)
		bad[at] ^= 1
		path := writeTemp(t, "Bad.pkg", bad)
		if err := exec.CommandContext(t.Context(), bsdtar, "-xOf", path, "Distribution").Run(); err == nil {
			t.Errorf("%s: bsdtar read the damaged .pkg", name)
		}
		if _, err := bundle.InspectFile(path); err == nil {
			t.Errorf("%s: Inspect read the damaged .pkg", name)
		}
	}
}

// TestBsdtarReadsIPA has libarchive list and extract a generated .ipa,
// including a stored asset.
func TestBsdtarReadsIPA(t *testing.T) {
	t.Parallel()
	bsdtar := requireTool(t, "bsdtar", "libarchive-tools")
	opts := bundletest.IPAOptions{AssetSize: 100_000, AssetSeed: 7}
	path := writeTemp(t, "Demo.ipa", mustIPA(t, opts))
	list := strings.Fields(string(run(t, bsdtar, "-tf", path)))
	for _, want := range []string{"Payload/Demo.app/Info.plist", "Payload/Demo.app/Demo", "Payload/Demo.app/Frameworks/X.framework/Info.plist", "Payload/Demo.app/Assets.car"} {
		if !slices.Contains(list, want) {
			t.Errorf("bsdtar does not list %s: %q", want, list)
		}
	}
	if got := run(t, bsdtar, "-xOf", path, "Payload/Demo.app/Info.plist"); !bytes.Equal(got, mustInfoPlist(t, opts)) {
		t.Error("bsdtar extracts a different Info.plist")
	}
	if got := run(t, bsdtar, "-xOf", path, "Payload/Demo.app/Assets.car"); len(got) != 100_000 {
		t.Errorf("bsdtar extracts %d bytes of the asset, want 100000", len(got))
	}
}

// TestLibarchiveWritesXar unpacks a generated .pkg and packs it again
// with libarchive's own xar writer, under several compression and checksum
// settings, and checks that Inspect reads what an independent writer
// produces, or refuses the encoding it cannot read.
func TestLibarchiveWritesXar(t *testing.T) {
	t.Parallel()
	bsdtar := requireTool(t, "bsdtar", "libarchive-tools")
	opts := bundletest.PKGOptions{BundleID: "com.example.libarchive", ShortVersion: "6.1", BuildVersion: "610"}
	src := t.TempDir()
	run(t, bsdtar, "-xf", writeTemp(t, "Demo.pkg", mustPKG(t, opts)), "-C", src)

	for _, tt := range []struct {
		options string
		fixture string // written with -update
		fail    bundle.Kind
	}{
		{options: "xar:compression=gzip"},
		{options: "xar:compression=bzip2,xar:checksum=md5,xar:toc-checksum=md5", fixture: "libarchive-bzip2-md5.pkg"},
		{options: "xar:compression=none,xar:toc-checksum=none"},
		{options: "xar:compression=xz", fail: bundle.KindUnsupported},
	} {
		t.Run(tt.options, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "Demo.pkg")
			cmd := exec.CommandContext(t.Context(), bsdtar, "--format=xar", "--options", tt.options, "-cf", out, "Distribution", "Demo.pkg")
			cmd.Dir = src
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("bsdtar: %v\n%s", err, b)
			}
			info, err := bundle.InspectFile(out)
			if tt.fail != 0 {
				checkError(t, err, tt.fail)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.BundleID != "com.example.libarchive" || info.ShortVersion != "6.1" || info.BuildVersion != "610" {
				t.Errorf("got %+v", info)
			}
			if *update && tt.fixture != "" {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(fixtureDir, tt.fixture), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestFixtures reads the files independent encoders wrote, without the
// tools.
func TestFixtures(t *testing.T) {
	t.Parallel()
	info, err := bundle.InspectFile(filepath.Join(fixtureDir, "libarchive-bzip2-md5.pkg"))
	if err != nil {
		t.Fatal(err)
	}
	if info.BundleID != "com.example.libarchive" || info.ShortVersion != "6.1" || info.BuildVersion != "610" || info.MinOSVersion != "12.0" {
		t.Errorf("libarchive .pkg: %+v", info)
	}

	p, err := os.ReadFile(filepath.Join(fixtureDir, "Info-libplist.plist"))
	if err != nil {
		t.Fatal(err)
	}
	info, err = inspect(mustIPA(t, bundletest.IPAOptions{InfoPlist: p}), "Demo.ipa")
	if err != nil {
		t.Fatal(err)
	}
	if info.BundleID != "com.example.cross" || info.ShortVersion != "4.5" || info.BuildVersion != "45.1" || info.Platform != "VISION_OS" {
		t.Errorf("libplist Info.plist: %+v", info)
	}
}

// TestPlistutilAgrees has libplist convert the generated binary Info.plist
// to XML and checks the values, then converts the XML one to binary and
// checks that Inspect reads libplist's binary encoding.
func TestPlistutilAgrees(t *testing.T) {
	t.Parallel()
	plistutil := requireTool(t, "plistutil", "libplist-utils")
	for _, platform := range []string{"IOS", "TV_OS", "VISION_OS", "MAC_OS"} {
		t.Run(platform, func(t *testing.T) {
			t.Parallel()
			opts := bundletest.IPAOptions{Platform: platform, BundleID: "com.example.cross", ShortVersion: "4.5", BuildVersion: "45.1"}

			bin := writeTemp(t, "Info.plist", mustInfoPlist(t, opts))
			got := xmlPlistStrings(t, run(t, plistutil, "-i", bin, "-f", "xml"))
			for k, v := range map[string]string{"CFBundleIdentifier": "com.example.cross", "CFBundleShortVersionString": "4.5", "CFBundleVersion": "45.1"} {
				if got[k] != v {
					t.Errorf("libplist reads %s = %q, want %q", k, got[k], v)
				}
			}

			opts.XML = true
			xmlPath := writeTemp(t, "Info.plist", mustInfoPlist(t, opts))
			converted := run(t, plistutil, "-i", xmlPath, "-f", "bin")
			if !bytes.HasPrefix(converted, []byte("bplist00")) {
				t.Fatalf("plistutil wrote %q", converted[:min(len(converted), 8)])
			}
			info, err := inspect(mustIPA(t, bundletest.IPAOptions{InfoPlist: converted}), "Demo.ipa")
			if err != nil {
				t.Fatal(err)
			}
			if info.BundleID != "com.example.cross" || info.ShortVersion != "4.5" || info.BuildVersion != "45.1" || info.Platform != platform {
				t.Errorf("Inspect reads libplist's binary plist as %+v", info)
			}
			if *update && platform == "VISION_OS" {
				if err := os.WriteFile(filepath.Join(fixtureDir, "Info-libplist.plist"), converted, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// xmlPlistStrings returns the string values of an XML plist's top-level
// dictionary, read with encoding/xml alone.
func xmlPlistStrings(t *testing.T, doc []byte) map[string]string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false // libplist writes a DOCTYPE
	out := map[string]string{}
	depth, key := 0, ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			depth++
			if depth != 3 { // plist > dict > key|value
				continue
			}
			var text string
			if err := d.DecodeElement(&text, &tt); err != nil {
				t.Fatal(err)
			}
			depth--
			switch tt.Name.Local {
			case "key":
				key = text
			case "string":
				out[key] = text
			}
		case xml.EndElement:
			depth--
		}
	}
}
