package config

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/asc-auth/action/internal/session"
)

// Session-step inputs.
const (
	InputSession             = "session"
	InputSessionCheck        = "session-check"
	InputSessionWarnDays     = "session-warn-days"
	InputSessionBaseURL      = "session-base-url"
	InputAppSpecificPassword = "app-specific-password"
)

// DefaultSessionBaseURL is where spaceship checks a session.
const DefaultSessionBaseURL = "https://appstoreconnect.apple.com"

// defaultWarnDays stands in for an invalid session-warn-days while the
// other inputs are checked; the declared default is the same.
const defaultWarnDays = 7

// appSpecificPassword is the form Apple shows: four groups of four
// lower-case letters.
var appSpecificPassword = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$`)
})

// Session is the checked configuration of the session step: an Apple ID
// session, an app-specific password, or both.
type Session struct {
	Raw                 string           // the session as given; "" if none
	Parsed              *session.Session // nil if none
	Check               bool             // check it live
	WarnDays            int
	BaseURL             string
	AppSpecificPassword string
}

// session reads the session step's inputs, all of them whether or not a
// session is given, and returns nil when neither a session nor an
// app-specific password is.
func (p *parser) session() *Session {
	raw := p.get(InputSession)
	asp := p.get(InputAppSpecificPassword)
	cfg := &Session{
		Raw:                 raw,
		Check:               p.boolean(InputSessionCheck, p.get(InputSessionCheck)),
		WarnDays:            p.warnDays(),
		BaseURL:             p.url(InputSessionBaseURL),
		AppSpecificPassword: asp,
	}
	if raw == "" && asp == "" {
		return nil
	}
	if raw != "" {
		s, err := session.Parse(raw)
		p.secrets = append(p.secrets, session.Secrets(raw, s)...)
		if err != nil {
			p.failFrom(InputSession, err, "is not a fastlane session", "paste the value fastlane spaceauth -u you@example.com prints")
		}
		cfg.Parsed = s
	}
	if asp != "" && !appSpecificPassword().MatchString(asp) {
		p.fail(InputAppSpecificPassword, "is not an app-specific password (xxxx-xxxx-xxxx-xxxx, lower-case letters)",
			"generate one at account.apple.com > Sign-In and Security > App-Specific Passwords")
	}
	return cfg
}

func (p *parser) warnDays() int {
	n, err := strconv.Atoi(p.get(InputSessionWarnDays))
	if err != nil || n < 0 || n > 365 {
		p.fail(InputSessionWarnDays, "is not a whole number of days from 0 to 365", "give a number such as 7")
		return defaultWarnDays
	}
	return n
}
