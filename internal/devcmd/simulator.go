package devcmd

import (
	"context"
	"flag"
	"fmt"

	"github.com/asc-auth/action/internal/app"
	"github.com/asc-auth/action/internal/demo"
)

// runSimulatorCLI serves the demo simulator until interrupted.
func runSimulatorCLI(ctx context.Context, e app.Env, demoKey []byte, args []string) int {
	fs := flag.NewFlagSet("asc-auth simulator", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	listen := fs.String("listen", "127.0.0.1:0", "the loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return app.ExitUsage
	}
	sim, url, err := demo.StartSimulator(demoKey, e.Now, *listen)
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth simulator: %v\n", err)
		return app.ExitFailure
	}
	defer sim.Close()
	fmt.Fprintf(e.Stdout, "App Store Connect simulator at %s\n", url)
	fmt.Fprintf(e.Stdout, "It trusts key %s (issuer %s, testdata/AuthKey_%s.p8) and serves app %s.\n", demo.KeyID, demo.IssuerID, demo.KeyID, demo.BundleID)
	fmt.Fprintf(e.Stdout, "Try: asc-auth build-number --api-base-url %s --app %s --issuer-id %s --private-key-path testdata/AuthKey_%s.p8\n", url, demo.BundleID, demo.IssuerID, demo.KeyID)
	<-ctx.Done()
	return app.ExitOK
}
