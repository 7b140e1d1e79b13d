package asc

import (
	"net/url"
	"strings"

	"github.com/asc-auth/action/internal/httpx"
)

// redactURL and redactURLString are httpx.RedactURL and
// httpx.RedactURLString: every URL that reaches an error or a log goes
// through them.
func redactURL(u *url.URL) string     { return httpx.RedactURL(u) }
func redactURLString(s string) string { return httpx.RedactURLString(s) }

// sameOrigin reports whether u has a's scheme, host and port (default ports
// made explicit), so that a token meant for a is never sent to u.
func sameOrigin(u, a *url.URL) bool {
	if u == nil || a == nil || u.User != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, a.Scheme) && hostPort(u) == hostPort(a)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

// IsUUID reports whether s has the 8-4-4-4-12 hex form App Store Connect
// gives builds and notary submissions, so that an ID is checked before it
// goes into a path.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
