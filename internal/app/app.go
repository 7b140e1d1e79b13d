// Package app runs asc-auth: as a GitHub container action when started by
// the runner (GITHUB_ACTIONS=true and no arguments), otherwise as a
// command-line tool. It wires the other packages together and owns no
// logic of their kind.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/token"
)

// Env is everything asc-auth takes from its process.
type Env struct {
	Args           []string
	Getenv         func(string) string
	Stdout, Stderr io.Writer
	Now            func() time.Time
	ReadFile       func(string) ([]byte, error)
	Version        string
	DemoKey        []byte // the bundled throwaway key the demo signs with

	uploadTuning uploadTuning // the demo's and tests' shorter waits
}

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1 // invalid input or a failed step
	exitUsage    = 2 // the command line itself is wrong
	exitInternal = 70
)

// Main runs asc-auth and returns its exit code. It never panics: a bug is
// reported in one line, never as a stack trace that might hold a secret.
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
	cfg, secrets, err := config.Parse(config.Env{Input: rt.Input, ReadFile: e.ReadFile})
	// Mask before anything else is printed, the errors included.
	rt.Mask(secrets...)
	if err != nil {
		reportInputErrors(rt, err)
		return exitFailure
	}
	err = runSteps(ctx, rt, cfg, e)
	if err != nil {
		rt.Errorf("asc-auth failed", "%v", err)
		return exitFailure
	}
	return exitOK
}

// runSteps runs the steps cfg asks for: the session step first, so that a
// dead session fails the job before anything else happens, then the token
// step and the steps that use the API.
func runSteps(ctx context.Context, rt *actions.Runtime, cfg config.Config, e Env) error {
	var kf keyFile
	if cfg.Token != nil {
		var err error
		if kf, err = planKeyFile(rt, *cfg.Token, e.Getenv); err != nil {
			return err
		}
	}
	if cfg.Session != nil {
		if err := runSessionStep(ctx, rt, cfg.Session, &http.Client{}, e.Now(), "asc-auth/"+e.Version); err != nil {
			return err
		}
	}
	if cfg.Token == nil {
		return nil
	}
	m, err := token.NewMinter(cfg.Token.Key.Private, cfg.Token.Minter, token.WithClock(e.Now))
	if err != nil {
		return err
	}
	if _, err := runTokenStep(rt, *cfg.Token, m, kf); err != nil {
		return err
	}
	if cfg.BuildNumber == nil && cfg.Upload == nil {
		return nil
	}
	client := newClient(cfg, m, rt.Mask, func(msg string) { rt.Warningf("App Store Connect", "%s", msg) }, e)
	if cfg.BuildNumber != nil {
		if _, err := runBuildNumberStep(ctx, rt, client, *cfg.BuildNumber); err != nil {
			return err
		}
	}
	if cfg.Upload != nil {
		return runUploadStep(ctx, rt, client, cfg.Upload, e.uploadTuning, e.Now)
	}
	return nil
}

// newClient returns an App Store Connect client whose tokens m mints when
// needed, each masked before it can be logged.
func newClient(cfg config.Config, m *token.Minter, mask func(...string), warn func(string), e Env) *asc.Client {
	tokens := asc.NewTokenCache(func() (string, time.Time, error) {
		t, err := m.Mint()
		if err != nil {
			return "", time.Time{}, err
		}
		mask(t.Value)
		return t.Value, t.ExpiresAt, nil
	}, e.Now)
	return asc.NewClient(tokens,
		asc.WithBaseURL(cfg.APIBaseURL),
		asc.WithUserAgent("asc-auth/"+e.Version),
		asc.WithClock(e.Now),
		asc.WithWarn(warn),
	)
}

// reportInputErrors gives each invalid input its own annotation, so that all
// of them are fixed in one go.
func reportInputErrors(rt *actions.Runtime, err error) {
	errs := unjoin(err)
	for _, err := range errs {
		var ie *config.InputError
		if errors.As(err, &ie) {
			rt.Errorf("Invalid input "+ie.Input, "%s", ie.Error())
		} else {
			rt.Errorf("Invalid input", "%v", err)
		}
	}
	rt.Infof("asc-auth: %d invalid input(s); nothing was written.", len(errs))
}

// unjoin lists the errors inside an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
