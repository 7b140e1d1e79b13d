// Package bundle reads what an upload needs from an .ipa or .pkg: bundle ID,
// marketing version, build number and platform, without unpacking it.
//
// An .ipa is a zip archive holding Payload/<Name>.app; Inspect reads the
// central directory and inflates that app's Info.plist (binary or XML) and
// nothing else. A .pkg is a xar archive built by productbuild; Inspect reads
// its table of contents and the Distribution file (or a component's
// PackageInfo) from the heap. Every size read from the archive is checked
// against a cap before anything is allocated, and again on the stream, so a
// hostile or damaged file cannot make Inspect read or hold more than a few
// MiB however large it claims its parts are.
//
// Refusals are *Error values with a Kind to branch on, a one-line Problem
// and a Hint.
package bundle

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Info is what Inspect found.
type Info struct {
	// Kind is "ipa" or "pkg", decided from the content.
	Kind string
	// BundleID is CFBundleIdentifier. It is never empty when Inspect succeeds.
	BundleID string
	// ShortVersion is CFBundleShortVersionString, the marketing version.
	ShortVersion string
	// BuildVersion is CFBundleVersion, the build number.
	BuildVersion string
	// Platform is IOS, MAC_OS, TV_OS or VISION_OS, as App Store Connect
	// names platforms.
	Platform string
	// UTI is the uniform type identifier App Store Connect expects for the
	// file: com.apple.ipa or com.apple.pkg.
	UTI string
	// MinOSVersion is the lowest OS version the app runs on, if the archive
	// says: MinimumOSVersion for an .ipa, the Distribution's
	// <os-version min> for a .pkg.
	MinOSVersion string
	// Missing names what a .pkg did not offer ("CFBundleShortVersionString",
	// "CFBundleVersion"), so that the caller can ask for those inputs. The
	// matching fields are empty. An .ipa lacking them is refused instead.
	Missing []string
}

// The kinds, platforms and UTIs Info reports.
const (
	KindIPA = "ipa"
	KindPKG = "pkg"

	PlatformIOS      = "IOS"
	PlatformMacOS    = "MAC_OS"
	PlatformTVOS     = "TV_OS"
	PlatformVisionOS = "VISION_OS"

	UTIIPA = "com.apple.ipa"
	UTIPKG = "com.apple.pkg"
)

// Magic numbers at the start of the archives, and of things people upload
// by mistake.
var (
	magicZip      = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06") // an empty zip: only the end record
	magicXar      = []byte("xar!")
	magicGzip     = []byte{0x1f, 0x8b}
	magicDMG      = []byte("koly") // the trailer of a UDIF disk image, 512 bytes from the end
)

// InspectFile opens the file at path and inspects it.
func InspectFile(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("bundle: %w", err)
	}
	if st.IsDir() {
		return Info{}, &Error{Kind: KindNotArchive, File: filepath.Base(path),
			problem: "is a folder, not an .ipa or .pkg file",
			hint:    "an .app or .xcarchive folder cannot be uploaded; " + hintExportIPA + ", or build a .pkg for a macOS app"}
	}
	return Inspect(f, st.Size(), path)
}

// Inspect reads the .ipa or .pkg in r, which is size bytes long. name is
// the file's name or path: its extension must be .ipa for a zip and .pkg for
// a xar archive. Inspect reads only the archive's directory and one small
// metadata file, never the whole archive.
func Inspect(r io.ReaderAt, size int64, name string) (Info, error) {
	base := filepath.Base(name)
	if name == "" {
		base = ""
	}
	ext := strings.ToLower(filepath.Ext(base))
	if size <= 0 {
		return Info{}, &Error{Kind: KindNotArchive, File: base, problem: "the file is empty",
			hint: "check the path, and that the step that builds the file ran and succeeded"}
	}

	var buf [4]byte
	head := buf[:min(size, int64(len(buf)))]
	n, err := r.ReadAt(head, 0)
	if n < len(head) && err != nil && err != io.EOF {
		return Info{}, &Error{Kind: KindDamaged, File: base, problem: "the file cannot be read: " + err.Error(),
			hint: "check that the file exists and is readable by the action's user", Err: err}
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, magicZip), bytes.HasPrefix(head, magicZipEmpty):
		if ext != ".ipa" {
			return Info{}, extensionError(base, ext, KindIPA)
		}
		return inspectIPA(r, size, base)
	case bytes.HasPrefix(head, magicXar):
		if ext != ".pkg" {
			return Info{}, extensionError(base, ext, KindPKG)
		}
		return inspectPKG(r, size, base)
	}
	return Info{}, notArchiveError(r, size, base, ext, head)
}

// extensionError reports a name that disagrees with the content.
func extensionError(base, ext, kind string) error {
	e := &Error{Kind: KindExtension, File: base}
	switch {
	case kind == KindIPA && ext == ".pkg":
		e.problem = "the file is a zip archive, as an .ipa is, but its name ends in .pkg (a .pkg is a xar archive)"
		e.hint = "if it is an .ipa, rename it to end in .ipa; a macOS app is uploaded as a .pkg built with productbuild"
	case kind == KindPKG && ext == ".ipa":
		e.problem = "the file is a xar archive, as a .pkg is, but its name ends in .ipa (an .ipa is a zip archive)"
		e.hint = "if it is an installer package, rename it to end in .pkg"
	case kind == KindIPA:
		e.problem = "the file is a zip archive but its name does not end in .ipa"
		e.hint = "App Store Connect takes an .ipa exported by Xcode; if this is one, rename it to end in .ipa, otherwise " + hintExportIPA
	default:
		e.problem = "the file is a xar archive but its name does not end in .pkg"
		e.hint = "App Store Connect takes a .pkg built by productbuild; if this is one, rename it to end in .pkg"
	}
	return e
}

// notArchiveError names what the file is, where that is cheap to tell.
func notArchiveError(r io.ReaderAt, size int64, base, ext string, head []byte) error {
	e := &Error{Kind: KindNotArchive, File: base}
	want := "is neither a zip archive (.ipa) nor a xar archive (.pkg)"
	switch ext {
	case ".ipa":
		want = "is not a zip archive, as an .ipa must be"
	case ".pkg":
		want = "is not a xar archive, as a .pkg must be"
	}
	e.problem = "the file " + want
	e.hint = "pass the .ipa that Xcode exports, or for a macOS app the .pkg that productbuild writes"
	switch {
	case bytes.HasPrefix(head, magicGzip):
		e.problem += "; it is gzip-compressed"
		e.hint = "pass the .ipa or .pkg itself, not a compressed copy of it"
	case size >= 512:
		var trailer [4]byte
		if _, err := r.ReadAt(trailer[:], size-512); err == nil && bytes.Equal(trailer[:], magicDMG) {
			e.problem += "; it is a disk image (.dmg)"
			e.hint = "App Store Connect does not take disk images; " + hintProductbuild
		}
	}
	return e
}
