package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// DefaultBaseURL is where spaceship checks a session: App Store
	// Connect's web origin, not the API's.
	DefaultBaseURL = "https://appstoreconnect.apple.com"

	// DefaultUserAgent is sent when WithUserAgent is not given.
	DefaultUserAgent = "asc-auth/dev"

	// sessionPath is the web session endpoint spaceship asks
	// (Spaceship::Client#fetch_olympus_session).
	sessionPath = "/olympus/v1/session"

	// maxBody caps the answer read. It describes the user and their teams
	// (availableProviders), a few KiB even for someone in many teams.
	maxBody = 1 << 20

	// defaultTimeout bounds a check when Check is given no client. The
	// answer is small; half a minute means something is stuck.
	defaultTimeout = 30 * time.Second
)

// Status is what App Store Connect said of a session.
type Status int

const (
	// StatusUnknown: the check did not get a clear answer (a network
	// error, a timeout, a 5xx, a rate limit, a body that is not JSON).
	// The session may well be fine; Check returns an error saying why.
	StatusUnknown Status = iota
	// StatusValid: App Store Connect accepted the cookies and named the
	// team (provider) they act for.
	StatusValid
	// StatusDead: App Store Connect refused the cookies (401 or 403), or
	// accepted the request but named no team, which spaceship also takes
	// as a session it cannot use. Log in again with fastlane spaceauth,
	// whatever the cookies' own expiry dates say.
	StatusDead
)

// String names the status: "valid", "dead" or "unknown".
func (s Status) String() string {
	switch s {
	case StatusValid:
		return "valid"
	case StatusDead:
		return "dead"
	}
	return "unknown"
}

// Result is the outcome of Check.
type Result struct {
	Status Status
	// Provider is the name of the team the session acts for, as App Store
	// Connect reports it, or "" if it reports none.
	Provider string
	// HTTPStatus is the status code of the answer, or 0 if there was none.
	HTTPStatus int
}

// ErrUnverified is wrapped by every error Check returns: the session could
// not be checked, which says nothing about whether it works.
var ErrUnverified = errors.New("session: could not verify the session")

// Option changes how Check asks.
type Option func(*checkConfig)

type checkConfig struct {
	userAgent string
}

// WithUserAgent sets the User-Agent header (default DefaultUserAgent).
func WithUserAgent(ua string) Option { return func(c *checkConfig) { c.userAgent = ua } }

// Check asks App Store Connect whether the session still works, as
// spaceship does: GET {baseURL}/olympus/v1/session with the session's
// cookies. baseURL "" means DefaultBaseURL; hc nil means a client with a
// 30-second timeout. Redirects are not followed, so the cookies go to
// baseURL only.
//
// It returns StatusValid with the team's name, or StatusDead, with a nil
// error; or StatusUnknown with an error wrapping ErrUnverified. No error
// holds a cookie.
func Check(ctx context.Context, hc *http.Client, baseURL string, s *Session, opts ...Option) (Result, error) {
	cfg := checkConfig{userAgent: DefaultUserAgent}
	for _, o := range opts {
		o(&cfg)
	}
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	client := *hc
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	target, err := sessionURL(baseURL)
	if err != nil {
		return Result{}, err
	}
	if s == nil || len(s.Cookies) == 0 {
		return Result{}, fmt.Errorf("%w: the session has no cookies to send", ErrUnverified)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrUnverified, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", cfg.userAgent)
	req.Header.Set("Cookie", cookieHeader(s))

	res, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrUnverified, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	out := Result{HTTPStatus: res.StatusCode}
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		out.Status = StatusDead
		return out, nil
	case res.StatusCode < 200 || res.StatusCode > 299:
		return out, fmt.Errorf("%w: App Store Connect answered %s", ErrUnverified, statusText(res))
	case err != nil:
		return out, fmt.Errorf("%w: reading the answer: %w", ErrUnverified, err)
	case len(body) > maxBody:
		return out, fmt.Errorf("%w: the answer is larger than %d KiB", ErrUnverified, maxBody>>10)
	}
	var doc struct {
		Provider json.RawMessage `json:"provider"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return out, fmt.Errorf("%w: App Store Connect answered %s with a body that is not a JSON object", ErrUnverified, statusText(res))
	}
	p := bytes.TrimSpace(doc.Provider)
	if len(p) == 0 || string(p) == "null" || string(p) == "false" {
		out.Status = StatusDead
		return out, nil
	}
	out.Status = StatusValid
	var provider struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(p, &provider) == nil {
		out.Provider = provider.Name
	}
	return out, nil
}

// sessionURL builds the check's URL from a base URL.
func sessionURL(baseURL string) (string, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: the base URL is not an http(s) origin", ErrUnverified)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + sessionPath
	u.RawPath = ""
	return u.String(), nil
}

// cookieHeader joins the cookies as a Cookie header: "a=1; b=2".
func cookieHeader(s *Session) string {
	var b strings.Builder
	for i, c := range s.Cookies {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Name)
		b.WriteByte('=')
		b.WriteString(c.Value)
	}
	return b.String()
}

// statusText is "503 Service Unavailable", or the code alone.
func statusText(res *http.Response) string {
	if t := http.StatusText(res.StatusCode); t != "" {
		return fmt.Sprintf("%d %s", res.StatusCode, t)
	}
	return fmt.Sprintf("%d", res.StatusCode)
}
