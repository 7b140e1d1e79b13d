package devcmd

import (
	"context"
	"flag"
	"fmt"
	"sync"

	"github.com/asc-auth/action/internal/app"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/demo"
)

// runSimulatorCLI serves the demo simulator until interrupted.
func runSimulatorCLI(ctx context.Context, e app.Env, demoKey []byte, args []string) int {
	fs := flag.NewFlagSet("asc-auth simulator", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	listen := fs.String("listen", "127.0.0.1:0", "the loopback address to listen on")
	quiet := fs.Bool("quiet", false, "do not log each request answered")
	if err := fs.Parse(args); err != nil {
		return app.ExitUsage
	}
	var opts []ascsim.Option
	if !*quiet {
		// What another tool sent, and what was wrong with it: method, path,
		// status and the validation failure, one line a request.
		var mu sync.Mutex
		opts = append(opts, ascsim.WithRequestLog(func(r ascsim.Request) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(e.Stderr, r)
		}))
	}
	sim, url, err := demo.StartSimulator(demoKey, e.Now, *listen, opts...)
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth simulator: %v\n", err)
		return app.ExitFailure
	}
	defer sim.Close()
	fmt.Fprintf(e.Stdout, "App Store Connect simulator at %s\n", url)
	fmt.Fprintf(e.Stdout, "It trusts key %s (issuer %s, testdata/AuthKey_%s.p8) and serves app %s.\n", demo.KeyID, demo.IssuerID, demo.KeyID, demo.BundleID)
	fmt.Fprintf(e.Stdout, "Try: go run . build-number --api-base-url %s --app %s --issuer-id %s --private-key-path testdata/AuthKey_%s.p8\n", url, demo.BundleID, demo.IssuerID, demo.KeyID)
	if !*quiet {
		fmt.Fprintln(e.Stdout, "Each request it answers is logged to standard error (-quiet turns this off).")
	}
	<-ctx.Done()
	return app.ExitOK
}
