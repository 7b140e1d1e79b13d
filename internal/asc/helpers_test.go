package asc

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/clocktest"
)

// epoch is the fake clock's start.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// newFakeClock is a clock at epoch that the tests move by hand (and the
// fake sleep moves).
func newFakeClock() *clocktest.Clock { return clocktest.New(epoch) }

// minter mints "tok-1", "tok-2", … each valid for lifetime on clock.
type minter struct {
	clock    *clocktest.Clock
	lifetime time.Duration

	mu    sync.Mutex
	n     int
	exp   map[string]time.Time
	fails error
}

func newMinter(clock *clocktest.Clock) *minter {
	return &minter{clock: clock, lifetime: 20 * time.Minute, exp: map[string]time.Time{}}
}

func (m *minter) Mint() (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fails != nil {
		return "", time.Time{}, m.fails
	}
	m.n++
	v := fmt.Sprintf("tok-%d", m.n)
	exp := m.clock.Now().Add(m.lifetime)
	m.exp[v] = exp
	return v, exp, nil
}

func (m *minter) Mints() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

// Expiry returns when token v expires, false for a token never minted.
func (m *minter) Expiry(v string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.exp[v]
	return exp, ok
}

// harness is a client wired to an httptest server, a fake clock, a fake
// sleep and a token cache over a counting minter.
type harness struct {
	t      *testing.T
	mux    *http.ServeMux
	srv    *httptest.Server
	clock  *clocktest.Clock
	minter *minter
	client *Client

	mu       sync.Mutex
	warnings []string
}

// newHarness starts a server and a client with jitter pinned to its
// maximum (rand = 1) so backoff delays are exact.
func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, mux: http.NewServeMux(), clock: newFakeClock()}
	h.srv = httptest.NewServer(h.mux)
	t.Cleanup(h.srv.Close)
	h.minter = newMinter(h.clock)
	base := []Option{
		WithBaseURL(h.srv.URL),
		WithHTTPClient(h.srv.Client()),
		WithUserAgent("asc-auth/1.2.3"),
		WithClock(h.clock.Now),
		WithSleep(h.clock.Sleep),
		WithRand(func() float64 { return 1 }),
		WithWarn(func(s string) {
			h.mu.Lock()
			h.warnings = append(h.warnings, s)
			h.mu.Unlock()
		}),
	}
	h.client = NewClient(NewTokenCache(h.minter.Mint, h.clock.Now), append(base, opts...)...)
	return h
}

func (h *harness) Warnings() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.warnings...)
}

// reply is one canned response.
type reply struct {
	status int
	header map[string]string
	body   string
	// do, when set, replaces the canned response (hijack, block, ...).
	do func(w http.ResponseWriter, r *http.Request)
}

// script serves replies in order, repeating the last, and records every
// request it sees.
type script struct {
	mu       sync.Mutex
	replies  []reply
	requests []recorded
}

// recorded is what the server saw of one request.
type recorded struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := new(strings.Builder)
	if r.Body != nil {
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			body.Write(buf[:n])
			if err != nil {
				break
			}
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body.String()})
	i := min(len(s.requests), len(s.replies)) - 1
	rep := s.replies[i]
	s.mu.Unlock()
	if rep.do != nil {
		rep.do(w, r)
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func (s *script) Requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.requests...)
}

// fixture reads testdata/name, with {{base}} replaced by base.
func fixture(t *testing.T, name, base string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "{{base}}", base)
}

// equalDurations compares two delay lists, printing both on failure.
func equalDurations(t *testing.T, got, want []time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("sleeps = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sleeps = %v, want %v", got, want)
		}
	}
}
