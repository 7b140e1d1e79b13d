package bundletest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
)

// DMGOptions describe a disk image: a UDIF file as hdiutil and codesign
// leave it, laid out as data fork, XML property list, code signature and
// the 512-byte "koly" trailer. The zero value gives a signed image with a
// SHA-256 code directory.
type DMGOptions struct {
	Identifier string // the code directory's identifier; default "com.example.demo"
	DataSize   int    // bytes of data fork; default 64 KiB
	Seed       uint64 // varies the data fork's bytes
	// HashType is the code directory's hash: 2 SHA-256 (the default) or
	// 1 SHA-1.
	HashType uint8
	// Unsigned leaves the code signature out (offset and size 0 in the
	// trailer), as hdiutil writes an image before codesign.
	Unsigned bool
}

// Magic numbers and slots of Apple's code signing format (xnu's
// osfmk/kern/cs_blobs.h), and the UDIF trailer's (hdiutil's "koly" block).
const (
	csMagicEmbeddedSignature = 0xfade0cc0 // the superblob
	csMagicCodeDirectory     = 0xfade0c02
	csMagicRequirements      = 0xfade0c01
	csMagicBlobWrapper       = 0xfade0b01 // the CMS signature's wrapper
	csSlotCodeDirectory      = 0
	csSlotRequirements       = 2
	csSlotCMSSignature       = 0x10000
	kolySize                 = 512
)

// DMG returns a disk image.
func DMG(opts DMGOptions) ([]byte, error) {
	var b bytes.Buffer
	err := WriteDMG(&b, opts)
	return b.Bytes(), err
}

// WriteDMG writes a disk image to w. Its data fork is not a file system
// and its property list's blkx table is empty: nothing mounts it. What a
// stapler reads is real: the koly trailer's plist and code signature
// places, and a superblob holding a code directory (slot 0), empty
// requirements (slot 2) and a stand-in CMS signature (slot 0x10000). The
// code directory hashes the requirements (special slot 2) and, as one
// page, everything before the signature.
func WriteDMG(w io.Writer, opts DMGOptions) error {
	id := or(opts.Identifier, DefaultBundleID)
	size := opts.DataSize
	if size <= 0 {
		size = 64 << 10
	}
	hashType := opts.HashType
	if hashType == 0 {
		hashType = 2
	}
	var newHash func([]byte) []byte
	switch hashType {
	case 1:
		newHash = func(b []byte) []byte { s := sha1.Sum(b); return s[:] }
	case 2:
		newHash = func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
	default:
		return fmt.Errorf("bundletest: code directory hash type %d is not 1 (SHA-1) or 2 (SHA-256)", hashType)
	}

	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{byte(opts.Seed), byte(opts.Seed >> 8), 'd', 'm', 'g'})
	rng.Read(data)
	copy(data[1024:], "H+\x00\x04") // where an HFS+ volume header's signature sits
	plist := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>resource-fork</key>
	<dict>
		<key>blkx</key>
		<array/>
	</dict>
</dict>
</plist>
`)
	body := append(append([]byte(nil), data...), plist...)

	var sig []byte
	if !opts.Unsigned {
		reqs := be32(csMagicRequirements, 12, 0)
		cd := codeDirectory(id, hashType, newHash(reqs), newHash(body), len(body))
		cms := append(be32(csMagicBlobWrapper, 0), []byte("bundletest stub: not a CMS signature")...)
		binary.BigEndian.PutUint32(cms[4:], uint32(len(cms)))
		sig = superblob([]uint32{csSlotCodeDirectory, csSlotRequirements, csSlotCMSSignature}, [][]byte{cd, reqs, cms})
	}

	k := make([]byte, kolySize)
	copy(k, "koly")
	binary.BigEndian.PutUint32(k[4:], 4)   // version
	binary.BigEndian.PutUint32(k[8:], 512) // header size
	binary.BigEndian.PutUint32(k[12:], 1)  // flags: flattened
	binary.BigEndian.PutUint64(k[32:], uint64(len(data)))
	binary.BigEndian.PutUint32(k[60:], 1) // segment count
	copy(k[64:80], newHash([]byte("segment " + id))[:16])
	binary.BigEndian.PutUint32(k[80:], 2)  // data checksum: CRC-32
	binary.BigEndian.PutUint32(k[84:], 32) // of 32 bits
	binary.BigEndian.PutUint32(k[88:], crc32.ChecksumIEEE(data))
	binary.BigEndian.PutUint64(k[216:], uint64(len(data)))  // XML plist offset
	binary.BigEndian.PutUint64(k[224:], uint64(len(plist))) // and length
	if sig != nil {
		binary.BigEndian.PutUint64(k[296:], uint64(len(body))) // code signature offset
		binary.BigEndian.PutUint64(k[304:], uint64(len(sig)))  // and size
	}
	binary.BigEndian.PutUint32(k[352:], 2) // master checksum: CRC-32
	binary.BigEndian.PutUint32(k[356:], 32)
	binary.BigEndian.PutUint32(k[360:], crc32.ChecksumIEEE(data))
	binary.BigEndian.PutUint32(k[488:], 1) // image variant: device image
	binary.BigEndian.PutUint64(k[492:], uint64((len(data)+511)/512))
	for _, part := range [][]byte{body, sig, k} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// codeDirectory writes a version 0x20100 code directory: the 48-byte
// header (through scatterOffset), the identifier, the special slots'
// hashes (slot -2, requirements, then slot -1, Info.plist, here zero) and
// one code slot covering codeLimit bytes as a single page (pageSize 0).
func codeDirectory(id string, hashType uint8, reqHash, codeHash []byte, codeLimit int) []byte {
	const header = 48
	hashSize := len(codeHash)
	const nSpecial = 2
	identOffset := header
	hashOffset := identOffset + len(id) + 1 + nSpecial*hashSize
	cd := make([]byte, hashOffset+hashSize)
	binary.BigEndian.PutUint32(cd[0:], csMagicCodeDirectory)
	binary.BigEndian.PutUint32(cd[4:], uint32(len(cd)))
	binary.BigEndian.PutUint32(cd[8:], 0x20100)
	binary.BigEndian.PutUint32(cd[12:], 0x10000) // flags: runtime
	binary.BigEndian.PutUint32(cd[16:], uint32(hashOffset))
	binary.BigEndian.PutUint32(cd[20:], uint32(identOffset))
	binary.BigEndian.PutUint32(cd[24:], nSpecial)
	binary.BigEndian.PutUint32(cd[28:], 1) // code slots
	binary.BigEndian.PutUint32(cd[32:], uint32(codeLimit))
	cd[36] = byte(hashSize)
	cd[37] = hashType
	cd[39] = 0 // page size 0: one page, the whole of codeLimit
	copy(cd[identOffset:], id)
	copy(cd[hashOffset-2*hashSize:], reqHash) // slot -2
	copy(cd[hashOffset:], codeHash)
	return cd
}

// superblob writes an embedded-signature superblob: magic, length, count,
// then (slot, offset) pairs in slot order, then the blobs.
func superblob(slots []uint32, blobs [][]byte) []byte {
	off := 12 + 8*len(blobs)
	sb := be32(csMagicEmbeddedSignature, 0, uint32(len(blobs)))
	var tail []byte
	for i, b := range blobs {
		sb = append(sb, be32(slots[i], uint32(off+len(tail)))...)
		tail = append(tail, b...)
	}
	sb = append(sb, tail...)
	binary.BigEndian.PutUint32(sb[4:], uint32(len(sb)))
	return sb
}

func be32(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.BigEndian.PutUint32(b[4*i:], v)
	}
	return b
}
