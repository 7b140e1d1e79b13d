//go:build !nosimulator

package app

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/keys"
)

// startDemoSimulator starts the local App Store Connect simulator on a free
// loopback port, trusting the bundled demo key, with a sample app whose
// builds show why build numbers are compared as numbers (10 after 9) and
// why in-flight uploads count (13 is still processing).
func startDemoSimulator(demoKey []byte, now func() time.Time, listen string) (*ascsim.Server, string, error) {
	k, err := keys.Parse(string(demoKey))
	if err != nil {
		return nil, "", fmt.Errorf("the bundled demo key: %w", err)
	}
	// Small parts and short processing make the demo's upload show its
	// parallel parts and its states in a couple of seconds.
	sim, err := ascsim.New(ascsim.WithClock(now), ascsim.WithPartSize(1<<20), ascsim.WithProcessing(time.Second, time.Second))
	if err != nil {
		return nil, "", err
	}
	sim.RegisterKey(demoKeyID, demoIssuerID, false, &k.Private.PublicKey)
	app := sim.AddApp(demoBundleID, "asc-auth Demo")
	day := 24 * time.Hour
	for i, b := range []struct{ version, number, state string }{
		{"1.0", "7", "VALID"}, {"1.0", "8", "VALID"}, {"1.0", "9", "VALID"}, {"1.0", "10", "VALID"},
		{"1.1", "11", "VALID"}, {"1.1", "12", "PROCESSING"},
	} {
		sim.AddBuild(app, "IOS", b.version, b.number, b.state, now().Add(-time.Duration(10-i)*day))
	}
	sim.AddBuildUpload(app, "IOS", "1.1", "13", "PROCESSING")
	url, err := sim.Start(listen)
	if err != nil {
		return nil, "", err
	}
	return sim, url, nil
}

// runSimulatorCLI serves the demo simulator until interrupted.
func runSimulatorCLI(ctx context.Context, args []string, e Env) int {
	fs := flag.NewFlagSet("asc-auth simulator", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	listen := fs.String("listen", "127.0.0.1:0", "the loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	sim, url, err := startDemoSimulator(e.DemoKey, e.Now, *listen)
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth simulator: %v\n", err)
		return exitFailure
	}
	defer sim.Close()
	fmt.Fprintf(e.Stdout, "App Store Connect simulator at %s\n", url)
	fmt.Fprintf(e.Stdout, "It trusts key %s (issuer %s, testdata/AuthKey_%s.p8) and serves app %s.\n", demoKeyID, demoIssuerID, demoKeyID, demoBundleID)
	fmt.Fprintf(e.Stdout, "Try: asc-auth build-number --api-base-url %s --app %s --issuer-id %s --private-key-path testdata/AuthKey_%s.p8\n", url, demoBundleID, demoIssuerID, demoKeyID)
	<-ctx.Done()
	return exitOK
}
