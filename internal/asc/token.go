package asc

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// TokenSource supplies the bearer tokens a Client sends. Implementations
// must be safe for concurrent use.
type TokenSource interface {
	// Token returns a token valid for at least the next request.
	Token(ctx context.Context) (string, error)
	// Invalidate drops the current token; the next Token call gets a new
	// one. The client calls it when App Store Connect answers 401.
	Invalidate()
}

// RefreshMargin is how long before its exp a cached token stops being
// handed out. A request can take a while to reach Apple, and the runner's
// clock may lag Apple's; a token that still has a minute left covers both.
const RefreshMargin = 60 * time.Second

// TokenCache is a TokenSource that mints on first use, reuses the token and
// mints again once the cached one is within RefreshMargin of its exp. It is
// safe for concurrent use; concurrent callers share one mint.
type TokenCache struct {
	mint func() (string, time.Time, error)
	now  func() time.Time

	mu    sync.Mutex
	value string
	exp   time.Time
}

// NewTokenCache returns a cache over mint, which returns a new token and its
// expiry. now is the clock (nil means time.Now). mint must produce tokens
// that live longer than RefreshMargin, or Token fails.
func NewTokenCache(mint func() (value string, expiresAt time.Time, err error), now func() time.Time) *TokenCache {
	if now == nil {
		now = time.Now
	}
	return &TokenCache{mint: mint, now: now}
}

// Token returns the cached token, minting a new one if there is none or it
// is within RefreshMargin of exp. It never returns a token that close to
// expiry: if a freshly minted one already is, that is an error.
func (tc *TokenCache) Token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.value != "" && tc.fresh(tc.exp) {
		return tc.value, nil
	}
	tc.value, tc.exp = "", time.Time{}
	v, exp, err := tc.mint()
	if err != nil {
		return "", fmt.Errorf("asc: minting a token: %w", err)
	}
	if v == "" {
		return "", fmt.Errorf("asc: minting a token: the token is empty")
	}
	if !tc.fresh(exp) {
		return "", fmt.Errorf("asc: a freshly minted token expires at %s, less than %s from now: use a longer token lifetime or check the clock",
			exp.UTC().Format(time.RFC3339), RefreshMargin)
	}
	tc.value, tc.exp = v, exp
	return v, nil
}

// fresh reports whether a token expiring at exp may still be handed out.
func (tc *TokenCache) fresh(exp time.Time) bool {
	return exp.Sub(tc.now()) > RefreshMargin
}

// Invalidate drops the cached token.
func (tc *TokenCache) Invalidate() {
	tc.mu.Lock()
	tc.value, tc.exp = "", time.Time{}
	tc.mu.Unlock()
}
