package bundle

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// A xar archive (the .pkg format) starts with a fixed header, all integers
// big-endian:
//
//	offset size field
//	0      4    magic "xar!"
//	4      2    header size, counting any checksum name that follows
//	6      2    format version, 1
//	8      8    table of contents, compressed length
//	16     8    table of contents, uncompressed length
//	24     4    checksum algorithm: 0 none, 1 SHA-1, 2 MD5, 3 named
//	28     -    for algorithm 3: the name, NUL-padded, to the header's end
//
// The table of contents (TOC), an XML document, follows zlib-compressed;
// after it comes the heap, where each file's data lies at the <offset> its
// <data> element gives, <length> bytes long, inflating to <size> bytes.
const (
	xarHeaderLen = 28
	xarVersion   = 1
)

// Caps on what Inspect reads from a .pkg. A productbuild TOC lists only the
// top-level parts (Distribution, Resources, each component's Bom, Payload,
// PackageInfo and Scripts), with a signature: tens of KiB at most.
// Distribution and PackageInfo files are a few KiB.
const (
	maxXarHeader    = 1 << 10
	maxTOC          = 4 << 20 // compressed or uncompressed
	maxMetaFile     = 1 << 20 // Distribution or PackageInfo, archived or extracted
	maxPackageInfos = 16      // component packages read
)

// xarTOC is the part of the table of contents Inspect uses.
type xarTOC struct {
	XMLName xml.Name `xml:"xar"`
	TOC     struct {
		Checksum *struct {
			Style  string `xml:"style,attr"`
			Offset string `xml:"offset"`
			Size   string `xml:"size"`
		} `xml:"checksum"`
		Files []xarFile `xml:"file"`
	} `xml:"toc"`
}

// xarFile is a file or directory in the TOC.
type xarFile struct {
	Name  string   `xml:"name"`
	Type  string   `xml:"type"`
	Data  *xarData `xml:"data"`
	Files []xarFile
}

// xarData says where a file's contents lie in the heap and how they are
// encoded.
type xarData struct {
	Length   string `xml:"length"`
	Offset   string `xml:"offset"`
	Size     string `xml:"size"`
	Encoding struct {
		Style string `xml:"style,attr"`
	} `xml:"encoding"`
	Archived  xarChecksum `xml:"archived-checksum"`
	Extracted xarChecksum `xml:"extracted-checksum"`
}

type xarChecksum struct {
	Style string `xml:"style,attr"`
	Value string `xml:",chardata"`
}

// maxTOCDepth is how deep folders may nest in a TOC. Installer packages
// nest two or three levels (Resources/en.lproj/...).
const maxTOCDepth = 32

// UnmarshalXML reads a file element and the files nested in it, refusing
// nesting deeper than maxTOCDepth.
func (f *xarFile) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return f.unmarshal(d, 0)
}

func (f *xarFile) unmarshal(d *xml.Decoder, depth int) error {
	if depth > maxTOCDepth {
		return fmt.Errorf("folders nest deeper than %d levels", maxTOCDepth)
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "name":
				err = d.DecodeElement(&f.Name, &t)
			case "type":
				err = d.DecodeElement(&f.Type, &t)
			case "data":
				f.Data = new(xarData)
				err = d.DecodeElement(f.Data, &t)
			case "file":
				var child xarFile
				err = child.unmarshal(d, depth+1)
				f.Files = append(f.Files, child)
			default:
				err = d.Skip()
			}
			if err != nil {
				return err
			}
		}
	}
}

// heapEnd returns the end of the furthest data in the heap that the files
// use, or false if a file's offset or length is not a number.
func heapEnd(files []xarFile) (uint64, bool) {
	var end uint64
	for i := range files {
		f := &files[i]
		if f.Data != nil {
			off, err1 := parseSize(f.Data.Offset)
			n, err2 := parseSize(f.Data.Length)
			if err1 != nil || err2 != nil {
				return 0, false
			}
			end = max(end, off+n) // each below 2^63, so no overflow
		}
		sub, ok := heapEnd(f.Files)
		if !ok {
			return 0, false
		}
		end = max(end, sub)
	}
	return end, true
}

// xar is an open xar archive.
type xar struct {
	r    io.ReaderAt
	size int64
	base string
	heap int64 // where the heap starts
	toc  xarTOC
}

// damaged returns a KindDamaged error for the .pkg.
func (x *xar) damaged(problem string, err error) *Error {
	return &Error{Kind: KindDamaged, File: x.base, problem: problem, hint: hintRebuildPKG, Err: err}
}

// openXar reads the header and the table of contents.
func openXar(r io.ReaderAt, size int64, base string) (*xar, error) {
	x := &xar{r: r, size: size, base: base}
	var h [xarHeaderLen]byte
	if size < xarHeaderLen {
		return nil, x.damaged("the .pkg is shorter than a xar header: the file is truncated", nil)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, x.damaged("the .pkg's header cannot be read", err)
	}
	hdrLen := int64(binary.BigEndian.Uint16(h[4:]))
	version := binary.BigEndian.Uint16(h[6:])
	tocLen := binary.BigEndian.Uint64(h[8:])
	tocSize := binary.BigEndian.Uint64(h[16:])
	alg := binary.BigEndian.Uint32(h[24:])
	switch {
	case version != xarVersion:
		return nil, &Error{Kind: KindUnsupported, File: base,
			problem: fmt.Sprintf("the .pkg is xar format version %d; only version %d can be read", version, xarVersion),
			hint:    hintProductbuild}
	case hdrLen < xarHeaderLen || hdrLen > maxXarHeader:
		return nil, x.damaged(fmt.Sprintf("the .pkg's xar header gives its own size as %d bytes", hdrLen), nil)
	case tocLen > maxTOC || tocSize > maxTOC:
		return nil, &Error{Kind: KindTooLarge, File: base,
			problem: fmt.Sprintf("the .pkg's table of contents is larger than the %d MiB cap", maxTOC>>20),
			hint:    "a productbuild table of contents is a few KiB; " + hintProductbuild}
	case tocLen == 0 || tocSize == 0:
		return nil, x.damaged("the .pkg's table of contents is empty", nil)
	case hdrLen+int64(tocLen) > size:
		return nil, x.damaged("the .pkg's table of contents runs past the end of the file: the file is truncated", nil)
	}
	x.heap = hdrLen + int64(tocLen)

	// The checksum algorithm's name, for algorithm 3.
	var algName string
	switch alg {
	case 0:
	case 1:
		algName = "sha1"
	case 2:
		algName = "md5"
	case 3:
		name := make([]byte, hdrLen-xarHeaderLen)
		if _, err := r.ReadAt(name, xarHeaderLen); err != nil {
			return nil, x.damaged("the .pkg's header cannot be read", err)
		}
		algName, _, _ = strings.Cut(string(name), "\x00")
	}

	compressed := make([]byte, tocLen)
	if _, err := r.ReadAt(compressed, hdrLen); err != nil {
		return nil, x.damaged("the .pkg's table of contents cannot be read: the file is truncated", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, x.damaged("the .pkg's table of contents is not zlib-compressed", err)
	}
	toc, err := io.ReadAll(io.LimitReader(zr, int64(tocSize)+1))
	switch {
	case err != nil:
		return nil, x.damaged("the .pkg's table of contents cannot be inflated", err)
	case uint64(len(toc)) != tocSize:
		return nil, x.damaged(fmt.Sprintf("the .pkg's table of contents inflates to a size other than the %d bytes its header gives", tocSize), nil)
	}
	if err := xml.Unmarshal(toc, &x.toc); err != nil {
		return nil, x.damaged("the .pkg's table of contents is not valid xar XML", err)
	}
	if err := x.checkTOC(algName, compressed); err != nil {
		return nil, err
	}
	// A cut-off .pkg is caught here even where the parts Inspect reads
	// survived, since the upload would fail.
	end, ok := heapEnd(x.toc.TOC.Files)
	switch {
	case !ok:
		return nil, x.damaged("the .pkg's table of contents gives a file an invalid offset or length", nil)
	case end > uint64(size-x.heap):
		return nil, x.damaged(fmt.Sprintf("the .pkg's heap is %d bytes shorter than its table of contents says: the file is truncated",
			end-uint64(size-x.heap)), nil)
	}
	return x, nil
}

// checkTOC compares the checksum stored in the heap with the compressed
// TOC, where the algorithm is one this package knows.
func (x *xar) checkTOC(alg string, compressed []byte) error {
	c := x.toc.TOC.Checksum
	h := newHash(alg)
	if c == nil || h == nil {
		return nil
	}
	if !strings.EqualFold(strings.TrimSpace(c.Style), alg) {
		return x.damaged(fmt.Sprintf("the .pkg's header and table of contents disagree on the checksum algorithm (%s)", alg), nil)
	}
	off, err1 := parseSize(c.Offset)
	n, err2 := parseSize(c.Size)
	if err1 != nil || err2 != nil || n != uint64(h.Size()) {
		return x.damaged("the .pkg's table of contents gives its checksum an invalid place in the heap", nil)
	}
	want, err := x.readHeap(off, n)
	if err != nil {
		return err
	}
	h.Write(compressed)
	if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
		return x.damaged("the .pkg's table of contents does not match its "+alg+" checksum", nil)
	}
	return nil
}

// readHeap reads n bytes at off in the heap.
func (x *xar) readHeap(off, n uint64) ([]byte, error) {
	room := uint64(x.size - x.heap)
	if off > room || n > room-off {
		return nil, x.damaged("the .pkg's heap is shorter than its table of contents says: the file is truncated", nil)
	}
	buf := make([]byte, n)
	if _, err := x.r.ReadAt(buf, x.heap+int64(off)); err != nil {
		return nil, x.damaged("the .pkg's heap cannot be read: the file is truncated", err)
	}
	return buf, nil
}

// readFile returns the extracted contents of f, which is named path in
// errors, checking the sizes against maxMetaFile and the checksums where
// the algorithm is known.
func (x *xar) readFile(f *xarFile, path string) ([]byte, error) {
	d := f.Data
	if d == nil {
		return nil, x.damaged(fmt.Sprintf("the .pkg's table of contents gives %s no data", path), nil)
	}
	length, err1 := parseSize(d.Length)
	off, err2 := parseSize(d.Offset)
	if err1 != nil || err2 != nil {
		return nil, x.damaged(fmt.Sprintf("the .pkg's table of contents gives %s an invalid offset or length", path), nil)
	}
	size, err := parseSize(d.Size)
	haveSize := err == nil
	if length > maxMetaFile || (haveSize && size > maxMetaFile) {
		return nil, &Error{Kind: KindTooLarge, File: x.base,
			problem: fmt.Sprintf("the .pkg's %s is larger than the %d MiB cap", path, maxMetaFile>>20),
			hint:    "a " + path + " file is a few KiB; " + hintProductbuild}
	}
	raw, err := x.readHeap(off, length)
	if err != nil {
		return nil, err
	}
	if err := x.verify(d.Archived, raw, path); err != nil {
		return nil, err
	}

	var dec io.Reader
	switch style := strings.TrimSpace(d.Encoding.Style); style {
	case "", "application/octet-stream":
		dec = bytes.NewReader(raw)
	case "application/x-gzip":
		// xar's "gzip" is a zlib stream; accept real gzip too.
		if bytes.HasPrefix(raw, magicGzip) {
			dec, err = gzip.NewReader(bytes.NewReader(raw))
		} else {
			dec, err = zlib.NewReader(bytes.NewReader(raw))
		}
		if err != nil {
			return nil, x.damaged(fmt.Sprintf("the .pkg's %s cannot be inflated", path), err)
		}
	case "application/x-bzip2":
		dec = bzip2.NewReader(bytes.NewReader(raw))
	default:
		return nil, &Error{Kind: KindUnsupported, File: x.base,
			problem: fmt.Sprintf("the .pkg's %s is encoded as %s; only zlib, bzip2 and uncompressed data can be read",
				path, quote(style)),
			hint: hintProductbuild}
	}
	limit := uint64(maxMetaFile)
	if haveSize {
		limit = size
	}
	out, err := io.ReadAll(io.LimitReader(dec, int64(limit)+1))
	switch {
	case err != nil:
		return nil, x.damaged(fmt.Sprintf("the .pkg's %s cannot be decompressed", path), err)
	case uint64(len(out)) > limit && !haveSize:
		return nil, &Error{Kind: KindTooLarge, File: x.base,
			problem: fmt.Sprintf("the .pkg's %s is larger than the %d MiB cap", path, maxMetaFile>>20),
			hint:    "a " + path + " file is a few KiB; " + hintProductbuild}
	case haveSize && uint64(len(out)) != size:
		return nil, x.damaged(fmt.Sprintf("the .pkg's %s extracts to a size other than the %d bytes its table of contents gives", path, size), nil)
	}
	if err := x.verify(d.Extracted, out, path); err != nil {
		return nil, err
	}
	return out, nil
}

// verify checks data against a checksum from the TOC, if its algorithm is
// known.
func (x *xar) verify(c xarChecksum, data []byte, path string) error {
	style := strings.ToLower(strings.TrimSpace(c.Style))
	h := newHash(style)
	if h == nil {
		return nil
	}
	want, err := hex.DecodeString(strings.TrimSpace(c.Value))
	h.Write(data)
	if err != nil || subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
		return x.damaged(fmt.Sprintf("the .pkg's %s does not match its %s checksum", path, style), nil)
	}
	return nil
}

// newHash returns the hash xar names alg, or nil.
func newHash(alg string) hash.Hash {
	switch strings.ToLower(alg) {
	case "sha1":
		return sha1.New()
	case "md5":
		return md5.New()
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// parseSize parses a decimal size or offset from the TOC.
func parseSize(s string) (uint64, error) {
	return strconv.ParseUint(strings.TrimSpace(s), 10, 63)
}

// XarTOCChecksum opens a xar archive (a .pkg), checks its table of
// contents against the checksum stored in its heap, and returns that
// checksum's algorithm ("sha1", "sha256", ...) and bytes: what a
// notarization ticket for a flat package is looked up by.
func XarTOCChecksum(r io.ReaderAt, size int64, name string) (alg string, sum []byte, err error) {
	var magic [4]byte
	if size < 4 {
		return "", nil, &Error{Kind: KindDamaged, File: name, problem: "the file is too short for a xar archive", hint: hintRebuildPKG}
	}
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "xar!" {
		return "", nil, &Error{Kind: KindDamaged, File: name, problem: "the .pkg is not a xar archive (a flat installer package)", hint: hintRebuildPKG}
	}
	x, err := openXar(r, size, name)
	if err != nil {
		return "", nil, err
	}
	c := x.toc.TOC.Checksum
	if c == nil {
		return "", nil, &Error{Kind: KindUnsupported, File: name, problem: "the .pkg's table of contents has no checksum", hint: hintProductbuild}
	}
	off, err1 := parseSize(c.Offset)
	n, err2 := parseSize(c.Size)
	if err1 != nil || err2 != nil || n == 0 || n > 64 {
		return "", nil, x.damaged("the .pkg's table of contents gives its checksum an invalid place in the heap", nil)
	}
	sum, err = x.readHeap(off, n)
	return strings.ToLower(strings.TrimSpace(c.Style)), sum, err
}
