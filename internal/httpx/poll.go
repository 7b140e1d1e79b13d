package httpx

import "time"

// The polling schedule every wait shares (the upload's, TestFlight's, and
// the steps to come): a short first pause, so that a state that is already
// final costs seconds, not a fixed 15 s; then twice the pause after each
// read, up to a ceiling. A 15-minute wait costs about 50 of the 3,600
// requests an hour allows.
const (
	PollFirst = 2 * time.Second
	PollMax   = 20 * time.Second
)

// Poll is a polling schedule. The zero value follows PollFirst to PollMax;
// Fixed > 0 pins every pause (tests, the demo).
type Poll struct {
	Fixed time.Duration
	next  time.Duration
}

// Next returns the pause before the next read, at least retryAfter (a
// server's Retry-After, 0 if none), and advances the schedule.
func (p *Poll) Next(retryAfter time.Duration) time.Duration {
	var d time.Duration
	switch {
	case p.Fixed > 0:
		d = p.Fixed
	case p.next == 0:
		d = PollFirst
	default:
		d = p.next
	}
	if p.Fixed <= 0 {
		p.next = min(2*d, PollMax)
	}
	return max(d, min(retryAfter, MaxRetryAfter))
}
