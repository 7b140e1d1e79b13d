package asc

import (
	"net/url"
	"strings"
)

// redactURL returns u without its query, fragment and user information, the
// parts that may carry secrets (a presigned URL's signature, a cursor, a
// password). Every URL that reaches an error or a log goes through it.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// redactURLString is redactURL for a string that may not even parse; what
// cannot be parsed is cut at the first '?' or '#'.
func redactURLString(s string) string {
	if u, err := url.Parse(s); err == nil {
		return redactURL(u)
	}
	if i := strings.IndexAny(s, "?#@"); i >= 0 {
		s = s[:i]
	}
	return strings.ToValidUTF8(oneLine(s), "\uFFFD")
}

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
