package staple

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sort"
)

// A UDIF disk image ends with a 512-byte big-endian "koly" trailer; the
// fields used here are the XML plist's place (offset 216, length 224) and
// the code signature's (offset 296, size 304). The signature is a
// superblob: magic 0xfade0cc0, length, count, then count {slot, offset}
// index entries, then the blobs. Slot 0 is the code directory (magic
// 0xfade0c02, hash type at byte 37); a ticket goes in slot 0x10002 as a
// blob wrapper (magic 0xfade0b01).
const (
	kolySize          = 512
	magicSuperBlob    = 0xfade0cc0
	magicCodeDir      = 0xfade0c02
	magicBlobWrapper  = 0xfade0b01
	slotCodeDirectory = 0
	slotTicket        = 0x10002
	maxSignature      = 16 << 20 // a DMG's signature is a few kB
)

type blob struct {
	slot uint32
	data []byte
}

type dmg struct {
	name      string
	koly      []byte
	sigOffset int64
	blobs     []blob
	plistEnd  int64
	size      int64
}

func readKoly(r io.ReaderAt, size int64, name string) ([]byte, error) {
	if size < kolySize {
		return nil, fmt.Errorf("staple: %s is too short for a disk image", name)
	}
	k := make([]byte, kolySize)
	if _, err := r.ReadAt(k, size-kolySize); err != nil {
		return nil, err
	}
	if string(k[:4]) != "koly" {
		return nil, fmt.Errorf("staple: %s does not end with a koly trailer: it is not a UDIF disk image (make it with hdiutil create)", name)
	}
	return k, nil
}

func readDMG(r io.ReaderAt, size int64, name string) (*dmg, error) {
	k, err := readKoly(r, size, name)
	if err != nil {
		return nil, err
	}
	d := &dmg{name: name, koly: k, size: size}
	d.plistEnd = int64(binary.BigEndian.Uint64(k[216:]) + binary.BigEndian.Uint64(k[224:]))
	off, n := int64(binary.BigEndian.Uint64(k[296:])), int64(binary.BigEndian.Uint64(k[304:]))
	if n == 0 {
		return nil, fmt.Errorf("staple: %s has no code signature: sign the disk image (codesign) before notarizing it, or it cannot be stapled", name)
	}
	if off < 0 || n < 12 || n > maxSignature || off > size-kolySize-n {
		return nil, fmt.Errorf("staple: %s: the koly trailer places the code signature outside the file", name)
	}
	if off+n != size-kolySize {
		// Stapling rewrites the signature in place and moves the trailer
		// after it: whatever lay between them would be lost.
		return nil, fmt.Errorf("staple: %s: its code signature does not end where the koly trailer starts; this layout cannot be stapled safely", name)
	}
	sig := make([]byte, n)
	if _, err := r.ReadAt(sig, off); err != nil {
		return nil, err
	}
	d.sigOffset = off
	if binary.BigEndian.Uint32(sig) != magicSuperBlob {
		return nil, fmt.Errorf("staple: %s: its code signature is not a superblob", name)
	}
	count := binary.BigEndian.Uint32(sig[8:])
	if uint64(count)*8+12 > uint64(n) {
		return nil, fmt.Errorf("staple: %s: its code signature's index is longer than the signature", name)
	}
	for i := range count {
		slot := binary.BigEndian.Uint32(sig[12+8*i:])
		bo := int64(binary.BigEndian.Uint32(sig[16+8*i:]))
		if bo+8 > n {
			return nil, fmt.Errorf("staple: %s: a blob lies outside the code signature", name)
		}
		bl := int64(binary.BigEndian.Uint32(sig[bo+4:]))
		if bl < 8 || bo+bl > n {
			return nil, fmt.Errorf("staple: %s: a blob lies outside the code signature", name)
		}
		d.blobs = append(d.blobs, blob{slot, sig[bo : bo+bl]})
	}
	return d, nil
}

func (d *dmg) recordName() (string, error) {
	for _, b := range d.blobs {
		if b.slot != slotCodeDirectory {
			continue
		}
		if binary.BigEndian.Uint32(b.data) != magicCodeDir || len(b.data) < 38 {
			return "", fmt.Errorf("staple: %s: slot 0 of its code signature is not a code directory", d.name)
		}
		h, t := hashFor(b.data[37])
		if h == nil {
			return "", fmt.Errorf("staple: %s: its code directory's hash type %d is not SHA-1 or SHA-256", d.name, b.data[37])
		}
		return record(t, h(b.data)), nil
	}
	return "", fmt.Errorf("staple: %s: its code signature has no code directory", d.name)
}

// DMG adds ticket to the signed disk image at path: the superblob is
// rewritten with the ticket in slot 0x10002 (replacing one there), the
// koly trailer follows with the new signature size, and the file is cut
// after it. Everything before the signature is left as it was.
func DMG(path string, ticket []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	d, err := readDMG(f, st.Size(), path)
	if err != nil {
		return err
	}
	w := make([]byte, 8, 8+len(ticket))
	binary.BigEndian.PutUint32(w, magicBlobWrapper)
	binary.BigEndian.PutUint32(w[4:], uint32(8+len(ticket)))
	w = append(w, ticket...)
	var blobs []blob
	for _, b := range d.blobs {
		if b.slot != slotTicket {
			blobs = append(blobs, b)
		}
	}
	blobs = append(blobs, blob{slotTicket, w})
	sort.SliceStable(blobs, func(i, j int) bool { return blobs[i].slot < blobs[j].slot })
	head := 12 + 8*len(blobs)
	total := head
	for _, b := range blobs {
		total += len(b.data)
	}
	sb := make([]byte, head, total)
	binary.BigEndian.PutUint32(sb, magicSuperBlob)
	binary.BigEndian.PutUint32(sb[4:], uint32(total))
	binary.BigEndian.PutUint32(sb[8:], uint32(len(blobs)))
	for i, b := range blobs {
		binary.BigEndian.PutUint32(sb[12+8*i:], b.slot)
		binary.BigEndian.PutUint32(sb[16+8*i:], uint32(len(sb)))
		sb = append(sb, b.data...)
	}
	k := append([]byte(nil), d.koly...)
	binary.BigEndian.PutUint64(k[304:], uint64(len(sb)))
	if _, err := f.WriteAt(append(sb, k...), d.sigOffset); err != nil {
		return err
	}
	if err := f.Truncate(d.sigOffset + int64(len(sb)) + kolySize); err != nil {
		return err
	}
	return f.Close()
}
