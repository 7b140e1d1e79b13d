package bundletest

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// PKGOptions describe a .pkg: a product archive as productbuild writes it
// for an app, a xar archive holding a Distribution file and one component
// package folder <AppName>.pkg with PackageInfo, Bom and Payload. The zero
// value gives a valid macOS app, com.example.demo 1.0.0 (1).
type PKGOptions struct {
	AppName      string // default "Demo"
	BundleID     string // default DefaultBundleID
	ShortVersion string // default DefaultShortVersion
	BuildVersion string // default DefaultBuildVersion
	MinOSVersion string // the Distribution's <os-version min>; default "12.0"

	// Omit leaves things out: "CFBundleIdentifier" (every <bundle id>,
	// <product id> and <pkg-info identifier> of the app),
	// "CFBundleShortVersionString" (the app's short version, <product
	// version>, <pkg-info version>), "CFBundleVersion", "Distribution" (the
	// file, leaving a component package's layout) or "PackageInfo" (the
	// component folder).
	Omit []string

	// Distribution and PackageInfo, if not nil, are written instead of the
	// generated files.
	Distribution, PackageInfo []byte

	// Stored writes Distribution and PackageInfo uncompressed
	// (application/octet-stream) instead of zlib-compressed.
	Stored bool

	// Signed adds what productsign adds: a <signature style="RSA"> in the
	// TOC, with a 256-byte stand-in for the RSA signature in the heap after
	// the TOC checksum and a stand-in certificate chain in its KeyInfo.
	// Nothing in it verifies; it has the shape a stapler reads past.
	Signed bool

	// TOCChecksum is "sha1" (the default; header algorithm 1) or "sha256"
	// (header algorithm 3, named after the header, as xar writes it).
	TOCChecksum string
}

var pkgOmits = []string{"CFBundleIdentifier", "CFBundleShortVersionString", "CFBundleVersion", "Distribution", "PackageInfo"}

// pkgValues are the strings written into the XML files, empty where
// omitted.
type pkgValues struct {
	name, id, short, build, minOS string
}

func (o PKGOptions) values() pkgValues {
	v := pkgValues{
		name:  or(o.AppName, DefaultAppName),
		id:    or(o.BundleID, DefaultBundleID),
		short: or(o.ShortVersion, DefaultShortVersion),
		build: or(o.BuildVersion, DefaultBuildVersion),
		minOS: or(o.MinOSVersion, "12.0"),
	}
	if o.omits("CFBundleIdentifier") {
		v.id = ""
	}
	if o.omits("CFBundleShortVersionString") {
		v.short = ""
	}
	if o.omits("CFBundleVersion") {
		v.build = ""
	}
	return v
}

func (o PKGOptions) omits(what string) bool { return slices.Contains(o.Omit, what) }

// attrs writes name="value" pairs, skipping empty values.
func attrs(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		b.WriteString(" " + kv[i] + `="`)
		xml.EscapeText(&b, []byte(kv[i+1]))
		b.WriteString(`"`)
	}
	return b.String()
}

// Distribution returns the Distribution file WritePKG would write.
func Distribution(opts PKGOptions) []byte {
	v := opts.values()
	ref := escape(or(v.id, "com.example.component"))
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<installer-gui-script minSpecVersion="2">
    <pkg-ref id="` + ref + `">
        <bundle-version>
            <bundle` + attrs("CFBundleShortVersionString", v.short, "CFBundleVersion", v.build, "id", v.id, "path", v.name+".app") + `/>
            <bundle` + attrs("CFBundleShortVersionString", "2.0", "CFBundleVersion", "77", "id", "com.example.helper", "path", v.name+".app/Contents/Library/LoginItems/Helper.app") + `/>
        </bundle-version>
    </pkg-ref>
    <product` + attrs("id", v.id, "version", v.short) + `/>
    <title>` + escape(v.name) + `</title>
    <options customize="never" require-scripts="false" hostArchitectures="arm64,x86_64"/>
    <volume-check>
        <allowed-os-versions>
            <os-version` + attrs("min", v.minOS) + `/>
        </allowed-os-versions>
    </volume-check>
    <choices-outline>
        <line choice="default">
            <line choice="` + ref + `"/>
        </line>
    </choices-outline>
    <choice id="default"/>
    <choice id="` + ref + `" visible="false">
        <pkg-ref id="` + ref + `"/>
    </choice>
    <pkg-ref id="` + ref + `"` + attrs("version", v.short) + ` onConclusion="none" installKBytes="64">#` + escape(v.name) + `.pkg</pkg-ref>
</installer-gui-script>
`)
	return []byte(b.String())
}

// PackageInfo returns the component's PackageInfo file WritePKG would
// write.
func PackageInfo(opts PKGOptions) []byte {
	v := opts.values()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8" standalone="no"?>
<pkg-info overwrite-permissions="true" relocatable="false"` + attrs("identifier", v.id) + ` postinstall-action="none"` + attrs("version", v.short) + ` format-version="2" generator-version="InstallCmds-834 (24C101)" install-location="/Applications" auth="root">
    <payload numberOfFiles="9" installKBytes="64"/>
    <bundle` + attrs("path", "./"+v.name+".app", "id", v.id, "CFBundleShortVersionString", v.short, "CFBundleVersion", v.build) + `>
        <bundle` + attrs("path", "./Contents/Library/LoginItems/Helper.app", "id", "com.example.helper", "CFBundleShortVersionString", "2.0", "CFBundleVersion", "77") + `/>
    </bundle>
    <bundle-version>
        <bundle` + attrs("id", v.id) + `/>
        <bundle id="com.example.helper"/>
    </bundle-version>
    <upgrade-bundle>
        <bundle` + attrs("id", v.id) + `/>
    </upgrade-bundle>
    <update-bundle/>
    <atomic-update-bundle/>
    <strict-identifier>
        <bundle` + attrs("id", v.id) + `/>
    </strict-identifier>
    <relocate>
        <bundle` + attrs("id", v.id) + `/>
    </relocate>
</pkg-info>
`)
	return []byte(b.String())
}

// xar TOC elements, as xar(1) writes them.
type (
	tocDoc struct {
		XMLName xml.Name `xml:"xar"`
		TOC     tocBody  `xml:"toc"`
	}
	tocBody struct {
		Checksum     tocChecksum   `xml:"checksum"`
		CreationTime string        `xml:"creation-time"`
		Signature    *tocSignature `xml:"signature,omitempty"`
		Files        []*tocFile    `xml:"file"`
	}
	tocSignature struct {
		Style   string `xml:"style,attr"`
		Offset  int    `xml:"offset"`
		Size    int    `xml:"size"`
		KeyInfo struct {
			NS    string   `xml:"xmlns,attr"`
			Certs []string `xml:"X509Data>X509Certificate"`
		} `xml:"KeyInfo"`
	}
	tocChecksum struct {
		Style  string `xml:"style,attr"`
		Offset int    `xml:"offset"`
		Size   int    `xml:"size"`
	}
	tocFile struct {
		ID    int        `xml:"id,attr"`
		Data  *tocData   `xml:"data,omitempty"`
		CTime string     `xml:"ctime"`
		MTime string     `xml:"mtime"`
		ATime string     `xml:"atime"`
		Group string     `xml:"group"`
		GID   int        `xml:"gid"`
		User  string     `xml:"user"`
		UID   int        `xml:"uid"`
		Mode  string     `xml:"mode"`
		Type  string     `xml:"type"`
		Name  string     `xml:"name"`
		Files []*tocFile `xml:"file"`
	}
	tocData struct {
		Length    int    `xml:"length"`
		Offset    int    `xml:"offset"`
		Size      int    `xml:"size"`
		Encoding  tocEnc `xml:"encoding"`
		Extracted tocSum `xml:"extracted-checksum"`
		Archived  tocSum `xml:"archived-checksum"`
	}
	tocEnc struct {
		Style string `xml:"style,attr"`
	}
	tocSum struct {
		Style string `xml:"style,attr"`
		Value string `xml:",chardata"`
	}
)

// xarBuilder lays out files in the heap after the TOC checksum (and the
// signature), which take the first base bytes.
type xarBuilder struct {
	heap   bytes.Buffer
	base   int
	nextID int
}

// pkgSignatureSize is the size of an RSA-2048 signature, what productsign
// stores in the heap after the TOC checksum.
const pkgSignatureSize = 256

func (x *xarBuilder) file(name string, content []byte, compress bool) (*tocFile, error) {
	archived, style := content, "application/octet-stream"
	if compress {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		if _, err := zw.Write(content); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		archived, style = z.Bytes(), "application/x-gzip"
	}
	f := x.entry(name, "file", "0644")
	f.Data = &tocData{
		Length:    len(archived),
		Offset:    x.base + x.heap.Len(),
		Size:      len(content),
		Encoding:  tocEnc{style},
		Extracted: tocSum{"sha1", sha1Hex(content)},
		Archived:  tocSum{"sha1", sha1Hex(archived)},
	}
	x.heap.Write(archived)
	return f, nil
}

func (x *xarBuilder) entry(name, typ, mode string) *tocFile {
	x.nextID++
	t := modTime.Format("2006-01-02T15:04:05Z")
	return &tocFile{ID: x.nextID, CTime: t, MTime: t, ATime: t, Group: "wheel", User: "root",
		Mode: mode, Type: typ, Name: name}
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// WritePKG writes a .pkg to w: the xar header, the zlib-compressed TOC, and
// the heap, which starts with the TOC's SHA-1 checksum.
func WritePKG(w io.Writer, opts PKGOptions) error {
	if err := checkOmit(opts.Omit, pkgOmits); err != nil {
		return err
	}
	v := opts.values()
	compress := !opts.Stored
	sumAlg, sumSize, newSum := "sha1", sha1.Size, func(b []byte) []byte { s := sha1.Sum(b); return s[:] }
	switch opts.TOCChecksum {
	case "", "sha1":
	case "sha256":
		sumAlg, sumSize, newSum = "sha256", sha256.Size, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
	default:
		return fmt.Errorf("bundletest: TOC checksum %q is not sha1 or sha256", opts.TOCChecksum)
	}
	x := xarBuilder{base: sumSize}
	var sig *tocSignature
	if opts.Signed {
		sig = &tocSignature{Style: "RSA", Offset: sumSize, Size: pkgSignatureSize}
		sig.KeyInfo.NS = "http://www.w3.org/2000/09/xmldsig#"
		for _, who := range []string{"Developer ID Installer: Example (EXAMPLE123)", "Developer ID Certification Authority", "Apple Root CA"} {
			sig.KeyInfo.Certs = append(sig.KeyInfo.Certs, base64.StdEncoding.EncodeToString([]byte("bundletest stub certificate: "+who)))
		}
		x.base += pkgSignatureSize
	}
	var files []*tocFile
	if !opts.omits("Distribution") {
		dist := opts.Distribution
		if dist == nil {
			dist = Distribution(opts)
		}
		f, err := x.file("Distribution", dist, compress)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	if !opts.omits("PackageInfo") {
		dir := x.entry(v.name+".pkg", "directory", "0755")
		info := opts.PackageInfo
		if info == nil {
			info = PackageInfo(opts)
		}
		pi, err := x.file("PackageInfo", info, compress)
		if err != nil {
			return err
		}
		bom, err := x.file("Bom", []byte("bundletest stub: not a bill of materials\n"), false)
		if err != nil {
			return err
		}
		payload, err := x.file("Payload", []byte("bundletest stub: not a cpio archive\n"), true)
		if err != nil {
			return err
		}
		dir.Files = []*tocFile{pi, bom, payload}
		files = append(files, dir)
	}

	doc := tocDoc{TOC: tocBody{
		Checksum:     tocChecksum{Style: sumAlg, Offset: 0, Size: sumSize},
		CreationTime: modTime.Format("2006-01-02T15:04:05Z"),
		Signature:    sig,
		Files:        files,
	}}
	text, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	toc := append([]byte(xml.Header), text...)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(toc); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}

	// The header: magic, its own size, version 1, the TOC's compressed and
	// inflated sizes, the checksum algorithm (1 SHA-1; 3 named, the name
	// following the header, NUL-terminated and padded to 4 bytes).
	h := make([]byte, 28)
	copy(h, "xar!")
	binary.BigEndian.PutUint32(h[24:], 1)
	if sumAlg != "sha1" {
		binary.BigEndian.PutUint32(h[24:], 3)
		name := append([]byte(sumAlg), 0)
		h = append(h, name...)
		h = append(h, make([]byte, (4-len(h)%4)%4)...)
	}
	binary.BigEndian.PutUint16(h[4:], uint16(len(h)))
	binary.BigEndian.PutUint16(h[6:], 1)
	binary.BigEndian.PutUint64(h[8:], uint64(z.Len()))
	binary.BigEndian.PutUint64(h[16:], uint64(len(toc)))
	sum := newSum(z.Bytes())
	var rsa []byte
	if opts.Signed {
		rsa = bytes.Repeat([]byte("bundletest stub: not an RSA signature. "), pkgSignatureSize/39+1)[:pkgSignatureSize]
	}
	for _, part := range [][]byte{h, z.Bytes(), sum, rsa, x.heap.Bytes()} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// PKG returns WritePKG's output as bytes.
func PKG(opts PKGOptions) ([]byte, error) {
	var b bytes.Buffer
	err := WritePKG(&b, opts)
	return b.Bytes(), err
}
