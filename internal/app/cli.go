package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/token"
)

// maxStdin caps what the session command reads: a session is a few kB.
const maxStdin = 1 << 20

// command is a step run from a shell. Its flags are the declared inputs of
// its step and of the groups it uses; the same step code runs as in the
// action, reporting to a terminal.
type command struct {
	step    string   // the step it runs, and the command's name
	args    string   // its arguments, for the usage line
	summary string   // one line for the usage text
	groups  []string // input groups offered besides the step's own inputs
	arg     string   // the input its one argument gives, if any
	// argOptional lets the argument be left out (notarize --wait ID).
	argOptional bool
	set         map[string]string
	// extra adds command-specific flags; the function it returns runs
	// after parsing and may set inputs or return an exit code.
	extra func(fs *flag.FlagSet, e Env) func(inputs map[string]string) int
	// print writes the outputs; by default NAME=VALUE lines.
	print func(e Env, term *report.Terminal, fs *flag.FlagSet) int
}

func commands() []command {
	api := []string{config.GroupKey, config.GroupAPI}
	return []command{
		{step: config.StepToken, summary: "mint a token and print it", groups: []string{config.GroupKey}, extra: tokenFlags, print: printToken},
		{step: config.StepBuildNumber, summary: "print the latest and next build number of an app", groups: api,
			set: map[string]string{config.InputBuildNumber: "true"}},
		{step: config.StepUpload, args: "FILE", summary: "upload an .ipa or .pkg and wait as asked", groups: api, arg: config.InputUploadFile},
		{step: config.StepTestFlight, summary: "distribute a processed build to TestFlight groups, with notes, compliance and review", groups: api},
		{step: config.StepNotarize, args: "[--wait ID] [FILE]", summary: "notarize a .zip, .pkg or .dmg with a team key, wait, and staple", groups: []string{config.GroupKey},
			arg: config.InputNotarizeFile, argOptional: true, extra: notarizeFlags},
		{step: config.StepSession, summary: "check a FASTLANE_SESSION from --file or standard input and print its expiry", extra: sessionFlags},
	}
}

func usage(e Env) string {
	var b strings.Builder
	b.WriteString("asc-auth mints App Store Connect API tokens and runs the action's steps from a shell.\n\nUsage:\n")
	line := func(name, summary string) { fmt.Fprintf(&b, "  %-30s %s\n", name, summary) }
	for _, c := range commands() {
		line(strings.TrimSpace("asc-auth "+c.step+" [flags] "+c.args), c.summary)
	}
	line("asc-auth session store [flags]", "store a FASTLANE_SESSION (or spaceauth's output) as a GitHub, GitLab, CircleCI or Bitrise secret")
	line("asc-auth session watch [flags]", "check the stored session and open, update or close a GitHub issue about it")
	for _, c := range e.Extra {
		line("asc-auth "+c.Name, c.Usage)
	}
	line("asc-auth version", "print the version")
	b.WriteString(`
Flags are the action's inputs; run "asc-auth COMMAND -h" for them. Under
GitHub Actions, with no arguments, asc-auth is the container action and reads
INPUT_* variables.
`)
	return b.String()
}

func runCLI(ctx context.Context, e Env) int {
	if len(e.Args) == 0 {
		fmt.Fprint(e.Stderr, usage(e))
		return exitUsage
	}
	name, args := e.Args[0], e.Args[1:]
	if name == config.StepSession && len(args) > 0 {
		switch args[0] {
		case "store":
			return runSessionStore(ctx, e, args[1:])
		case "watch":
			return runSessionWatch(ctx, e, args[1:])
		}
	}
	for _, c := range commands() {
		if c.step == name {
			return c.run(ctx, e, args)
		}
	}
	for _, c := range e.Extra {
		if c.Name == name {
			return c.Run(ctx, e, args)
		}
	}
	switch name {
	case "version", "--version":
		fmt.Fprintln(e.Stdout, "asc-auth", e.Version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(e.Stdout, usage(e))
		return exitOK
	}
	fmt.Fprintf(e.Stderr, "asc-auth: unknown command %q\n\n%s", name, usage(e))
	return exitUsage
}

// run parses the command line into inputs, checks them as the action does,
// runs the step and prints its outputs.
func (c command) run(ctx context.Context, e Env, args []string) int {
	fs := flag.NewFlagSet("asc-auth "+c.step, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	read := declareFlags(fs, config.InputsOf(append(slices.Clone(c.groups), c.step)...))
	var after func(map[string]string) int
	if c.extra != nil {
		after = c.extra(fs, e)
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	want := 0
	if c.arg != "" {
		want = 1
	}
	if fs.NArg() != want && !(c.argOptional && fs.NArg() == 0) {
		fmt.Fprintf(e.Stderr, "%s: want %d argument(s), got %d\n", fs.Name(), want, fs.NArg())
		return exitUsage
	}
	inputs := read()
	for k, v := range c.set {
		inputs[k] = v
	}
	if c.arg != "" && fs.NArg() > 0 {
		inputs[c.arg] = fs.Arg(0)
	}
	if after != nil {
		if code := after(inputs); code != exitOK {
			return code
		}
	}

	term := report.NewTerminal(e.Stderr, nil)
	cfg, secrets, err := config.Parse(config.Env{
		Input:    func(name string) string { return strings.TrimSpace(inputs[name]) },
		ReadFile: e.ReadFile,
	})
	term.Mask(secrets...)
	if err != nil {
		for _, err := range unjoin(err) {
			fmt.Fprintf(e.Stderr, "asc-auth: %s\n", term.Redact(err.Error()))
		}
		return exitFailure
	}
	steps := stepNamed(plan(cfg), c.step)
	if len(steps) == 0 {
		fmt.Fprintf(e.Stderr, "asc-auth %s: nothing to do with these flags; run \"asc-auth %s -h\"\n", c.step, c.step)
		return exitUsage
	}
	s, err := newState(e, cfg)
	if err == nil {
		err = runSteps(ctx, withDeclaredOutputs(term), s, steps)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "asc-auth: %s\n", term.Redact(err.Error()))
		return exitFailure
	}
	if c.print != nil {
		return c.print(e, term, fs)
	}
	for _, kv := range term.Outputs() {
		fmt.Fprintf(e.Stdout, "%s=%s\n", kv.Name, strings.ReplaceAll(kv.Value, "\n", `\n`))
	}
	return exitOK
}

// stepNamed keeps the one step a command runs.
func stepNamed(steps []Step, name string) []Step {
	for _, s := range steps {
		if s.Name() == name {
			return []Step{s}
		}
	}
	return nil
}

// declareFlags adds a flag for each input: a switch for a boolean, a
// repeatable flag for an input of lines, a string otherwise. The function
// it returns reads the parsed flags as inputs.
func declareFlags(fs *flag.FlagSet, inputs []config.Input) func() map[string]string {
	read := map[string]func() string{}
	for _, in := range inputs {
		help := in.Flag()
		if in.Secret {
			help += " Secret: arguments are visible to other users of this machine."
		}
		switch {
		case in.Bool:
			v := fs.Bool(in.Name, in.Default == "true", help)
			read[in.Name] = func() string { return strconv.FormatBool(*v) }
		case in.Lines:
			v := new(linesFlag)
			fs.Var(v, in.Name, help+" (repeatable)")
			read[in.Name] = v.String
		default:
			v := fs.String(in.Name, "", help)
			read[in.Name] = func() string { return *v }
		}
	}
	return func() map[string]string {
		m := map[string]string{}
		for name, r := range read {
			m[name] = r()
		}
		return m
	}
}

// linesFlag collects a repeated flag into an input's lines.
type linesFlag []string

func (s *linesFlag) String() string     { return strings.Join(*s, "\n") }
func (s *linesFlag) Set(v string) error { *s = append(*s, v); return nil }

// tokenFlags adds --decode; the token command prints the token alone, or
// its header and claims.
func tokenFlags(fs *flag.FlagSet, _ Env) func(map[string]string) int {
	fs.Bool("decode", false, "print the token's header and claims as JSON instead of the token")
	return nil
}

func printToken(e Env, term *report.Terminal, fs *flag.FlagSet) int {
	tok, ok := term.Output("token")
	if !ok {
		fmt.Fprintln(e.Stderr, "asc-auth: the token step set no token")
		return exitFailure
	}
	if fs.Lookup("decode").Value.String() == "true" {
		return PrintDecoded(e.Stdout, e.Stderr, tok)
	}
	fmt.Fprintln(e.Stdout, tok)
	return exitOK
}

// sessionFlags adds --file; without it the session is read from standard
// input.
func sessionFlags(fs *flag.FlagSet, e Env) func(map[string]string) int {
	file := fs.String("file", "", "read the session from this file (default: standard input)")
	return func(inputs map[string]string) int {
		var data []byte
		var err error
		if *file != "" {
			data, err = e.ReadFile(*file)
		} else if e.Stdin != nil {
			data, err = io.ReadAll(io.LimitReader(e.Stdin, maxStdin+1))
		}
		switch {
		case err != nil:
			fmt.Fprintf(e.Stderr, "asc-auth session: cannot read the session: %v\n", err)
			return exitFailure
		case len(data) > maxStdin:
			fmt.Fprintln(e.Stderr, "asc-auth session: the input is far too large for a session")
			return exitFailure
		case strings.TrimSpace(string(data)) == "":
			fmt.Fprintln(e.Stderr, "asc-auth session: no session given: pipe it in, or pass --file")
			return exitUsage
		}
		inputs[config.InputSession] = string(data)
		return exitOK
	}
}

// PrintDecoded writes a token's header and claims as indented JSON, and
// returns the exit code.
func PrintDecoded(stdout, stderr io.Writer, tok string) int {
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

// notarizeFlags adds --wait ID, which resumes waiting for an earlier
// submission.
func notarizeFlags(fs *flag.FlagSet, _ Env) func(map[string]string) int {
	wait := fs.String("wait", "", "wait for this earlier submission (its notarization-id) instead of submitting")
	return func(inputs map[string]string) int {
		inputs[config.InputNotarizeWaitID] = *wait
		return exitOK
	}
}
