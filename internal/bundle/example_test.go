package bundle_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/bundle/bundletest"
)

func ExampleInspect() {
	var ipa bytes.Buffer
	err := bundletest.WriteIPA(&ipa, bundletest.IPAOptions{ShortVersion: "1.4.0", BuildVersion: "27", Platform: "TV_OS"})
	if err != nil {
		panic(err)
	}
	info, err := bundle.Inspect(bytes.NewReader(ipa.Bytes()), int64(ipa.Len()), "Demo.ipa")
	if err != nil {
		panic(err)
	}
	fmt.Println(info.BundleID, info.ShortVersion, info.BuildVersion, info.Platform, info.UTI)
	// Output: com.example.demo 1.4.0 27 TV_OS com.apple.ipa
}

// A .pkg need not record every version; Missing says which inputs the
// caller must ask for.
func ExampleInspect_missing() {
	pkg, err := bundletest.PKG(bundletest.PKGOptions{Omit: []string{"CFBundleVersion"}})
	if err != nil {
		panic(err)
	}
	info, err := bundle.Inspect(bytes.NewReader(pkg), int64(len(pkg)), "Demo.pkg")
	if err != nil {
		panic(err)
	}
	fmt.Println(info.BundleID, info.ShortVersion, info.Platform, info.Missing)
	// Output: com.example.demo 1.0.0 MAC_OS [CFBundleVersion]
}

func ExampleError() {
	ipa, err := bundletest.IPA(bundletest.IPAOptions{Omit: []string{"CFBundleVersion"}})
	if err != nil {
		panic(err)
	}
	_, err = bundle.Inspect(bytes.NewReader(ipa), int64(len(ipa)), "build/Demo.ipa")
	var e *bundle.Error
	if errors.As(err, &e) {
		fmt.Println(err)
		fmt.Println("hint:", e.Hint())
	}
	// Output:
	// bundle: Demo.ipa: "Payload/Demo.app/Info.plist" has no CFBundleVersion
	// hint: set PRODUCT_BUNDLE_IDENTIFIER, MARKETING_VERSION and CURRENT_PROJECT_VERSION in the target's build settings and archive again
}
