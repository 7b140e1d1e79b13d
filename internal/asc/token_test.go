package asc

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokenCacheRefreshBoundary(t *testing.T) {
	t.Parallel()
	// Each step moves the clock to an offset from the first token's exp
	// (epoch + 20 min) and asks for a token.
	tests := []struct {
		name      string
		offset    time.Duration // relative to the first token's exp
		wantToken string
	}{
		{"fresh", -20 * time.Minute, "tok-1"},
		{"61 s before exp: reused", -61 * time.Second, "tok-1"},
		{"60 s before exp: minted again", -60 * time.Second, "tok-2"},
	}
	clock := newFakeClock()
	m := newMinter(clock)
	tc := NewTokenCache(m.Mint, clock.Now)
	exp := epoch.Add(20 * time.Minute)
	for _, tt := range tests {
		clock.Advance(exp.Add(tt.offset).Sub(clock.Now()))
		got, err := tc.Token(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got != tt.wantToken {
			t.Errorf("%s: Token() = %s, want %s", tt.name, got, tt.wantToken)
		}
	}
}

// TestTokenCacheNeverNearExpiry walks the clock in uneven steps over five
// hours and checks every token handed out has more than 60 s left.
func TestTokenCacheNeverNearExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newMinter(clock)
	tc := NewTokenCache(m.Mint, clock.Now)
	// No step is longer than the 60 s window, so every token's last minute
	// is visited.
	steps := []time.Duration{time.Second, 7 * time.Second, 13 * time.Second, 29 * time.Second}
	for i := 0; clock.Now().Before(epoch.Add(5 * time.Hour)); i++ {
		v, err := tc.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := m.Expiry(v)
		if left := exp.Sub(clock.Now()); left <= RefreshMargin {
			t.Fatalf("at %s got %s with %s left", clock.Now().Sub(epoch), v, left)
		}
		if i%151 == 150 { // now and then, less often than tokens expire
			tc.Invalidate()
		}
		clock.Advance(steps[i%len(steps)])
	}
}

func TestTokenCacheErrors(t *testing.T) {
	t.Parallel()
	t.Run("token too short-lived", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		m := newMinter(clock)
		m.lifetime = 60 * time.Second
		_, err := NewTokenCache(m.Mint, clock.Now).Token(t.Context())
		if err == nil || !strings.Contains(err.Error(), "longer token lifetime") {
			t.Fatalf("Token() error = %v", err)
		}
	})
	t.Run("mint fails", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		m := newMinter(clock)
		boom := errors.New("token: ES256 needs a P-256 private key")
		m.fails = boom
		_, err := NewTokenCache(m.Mint, clock.Now).Token(t.Context())
		if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "asc: minting a token: ") {
			t.Fatalf("Token() error = %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		clock := newFakeClock()
		m := newMinter(clock)
		if _, err := NewTokenCache(m.Mint, clock.Now).Token(ctx); !errors.Is(err, context.Canceled) || m.Mints() != 0 {
			t.Fatalf("Token() error = %v after %d mints", err, m.Mints())
		}
	})
}

func TestTokenCacheInvalidate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newMinter(clock)
	tc := NewTokenCache(m.Mint, clock.Now)
	a, _ := tc.Token(t.Context())
	b, _ := tc.Token(t.Context())
	tc.Invalidate()
	c, _ := tc.Token(t.Context())
	if a != "tok-1" || b != "tok-1" || c != "tok-2" {
		t.Errorf("tokens = %s %s %s", a, b, c)
	}
}

func TestTokenCacheConcurrent(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newMinter(clock)
	tc := NewTokenCache(m.Mint, clock.Now)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if v, err := tc.Token(t.Context()); err != nil || v != "tok-1" {
				t.Errorf("Token() = %s, %v", v, err)
			}
		})
	}
	wg.Wait()
	if m.Mints() != 1 {
		t.Errorf("%d mints for concurrent callers, want 1", m.Mints())
	}
}

// TestLongSeriesNeverSurfaces401 makes many calls while the clock runs past
// several token lifetimes; the server refuses expired tokens with 401, as
// Apple does. Each request takes 50 s of fake time, so a token handed out
// just over a minute before exp is still valid when it arrives.
func TestLongSeriesNeverSurfaces401(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var mu sync.Mutex
	refused := 0
	h.mux.HandleFunc("/v1/apps", func(w http.ResponseWriter, r *http.Request) {
		v := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		exp, ok := h.minter.Expiry(v)
		h.clock.Advance(50 * time.Second)
		if !ok || !h.clock.Now().Before(exp) {
			mu.Lock()
			refused++
			mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"data":[]}`))
	})
	for i := range 200 { // 200 × 50 s ≈ 2.8 h, about 8 token lifetimes
		req, err := h.client.NewRequest(t.Context(), http.MethodGet, "/v1/apps", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.client.Do(req, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if refused != 0 {
		t.Errorf("server refused %d expired tokens", refused)
	}
	if n := h.minter.Mints(); n < 8 || n > 10 {
		t.Errorf("%d mints over 200 calls", n)
	}
}
