package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/fastlane"
	"github.com/asc-auth/action/internal/token"
)

const usage = `asc-auth mints App Store Connect API tokens.

Usage:
  asc-auth token [flags]   mint a token and print it (flags mirror the action's inputs)
  asc-auth demo            run the action on the bundled test key in a simulated runner
  asc-auth version         print the version

Run "asc-auth token -h" for the token flags. Under GitHub Actions, with no
arguments, asc-auth runs as the container action and reads INPUT_* variables.
`

func runCLI(ctx context.Context, e Env) int {
	if len(e.Args) == 0 {
		fmt.Fprint(e.Stderr, usage)
		return exitUsage
	}
	switch cmd, args := e.Args[0], e.Args[1:]; cmd {
	case "token":
		return runTokenCLI(args, e)
	case "demo":
		return runDemo(ctx, e)
	case "version", "--version":
		fmt.Fprintln(e.Stdout, "asc-auth", e.Version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(e.Stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(e.Stderr, "asc-auth: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// inputFlags declares one flag per action input, so the CLI mirrors the
// action exactly, and returns the inputs they set.
func inputFlags(fs *flag.FlagSet, names map[string]string) map[string]*string {
	vals := map[string]*string{}
	for name, help := range names {
		vals[name] = fs.String(name, "", help)
	}
	return vals
}

// scopeFlag collects repeated --scope flags into the input's lines.
type scopeFlag []string

func (s *scopeFlag) String() string     { return strings.Join(*s, "\n") }
func (s *scopeFlag) Set(v string) error { *s = append(*s, v); return nil }

func runTokenCLI(args []string, e Env) int {
	fs := flag.NewFlagSet("asc-auth token", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	vals := inputFlags(fs, map[string]string{
		config.InputKeyID:          "the 10-character API key ID",
		config.InputIssuerID:       "the issuer ID (a UUID); empty for an individual key",
		config.InputPrivateKey:     "the .p8 key itself (prefer --private-key-path: arguments are visible to other users)",
		config.InputPrivateKeyPath: "a path to the .p8 file",
		config.InputAPIKeyJSON:     "the content of fastlane's API key JSON",
		config.InputTokenLifetime:  "exp - iat, a duration from 2m to 20m (default 15m)",
		config.InputAPIKeyJSONPath: "also write fastlane's API key JSON here (mode 0600)",
	})
	inHouse := fs.Bool(config.InputInHouse, false, "an enterprise (in-house) key")
	var scope scopeFlag
	fs.Var(&scope, config.InputScope, "a scope entry such as \"GET /v1/apps\" (repeatable)")
	decode := fs.Bool("decode", false, "print the token's header and claims as JSON instead of the token")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.Stderr, "asc-auth token: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	inputs := map[string]string{config.InputScope: scope.String()}
	for name, v := range vals {
		inputs[name] = *v
	}
	if *inHouse {
		inputs[config.InputInHouse] = "true"
	}
	cfg, _, err := config.ParseToken(config.Env{
		Input:    func(name string) string { return strings.TrimSpace(inputs[name]) },
		ReadFile: e.ReadFile,
	})
	if err != nil {
		for _, err := range unjoin(err) {
			fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		}
		return exitFailure
	}
	m, err := token.NewMinter(cfg.Key.Private, cfg.Minter, token.WithClock(e.Now))
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		return exitFailure
	}
	tok, err := m.Mint()
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		return exitFailure
	}
	if cfg.APIKeyJSONPath != "" {
		if err := fastlane.WriteAPIKeyFile(cfg.APIKeyJSONPath, apiKeyFor(cfg, m.Config().Lifetime)); err != nil {
			fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
			return exitFailure
		}
	}
	if *decode {
		return printDecoded(e.Stdout, e.Stderr, tok.Value)
	}
	fmt.Fprintln(e.Stdout, tok.Value)
	return exitOK
}

// printDecoded writes a token's header and claims as indented JSON.
func printDecoded(stdout, stderr io.Writer, tok string) int {
	header, claims, err := token.Decode(tok)
	if err == nil {
		var b []byte
		b, err = json.MarshalIndent(map[string]any{"header": header, "claims": claims}, "", "  ")
		if err == nil {
			_, err = fmt.Fprintf(stdout, "%s\n", b)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "asc-auth: %v\n", err)
		return exitFailure
	}
	return exitOK
}
