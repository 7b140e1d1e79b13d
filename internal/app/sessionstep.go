package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/session"
	"github.com/asc-auth/action/internal/sessionwatch"
)

// renewal tells the user how to replace a dead or expiring session: the
// one command that logs in and stores the new session as this
// repository's secret. repo is OWNER/NAME from GITHUB_REPOSITORY, or ""
// off a runner. The Apple ID is never named: the person fills it in.
func renewal(repo string) string {
	return "renew it on a Mac with `" + sessionwatch.RenewCommand(repo, "") + "`"
}

// sessionCheckTimeout bounds the live check: a hung check must not hold
// the job, and its failure is only "could not verify".
const sessionCheckTimeout = 30 * time.Second

// sessionStep checks an Apple ID session (expiry, then live) and exports
// it and the app-specific password for fastlane. A dead or expired session
// fails the step before anything is exported.
type sessionStep struct{ cfg *config.Session }

func (sessionStep) Name() string { return config.StepSession }

func (sessionStep) Check(context.Context, report.Report, *State) error { return nil }

func (st sessionStep) Run(ctx context.Context, r report.Report, s *State) error {
	var repo string
	if s.Env.Getenv != nil {
		repo = s.Env.Getenv("GITHUB_REPOSITORY")
	}
	return runSessionStep(ctx, r, st.cfg, s.HTTPClient(), s.Env.Now(), s.userAgent(), renewal(repo))
}

func runSessionStep(ctx context.Context, rt report.Report, cfg *config.Session, hc *http.Client, now time.Time, userAgent, regenerate string) error {
	var rows, exports, outputs [][2]string
	if cfg.Parsed != nil {
		s := cfg.Parsed
		exp, ok := s.ExpiresAt()
		switch {
		case !ok:
			rt.Warningf("Apple ID session", "its authentication cookies carry no expiry date, so asc-auth cannot warn before the session dies")
			rows = append(rows, [2]string{"Expires", "unknown (no expiry on the authentication cookies)"})
		case !exp.After(now):
			return fmt.Errorf("input session: the Apple ID session expired on %s; %s", exp.UTC().Format(time.RFC3339), regenerate)
		default:
			days := int(exp.Sub(now) / (24 * time.Hour))
			outputs = [][2]string{
				{"session-expires-at", exp.UTC().Format(time.RFC3339)},
				{"session-days-left", strconv.Itoa(days)},
			}
			if days < cfg.WarnDays {
				rt.Warningf("Apple ID session expires soon", "the session expires on %s, in %d day(s); %s", exp.UTC().Format(time.RFC3339), days, regenerate)
			}
			rows = append(rows, [2]string{"Expires", fmt.Sprintf("%s (%d days left; warning below %d)", exp.UTC().Format(time.RFC3339), days, cfg.WarnDays)})
		}
		if cfg.Check {
			row, err := checkSession(ctx, rt, cfg, hc, userAgent, regenerate)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		escaped := session.Escaped(cfg.Raw)
		rt.Mask(escaped)
		exports = append(exports, [2]string{"FASTLANE_SESSION", escaped}, [2]string{"SPACESHIP_SESSION", escaped})
		rows = append(rows, [2]string{"Cookies", cookieList(s)})
	}
	if cfg.AppSpecificPassword != "" {
		exports = append(exports, [2]string{"FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD", cfg.AppSpecificPassword})
	}
	// Nothing is written until every check has passed.
	if err := setOutputs(rt, outputs); err != nil {
		return err
	}
	var names []string
	for _, e := range exports {
		if err := rt.ExportEnv(e[0], e[1]); err != nil {
			return err
		}
		names = append(names, "`"+e[0]+"`")
	}
	rows = append(rows, [2]string{"Environment", strings.Join(names, ", ")})
	rt.Infof("Apple ID credentials exported for later steps: %s.", strings.Join(names, ", "))
	summary(rt, table("Apple ID session", rows))
	return nil
}

// checkSession asks App Store Connect whether the session still works, as
// spaceship does. Only a clear refusal fails the step; anything else is
// "could not verify".
func checkSession(ctx context.Context, rt report.Report, cfg *config.Session, hc *http.Client, userAgent, regenerate string) ([2]string, error) {
	ctx, cancel := context.WithTimeout(ctx, sessionCheckTimeout)
	defer cancel()
	res, err := session.Check(ctx, hc, cfg.BaseURL, cfg.Parsed, session.WithUserAgent(userAgent))
	switch {
	case res.Status == session.StatusValid:
		rt.Infof("The Apple ID session is valid (team %s).", cmp.Or(res.Provider, "unnamed"))
		return [2]string{"Live check", "valid"}, nil
	case res.Status == session.StatusDead:
		return [2]string{}, fmt.Errorf("input session: App Store Connect refused the session (HTTP %d), whatever its cookies claim; %s", res.HTTPStatus, regenerate)
	case errors.Is(err, session.ErrUnverified) || err != nil:
		rt.Warningf("Apple ID session", "could not verify the session (%v); it was exported unchecked", err)
		return [2]string{"Live check", "could not verify"}, nil
	}
	return [2]string{"Live check", res.Status.String()}, nil
}

// cookieList names each cookie with its domain and expiry, never its value.
func cookieList(s *session.Session) string {
	var parts []string
	for _, c := range s.Cookies {
		exp := "session cookie"
		if t, ok := c.ExpiresAt(); ok {
			exp = "expires " + t.UTC().Format(time.RFC3339)
		}
		parts = append(parts, fmt.Sprintf("`%s` (%s, %s)", c.Name, c.Domain, exp))
	}
	return strings.Join(parts, "<br>")
}
