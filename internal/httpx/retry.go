package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

// A failed attempt that got no answer (or an answer cut short) is one of
// three kinds: known to be passing (Temporary), known to be lasting
// (Permanent), or neither. A client that must not repeat a request without
// a good reason retries only what is Temporary; one whose requests are
// cheap to repeat and costly to give up on (a part of a large upload)
// retries all but what is Permanent. No error is both.

// Temporary reports whether err is known to be passing: a timeout, or a
// connection refused, reset or closed early, or a name server that did not
// answer. Certificate errors, bad URLs and the like are not.
func Temporary(err error) bool {
	switch {
	case err == nil, Permanent(err):
		return false
	case errors.Is(err, context.DeadlineExceeded), // a per-attempt timeout
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT):
		return true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok && (dns.IsTemporary || dns.IsTimeout) {
		return true
	}
	// HTTP/2 streams reset by the server surface with this text only.
	msg := err.Error()
	return strings.Contains(msg, "server sent GOAWAY") || strings.Contains(msg, "stream error")
}

// Permanent reports whether err is known to be lasting, so that another
// attempt cannot fix it: a certificate that does not verify, or a host
// name that does not exist.
func Permanent(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return true
	}
	dns, ok := errors.AsType[*net.DNSError](err)
	return ok && dns.IsNotFound
}

// UnwrapURLError drops net/http's *url.Error wrapper, whose message repeats
// the full URL, query included. The caller names the request itself,
// through RedactURL.
func UnwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// Backoff is the wait before retry n (from 1): full jitter, a random share
// (rnd in [0, 1)) of base·2^(n−1), capped at ceiling.
func Backoff(n int, base, ceiling time.Duration, rnd func() float64) time.Duration {
	d := ceiling
	if n >= 1 && n < 32 && base<<(n-1) > 0 && base<<(n-1) < ceiling {
		d = base << (n - 1)
	}
	f := rnd()
	if f < 0 || f > 1 {
		f = 1
	}
	return time.Duration(f * float64(d))
}

// MaxRetryAfter is the longest Retry-After a client here waits for: a
// longer one (an hourly allowance spent) should end the job, or be cut to
// this, rather than stall a CI runner.
const MaxRetryAfter = 2 * time.Minute

// RetryAfter parses a Retry-After value, delay-seconds or an HTTP date
// (RFC 9110 §10.2.3), relative to now. A date in the past means no wait.
// The delay is not capped: callers compare it with MaxRetryAfter, some to
// refuse it, some to shorten it.
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

// Sleep waits for d or until ctx is done, whichever comes first: the wait
// between two attempts.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
