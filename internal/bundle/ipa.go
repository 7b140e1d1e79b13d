package bundle

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxInfoPlist is the largest Info.plist Inspect reads, uncompressed. A real
// one is a few KiB; the cap stops a damaged or hostile archive from making
// Inspect inflate gigabytes. It is checked against the zip header before
// the entry is opened and again on the inflated stream.
const maxInfoPlist = 4 << 20

// inspectIPA reads the app's Info.plist from the zip in r.
func inspectIPA(r io.ReaderAt, size int64, base string) (Info, error) {
	zr, err := zip.NewReader(r, size)
	if errors.Is(err, zip.ErrInsecurePath) {
		// Only with GODEBUG=zipinsecurepath=0; the names are checked below.
		err = nil
	}
	if err != nil || zr == nil {
		return Info{}, &Error{Kind: KindDamaged, File: base,
			problem: "the .ipa's zip directory cannot be read: the file is truncated or damaged",
			hint:    hintRebuildIPA, Err: err}
	}

	var unsafe []string
	for _, f := range zr.File {
		if !safeName(f.Name) {
			unsafe = append(unsafe, f.Name)
		}
	}
	if len(unsafe) > 0 {
		return Info{}, &Error{Kind: KindUnsafe, File: base,
			problem: fmt.Sprintf("the .ipa has %d %s whose names would escape the folder it is unpacked into: %s",
				len(unsafe), plural(len(unsafe), "entry", "entries"), quoteList(unsafe)),
			hint: "refusing it; " + hintExportIPA}
	}

	app, plists, err := findApp(zr, base)
	if err != nil {
		return Info{}, err
	}
	plistName := "Payload/" + app + "/Info.plist"
	switch len(plists) {
	case 0:
		return Info{}, noInfoPlist(zr, base, app)
	case 1:
	default:
		return Info{}, &Error{Kind: KindLayout, File: base,
			problem: fmt.Sprintf("the .ipa has %d entries named %s", len(plists), quote(plistName)),
			hint:    "the archive is ambiguous; " + hintExportIPA}
	}
	data, err := readInfoPlist(plists[0], base)
	if err != nil {
		return Info{}, err
	}
	p, err := decodePlist(data)
	if err != nil {
		return Info{}, &Error{Kind: KindPlist, File: base,
			problem: quote(plistName) + " is not a valid property list: " + err.Error(),
			hint:    hintRebuildIPA, Err: err}
	}
	return ipaInfo(p, base, plistName)
}

// safeName reports whether a zip entry name stays inside the folder it is
// unpacked into on any system: relative, no ".." component with either
// separator, no drive letter, no NUL.
func safeName(name string) bool {
	if name == "" || strings.ContainsRune(name, 0) || name[0] == '/' || name[0] == '\\' {
		return false
	}
	if len(name) >= 2 && name[1] == ':' {
		return false
	}
	for seg := range strings.FieldsFuncSeq(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return false
		}
	}
	return true
}

// findApp returns the one folder Payload/<Name>.app in the zip and its
// Info.plist entries. Bundles nested inside the app (frameworks, plug-ins,
// a watch app) have their own Info.plist, which is not the app's.
func findApp(zr *zip.Reader, base string) (string, []*zip.File, error) {
	var apps []string
	plists := map[string][]*zip.File{}
	payload := false
	for _, f := range zr.File {
		rest, ok := strings.CutPrefix(f.Name, "Payload/")
		if !ok {
			continue
		}
		payload = payload || rest != ""
		app, inner, ok := strings.Cut(rest, "/")
		if !ok || len(app) <= len(".app") || !strings.HasSuffix(app, ".app") || strings.HasPrefix(app, "._") {
			continue
		}
		if _, seen := plists[app]; !seen {
			apps = append(apps, app)
			plists[app] = nil
		}
		if inner == "Info.plist" {
			plists[app] = append(plists[app], f)
		}
	}
	switch {
	case len(apps) == 1:
		return apps[0], plists[apps[0]], nil
	case len(apps) > 1:
		return "", nil, &Error{Kind: KindLayout, File: base,
			problem: fmt.Sprintf("the .ipa holds %d apps under Payload (%s); it must hold exactly one",
				len(apps), quoteList(apps)),
			hint: "app extensions and watch apps belong inside the main app; " + hintExportIPA}
	case payload:
		return "", nil, &Error{Kind: KindLayout, File: base,
			problem: "the .ipa's Payload folder holds no <Name>.app folder",
			hint:    hintExportIPA}
	}
	e := &Error{Kind: KindLayout, File: base,
		problem: "the zip has no Payload/<Name>.app folder, so it is not an .ipa",
		hint:    hintExportIPA}
	for _, f := range zr.File {
		first, _, _ := strings.Cut(f.Name, "/")
		switch {
		case strings.HasSuffix(first, ".xcarchive") || strings.HasPrefix(f.Name, "Products/Applications/"):
			e.problem = "the zip holds an Xcode archive (.xcarchive), not an exported .ipa"
			return "", nil, e
		case strings.HasSuffix(first, ".app") && f.Name != first:
			e.problem = "the zip holds " + quote(first) + " at its root, not under Payload/"
			return "", nil, e
		}
	}
	return "", nil, e
}

// noInfoPlist explains an app folder without Info.plist at its root.
func noInfoPlist(zr *zip.Reader, base, app string) error {
	e := &Error{Kind: KindLayout, File: base,
		problem: quote("Payload/"+app) + " has no Info.plist",
		hint:    hintExportIPA}
	for _, f := range zr.File {
		if f.Name == "Payload/"+app+"/Contents/Info.plist" {
			e.problem = quote("Payload/"+app) + " is a macOS app bundle (Contents/Info.plist), which is uploaded as a .pkg"
			e.hint = hintProductbuild
			break
		}
	}
	return e
}

// readInfoPlist inflates the entry, refusing one over maxInfoPlist.
func readInfoPlist(f *zip.File, base string) ([]byte, error) {
	tooLarge := &Error{Kind: KindTooLarge, File: base,
		problem: fmt.Sprintf("%s is larger than the %d MiB cap", quote(f.Name), maxInfoPlist>>20),
		hint:    "an Info.plist is a few KiB; check what the build writes into it"}
	if f.UncompressedSize64 > maxInfoPlist {
		return nil, tooLarge
	}
	rc, err := f.Open()
	if errors.Is(err, zip.ErrAlgorithm) {
		return nil, &Error{Kind: KindUnsupported, File: base,
			problem: fmt.Sprintf("%s is compressed with zip method %d; only stored and deflated entries can be read",
				quote(f.Name), f.Method),
			hint: hintExportIPA, Err: err}
	}
	if err != nil {
		return nil, &Error{Kind: KindDamaged, File: base,
			problem: quote(f.Name) + " cannot be read: the .ipa is truncated or damaged",
			hint:    hintRebuildIPA, Err: err}
	}
	defer rc.Close()
	// The zip reader also refuses a stream longer than its header says;
	// the limit here does not depend on that.
	data, err := io.ReadAll(io.LimitReader(rc, maxInfoPlist+1))
	if len(data) > maxInfoPlist {
		return nil, tooLarge
	}
	if err != nil {
		return nil, &Error{Kind: KindDamaged, File: base,
			problem: quote(f.Name) + " cannot be inflated: the .ipa is truncated or damaged",
			hint:    hintRebuildIPA, Err: err}
	}
	return data, nil
}

// ipaInfo checks the keys and derives the platform.
func ipaInfo(p infoPlist, base, plistName string) (Info, error) {
	info := Info{Kind: KindIPA, UTI: UTIIPA}
	var missing, wrongType []string
	for _, k := range []struct {
		name string
		v    any
		dst  *string
	}{
		{"CFBundleIdentifier", p.BundleID, &info.BundleID},
		{"CFBundleShortVersionString", p.ShortVersion, &info.ShortVersion},
		{"CFBundleVersion", p.BuildVersion, &info.BuildVersion},
	} {
		s, typ := stringValue(k.v)
		switch {
		case typ != "":
			wrongType = append(wrongType, k.name+" is "+typ+", not a string")
		case strings.TrimSpace(s) == "":
			missing = append(missing, k.name)
		default:
			*k.dst = s
		}
	}
	if len(missing) > 0 || len(wrongType) > 0 {
		var parts []string
		kind := KindPlist
		if len(missing) > 0 {
			kind = KindMissing
			parts = append(parts, "has no "+orList(missing))
		}
		parts = append(parts, wrongType...)
		return Info{}, &Error{Kind: kind, File: base,
			problem: quote(plistName) + " " + strings.Join(parts, "; "),
			hint:    hintVersions}
	}
	info.MinOSVersion, _ = stringValue(p.MinimumOSVersion)

	platform, err := ipaPlatform(p, base, plistName)
	if err != nil {
		return Info{}, err
	}
	info.Platform = platform
	return info, nil
}

// Platform names as Info.plist spells them (CFBundleSupportedPlatforms, and
// DTPlatformName in lower case), compared in lower case.
var plistPlatforms = map[string]string{
	"iphoneos":  PlatformIOS,
	"appletvos": PlatformTVOS,
	"xros":      PlatformVisionOS,
	"macosx":    PlatformMacOS,
}

// UIDeviceFamily values: 1 iPhone, 2 iPad, 3 Apple TV, 4 Apple Watch,
// 6 Mac (Catalyst), 7 Apple Vision Pro.
const (
	familyIPhone = 1
	familyIPad   = 2
	familyTV     = 3
	familyWatch  = 4
	familyVision = 7
)

// ipaPlatform derives the App Store Connect platform from, in order,
// CFBundleSupportedPlatforms, DTPlatformName and UIDeviceFamily. An .ipa
// that names none is an iOS app, as .ipa files were before other platforms.
func ipaPlatform(p infoPlist, base, plistName string) (string, error) {
	wrong := func(key, value, problem, hint string) error {
		return &Error{Kind: KindPlatform, File: base,
			problem: fmt.Sprintf("%s %s (its Info.plist's %s is %s)", quote(strings.TrimSuffix(plistName, "/Info.plist")), problem, key, value),
			hint:    hint}
	}
	check := func(key, name string) (string, error) {
		n := strings.ToLower(name)
		switch {
		case plistPlatforms[n] != "":
			return plistPlatforms[n], nil
		case strings.HasSuffix(n, "simulator"):
			return "", wrong(key, quote(name), "is a simulator build",
				"App Store Connect takes device builds; archive with `-destination generic/platform=iOS` (or tvOS, visionOS) and export again")
		case n == "watchos":
			return "", wrong(key, quote(name), "is a watchOS app",
				"a watchOS app is uploaded inside the iOS app that contains it; upload that app's .ipa")
		}
		return "", nil
	}

	if list, ok := p.SupportedPlatforms.([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				if platform, err := check("CFBundleSupportedPlatforms", s); platform != "" || err != nil {
					return platform, err
				}
			}
		}
	}
	if s, ok := p.DTPlatformName.(string); ok {
		if platform, err := check("DTPlatformName", s); platform != "" || err != nil {
			return platform, err
		}
	}
	if list, ok := p.UIDeviceFamily.([]any); ok {
		var families []int64
		for _, v := range list {
			switch n := v.(type) {
			case uint64:
				families = append(families, int64(min(n, 1<<62)))
			case int64:
				families = append(families, n)
			}
		}
		for _, f := range families {
			switch f {
			case familyTV:
				return PlatformTVOS, nil
			case familyVision:
				return PlatformVisionOS, nil
			case familyIPhone, familyIPad:
				return PlatformIOS, nil
			}
		}
		for _, f := range families {
			if f == familyWatch {
				return "", wrong("UIDeviceFamily", strconv.FormatInt(f, 10), "is a watchOS app",
					"a watchOS app is uploaded inside the iOS app that contains it; upload that app's .ipa")
			}
		}
	}
	return PlatformIOS, nil
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
