// Package bundletest writes small, realistic .ipa and .pkg files for tests,
// demos and upload benchmarks. Nothing it writes is a real app: the
// executable, provisioning profile and signatures are stubs, and every
// identifier defaults to com.example.
//
// Output is deterministic: the same options give the same bytes.
package bundletest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"time"

	"howett.net/plist"
)

// Defaults for the options.
const (
	DefaultAppName      = "Demo"
	DefaultBundleID     = "com.example.demo"
	DefaultShortVersion = "1.0.0"
	DefaultBuildVersion = "1"
)

// modTime is the modification time of every entry, so that output is
// reproducible.
var modTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// File is an extra archive entry.
type File struct {
	Name string
	Data []byte
}

// IPAOptions describe an .ipa. The zero value gives a valid iOS app,
// com.example.demo 1.0.0 (1), with a binary Info.plist.
type IPAOptions struct {
	AppName      string // the app folder is Payload/<AppName>.app; default "Demo"
	BundleID     string // CFBundleIdentifier; default DefaultBundleID
	ShortVersion string // CFBundleShortVersionString; default DefaultShortVersion
	BuildVersion string // CFBundleVersion; default DefaultBuildVersion
	// Platform is IOS (the default), TV_OS, VISION_OS or MAC_OS; it sets
	// CFBundleSupportedPlatforms, DTPlatformName, DTSDKName and
	// UIDeviceFamily as Xcode does.
	Platform     string
	MinOSVersion string // MinimumOSVersion; default depends on the platform
	XML          bool   // write Info.plist as XML instead of binary (bplist00), as Xcode does

	// Omit lists Info.plist keys to leave out; Set adds or replaces keys.
	Omit []string
	Set  map[string]any
	// InfoPlist, if not nil, is written as the app's Info.plist instead of
	// a generated one.
	InfoPlist []byte

	// AssetSize, if positive, adds Payload/<AppName>.app/Assets.car holding
	// that many pseudo-random bytes from AssetSeed, stored uncompressed so
	// that the .ipa is about that large. It is streamed: memory use does
	// not depend on the size.
	AssetSize int64
	AssetSeed uint64

	// Extra entries are added after the app, with their names as given
	// (including unsafe ones, for tests).
	Extra []File
}

// platformKeys are the Info.plist keys Xcode writes for each platform.
type platformKeys struct {
	supported, dtName, sdk, minOS string
	families                      []int
}

var platforms = map[string]platformKeys{
	"IOS":       {"iPhoneOS", "iphoneos", "iphoneos18.2", "16.0", []int{1, 2}},
	"TV_OS":     {"AppleTVOS", "appletvos", "appletvos18.2", "17.0", []int{3}},
	"VISION_OS": {"XROS", "xros", "xros2.2", "1.0", []int{7}},
	"MAC_OS":    {"MacOSX", "macosx", "macosx15.2", "12.0", nil},
}

// InfoPlist returns the Info.plist WriteIPA would write for opts.
func InfoPlist(opts IPAOptions) ([]byte, error) {
	d, err := infoDict(opts)
	if err != nil {
		return nil, err
	}
	format := plist.BinaryFormat
	if opts.XML {
		format = plist.XMLFormat
	}
	return plist.Marshal(d, format)
}

func infoDict(opts IPAOptions) (map[string]any, error) {
	name := or(opts.AppName, DefaultAppName)
	p, ok := platforms[or(opts.Platform, "IOS")]
	if !ok {
		return nil, fmt.Errorf("bundletest: unknown platform %q", opts.Platform)
	}
	d := map[string]any{
		"CFBundleDevelopmentRegion":     "en",
		"CFBundleDisplayName":           name,
		"CFBundleExecutable":            name,
		"CFBundleIdentifier":            or(opts.BundleID, DefaultBundleID),
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundleName":                  name,
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    or(opts.ShortVersion, DefaultShortVersion),
		"CFBundleVersion":               or(opts.BuildVersion, DefaultBuildVersion),
		"CFBundleSupportedPlatforms":    []string{p.supported},
		"DTPlatformName":                p.dtName,
		"DTSDKName":                     p.sdk,
		"DTPlatformVersion":             "18.2",
		"DTXcode":                       "1620",
		"DTXcodeBuild":                  "16C5032a",
		"DTCompiler":                    "com.apple.compilers.llvm.clang.1_0",
		"BuildMachineOSBuild":           "24C101",
		"MinimumOSVersion":              or(opts.MinOSVersion, p.minOS),
		"UIRequiredDeviceCapabilities":  []string{"arm64"},
		"UILaunchScreen":                map[string]any{},
		"ITSAppUsesNonExemptEncryption": false,
	}
	if p.families != nil {
		d["UIDeviceFamily"] = p.families
		d["LSRequiresIPhoneOS"] = true
	}
	for _, k := range opts.Omit {
		delete(d, k)
	}
	for k, v := range opts.Set {
		d[k] = v
	}
	return d, nil
}

// machOStub is the 32-byte header of an arm64 Mach-O executable with no
// load commands: enough for file(1), nothing that runs.
var machOStub = []byte{
	0xcf, 0xfa, 0xed, 0xfe, // MH_MAGIC_64
	0x0c, 0x00, 0x00, 0x01, // CPU_TYPE_ARM64
	0x00, 0x00, 0x00, 0x00, // CPU_SUBTYPE_ARM64_ALL
	0x02, 0x00, 0x00, 0x00, // MH_EXECUTE
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
}

// WriteIPA writes an .ipa to w: Payload/<AppName>.app with its Info.plist,
// an executable stub, an embedded.mobileprovision stub, a code-signature
// stub, a framework and an app extension (each with an Info.plist of its
// own, which readers must not mistake for the app's), then the optional
// asset and the extra entries.
func WriteIPA(w io.Writer, opts IPAOptions) error {
	name := or(opts.AppName, DefaultAppName)
	info := opts.InfoPlist
	if info == nil {
		var err error
		if info, err = InfoPlist(opts); err != nil {
			return err
		}
	}
	framework, err := nestedPlist("com.example.x", "X", "FMWK", opts.XML)
	if err != nil {
		return err
	}
	widget, err := nestedPlist(or(opts.BundleID, DefaultBundleID)+".widget", "Widget", "XPC!", opts.XML)
	if err != nil {
		return err
	}

	app := "Payload/" + name + ".app/"
	zw := zip.NewWriter(w)
	entries := []struct {
		name string
		mode fs.FileMode
		data []byte
	}{
		{"Payload/", fs.ModeDir | 0o755, nil},
		{app, fs.ModeDir | 0o755, nil},
		{app + "Info.plist", 0o644, info},
		{app + name, 0o755, machOStub},
		{app + "PkgInfo", 0o644, []byte("APPL????")},
		{app + "embedded.mobileprovision", 0o644, []byte("bundletest stub: not a provisioning profile\n")},
		{app + "_CodeSignature/CodeResources", 0o644, []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict/></plist>\n")},
		{app + "Frameworks/X.framework/Info.plist", 0o644, framework},
		{app + "Frameworks/X.framework/X", 0o755, machOStub},
		{app + "PlugIns/Widget.appex/Info.plist", 0o644, widget},
		{app + "PlugIns/Widget.appex/Widget", 0o755, machOStub},
	}
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: modTime}
		h.SetMode(e.mode)
		if e.mode.IsDir() {
			h.Method = zip.Store
		}
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(e.data); err != nil {
			return err
		}
	}
	if opts.AssetSize > 0 {
		h := &zip.FileHeader{Name: app + "Assets.car", Method: zip.Store, Modified: modTime}
		h.SetMode(0o644)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		var seed [32]byte
		for i := range 8 {
			seed[i] = byte(opts.AssetSeed >> (8 * i))
		}
		if _, err := io.CopyN(fw, rand.NewChaCha8(seed), opts.AssetSize); err != nil {
			return err
		}
	}
	for _, f := range opts.Extra {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: modTime}
		h.SetMode(0o644)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// nestedPlist is the Info.plist of a framework or extension.
func nestedPlist(id, name, kind string, xml bool) ([]byte, error) {
	format := plist.BinaryFormat
	if xml {
		format = plist.XMLFormat
	}
	return plist.Marshal(map[string]any{
		"CFBundleIdentifier":         id,
		"CFBundleExecutable":         name,
		"CFBundlePackageType":        kind,
		"CFBundleShortVersionString": "9.9.9",
		"CFBundleVersion":            "999",
		"CFBundleSupportedPlatforms": []string{"iPhoneOS"},
	}, format)
}

// IPA returns WriteIPA's output as bytes; it is for small files.
func IPA(opts IPAOptions) ([]byte, error) {
	var b bytes.Buffer
	err := WriteIPA(&b, opts)
	return b.Bytes(), err
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkOmit refuses names outside allowed, so that a typo in a test fails.
func checkOmit(omit, allowed []string) error {
	var errs []error
	for _, o := range omit {
		if !slices.Contains(allowed, o) {
			errs = append(errs, fmt.Errorf("bundletest: cannot omit %q; can omit %v", o, allowed))
		}
	}
	return errors.Join(errs...)
}
