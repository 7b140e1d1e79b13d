// Package demo is the demo's account: the bundled throwaway key
// testdata/AuthKey_DEMOKEY001.p8, the issuer ID it pretends to belong to,
// a sample app on the local simulator, a sample .ipa, and a sample .pkg
// for the notary stand-in. The demo, the
// simulator command and the tests share it; the product never links it.
package demo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/keys"
	"github.com/asc-auth/action/internal/notarysim"
	"github.com/asc-auth/action/internal/staple"
)

// The demo's account.
const (
	KeyID    = "DEMOKEY001"
	IssuerID = "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1"
	BundleID = "com.example.asc-auth-demo"
)

// The demo app's beta groups.
const (
	GroupEveryone = "Everyone at Example" // internal, with access to all builds
	GroupQA       = "QA"                  // internal, builds added by hand
	GroupPublic   = "Public Beta"         // external: needs Beta App Review
)

// StartSimulator starts the local App Store Connect simulator on a free
// loopback port, trusting the bundled demo key, with a sample app whose
// builds show why build numbers are compared as numbers (10 after 9) and
// why in-flight uploads count (13 is still processing), and whose
// TestFlight has three kinds of group and complete test information. opts
// come after the demo's own (a request log, say).
func StartSimulator(demoKey []byte, now func() time.Time, listen string, opts ...ascsim.Option) (*ascsim.Server, string, error) {
	k, err := keys.Parse(string(demoKey))
	if err != nil {
		return nil, "", fmt.Errorf("the bundled demo key: %w", err)
	}
	// Small parts and short processing make the demo's upload show its
	// parallel parts and its states in a couple of seconds.
	// TestFlight's lags (the beta detail after processing, the default
	// locale's notes, re-processing after export compliance) are seconds
	// here, minutes at Apple.
	sim, err := ascsim.New(append([]ascsim.Option{ascsim.WithClock(now), ascsim.WithPartSize(1 << 20),
		ascsim.WithProcessing(time.Second, time.Second), ascsim.WithTestFlight(time.Second, 2*time.Second, time.Second)}, opts...)...)
	if err != nil {
		return nil, "", err
	}
	sim.RegisterKey(KeyID, IssuerID, false, &k.Private.PublicKey)
	app := sim.AddApp(BundleID, "asc-auth Demo")
	day := 24 * time.Hour
	for i, b := range []struct{ version, number, state string }{
		{"1.0", "7", "VALID"}, {"1.0", "8", "VALID"}, {"1.0", "9", "VALID"}, {"1.0", "10", "VALID"},
		{"1.1", "11", "VALID"}, {"1.1", "12", "PROCESSING"},
	} {
		sim.AddBuild(app, "IOS", b.version, b.number, b.state, now().Add(-time.Duration(10-i)*day))
	}
	sim.AddBuildUpload(app, "IOS", "1.1", "13", "PROCESSING")
	sim.AddBetaGroup(app, GroupEveryone, true, true)
	sim.AddBetaGroup(app, GroupQA, true, false)
	sim.AddBetaGroup(app, GroupPublic, false, false)
	sim.AddBetaAppLocalization(app, "en-US", "The asc-auth demo app.", "beta@example.com")
	sim.SetBetaReviewContact(app, ascsim.BetaReviewContact{FirstName: "Ada", LastName: "Example", Phone: "+1 555 0100", Email: "review@example.com"})
	url, err := sim.Start(listen)
	if err != nil {
		return nil, "", err
	}
	return sim, url, nil
}

// WriteIPA writes a generated sample .ipa: build 14 of version 1.1, the
// next free build number of the demo app, with 6 MB of stored assets so
// that the upload has several parts.
func WriteIPA(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = bundletest.WriteIPA(f, bundletest.IPAOptions{
		BundleID: BundleID, ShortVersion: "1.1", BuildVersion: "14", AssetSize: 6 << 20, AssetSeed: 1,
	})
	return errors.Join(err, f.Close())
}

// StartNotarySimulator starts the local notary stand-in (the Notary API,
// its S3 bucket, the developer log and the ticket lookup) on loopback
// ports, trusting the bundled demo key. Every submission is accepted, and
// the ticket of an accepted .pkg or .dmg is published one lookup late, as
// Apple's lags acceptance.
func StartNotarySimulator(demoKey []byte, now func() time.Time) (*notarysim.Server, error) {
	k, err := keys.Parse(string(demoKey))
	if err != nil {
		return nil, fmt.Errorf("the bundled demo key: %w", err)
	}
	sim := notarysim.New(notarysim.WithClock(now), notarysim.WithTicketLag(1),
		notarysim.WithRecordName(func(name string, data []byte) (string, error) {
			return staple.RecordName(bytes.NewReader(data), int64(len(data)), name)
		}))
	sim.RegisterKey(KeyID, &k.Private.PublicKey)
	if err := sim.Start(); err != nil {
		return nil, err
	}
	return sim, nil
}

// WritePKG writes a generated, signed-looking macOS installer package of
// the demo app, for the notarize step.
func WritePKG(path string) error {
	data, err := bundletest.PKG(bundletest.PKGOptions{AppName: "Demo", BundleID: "com.example.asc-auth-demo.mac", Signed: true})
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
