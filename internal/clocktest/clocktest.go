// Package clocktest is a fake clock for tests: Now, Advance, and a Sleep that
// advances it instead of waiting and records what it was asked to wait.
package clocktest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is a fake clock that moves only when told to. It is safe for
// concurrent use; its methods have the shapes of the clock and sleep
// functions that the packages under test accept.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// New returns a clock that reads t until it is moved.
func New(t time.Time) *Clock {
	return &Clock{now: t}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep stands in for a wait of d: it advances the clock by d at once and
// returns ctx.Err(), as a real sleep would if ctx ended first.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

// Sleeps returns every wait asked of Sleep, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}
