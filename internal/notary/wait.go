package notary

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/httpx"
)

const (
	// DefaultPollInterval is the wait between two status requests, give or
	// take a fifth: notarization takes minutes, and Apple documents no
	// rate limit for the Notary API.
	DefaultPollInterval = 20 * time.Second
	// MaxPollInterval caps the interval however it is set.
	MaxPollInterval = 2 * time.Minute
)

// TimeoutError is a wait that ran out before Apple decided. The
// submission goes on: asc-auth notarize --wait ID resumes.
type TimeoutError struct {
	ID     string
	Status string // the last status seen, "" if none
	Waited time.Duration
}

func (e *TimeoutError) Error() string {
	st := e.Status
	if st == "" {
		st = "not known"
	}
	return fmt.Sprintf("notary: submission %s is still %s after %s; resume with: asc-auth notarize --wait %s",
		e.ID, st, e.Waited.Round(time.Second), e.ID)
}

// WaitOptions tune Wait.
type WaitOptions struct {
	Interval time.Duration // default DefaultPollInterval
	Timeout  time.Duration // required
	// Status is called with every status read.
	Status func(Submission)
}

// Wait polls the submission until Apple decides or the timeout passes.
// A failed poll that may pass (no answer, a dropped connection, 5xx, 429,
// a 401 the client could not refresh past) is logged and the next poll
// made: only Accepted, Invalid or Rejected end the wait without error.
func (c *Client) Wait(ctx context.Context, id string, o WaitOptions) (Submission, error) {
	if err := CheckID(id); err != nil {
		return Submission{}, err
	}
	interval := o.Interval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	interval = min(interval, MaxPollInterval)
	start := c.now()
	deadline := start.Add(o.Timeout)
	last := ""
	for polls := 1; ; polls++ {
		s, err := c.Status(ctx, id)
		switch {
		case err == nil:
			last = s.Status
			if o.Status != nil {
				o.Status(s)
			}
			if s.Terminal() {
				return s, nil
			}
			if s.Status != StatusInProgress {
				c.logf("notary: submission %s has a status asc-auth does not know (%q); waiting on", id, s.Status)
			}
		case ctx.Err() != nil:
			return Submission{ID: id, Status: last}, ctx.Err()
		case passing(err):
			c.logf("notary: reading submission %s failed (poll %d), trying again: %v", id, polls, err)
		default:
			return Submission{ID: id, Status: last}, fmt.Errorf("notary: reading submission %s: %w", id, err)
		}
		left := deadline.Sub(c.now())
		if left <= 0 {
			return Submission{ID: id, Status: last}, &TimeoutError{ID: id, Status: last, Waited: c.now().Sub(start)}
		}
		// ±20% jitter, so that many jobs started together spread out.
		d := time.Duration(float64(interval) * (0.8 + 0.4*c.rand()()))
		if err := c.sleep(ctx, min(d, left)); err != nil {
			return Submission{ID: id, Status: last}, err
		}
	}
}

// passing reports whether a failed status read is worth another poll.
func passing(err error) bool {
	var apiErr *asc.APIError
	if errors.As(err, &apiErr) {
		switch code := apiErr.StatusCode; {
		case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code == http.StatusUnauthorized:
			return true
		}
		return false
	}
	return httpx.Temporary(errors.Unwrap(err)) || httpx.Temporary(err)
}
