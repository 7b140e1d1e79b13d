package bundle_test

import (
	"encoding/binary"
	"testing"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

// bplist builds binary property lists object by object, with 2-byte
// references and 4-byte offsets, so that tests can make shapes no encoder
// would: cycles, shared containers, deep nesting, bad references.
type bplist struct{ objs [][]byte }

func (b *bplist) add(o []byte) int { b.objs = append(b.objs, o); return len(b.objs) - 1 }

func (b *bplist) str(s string) int {
	if len(s) < 15 {
		return b.add(append([]byte{0x50 | byte(len(s))}, s...))
	}
	return b.add(append([]byte{0x5F, 0x10, byte(len(s))}, s...)) // length as a 1-byte integer
}

// container writes marker (0xA0 array, 0xD0 dictionary) with a count of
// entries and the references.
func container(marker byte, count int, refs ...int) []byte {
	var o []byte
	if count < 15 {
		o = []byte{marker | byte(count)}
	} else {
		o = []byte{marker | 0x0F, 0x11, byte(count >> 8), byte(count)}
	}
	for _, r := range refs {
		o = binary.BigEndian.AppendUint16(o, uint16(r))
	}
	return o
}

func (b *bplist) array(refs ...int) int { return b.add(container(0xA0, len(refs), refs...)) }

func (b *bplist) dict(kv ...int) int {
	var keys, vals []int
	for i := 0; i < len(kv); i += 2 {
		keys, vals = append(keys, kv[i]), append(vals, kv[i+1])
	}
	return b.add(container(0xD0, len(keys), append(keys, vals...)...))
}

// app adds the three keys an Info.plist needs, and pairs to add to the
// top dictionary.
func (b *bplist) app() []int {
	return []int{
		b.str("CFBundleIdentifier"), b.str("com.example.hand"),
		b.str("CFBundleShortVersionString"), b.str("1.0"),
		b.str("CFBundleVersion"), b.str("7"),
	}
}

func (b *bplist) bytes(top int) []byte {
	out := []byte("bplist00")
	var offsets []uint32
	for _, o := range b.objs {
		offsets = append(offsets, uint32(len(out)))
		out = append(out, o...)
	}
	table := len(out)
	for _, off := range offsets {
		out = binary.BigEndian.AppendUint32(out, off)
	}
	out = append(out, 0, 0, 0, 0, 0, 0, 4, 2)
	out = binary.BigEndian.AppendUint64(out, uint64(len(b.objs)))
	out = binary.BigEndian.AppendUint64(out, uint64(top))
	return binary.BigEndian.AppendUint64(out, uint64(table))
}

func TestBinaryPlistShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func(b *bplist) []byte
		words string // "" for success
	}{
		{"hand-made", func(b *bplist) []byte { return b.bytes(b.dict(b.app()...)) }, ""},
		{"shared strings", func(b *bplist) []byte {
			s := b.str("iPhoneOS")
			kv := append(b.app(), b.str("CFBundleSupportedPlatforms"), b.array(s, s, s))
			return b.bytes(b.dict(kv...))
		}, ""},
		{"nested 60 levels", func(b *bplist) []byte {
			inner := b.array()
			for range 60 {
				inner = b.array(inner)
			}
			return b.bytes(b.dict(append(b.app(), b.str("A"), inner)...))
		}, ""},
		{"nested 100 levels", func(b *bplist) []byte {
			inner := b.array()
			for range 100 {
				inner = b.array(inner)
			}
			return b.bytes(b.dict(append(b.app(), b.str("A"), inner)...))
		}, "deeper than 64 levels"},
		{"deep through a shared container", func(b *bplist) []byte {
			// A 40-deep chain reached first at depth 2 and then at depth 30.
			chain := b.array()
			for range 40 {
				chain = b.array(chain)
			}
			deep := chain
			for range 28 {
				deep = b.array(deep)
			}
			return b.bytes(b.dict(append(b.app(), b.str("A"), chain, b.str("B"), deep)...))
		}, "deeper than 64 levels"},
		{"shared-container bomb", func(b *bplist) []byte {
			// 2^40 values once expanded, in 40 objects.
			inner := b.array()
			for range 40 {
				inner = b.array(inner, inner)
			}
			return b.bytes(b.dict(append(b.app(), b.str("CFBundleSupportedPlatforms"), inner)...))
		}, "expands to more than"},
		{"cycle", func(b *bplist) []byte {
			self := b.add(container(0xA0, 1, 0)) // patched below
			b.objs[self] = container(0xA0, 1, self)
			return b.bytes(b.dict(append(b.app(), b.str("A"), self)...))
		}, "contains itself"},
		{"reference out of range", func(b *bplist) []byte {
			return b.bytes(b.dict(append(b.app(), b.str("A"), 999)...))
		}, "damaged"},
		{"count past the offset table", func(b *bplist) []byte {
			big := b.add([]byte{0xAF, 0x13, 0x40, 0, 0, 0, 0, 0, 0, 0}) // 2^62 entries
			return b.bytes(b.dict(append(b.app(), b.str("A"), big)...))
		}, "damaged"},
		{"top is an array", func(b *bplist) []byte { return b.bytes(b.array(b.str("x"))) }, "not a dictionary"},
		{"too many objects", func(b *bplist) []byte {
			kv := b.app()
			for range 1<<17 + 1 {
				b.add([]byte{0x10, 1})
			}
			return b.bytes(b.dict(kv...))
		}, "more than 131072 objects"},
		{"zero reference size", func(b *bplist) []byte {
			p := b.bytes(b.dict(b.app()...))
			p[len(p)-25] = 0
			return p
		}, "damaged"},
		{"format bplist01", func(b *bplist) []byte {
			p := b.bytes(b.dict(b.app()...))
			p[7] = '1'
			return p
		}, "not in format bplist00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tt.build(new(bplist))
			info, err := inspect(mustIPA(t, bundletest.IPAOptions{InfoPlist: p}), "Demo.ipa")
			if tt.words == "" {
				if err != nil {
					t.Fatal(err)
				}
				if info.BundleID != "com.example.hand" || info.BuildVersion != "7" {
					t.Errorf("got %+v", info)
				}
				return
			}
			checkError(t, err, bundle.KindPlist, "not a valid property list", tt.words)
		})
	}
}

// TestXMLPlistVariants covers XML forms other encoders write.
func TestXMLPlistVariants(t *testing.T) {
	t.Parallel()
	body := `<dict><key>CFBundleIdentifier</key><string>com.example.x&amp;y</string>` +
		`<key>CFBundleShortVersionString</key><string>1.0</string><key>CFBundleVersion</key><string>3</string></dict>`
	for name, doc := range map[string]string{
		"with DOCTYPE":   `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n" + `<plist version="1.0">` + body + `</plist>`,
		"with BOM":       "\xef\xbb\xbf<plist version=\"1.0\">" + body + "</plist>",
		"no declaration": "\n  <plist version=\"1.0\">" + body + "</plist>\n",
	} {
		info, err := inspect(mustIPA(t, bundletest.IPAOptions{InfoPlist: []byte(doc)}), "Demo.ipa")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if info.BundleID != "com.example.x&y" {
			t.Errorf("%s: BundleID %q", name, info.BundleID)
		}
	}
}
