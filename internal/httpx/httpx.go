// Package httpx holds the HTTP hygiene every client here shares: which
// failures are worth another attempt, how long to wait before it (backoff
// with full jitter, Retry-After), and how to keep secrets out of logs and
// errors (URLs without their query or user information, headers without
// their credentials). It knows nothing of the services it is used with.
package httpx

import "net"

// IsLoopback reports whether host is this machine: localhost or a loopback
// address. Plain http is allowed there only (the local simulators), so
// that a credential never crosses a network unencrypted.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
