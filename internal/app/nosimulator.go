//go:build nosimulator

package app

import (
	"context"
	"fmt"
)

// The action's image is built with -tags nosimulator: it never needs the
// simulator, whose OpenAPI validator costs megabytes and milliseconds at
// every start.

func runSimulatorCLI(_ context.Context, _ []string, e Env) int { return noSimulator(e) }

func runDemo(_ context.Context, e Env) int { return noSimulator(e) }

func noSimulator(e Env) int {
	fmt.Fprintln(e.Stderr, "asc-auth: this build has no simulator (built with -tags nosimulator); run \"go run . demo\" in the source tree")
	return exitUsage
}
