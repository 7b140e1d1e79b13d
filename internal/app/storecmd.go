package app

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/ciapi"
	"github.com/asc-auth/action/internal/cisecret"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/session"
	"github.com/asc-auth/action/internal/spaceauth"
)

// storeHTTPTimeout bounds each request to a CI service.
const storeHTTPTimeout = 30 * time.Second

const storeUsage = `Usage: asc-auth session store [flags] (--repo OWNER/NAME | --org ORG | --gitlab-project ID | ...)

Reads a FASTLANE_SESSION from standard input (or --file), checks it, and
stores it as a CI secret in one go:

  fastlane spaceauth -u you@example.com | asc-auth session store --repo OWNER/NAME

The input may be the whole output of fastlane spaceauth (its prompts are
passed through to the terminal as they come; the session is never shown),
the escaped one-line value, the YAML, or either in quotes. An expired,
unparsable or (checked live, unless --no-check) dead session is refused
and nothing is sent. It prints where the session went, its expiry and the
days left; never the session.

Tokens come from the environment or --token-file, never from an argument:
  GitHub    GH_TOKEN or GITHUB_TOKEN. Repository and environment secrets:
            a fine-grained token with "Secrets: read and write" on the
            repository (environments: GitHub also lists "Environments"),
            or a classic token with repo. Organisation secrets: the
            organisation permission "Secrets: read and write", or a
            classic token with admin:org. A workflow's own GITHUB_TOKEN
            can never write secrets.
  GitLab    GITLAB_TOKEN: the api scope, Maintainer on the project (Owner
            on a group).
  CircleCI  CIRCLECI_TOKEN: a personal API token.
  Bitrise   BITRISE_TOKEN: a personal access token; Owner or Admin on the app.

Flags:
`

// storeFlags are the command's flags.
type storeFlags struct {
	file, name, tokenFile, sessionBaseURL    string
	noCheck, dryRun                          bool
	repo, env, org, visibility, repos, ghAPI string
	glProject, glGroup, glURL                string
	glMasked                                 bool
	ccProject, ccContext, ccURL              string
	brApp, brURL                             string
}

func (f *storeFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "file", "", "read the session from this file (default: standard input)")
	fs.StringVar(&f.name, "name", "FASTLANE_SESSION", "the secret's name")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the CI service's token from this file instead of the environment")
	fs.BoolVar(&f.noCheck, "no-check", false, "skip the live check with App Store Connect")
	fs.StringVar(&f.sessionBaseURL, "session-base-url", config.DefaultSessionBaseURL, "where the live check asks")
	fs.BoolVar(&f.dryRun, "dry-run", false, "check everything and say where the session would go; send nothing")
	fs.StringVar(&f.repo, "repo", "", "GitHub: a repository secret in OWNER/NAME (with --env: an environment secret)")
	fs.StringVar(&f.env, "env", "", "GitHub: an environment secret of --repo in this environment")
	fs.StringVar(&f.org, "org", "", "GitHub: an organisation secret")
	fs.StringVar(&f.visibility, "visibility", "", "GitHub: which repositories see an organisation secret: all, private or selected (default private; selected with --repos)")
	fs.StringVar(&f.repos, "repos", "", "GitHub: the repositories (NAME or OWNER/NAME, comma-separated) that see a selected organisation secret")
	fs.StringVar(&f.ghAPI, "github-api-url", "", "GitHub's REST API: https://HOST/api/v3 for GitHub Enterprise Server, https://api.SUBDOMAIN.ghe.com for GHE.com (default $GITHUB_API_URL or "+cisecret.DefaultGitHubAPI+")")
	fs.StringVar(&f.glProject, "gitlab-project", "", "GitLab: a project variable; the project's ID or path (group/project)")
	fs.StringVar(&f.glGroup, "gitlab-group", "", "GitLab: a group variable; the group's ID or path")
	fs.StringVar(&f.glURL, "gitlab-url", cisecret.DefaultGitLab, "GitLab: the instance")
	fs.BoolVar(&f.glMasked, "gitlab-masked", false, "GitLab: ask GitLab to mask the variable (GitLab refuses to mask a value with spaces, which a session has); it is always stored raw, so $ is not expanded")
	fs.StringVar(&f.ccProject, "circleci-project", "", "CircleCI: a project environment variable; the project's slug vcs/org/repo, e.g. gh/acme/app")
	fs.StringVar(&f.ccContext, "circleci-context", "", "CircleCI: a context variable; the context's ID")
	fs.StringVar(&f.ccURL, "circleci-url", cisecret.DefaultCircleCI, "CircleCI: the server")
	fs.StringVar(&f.brApp, "bitrise-app", "", "Bitrise: an app secret; the app's slug")
	fs.StringVar(&f.brURL, "bitrise-url", cisecret.DefaultBitrise, "Bitrise: the API")
}

// destination checks the flags and makes the destination, reporting every
// problem at once. token is "" in a dry run without one.
func (f *storeFlags) destination(e Env, term *report.Terminal, hc *http.Client) (cisecret.Destination, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	checkURL := func(flagName, u string) {
		if err := config.CheckBaseURL(u); err != nil {
			fail("--%s %s: give an https:// URL, or http://127.0.0.1:PORT for a local fake", flagName, err)
		}
	}
	var kinds []string
	if f.repo != "" || f.org != "" || f.env != "" {
		kinds = append(kinds, "GitHub")
	}
	if f.glProject != "" || f.glGroup != "" {
		kinds = append(kinds, "GitLab")
	}
	if f.ccProject != "" || f.ccContext != "" {
		kinds = append(kinds, "CircleCI")
	}
	if f.brApp != "" {
		kinds = append(kinds, "Bitrise")
	}
	if len(kinds) != 1 {
		if len(kinds) == 0 {
			fail("no destination: give --repo OWNER/NAME, --org ORG, --gitlab-project, --gitlab-group, --circleci-project, --circleci-context or --bitrise-app")
		} else {
			fail("one destination at a time, not %s", strings.Join(kinds, " and "))
		}
		return nil, errors.Join(errs...)
	}
	checkURL("session-base-url", f.sessionBaseURL)
	opts := []ciapi.Option{ciapi.WithHTTPClient(hc), ciapi.WithUserAgent("asc-auth/" + e.Version)}
	var d cisecret.Destination
	var tokenVars []string
	switch kinds[0] {
	case "GitHub":
		tokenVars = []string{"GH_TOKEN", "GITHUB_TOKEN"}
		t := cisecret.GitHubTarget{Repo: f.repo, Env: f.env, Org: f.org, Visibility: f.visibility}
		for _, r := range strings.Split(f.repos, ",") {
			if r = strings.TrimSpace(r); r != "" {
				t.Repos = append(t.Repos, r)
			}
		}
		switch {
		case f.org != "" && f.repo != "":
			fail("--org and --repo: give one; an organisation secret names the repositories that see it with --repos")
		case f.env != "" && f.repo == "":
			fail("--env needs --repo OWNER/NAME: an environment belongs to a repository")
		case f.repo != "":
			if _, _, err := cisecret.SplitRepo(f.repo); err != nil {
				fail("--repo %v", err)
			}
			if f.visibility != "" || len(t.Repos) > 0 {
				fail("--visibility and --repos are for organisation secrets (--org)")
			}
		case f.org != "":
			if len(t.Repos) > 0 && t.Visibility == "" {
				t.Visibility = cisecret.VisibilitySelected
			}
			if t.Visibility == "" {
				t.Visibility = cisecret.VisibilityPrivate
			}
			switch {
			case t.Visibility != cisecret.VisibilityAll && t.Visibility != cisecret.VisibilityPrivate && t.Visibility != cisecret.VisibilitySelected:
				fail("--visibility %q: give all, private or selected", t.Visibility)
			case t.Visibility == cisecret.VisibilitySelected && len(t.Repos) == 0:
				fail("--visibility selected needs --repos NAME,...")
			case t.Visibility != cisecret.VisibilitySelected && len(t.Repos) > 0:
				fail("--repos goes with --visibility selected")
			}
		}
		api := f.ghAPI
		if api == "" && e.Getenv != nil {
			api = e.Getenv("GITHUB_API_URL")
		}
		if api == "" {
			api = cisecret.DefaultGitHubAPI
		}
		checkURL("github-api-url", api)
		if err := cisecret.CheckGitHubName(f.name); err != nil {
			fail("--name: %s", strings.TrimPrefix(err.Error(), "cisecret: "))
		}
		d = cisecret.NewGitHub(api, f.token(e, term, tokenVars, &errs), t, opts...)
	case "GitLab":
		tokenVars = []string{"GITLAB_TOKEN"}
		if f.glProject != "" && f.glGroup != "" {
			fail("--gitlab-project and --gitlab-group: give one")
		}
		checkURL("gitlab-url", f.glURL)
		id, group := f.glProject, false
		if id == "" {
			id, group = f.glGroup, true
		}
		tok := f.token(e, term, tokenVars, &errs)
		d = cisecret.NewGitLab(f.glURL, tok, id, group, f.glMasked, opts...)
	case "CircleCI":
		tokenVars = []string{"CIRCLECI_TOKEN"}
		switch {
		case f.ccProject != "" && f.ccContext != "":
			fail("--circleci-project and --circleci-context: give one")
		case f.ccProject != "" && len(strings.Split(f.ccProject, "/")) != 3:
			fail("--circleci-project %q is not a project slug vcs/org/repo, such as gh/acme/app", f.ccProject)
		}
		checkURL("circleci-url", f.ccURL)
		tok := f.token(e, term, tokenVars, &errs)
		d = cisecret.NewCircleCI(f.ccURL, tok, f.ccProject, f.ccContext, opts...)
	case "Bitrise":
		tokenVars = []string{"BITRISE_TOKEN"}
		checkURL("bitrise-url", f.brURL)
		tok := f.token(e, term, tokenVars, &errs)
		d = cisecret.NewBitrise(f.brURL, tok, f.brApp, opts...)
	}
	if kinds[0] != "GitHub" {
		if err := d.Check(f.name, []byte("x")); err != nil {
			fail("--name: %s", strings.TrimPrefix(err.Error(), "cisecret: "))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

// token reads the service's token from --token-file or the first of vars
// that is set, and masks it. A missing token is a problem unless this is
// a dry run.
func (f *storeFlags) token(e Env, term *report.Terminal, vars []string, errs *[]error) string {
	return readToken(e, term, f.tokenFile, vars, !f.dryRun, errs)
}

// readToken reads a CI service's token from file, or else from the first
// of the variables vars that is set, and masks it before anything can
// print it. It never comes from an argument. A problem (an unreadable
// file, or no token where one is required) joins errs.
func readToken(e Env, term *report.Terminal, file string, vars []string, required bool, errs *[]error) string {
	var tok string
	if file != "" {
		b, err := e.ReadFile(file)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("--token-file: cannot read it: %w", err))
			return ""
		}
		tok = strings.TrimSpace(string(b))
	} else if e.Getenv != nil {
		for _, v := range vars {
			if tok = strings.TrimSpace(e.Getenv(v)); tok != "" {
				break
			}
		}
	}
	term.Mask(tok)
	if tok == "" && required {
		*errs = append(*errs, fmt.Errorf("no token: set %s, or give --token-file (never the token itself as an argument)", strings.Join(vars, " or ")))
	}
	return tok
}

// runSessionStore is asc-auth session store.
func runSessionStore(ctx context.Context, e Env, args []string) int {
	const prog = "asc-auth session store"
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	var f storeFlags
	f.declare(fs)
	fs.Usage = func() {
		fmt.Fprint(e.Stderr, storeUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		// Not quoted: a stray argument is most often a token pasted there.
		fmt.Fprintf(e.Stderr, "%s: unexpected argument(s); tokens come from the environment or --token-file\n", prog)
		return exitUsage
	}
	term := report.NewTerminal(e.Stderr, nil)
	hc := &http.Client{Timeout: storeHTTPTimeout}
	start := e.Now()

	// Every flag is checked before the session is read: a mistake must not
	// cost a 2FA code.
	dest, err := f.destination(e, term, hc)
	if err != nil {
		for _, err := range unjoin(err) {
			fmt.Fprintf(e.Stderr, "%s: %s\n", prog, term.Redact(err.Error()))
		}
		return exitUsage
	}

	text, code := readSessionInput(e, f.file, prog)
	if code != exitOK {
		return code
	}
	found, err := spaceauth.Find(text)
	for _, c := range found.Tried {
		term.Mask(session.Secrets(c, nil)...)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "%s: %s\n", prog, term.Redact(findProblem(err)))
		return exitFailure
	}
	s := found.Session
	term.Mask(session.Secrets(found.Raw, s)...)
	value := []byte(session.Escaped(found.Raw))
	term.Mask(string(value))

	now := e.Now()
	exp, hasExpiry := s.ExpiresAt()
	expiry := "unknown (its authentication cookies carry no expiry date)"
	switch {
	case hasExpiry && !exp.After(now):
		fmt.Fprintf(e.Stderr, "%s: the session expired on %s; nothing was stored. Log in again with fastlane spaceauth.\n", prog, exp.UTC().Format(time.RFC3339))
		return exitFailure
	case hasExpiry:
		expiry = fmt.Sprintf("%s (%d days left)", exp.UTC().Format(time.RFC3339), int(exp.Sub(now)/(24*time.Hour)))
	default:
		term.Warningf("Apple ID session", "its authentication cookies carry no expiry date, so nobody can be warned before it dies")
	}
	if err := dest.Check(f.name, value); err != nil {
		fmt.Fprintf(e.Stderr, "%s: %s; nothing was sent\n", prog, term.Redact(strings.TrimPrefix(err.Error(), "cisecret: ")))
		return exitFailure
	}
	if !f.noCheck {
		cctx, cancel := context.WithTimeout(ctx, sessionCheckTimeout)
		res, err := session.Check(cctx, hc, f.sessionBaseURL, s, session.WithUserAgent("asc-auth/"+e.Version))
		cancel()
		switch {
		case res.Status == session.StatusDead:
			fmt.Fprintf(e.Stderr, "%s: App Store Connect refused the session (HTTP %d); nothing was stored. Log in again with fastlane spaceauth.\n", prog, res.HTTPStatus)
			return exitFailure
		case res.Status == session.StatusValid:
			term.Infof("The session is valid (team %s).", cmp.Or(res.Provider, "unnamed"))
		default:
			term.Warningf("Apple ID session", "could not verify the session live (%v); storing it unchecked", err)
		}
	}
	if f.dryRun {
		fmt.Fprintf(e.Stdout, "dry run: would store %s in %s\n", f.name, dest.Describe())
		fmt.Fprintf(e.Stdout, "session: %d bytes (the escaped one-line form), %d cookies, expires %s\n", len(value), len(s.Cookies), expiry)
		return exitOK
	}
	res, err := dest.Store(ctx, f.name, value)
	if err != nil {
		fmt.Fprintf(e.Stderr, "%s: %s\n", prog, term.Redact(strings.TrimPrefix(err.Error(), "cisecret: ")))
		return exitFailure
	}
	fmt.Fprintln(e.Stdout, term.Redact(fmt.Sprintf("stored %s in %s (%s; %d requests in %s)", f.name, dest.Describe(), res.Verb(),
		dest.Requests(), e.Now().Sub(start).Round(time.Millisecond))))
	fmt.Fprintf(e.Stdout, "session expires %s\n", expiry)
	return exitOK
}

// readSessionInput reads --file, or standard input while passing what is
// not the session through to standard error as it arrives.
func readSessionInput(e Env, file, prog string) (string, int) {
	var data []byte
	var err error
	if file != "" {
		data, err = e.ReadFile(file)
	} else if e.Stdin != nil {
		var buf bytes.Buffer
		pass := spaceauth.NewPassthrough(e.Stderr)
		_, err = io.Copy(io.MultiWriter(&buf, pass), io.LimitReader(e.Stdin, maxStdin+1))
		if ferr := pass.Flush(); err == nil {
			err = ferr
		}
		data = buf.Bytes()
	}
	switch {
	case err != nil:
		fmt.Fprintf(e.Stderr, "%s: cannot read the session: %v\n", prog, err)
		return "", exitFailure
	case len(data) > maxStdin:
		fmt.Fprintf(e.Stderr, "%s: the input is far too large for a session\n", prog)
		return "", exitFailure
	case strings.TrimSpace(string(data)) == "":
		fmt.Fprintf(e.Stderr, "%s: no session given: pipe in what fastlane spaceauth prints, or pass --file; nothing was sent\n", prog)
		return "", exitUsage
	}
	return string(data), exitOK
}

// findProblem is one line, with a hint, for a session that was not found
// or not accepted; it never quotes the input.
func findProblem(err error) string {
	var se *session.Error
	switch {
	case errors.As(err, &se):
		return "the input is not a usable session: " + se.Problem() + "; " + se.Hint() + "; nothing was sent"
	case errors.Is(err, spaceauth.ErrNotFound):
		return "no session in the input (did fastlane spaceauth log in?); pipe in what it prints, or pass --file; nothing was sent"
	}
	return err.Error()
}
