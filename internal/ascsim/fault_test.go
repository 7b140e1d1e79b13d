package ascsim_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      ascsim.Fault
		wantStatus int
		wantCode   string
		wantRetry  string // Retry-After
	}{
		{"rate limit", ascsim.Fault{Kind: ascsim.FaultRateLimit}, 429, "RATE_LIMIT_EXCEEDED", ""},
		{"rate limit with Retry-After", ascsim.Fault{Kind: ascsim.FaultRateLimit, RetryAfter: 1500 * time.Millisecond}, 429, "RATE_LIMIT_EXCEEDED", "2"},
		{"server error", ascsim.Fault{Kind: ascsim.FaultServerError}, 500, "UNEXPECTED_ERROR", ""},
		{"unavailable", ascsim.Fault{Kind: ascsim.FaultUnavailable, RetryAfter: 30 * time.Second}, 503, "SERVICE_UNAVAILABLE", "30"},
		{"expired token", ascsim.Fault{Kind: ascsim.FaultExpiredToken}, 401, "NOT_AUTHORIZED", ""},
		{"delay then server error", ascsim.Fault{Kind: ascsim.FaultDelay, Delay: time.Millisecond}, 500, "UNEXPECTED_ERROR", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tt.fault.Times = 2
			f.srv.Inject(tt.fault)
			if tt.fault.Kind == ascsim.FaultDelay {
				f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultServerError, Times: 2})
			}
			for i := range 2 {
				res := f.get(t, "/v1/apps")
				if res.status != tt.wantStatus {
					t.Fatalf("request %d: status %d, want %d", i+1, res.status, tt.wantStatus)
				}
				if e := res.errors(t).Errors; len(e) != 1 || e[0].Code != tt.wantCode || e[0].Status != strconv.Itoa(tt.wantStatus) {
					t.Errorf("body %s", res.body)
				}
				if got := res.header.Get("Retry-After"); got != tt.wantRetry {
					t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
				}
				if res.header.Get("X-Rate-Limit") == "" {
					t.Error("no X-Rate-Limit header")
				}
				if tt.wantStatus == 401 {
					checkNotAuthorized(t, res)
				}
			}
			// Times is used up.
			if res := f.get(t, "/v1/apps"); res.status != http.StatusOK {
				t.Errorf("third request: status %d, body %s", res.status, res.body)
			}
			if log := f.srv.Requests(); !strings.HasPrefix(log[0].Note, "fault: ") {
				t.Errorf("log note %q", log[0].Note)
			}
		})
	}
}

func TestFaultMatching(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultServerError, Method: "POST"})
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultUnavailable, PathPrefix: "/v1/builds"})
	for target, want := range map[string]int{
		"/v1/apps":                    200,
		"/v1/builds":                  503,
		"/v1/builds?limit=1":          503,
		"/v1/builds/x":                503,
		"/v1/buildUploads/x":          404,
		"/v1/preReleaseVersions":      200,
		"/v1/apps/1/buildUploads?x=1": 400,
	} {
		if res := f.get(t, target); res.status != want {
			t.Errorf("GET %s: status %d, want %d", target, res.status, want)
		}
	}
	if res := f.do(t, "POST", "/v1/apps", "", ""); res.status != 500 {
		t.Errorf("POST: status %d, want 500 before authentication", res.status)
	}
	f.srv.ClearFaults()
	if res := f.get(t, "/v1/builds"); res.status != 200 {
		t.Errorf("after ClearFaults: status %d", res.status)
	}
}

// TestFaultOrder checks that faults answer in the order they were
// injected, one a request, each used up only when it answers, while a
// delay applies alongside them.
func TestFaultOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultDelay, Delay: time.Millisecond, PathPrefix: "/v1/apps", Times: 3})
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultRateLimit, PathPrefix: "/v1/apps", Times: 1})
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultServerError, PathPrefix: "/v1/apps", Times: 1})
	for i, want := range []int{429, 500, 200, 200} {
		if res := f.get(t, "/v1/apps"); res.status != want {
			t.Errorf("request %d: status %d, want %d", i+1, res.status, want)
		}
	}
	var notes []string
	for _, r := range f.srv.Requests() {
		notes = append(notes, r.Note)
	}
	want := []string{"fault: rate limit", "fault: server error", "fault: delay", ""}
	if !slices.Equal(notes, want) {
		t.Errorf("notes %q, want %q", notes, want)
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const d = 150 * time.Millisecond
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultDelay, Delay: d, PathPrefix: "/v1/apps", Times: 1})
	start := time.Now()
	if res := f.get(t, "/v1/apps"); res.status != 200 || time.Since(start) < d {
		t.Errorf("status %d after %v, want 200 after %v", res.status, time.Since(start), d)
	}

	// A client that gives up is let go at once, and the log says so.
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultDelay, Delay: time.Hour, PathPrefix: "/v1/builds"})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.url+"/v1/builds", nil)
	req.Header.Set("Authorization", "Bearer "+mint(t, f.minters[teamKID]))
	if res, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			res.Body.Close()
		}
		t.Fatalf("err %v, want the client's deadline", err)
	}
	waitFor(t, func() bool {
		log := f.srv.Requests()
		last := log[len(log)-1]
		return last.Path == "/v1/builds" && last.Status == 0 && strings.Contains(last.Note, "gave up")
	})
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A new connection for each request, so the transport cannot retry the
	// GET on another pooled one.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	// Each reset must be in the log by the time the client sees it, as a
	// client that checks the log, or retries at once, relies on; the round
	// is repeated to give a late entry many chances to show.
	const rounds = 50
	for i := range rounds {
		f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultReset, PathPrefix: "/v1/builds", Times: 1})
		req, _ := http.NewRequestWithContext(t.Context(), "GET", f.url+"/v1/builds", nil)
		req.Header.Set("Authorization", "Bearer "+mint(t, f.minters[teamKID]))
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			t.Fatalf("status %d, want a reset connection", res.StatusCode)
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("err %v, want ECONNRESET", err)
		}
		log := f.srv.Requests()
		if len(log) != i+1 {
			t.Fatalf("round %d: %d requests logged when the client saw the reset, want %d", i, len(log), i+1)
		}
		if e := log[i]; e.Status != 0 || e.Note != "fault: connection reset" {
			t.Errorf("round %d: log entry %+v", i, e)
		}
	}
	if res := f.get(t, "/v1/builds"); res.status != 200 {
		t.Errorf("after the reset: status %d", res.status)
	}
	if n := len(f.srv.Requests()); n != rounds+1 {
		t.Errorf("%d requests logged, want %d", n, rounds+1)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const d = 100 * time.Millisecond
	f := newFixture(t, ascsim.WithLatency(d))
	start := time.Now()
	if res := f.get(t, "/v1/apps"); res.status != 200 || time.Since(start) < d {
		t.Errorf("status %d after %v, want 200 after %v", res.status, time.Since(start), d)
	}
}

func TestStartClose(t *testing.T) {
	t.Parallel()
	srv, err := ascsim.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close before Start: %v", err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start("127.0.0.1:0"); err == nil {
		t.Error("a second Start succeeded")
	}
	res, err := http.Get(url + "/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401 without a token", res.StatusCode)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Get(url + "/v1/apps"); err == nil {
		res.Body.Close()
		t.Error("the server still answers after Close")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNextLinkFaults checks the links.next each next-link fault writes, and
// that the listing is otherwise answered as usual.
func TestNextLinkFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Example")
	f.srv.SeedBuilds(app, "IOS", "1.0", 5)
	first := "/v1/builds?filter%5Bapp%5D=" + app + "&limit=2"
	plain := decode[list](t, f.get(t, first))
	second := strings.TrimPrefix(plain.Links.Next, f.url)

	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultNextCycle, PathPrefix: "/v1/builds", Times: 2})
	if got := decode[list](t, f.get(t, first)); got.Links.Next != plain.Links.Next || len(got.Data) != 2 {
		t.Errorf("cycle, first page: next %q, %d builds; want %q as without the fault", got.Links.Next, len(got.Data), plain.Links.Next)
	}
	if got := decode[list](t, f.get(t, second)); got.Links.Next != f.url+first || len(got.Data) != 2 {
		t.Errorf("cycle, second page: next %q, %d builds; want %q", got.Links.Next, len(got.Data), f.url+first)
	}

	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultNextSelfReordered, PathPrefix: "/v1/builds", Times: 1})
	if got := decode[list](t, f.get(t, first)); got.Links.Next != f.url+"/v1/builds?limit=2&filter%5Bapp%5D="+app {
		t.Errorf("reordered: next %q", got.Links.Next)
	}
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultNextSelfFragment, PathPrefix: "/v1/builds", Times: 1})
	if got := decode[list](t, f.get(t, first)); got.Links.Next != f.url+first+"#page" {
		t.Errorf("fragment: next %q", got.Links.Next)
	}
	// Used up: the listing leads on as usual again, and a next-link fault
	// left a note in the log.
	if got := decode[list](t, f.get(t, first)); got.Links.Next != plain.Links.Next {
		t.Errorf("after the faults: next %q", got.Links.Next)
	}
	log := f.srv.Requests()
	if n := log[len(log)-2].Note; n != "fault: "+ascsim.FaultNextSelfFragment.String() {
		t.Errorf("the fragment fault's request has note %q", n)
	}
}
