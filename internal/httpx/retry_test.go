package httpx

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		err                  error
		temporary, permanent bool
	}{
		{"nil", nil, false, false},
		{"deadline", context.DeadlineExceeded, true, false},
		{"eof", io.EOF, true, false},
		{"unexpected eof", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true, false},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true, false},
		{"refused", &url.Error{Op: "Put", URL: "https://h/p", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true, false},
		{"aborted", syscall.ECONNABORTED, true, false},
		{"broken pipe", syscall.EPIPE, true, false},
		{"timed out", syscall.ETIMEDOUT, true, false},
		{"net timeout", &net.DNSError{Err: "i/o timeout", IsTimeout: true}, true, false},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, true, false},
		{"goaway", errors.New("http2: server sent GOAWAY and closed the connection"), true, false},
		{"stream error", errors.New("stream error: stream ID 3; INTERNAL_ERROR"), true, false},
		{"no such host", &net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}, false, true},
		{"unknown authority", &url.Error{Op: "Get", URL: "https://h", Err: x509.UnknownAuthorityError{}}, false, true},
		{"bad host name", x509.HostnameError{Host: "h", Certificate: &x509.Certificate{}}, false, true},
		{"expired certificate", x509.CertificateInvalidError{Reason: x509.Expired}, false, true},
		{"neither", errors.New("http: server closed idle connection"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Temporary(tt.err); got != tt.temporary {
				t.Errorf("Temporary(%v) = %t, want %t", tt.err, got, tt.temporary)
			}
			if got := Permanent(tt.err); got != tt.permanent {
				t.Errorf("Permanent(%v) = %t, want %t", tt.err, got, tt.permanent)
			}
		})
	}
}

func TestUnwrapURLError(t *testing.T) {
	t.Parallel()
	inner := errors.New("connection reset")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"url error", &url.Error{Op: "Put", URL: "https://h/p?sig=secret", Err: inner}, inner},
		{"wrapped url error", fmt.Errorf("sending: %w", &url.Error{Op: "Put", URL: "https://h/p?sig=secret", Err: inner}), inner},
		{"other", inner, inner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := UnwrapURLError(tt.err); got != tt.want {
				t.Errorf("UnwrapURLError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		rnd  float64
		want time.Duration
	}{
		{1, 1, time.Second},
		{2, 1, 2 * time.Second},
		{5, 1, 16 * time.Second},
		{6, 1, 30 * time.Second},
		{40, 1, 30 * time.Second},
		{0, 1, 30 * time.Second},
		{3, 0.5, 2 * time.Second},
		{3, 0, 0},
		{3, 7, 4 * time.Second}, // out of range: the whole delay
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d/rnd=%g", tt.n, tt.rnd), func(t *testing.T) {
			t.Parallel()
			if got := Backoff(tt.n, time.Second, 30*time.Second, func() float64 { return tt.rnd }); got != tt.want {
				t.Errorf("Backoff(%d) = %s, want %s", tt.n, got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"  ", 0, false},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"3600", time.Hour, true},
		{"4294967295", 4294967295 * time.Second, true},
		{"4294967296", 0, false}, // beyond 32 bits
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 01 Mar 2025 11:59:00 GMT", 0, true}, // in the past: no wait
		{"Saturday, 01-Mar-25 12:01:00 GMT", time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := RetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%q) = %s, %t; want %s, %t", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
