package app

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/ciapi"
	"github.com/asc-auth/action/internal/cisecret"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/session"
	"github.com/asc-auth/action/internal/sessionwatch"
)

const watchUsage = `Usage: asc-auth session watch [flags]

Checks the stored session (its expiry, and live unless --no-check) and
keeps one GitHub issue about it: opens it when the session is dead,
missing, expired or within --days of expiring, comments on it on later
runs, and closes it once a fresh session is stored. The issue gives the
renewal command. Made for a daily scheduled workflow (see
.github/workflows/session-watch.yml).

The session comes from the environment variable named by --name
(FASTLANE_SESSION), or --file. The token, from GITHUB_TOKEN or GH_TOKEN
or --token-file, needs to write issues only (permissions: issues: write).

Flags:
`

// runSessionWatch is asc-auth session watch.
func runSessionWatch(ctx context.Context, e Env, args []string) int {
	const prog = "asc-auth session watch"
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	getenv := e.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	repo := fs.String("repo", getenv("GITHUB_REPOSITORY"), "the repository whose issues to keep, OWNER/NAME (default $GITHUB_REPOSITORY)")
	days := fs.Int("days", 7, "open the issue when fewer days than this are left")
	name := fs.String("name", "FASTLANE_SESSION", "the secret's name, and the environment variable the session is read from")
	file := fs.String("file", "", "read the session from this file instead of the environment")
	tokenFile := fs.String("token-file", "", "read the token from this file instead of GITHUB_TOKEN or GH_TOKEN")
	noCheck := fs.Bool("no-check", false, "skip the live check with App Store Connect")
	baseURL := fs.String("session-base-url", config.DefaultSessionBaseURL, "where the live check asks")
	api := fs.String("github-api-url", cmp.Or(getenv("GITHUB_API_URL"), cisecret.DefaultGitHubAPI), "GitHub's REST API (default $GITHUB_API_URL)")
	fs.Usage = func() {
		fmt.Fprint(e.Stderr, watchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	term := report.NewTerminal(e.Stderr, nil)

	var errs []error
	if fs.NArg() != 0 {
		// Not quoted: a stray argument is most often a token pasted there.
		errs = append(errs, errors.New("unexpected argument(s); tokens come from the environment or --token-file"))
	}
	if _, _, err := cisecret.SplitRepo(*repo); err != nil {
		errs = append(errs, fmt.Errorf("--repo %w (or set GITHUB_REPOSITORY)", err))
	}
	if *days < 0 || *days > 365 {
		errs = append(errs, errors.New("--days: give a whole number of days from 0 to 365"))
	}
	for _, f := range [][2]string{{"github-api-url", *api}, {"session-base-url", *baseURL}} {
		if err := config.CheckBaseURL(f[1]); err != nil {
			errs = append(errs, fmt.Errorf("--%s %w", f[0], err))
		}
	}
	// The workflow's own token first: the watch runs in a scheduled job.
	token := readToken(e, term, *tokenFile, []string{"GITHUB_TOKEN", "GH_TOKEN"}, true, &errs)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintf(e.Stderr, "%s: %s\n", prog, term.Redact(err.Error()))
		}
		return exitUsage
	}

	raw := getenv(*name)
	if *file != "" {
		b, err := e.ReadFile(*file)
		if err != nil {
			fmt.Fprintf(e.Stderr, "%s: cannot read the session: %v\n", prog, err)
			return exitFailure
		}
		raw = string(b)
	}
	term.Mask(session.Secrets(raw, nil)...)
	hc := &http.Client{Timeout: storeHTTPTimeout}
	st := watchStatus(ctx, term, hc, raw, *name, e.Now(), *days, !*noCheck, *baseURL, "asc-auth/"+e.Version)
	term.Infof("%s: %s", *name, describeStatus(st))

	w := sessionwatch.New(*api, token, *repo, *name, ciapi.WithHTTPClient(hc), ciapi.WithUserAgent("asc-auth/"+e.Version))
	act, err := w.Apply(ctx, st)
	if err != nil {
		fmt.Fprintf(e.Stderr, "%s: %s\n", prog, term.Redact(err.Error()))
		return exitFailure
	}
	fmt.Fprintln(e.Stdout, term.Redact(fmt.Sprintf("%s (%d requests)", act, w.Requests())))
	return exitOK
}

// watchStatus judges the stored session.
func watchStatus(ctx context.Context, term *report.Terminal, hc *http.Client, raw, name string, now time.Time, days int, live bool, baseURL, ua string) sessionwatch.Status {
	if strings.TrimSpace(raw) == "" {
		return sessionwatch.Status{State: sessionwatch.Missing, Detail: "the secret is empty or not passed to the job as " + name}
	}
	s, err := session.Parse(raw)
	if err != nil {
		var se *session.Error
		if errors.As(err, &se) {
			return sessionwatch.Status{State: sessionwatch.Missing, Detail: se.Problem()}
		}
		return sessionwatch.Status{State: sessionwatch.Missing, Detail: "it does not parse"}
	}
	term.Mask(session.Secrets(raw, s)...)
	st := sessionwatch.Status{State: sessionwatch.Healthy}
	exp, ok := s.ExpiresAt()
	if ok {
		st.ExpiresAt, st.DaysLeft = exp, int(exp.Sub(now)/(24*time.Hour))
		if !exp.After(now) {
			st.State = sessionwatch.Expired
			return st
		}
	}
	if live {
		cctx, cancel := context.WithTimeout(ctx, sessionCheckTimeout)
		res, err := session.Check(cctx, hc, baseURL, s, session.WithUserAgent(ua))
		cancel()
		switch res.Status {
		case session.StatusDead:
			st.State, st.Detail = sessionwatch.Dead, fmt.Sprintf("HTTP %d", res.HTTPStatus)
			return st
		case session.StatusUnknown:
			st.State = sessionwatch.Unknown
			term.Warningf("Apple ID session", "could not verify the session live (%v)", err)
		}
	}
	if ok && st.DaysLeft < days {
		st.State = sessionwatch.Expiring
	}
	return st
}

func describeStatus(st sessionwatch.Status) string {
	exp := "no expiry date"
	if !st.ExpiresAt.IsZero() {
		exp = fmt.Sprintf("expires %s, %d days left", st.ExpiresAt.UTC().Format(time.RFC3339), st.DaysLeft)
	}
	switch st.State {
	case sessionwatch.Healthy:
		return "healthy (" + exp + ")"
	case sessionwatch.Unknown:
		return "not verified live (" + exp + ")"
	case sessionwatch.Expiring:
		return "expiring (" + exp + ")"
	case sessionwatch.Expired:
		return "expired (" + exp + ")"
	case sessionwatch.Dead:
		return "refused by App Store Connect (" + st.Detail + ")"
	}
	return "missing or unreadable (" + st.Detail + ")"
}
