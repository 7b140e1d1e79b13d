package asc

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// unwrapURLError drops net/http's *url.Error wrapper, whose message repeats
// the full URL, query included. The caller names the request itself, through
// redactURL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// isTemporary reports whether a failed attempt (no response, or a body cut
// short) is worth repeating: it timed out or the connection was refused,
// reset or closed early. Certificate errors, bad URLs and the like are not.
func isTemporary(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded), // the per-attempt timeout
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && (dns.IsTemporary || dns.IsTimeout) {
		return true
	}
	// HTTP/2 streams reset by the server surface with this text only.
	return strings.Contains(err.Error(), "server sent GOAWAY") || strings.Contains(err.Error(), "stream error")
}

// RetryAfter parses a Retry-After value, delay-seconds or an HTTP date
// (RFC 9110 §10.2.3), relative to now. A date in the past means no wait.
// Apple does not document the header, so its absence is the usual case.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}
