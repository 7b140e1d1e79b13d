// Command asc-auth mints short-lived App Store Connect API tokens from a
// .p8 key. Under GitHub Actions it is a container action; elsewhere it is a
// command-line tool (run "asc-auth help").
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/asc-auth/action/internal/app"
)

// version is stamped in by the build: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// demoKey is the generated throwaway key the demo signs with.
//
//go:embed testdata/AuthKey_DEMOKEY001.p8
var demoKey []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, app.Env{
		Args: os.Args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr,
		Now: time.Now, ReadFile: os.ReadFile, Version: version, DemoKey: demoKey,
	})
	stop()
	os.Exit(code)
}
