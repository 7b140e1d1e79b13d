package bundle

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"howett.net/plist"
)

// Limits on a property list's shape, checked before howett.net/plist builds
// it: that parser recurses once per nesting level, and a binary plist may
// reference one container from many places, which unmarshalling into
// interface values would copy out every time. A real Info.plist nests fewer
// than ten levels and has a few thousand values.
const (
	maxPlistDepth   = 64
	maxPlistNodes   = 1 << 17 // values, counting a shared one once per reference
	maxPlistObjects = 1 << 17 // entries in a binary plist's offset table
)

// infoPlist holds the keys Inspect reads from an Info.plist. The values are
// interfaces so that a key of the wrong type is reported by name rather than
// failing the whole decode.
type infoPlist struct {
	BundleID           any `plist:"CFBundleIdentifier"`
	ShortVersion       any `plist:"CFBundleShortVersionString"`
	BuildVersion       any `plist:"CFBundleVersion"`
	MinimumOSVersion   any `plist:"MinimumOSVersion"`
	SupportedPlatforms any `plist:"CFBundleSupportedPlatforms"`
	DTPlatformName     any `plist:"DTPlatformName"`
	UIDeviceFamily     any `plist:"UIDeviceFamily"`
}

// parseError says why a property list or installer XML file cannot be
// read, in words that hold no input.
type parseError string

func (e parseError) Error() string { return string(e) }

// decodePlist checks the shape of a binary or XML property list and decodes
// the keys Inspect needs. It refuses OpenStep text plists, which no build
// tool puts in an app.
func decodePlist(data []byte) (p infoPlist, err error) {
	var format string
	switch {
	case bytes.HasPrefix(data, []byte("bplist")):
		format = "binary"
		if err := checkBinaryPlist(data); err != nil {
			return p, err
		}
	case looksLikeXML(data):
		format = "XML"
		if err := checkXMLPlist(data); err != nil {
			return p, err
		}
	default:
		return p, parseError("it is neither a binary (bplist00) nor an XML property list")
	}

	// howett.net/plist recovers its own panics but re-raises runtime
	// errors; the checks above should leave none, and this keeps a parser
	// bug from taking the process down with it.
	defer func() {
		if r := recover(); r != nil {
			err = parseError("the " + format + " property list cannot be parsed")
		}
	}()
	if _, err := plist.Unmarshal(data, &p); err != nil {
		return p, parseError("the " + format + " property list cannot be parsed")
	}
	return p, nil
}

// looksLikeXML reports whether data starts, after an optional byte-order
// mark and white space, with '<'.
func looksLikeXML(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '<'
}

// checkXMLPlist tokenises the document, without building it, to bound its
// nesting and element count. XML has no references, so the element count
// bounds what decoding builds.
func checkXMLPlist(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, nodes := 0, 0
	top := "" // the first element other than <plist>
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if depth != 0 {
				return parseError("the XML property list ends inside an element")
			}
			if top == "" {
				return errNotDict
			}
			return nil
		}
		if err != nil {
			return parseError("it is not well-formed XML")
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if top == "" && tok.Name.Local != "plist" {
				top = tok.Name.Local
				if top != "dict" {
					return errNotDict
				}
			}
			depth++
			nodes++
			if depth > maxPlistDepth {
				return parseError(fmt.Sprintf("it nests deeper than %d levels", maxPlistDepth))
			}
			if nodes > maxPlistNodes {
				return parseError(fmt.Sprintf("it has more than %d elements", maxPlistNodes))
			}
		case xml.EndElement:
			depth--
			if depth < 0 {
				return parseError("it is not well-formed XML")
			}
		}
	}
}

// bplist is a binary property list (format bplist00) being checked: the
// 32-byte trailer at its end describes an offset table, which gives the
// position of each object; containers hold object numbers ("refs").
type bplist struct {
	data       []byte
	offsetSize uint64 // bytes per offset-table entry
	refSize    uint64 // bytes per object reference
	numObjects uint64
	topObject  uint64
	tableStart uint64 // the offset table's position; objects lie before it
}

var (
	errBplistDamaged = parseError("the binary property list is damaged")
	errNotDict       = parseError("its top-level value is not a dictionary")
)

// checkBinaryPlist walks the object graph of a binary plist from its top
// object without building it, and refuses out-of-range references, cycles,
// nesting deeper than maxPlistDepth and graphs whose values, counted once
// per reference, exceed maxPlistNodes.
func checkBinaryPlist(data []byte) error {
	const header, trailer = 8, 32
	if len(data) < header+trailer+1 {
		return errBplistDamaged
	}
	if string(data[:8]) != "bplist00" {
		return parseError("the binary property list is not in format bplist00")
	}
	t := data[len(data)-trailer:]
	p := &bplist{
		data:       data,
		offsetSize: uint64(t[6]),
		refSize:    uint64(t[7]),
		numObjects: binary.BigEndian.Uint64(t[8:]),
		topObject:  binary.BigEndian.Uint64(t[16:]),
		tableStart: binary.BigEndian.Uint64(t[24:]),
	}
	end := uint64(len(data) - trailer)
	switch {
	case p.offsetSize < 1 || p.offsetSize > 8, p.refSize < 1 || p.refSize > 8:
		return errBplistDamaged
	case p.tableStart < header || p.tableStart >= end:
		return errBplistDamaged
	case p.numObjects == 0 || p.numObjects > (end-p.tableStart)/p.offsetSize:
		return errBplistDamaged
	case p.topObject >= p.numObjects:
		return errBplistDamaged
	case p.numObjects > maxPlistObjects:
		return parseError(fmt.Sprintf("the binary property list has more than %d objects", maxPlistObjects))
	}
	off, ok := p.object(p.topObject)
	if !ok {
		return errBplistDamaged
	}
	if p.data[off]>>4 != 0xD {
		return errNotDict
	}
	return p.walk()
}

// uint reads a big-endian unsigned integer of n bytes at off, which must lie
// before limit.
func (p *bplist) uint(off, n, limit uint64) (uint64, bool) {
	if off > limit || n > limit-off {
		return 0, false
	}
	var v uint64
	for _, b := range p.data[off : off+n] {
		v = v<<8 | uint64(b)
	}
	return v, true
}

// object returns the position of object i.
func (p *bplist) object(i uint64) (uint64, bool) {
	off, ok := p.uint(p.tableStart+i*p.offsetSize, p.offsetSize, uint64(len(p.data)))
	if !ok || off < 8 || off >= p.tableStart {
		return 0, false
	}
	return off, true
}

// refs returns where the references of the container at off start and how
// many there are, or n == 0 for an object that is not a container.
func (p *bplist) refs(off uint64) (start, n uint64, ok bool) {
	marker := p.data[off]
	var perEntry uint64
	switch marker >> 4 {
	case 0xA, 0xB, 0xC: // array, ordered set, set
		perEntry = 1
	case 0xD: // dictionary: all keys, then all values
		perEntry = 2
	default:
		return 0, 0, true
	}
	count, start := uint64(marker&0x0F), off+1
	if count == 0x0F {
		// The count follows as an integer object: marker 0x1k, 2^k bytes.
		if start >= p.tableStart || p.data[start]>>4 != 0x1 || p.data[start]&0x0F > 3 {
			return 0, 0, false
		}
		size := uint64(1) << (p.data[start] & 0x0F)
		if count, ok = p.uint(start+1, size, p.tableStart); !ok {
			return 0, 0, false
		}
		start += 1 + size
	}
	if start > p.tableStart || count > (p.tableStart-start)/p.refSize/perEntry {
		return 0, 0, false
	}
	return start, count * perEntry, true
}

// walk does a depth-first walk from the top object, remembering for each
// container its height and how many values it expands to.
func (p *bplist) walk() error {
	const (
		unseen = iota
		open
		done
	)
	state := make([]uint8, p.numObjects)
	height := make([]uint8, p.numObjects)
	nodes := make([]uint32, p.numObjects)

	type frame struct {
		obj, start, n, next uint64
		height              int
		nodes               uint64
	}
	var stack []frame

	// enter returns false when obj is a leaf, which it marks done.
	enter := func(obj uint64) (bool, error) {
		off, ok := p.object(obj)
		if !ok {
			return false, errBplistDamaged
		}
		start, n, ok := p.refs(off)
		if !ok {
			return false, errBplistDamaged
		}
		if n == 0 {
			state[obj], height[obj], nodes[obj] = done, 0, 1
			return false, nil
		}
		if len(stack) >= maxPlistDepth {
			return false, parseError(fmt.Sprintf("it nests deeper than %d levels", maxPlistDepth))
		}
		state[obj] = open
		stack = append(stack, frame{obj: obj, start: start, n: n})
		return true, nil
	}

	if _, err := enter(p.topObject); err != nil {
		return err
	}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next == f.n {
			obj := f.obj
			state[obj], height[obj] = done, uint8(f.height)
			nodes[obj] = uint32(min(f.nodes+1, maxPlistNodes+1))
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				if err := absorb(&stack[len(stack)-1].height, &stack[len(stack)-1].nodes, height[obj], nodes[obj], len(stack)); err != nil {
					return err
				}
			} else if nodes[obj] > maxPlistNodes {
				return parseError(fmt.Sprintf("it expands to more than %d values", maxPlistNodes))
			}
			continue
		}
		child, ok := p.uint(f.start+f.next*p.refSize, p.refSize, p.tableStart)
		f.next++
		if !ok || child >= p.numObjects {
			return errBplistDamaged
		}
		switch state[child] {
		case open:
			return parseError("the binary property list contains itself")
		case unseen:
			pushed, err := enter(child)
			if err != nil {
				return err
			}
			if pushed {
				continue
			}
		}
		f = &stack[len(stack)-1]
		if err := absorb(&f.height, &f.nodes, height[child], nodes[child], len(stack)); err != nil {
			return err
		}
	}
	return nil
}

// absorb adds a finished child to its parent's height and value count.
// depth is the parent's depth, counting the top object as 1.
func absorb(parentHeight *int, parentNodes *uint64, h uint8, n uint32, depth int) error {
	if int(h)+1 > *parentHeight {
		*parentHeight = int(h) + 1
	}
	if depth+int(h) > maxPlistDepth {
		return parseError(fmt.Sprintf("it nests deeper than %d levels", maxPlistDepth))
	}
	*parentNodes += uint64(n)
	if *parentNodes > maxPlistNodes {
		return parseError(fmt.Sprintf("it expands to more than %d values", maxPlistNodes))
	}
	return nil
}

// stringValue returns v as a string, or says what type it has instead.
func stringValue(v any) (string, string) {
	switch v := v.(type) {
	case nil:
		return "", ""
	case string:
		return v, ""
	}
	return "", plistTypeName(v)
}

// plistTypeName names the property-list type of a decoded value.
func plistTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case uint64, int64, int, uint:
		return "an integer"
	case float32, float64:
		return "a real number"
	case []byte:
		return "data"
	case time.Time:
		return "a date"
	case []any:
		return "an array"
	case map[string]any:
		return "a dictionary"
	}
	return "a value of another type"
}
