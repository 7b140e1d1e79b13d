package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/fastlane"
	"github.com/asc-auth/action/internal/token"
)

const usage = `asc-auth mints App Store Connect API tokens.

Usage:
  asc-auth token [flags]          mint a token and print it
  asc-auth build-number [flags]   print the latest and next build number of an app
  asc-auth upload [flags] FILE    upload an .ipa or .pkg and wait as asked
  asc-auth simulator [-listen A]  serve a local App Store Connect simulator
  asc-auth demo                   run the action on the bundled test key and the simulator
  asc-auth version                print the version

Flags mirror the action's inputs; run "asc-auth COMMAND -h" for them. Under
GitHub Actions, with no arguments, asc-auth is the container action and reads
INPUT_* variables.
`

func runCLI(ctx context.Context, e Env) int {
	if len(e.Args) == 0 {
		fmt.Fprint(e.Stderr, usage)
		return exitUsage
	}
	switch cmd, args := e.Args[0], e.Args[1:]; cmd {
	case "token":
		return runTokenCLI(args, e)
	case "build-number":
		return runBuildNumberCLI(ctx, args, e)
	case "upload":
		return runUploadCLI(ctx, args, e)
	case "simulator":
		return runSimulatorCLI(ctx, args, e)
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

// inputFlags are flags named after the action's inputs, so that the CLI
// mirrors the action exactly.
type inputFlags struct {
	fs      *flag.FlagSet
	strings map[string]*string
	bools   map[string]*bool
	scope   scopeFlag
}

func newInputFlags(name string, stderr io.Writer) *inputFlags {
	f := &inputFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError), strings: map[string]*string{}, bools: map[string]*bool{}}
	f.fs.SetOutput(stderr)
	for input, help := range map[string]string{
		config.InputKeyID:          "the 10-character API key ID",
		config.InputIssuerID:       "the issuer ID (a UUID); empty for an individual key",
		config.InputPrivateKey:     "the .p8 key itself (prefer --private-key-path: arguments are visible to other users)",
		config.InputPrivateKeyPath: "a path to the .p8 file",
		config.InputAPIKeyJSON:     "the content of fastlane's API key JSON",
		config.InputTokenLifetime:  "exp - iat, a duration from 2m to 20m (default 15m)",
	} {
		f.strings[input] = f.fs.String(input, "", help)
	}
	f.bools[config.InputInHouse] = f.fs.Bool(config.InputInHouse, false, "an enterprise (in-house) key")
	f.fs.Var(&f.scope, config.InputScope, "a scope entry such as \"GET /v1/apps\" (repeatable)")
	return f
}

func (f *inputFlags) string(input, help string) { f.strings[input] = f.fs.String(input, "", help) }

// parse reads args and returns the inputs they give, or an exit code.
func (f *inputFlags) parse(args []string, stderr io.Writer) (func(string) string, int) {
	return f.parseArgs(args, 0, stderr)
}

// parseArgs is parse for a command that takes positional arguments: the
// i-th becomes input "arg<i>" (a command maps it to its input).
func (f *inputFlags) parseArgs(args []string, positional int, stderr io.Writer) (func(string) string, int) {
	if err := f.fs.Parse(args); err != nil {
		return nil, exitUsage
	}
	if f.fs.NArg() != positional {
		fmt.Fprintf(stderr, "%s: want %d argument(s), got %d\n", f.fs.Name(), positional, f.fs.NArg())
		return nil, exitUsage
	}
	inputs := map[string]string{config.InputScope: f.scope.String()}
	for i, a := range f.fs.Args() {
		inputs[fmt.Sprintf("arg%d", i)] = a
	}
	for name, v := range f.strings {
		inputs[name] = *v
	}
	for name, v := range f.bools {
		if *v {
			inputs[name] = "true"
		}
	}
	return func(name string) string { return strings.TrimSpace(inputs[name]) }, exitOK
}

// scopeFlag collects repeated --scope flags into the input's lines.
type scopeFlag []string

func (s *scopeFlag) String() string     { return strings.Join(*s, "\n") }
func (s *scopeFlag) Set(v string) error { *s = append(*s, v); return nil }

// parseCLIConfig checks the inputs as the action does and prints every
// error on its own line.
func parseCLIConfig(input func(string) string, e Env) (config.Config, *token.Minter, int) {
	cfg, _, err := config.Parse(config.Env{Input: input, ReadFile: e.ReadFile})
	if err != nil {
		for _, err := range unjoin(err) {
			fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		}
		return cfg, nil, exitFailure
	}
	if cfg.Token == nil {
		fmt.Fprintln(e.Stderr, "asc-auth: no API key was given")
		return cfg, nil, exitFailure
	}
	m, err := token.NewMinter(cfg.Token.Key.Private, cfg.Token.Minter, token.WithClock(e.Now))
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		return cfg, nil, exitFailure
	}
	return cfg, m, exitOK
}

func runTokenCLI(args []string, e Env) int {
	f := newInputFlags("asc-auth token", e.Stderr)
	f.string(config.InputAPIKeyJSONPath, "also write fastlane's API key JSON here (mode 0600)")
	decode := f.fs.Bool("decode", false, "print the token's header and claims as JSON instead of the token")
	input, code := f.parse(args, e.Stderr)
	if code != exitOK {
		return code
	}
	cfg, m, code := parseCLIConfig(input, e)
	if code != exitOK {
		return code
	}
	tok, err := m.Mint()
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		return exitFailure
	}
	if path := cfg.Token.APIKeyJSONPath; path != "" {
		if err := fastlane.WriteAPIKeyFile(path, apiKeyFor(*cfg.Token, m.Config().Lifetime)); err != nil {
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

func runBuildNumberCLI(ctx context.Context, args []string, e Env) int {
	f := newInputFlags("asc-auth build-number", e.Stderr)
	f.string(config.InputApp, "the app's bundle ID or numeric App Store Connect ID")
	f.string(config.InputPlatform, "IOS (default), MAC_OS, TV_OS or VISION_OS")
	f.string(config.InputVersion, "only builds of this marketing version")
	f.string(config.InputInitialBuildNumber, "the build number when there is none yet (default 1)")
	f.string(config.InputAPIBaseURL, "the API's base URL (default "+config.DefaultAPIBaseURL+")")
	input, code := f.parse(args, e.Stderr)
	if code != exitOK {
		return code
	}
	withStep := func(name string) string {
		if name == config.InputBuildNumber {
			return "true"
		}
		return input(name)
	}
	cfg, m, code := parseCLIConfig(withStep, e)
	if code != exitOK {
		return code
	}
	client := newClient(cfg, m, func(...string) {}, func(msg string) { fmt.Fprintln(e.Stderr, "asc-auth: warning:", msg) }, e)
	res, err := buildnum.Find(ctx, client, *cfg.BuildNumber)
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.Stdout, "latest-build-number=%s\nnext-build-number=%s\napp-id=%s\n", numberOrEmpty(res.Latest), res.Next, res.AppID)
	fmt.Fprintln(e.Stderr, buildNumberLine(*cfg.BuildNumber, res, client.Requests()))
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
