package bundle

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is the reason Inspect refused a file. Problem is one lower-case
// line; Hint, kept apart so that callers can print it on a line of its own,
// says what the user can do about it. The texts hold the file's base name,
// entry names from the archive (quoted and shortened) and property-list key
// names, never file contents.
type Error struct {
	// Kind is what sort of problem it is, for callers that branch on it.
	Kind Kind
	// File is the base name of the file inspected.
	File string
	// Err is the underlying error, if any (an I/O error, zip.ErrFormat).
	Err error

	problem, hint string
}

// Problem says what is wrong, in one lower-case line with neither the
// package prefix nor the file name, such as an input annotation naming the
// file can show as it is.
func (e *Error) Problem() string { return e.problem }

// Hint says what the user can do about it, in one line.
func (e *Error) Hint() string { return e.hint }

// Error returns "bundle: ", the file name and the problem.
func (e *Error) Error() string {
	if e.File == "" {
		return "bundle: " + e.problem
	}
	return "bundle: " + e.File + ": " + e.problem
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same Kind, so that
// errors.Is(err, &bundle.Error{Kind: bundle.KindMissing}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

// Kind classifies the problems Inspect reports.
type Kind int

// The kinds of problem Inspect reports.
const (
	KindNotArchive  Kind = iota + 1 // neither a zip (.ipa) nor a xar (.pkg), or a directory
	KindExtension                   // the name's extension disagrees with the content
	KindDamaged                     // a truncated or corrupt archive: unreadable directory, bad checksum, short heap
	KindUnsafe                      // entry names that would escape the extraction folder
	KindLayout                      // no app, several apps, no Info.plist, no Distribution or PackageInfo
	KindPlist                       // a malformed Info.plist, Distribution or PackageInfo
	KindMissing                     // required keys are absent from an .ipa, or a .pkg names no bundle ID
	KindTooLarge                    // a metadata file or table of contents over its cap
	KindPlatform                    // a simulator build, a watchOS-only app or an unknown platform
	KindUnsupported                 // a compression method or checksum this package cannot read
)

// String names the kind, for logs and tests.
func (k Kind) String() string {
	switch k {
	case KindNotArchive:
		return "not an archive"
	case KindExtension:
		return "wrong extension"
	case KindDamaged:
		return "damaged archive"
	case KindUnsafe:
		return "unsafe entry name"
	case KindLayout:
		return "wrong layout"
	case KindPlist:
		return "malformed metadata"
	case KindMissing:
		return "missing keys"
	case KindTooLarge:
		return "too large"
	case KindPlatform:
		return "wrong platform"
	case KindUnsupported:
		return "unsupported encoding"
	}
	return "unknown kind"
}

// Hints shared by several errors.
const (
	hintExportIPA = "export the app with Xcode's Organizer or `xcodebuild -exportArchive`, " +
		"which writes an .ipa with Payload/<Name>.app at its root"
	hintProductbuild = "build the .pkg with `productbuild --component <Name>.app /Applications out.pkg` " +
		"(sign it with --sign), which records the app's bundle ID and versions"
	hintRebuildIPA = "the file is damaged or was cut short in transfer; export the .ipa again"
	hintRebuildPKG = "the file is damaged or was cut short in transfer; build the .pkg again"
	hintVersions   = "set PRODUCT_BUNDLE_IDENTIFIER, MARKETING_VERSION and CURRENT_PROJECT_VERSION " +
		"in the target's build settings and archive again"
)

// maxQuoted is the most runes of an archive entry name an error repeats.
const maxQuoted = 80

// quote returns name in double quotes with Go escapes, shortened to
// maxQuoted runes, so that a hostile name cannot break the one-line error
// or flood a log.
func quote(name string) string {
	if utf8.RuneCountInString(name) > maxQuoted {
		r := []rune(name)
		return strconv.Quote(string(r[:maxQuoted])) + "..."
	}
	return strconv.Quote(name)
}

// quoteList quotes up to three names, joined with commas, and says how many
// more there are.
func quoteList(names []string) string {
	const show = 3
	var b strings.Builder
	for i, n := range names {
		if i == show {
			b.WriteString(" and " + strconv.Itoa(len(names)-show) + " more")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(n))
	}
	return b.String()
}
