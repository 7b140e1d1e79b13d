// Package app runs asc-auth: as a GitHub container action when started by
// the runner (GITHUB_ACTIONS=true and no arguments), otherwise as a
// command-line tool. It wires the other packages together into steps (see
// [Step]) and owns no logic of their kind.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
)

// Env is everything asc-auth takes from its process.
type Env struct {
	Args           []string
	Getenv         func(string) string
	Stdin          io.Reader // nil: empty
	Stdout, Stderr io.Writer
	Now            func() time.Time
	ReadFile       func(string) ([]byte, error)
	Version        string

	// PollInterval shortens the waits between polls (the demo and tests);
	// zero means the steps' own schedules.
	PollInterval time.Duration

	// Extra holds commands beyond the product's, such as the development
	// build's demo and simulator.
	Extra []Command
}

// A Command is an extra command-line command.
type Command struct {
	Name, Usage string
	Run         func(ctx context.Context, e Env, args []string) int
}

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1 // invalid input or a failed step
	exitUsage    = 2 // the command line itself is wrong
	exitInternal = 70
)

// Exit codes, for extra commands.
const (
	ExitOK      = exitOK
	ExitFailure = exitFailure
	ExitUsage   = exitUsage
)

// Main runs asc-auth and returns its exit code. It never panics: a bug is
// reported in one line, never as a stack trace that might hold a secret.
// (Goroutines that steps start recover on their own and return errors.)
func Main(ctx context.Context, e Env) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(e.Stderr, "asc-auth: internal error; please report it with the step's inputs (never the key)")
			code = exitInternal
		}
	}()
	if e.Getenv("GITHUB_ACTIONS") == "true" && len(e.Args) == 0 {
		return runAction(ctx, e)
	}
	return runCLI(ctx, e)
}

// runAction is the container action's entry point.
func runAction(ctx context.Context, e Env) int {
	rt := actions.New(e.Getenv, e.Stdout)
	code := action(ctx, rt, e)
	if err := rt.Err(); err != nil {
		// The log lost lines, masks perhaps among them: the step must not
		// pass as if all were well.
		fmt.Fprintf(e.Stderr, "asc-auth: writing the log failed: %v\n", err)
		return exitFailure
	}
	return code
}

func action(ctx context.Context, rt *actions.Runtime, e Env) int {
	cfg, secrets, err := config.Parse(config.Env{Input: rt.Input, ReadFile: e.ReadFile})
	// Mask before anything else is printed, the errors included.
	rt.Mask(secrets...)
	if err != nil {
		reportInputErrors(rt, err)
		return exitFailure
	}
	s, err := newState(e, cfg)
	if err == nil {
		err = runSteps(ctx, withDeclaredOutputs(rt), s, plan(cfg))
	}
	if err != nil {
		rt.Errorf("asc-auth failed", "%v", err)
		return exitFailure
	}
	return exitOK
}

// reportInputErrors gives each invalid input its own annotation, so that all
// of them are fixed in one go.
func reportInputErrors(r report.Report, err error) {
	errs := unjoin(err)
	for _, err := range errs {
		var ie *config.InputError
		if errors.As(err, &ie) {
			r.Errorf("Invalid input "+ie.Input, "%s", ie.Error())
		} else {
			r.Errorf("Invalid input", "%v", err)
		}
	}
	r.Infof("asc-auth: %d invalid input(s); nothing was written.", len(errs))
}

// unjoin lists the errors inside an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
