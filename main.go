// Command asc-auth mints short-lived App Store Connect API tokens from a
// .p8 key and runs the action's steps. Under GitHub Actions it is a
// container action; elsewhere it is a command-line tool (run "asc-auth
// help"). Built with -tags dev it also has the demo and the simulator.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/asc-auth/action/internal/app"
)

// version is stamped in by the build: -ldflags "-X main.version=v1.2.3".
// A `go install …@v1.2.3` stamps nothing, but records the module version.
var version = "dev"

func main() {
	if bi, ok := debug.ReadBuildInfo(); ok && version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, app.Env{
		Args: os.Args[1:], Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Now: time.Now, ReadFile: os.ReadFile, Version: version, Extra: devCommands(),
	})
	stop()
	os.Exit(code)
}
