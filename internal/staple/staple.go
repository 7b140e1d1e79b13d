// Package staple finds the notarization ticket of a flat installer
// package (.pkg) or a signed disk image (.dmg) in Apple's public ticket
// lookup and attaches it to the file, as Apple's stapler does: to a .pkg
// as a xar notarization trailer, to a .dmg as a blob added to its code
// signature, with its koly trailer rewritten. No code signing is redone:
// the ticket lies outside what the signature covers.
package staple

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/asc-auth/action/internal/bundle"
)

// Digest types of a ticket's record name.
const (
	digestSHA1   = 1
	digestSHA256 = 2
)

// RecordName returns the ticket lookup's record name for the file:
// "2/<digest type>/<first 20 bytes of the code-directory hash, hex>".
// For a .pkg the hash is the xar TOC checksum; for a .dmg the hash of
// the code directory in its code signature.
func RecordName(r io.ReaderAt, size int64, name string) (string, error) {
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".pkg"):
		alg, sum, err := bundle.XarTOCChecksum(r, size, name)
		if err != nil {
			return "", err
		}
		t := 0
		switch alg {
		case "sha1":
			t = digestSHA1
		case "sha256":
			t = digestSHA256
		default:
			return "", fmt.Errorf("staple: %s: its table of contents checksum is %s; only sha1 and sha256 can be stapled", name, alg)
		}
		return record(t, sum), nil
	case strings.HasSuffix(strings.ToLower(name), ".dmg"):
		d, err := readDMG(r, size, name)
		if err != nil {
			return "", err
		}
		return d.recordName()
	case strings.HasSuffix(strings.ToLower(name), ".zip"):
		return "", ErrZip
	}
	return "", fmt.Errorf("staple: %s: only a .pkg or a .dmg can be stapled", name)
}

// ErrZip is the refusal to staple a zip archive.
var ErrZip = errors.New("staple: a .zip cannot be stapled: staple the item inside it (.app, .pkg or .dmg) and zip it again")

func record(digestType int, sum []byte) string {
	return fmt.Sprintf("2/%d/%s", digestType, hex.EncodeToString(sum[:min(20, len(sum))]))
}

// Check looks at the file before anything is sent: a .pkg must be a xar
// archive with a table of contents checksum, a .dmg must end with a koly
// trailer.
func Check(path, kind string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	switch kind {
	case "pkg":
		_, _, err := bundle.XarTOCChecksum(f, st.Size(), path)
		return err
	case "dmg":
		_, err := readKoly(f, st.Size(), path)
		return err
	}
	return nil
}

// Pkg appends the xar notarization trailer holding ticket to the .pkg at
// path: a 16-byte terminator record, the ticket, and a ticket record.
// A package that already ends with a trailer has it replaced.
func Pkg(path string, ticket []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	if n, ok := pkgTrailer(f, end); ok {
		end -= n
	}
	var b []byte
	b = append(b, trailerRecord(1, 0)...)
	b = append(b, ticket...)
	b = append(b, trailerRecord(2, uint32(len(ticket)))...)
	if err := f.Truncate(end); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, end); err != nil {
		return err
	}
	return f.Close()
}

// trailerRecord is "t8lr", version 1, a type (1 terminator, 2 ticket),
// a length and 4 bytes of zero, little-endian.
func trailerRecord(typ uint16, length uint32) []byte {
	b := make([]byte, 16)
	copy(b, "t8lr")
	binary.LittleEndian.PutUint16(b[4:], 1)
	binary.LittleEndian.PutUint16(b[6:], typ)
	binary.LittleEndian.PutUint32(b[8:], length)
	return b
}

// pkgTrailer returns the size of an existing notarization trailer at the
// end of the file.
func pkgTrailer(r io.ReaderAt, size int64) (int64, bool) {
	if size < 32 {
		return 0, false
	}
	var t [16]byte
	if _, err := r.ReadAt(t[:], size-16); err != nil || string(t[:4]) != "t8lr" || binary.LittleEndian.Uint16(t[6:]) != 2 {
		return 0, false
	}
	n := int64(binary.LittleEndian.Uint32(t[8:])) + 32
	if n > size {
		return 0, false
	}
	return n, true
}

func hashFor(t uint8) (func([]byte) []byte, int) {
	switch t {
	case 1:
		return func(b []byte) []byte { s := sha1.Sum(b); return s[:] }, digestSHA1
	case 2:
		return func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }, digestSHA256
	}
	return nil, 0
}
