package asc

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDoSendsHeadersAndBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{{status: 201, body: `{"data":{"type":"apps","id":"1"}}`}}}
	h.mux.Handle("/v1/things", s)

	in := map[string]any{"data": map[string]any{"type": "things", "attributes": map[string]any{"name": "x"}}}
	req, err := h.client.NewRequest(t.Context(), http.MethodPost, "/v1/things", url.Values{"include": {"a,b"}}, in)
	if err != nil {
		t.Fatal(err)
	}
	var out AppResponse
	resp, err := h.client.Do(req, &out)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || resp.Attempts != 1 || out.Data.ID != "1" {
		t.Errorf("resp = %+v, out = %+v", resp, out)
	}
	got := s.Requests()[0]
	for k, want := range map[string]string{
		"Authorization": "Bearer tok-1",
		"User-Agent":    "asc-auth/1.2.3",
		"Accept":        "application/json",
		"Content-Type":  "application/json",
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if got.Method != http.MethodPost || got.Path != "/v1/things" || got.Query["include"][0] != "a,b" {
		t.Errorf("request = %s %s %v", got.Method, got.Path, got.Query)
	}
	if got.Body != `{"data":{"attributes":{"name":"x"},"type":"things"}}` {
		t.Errorf("body = %s", got.Body)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("Do set Authorization on the caller's request")
	}
	if h.client.Requests() != 1 {
		t.Errorf("Requests() = %d", h.client.Requests())
	}
}

func TestDoWithoutBodyHasNoContentType(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{{status: 204}}}
	h.mux.Handle("/v1/things/1", s)
	req, err := h.client.NewRequest(t.Context(), http.MethodDelete, "/v1/things/1", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if _, err := h.client.Do(req, &v); err != nil {
		t.Fatal(err)
	}
	if ct := s.Requests()[0].Header.Get("Content-Type"); ct != "" {
		t.Errorf("Content-Type = %q on a request without a body", ct)
	}
}

func TestNewRequestURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, in string
		query          url.Values
		want           string // "" means an error is expected
	}{
		{"path", "https://api.example.com", "/v1/apps", nil, "https://api.example.com/v1/apps"},
		{"path and query", "https://api.example.com", "/v1/apps?limit=2", url.Values{"fields[apps]": {"name"}}, "https://api.example.com/v1/apps?fields%5Bapps%5D=name&limit=2"},
		{"base with prefix", "http://127.0.0.1:9/asc/", "/v1/apps", nil, "http://127.0.0.1:9/asc/v1/apps"},
		{"absolute on base", "https://api.example.com", "https://api.example.com/v1/apps?cursor=x", nil, "https://api.example.com/v1/apps?cursor=x"},
		{"explicit default port", "https://api.example.com", "https://API.example.com:443/v1/apps", nil, "https://API.example.com:443/v1/apps"},
		{"other host", "https://api.example.com", "https://evil.example.com/v1/apps", nil, ""},
		{"other scheme", "https://api.example.com", "http://api.example.com/v1/apps", nil, ""},
		{"other port", "https://api.example.com", "https://api.example.com:8443/v1/apps", nil, ""},
		{"scheme-relative", "https://api.example.com", "//evil.example.com/v1/apps", nil, ""},
		{"user info", "https://api.example.com", "https://u:p@api.example.com/v1/apps", nil, ""},
		{"relative path", "https://api.example.com", "v1/apps", nil, ""},
		{"bad base", "ftp://api.example.com", "/v1/apps", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewClient(NewTokenCache(nil, nil), WithBaseURL(tt.base))
			req, err := c.NewRequest(t.Context(), http.MethodGet, tt.in, tt.query, nil)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NewRequest(%q) = %s, want an error", tt.in, req.URL)
				}
				if strings.Contains(err.Error(), "p@") {
					t.Errorf("error leaks user info: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := req.URL.String(); got != tt.want {
				t.Errorf("URL = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDoRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://evil.example.com/x?sig=secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.client.Do(req, nil)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Do = %v, want a refusal without the query", err)
	}
	if h.minter.Mints() != 0 {
		t.Error("a token was minted for a foreign host")
	}
}

// TestRetries covers which responses are retried and how long the client
// waits before each retry (jitter pinned to its maximum).
func TestRetries(t *testing.T) {
	t.Parallel()
	ok := reply{status: 200, body: `{"data":[]}`}
	e429 := reply{status: 429, body: fixture(t, "error_429.json", "")}
	e500 := reply{status: 500, body: `{"errors":[{"status":"500","code":"UNEXPECTED_ERROR","title":"An unexpected error occurred."}]}`}
	e503 := reply{status: 503, body: "<html>Service Unavailable</html>"}
	e404 := reply{status: 404, body: `{"errors":[{"status":"404","code":"NOT_FOUND","title":"The specified resource does not exist"}]}`}
	retryAfter := func(v string) reply {
		r := e429
		r.header = map[string]string{"Retry-After": v}
		return r
	}
	ms := time.Millisecond
	tests := []struct {
		name         string
		method       string
		replies      []reply
		opts         []Option
		wantRequests int
		wantSleeps   []time.Duration
		wantStatus   int // 0: success
		wantIs       error
	}{
		{"429 Retry-After seconds", "GET", []reply{retryAfter("7"), ok}, nil, 2, []time.Duration{7 * time.Second}, 0, nil},
		{"429 Retry-After date", "GET", []reply{retryAfter(epoch.Add(3 * time.Second).Format(http.TimeFormat)), ok}, nil, 2, []time.Duration{3 * time.Second}, 0, nil},
		{"429 Retry-After date in the past", "GET", []reply{retryAfter(epoch.Add(-time.Hour).Format(http.TimeFormat)), ok}, nil, 2, []time.Duration{0}, 0, nil},
		{"429 Retry-After garbage", "GET", []reply{retryAfter("soon"), ok}, nil, 2, []time.Duration{500 * ms}, 0, nil},
		{"429 exponential", "GET", []reply{e429, e429, e429, ok}, nil, 4, []time.Duration{500 * ms, time.Second, 2 * time.Second}, 0, nil},
		{"429 Retry-After past the budget", "GET", []reply{retryAfter("3600")}, nil, 1, nil, 429, ErrRateLimited},
		{"500 then 503 then success", "GET", []reply{e500, e503, ok}, nil, 3, []time.Duration{500 * ms, time.Second}, 0, nil},
		{"PUT retried", "PUT", []reply{e503, ok}, nil, 2, []time.Duration{500 * ms}, 0, nil},
		{"DELETE retried", "DELETE", []reply{e503, ok}, nil, 2, []time.Duration{500 * ms}, 0, nil},
		{"POST not retried on 500", "POST", []reply{e500, ok}, nil, 1, nil, 500, nil},
		{"PATCH not retried on 503", "PATCH", []reply{e503, ok}, nil, 1, nil, 503, nil},
		{"POST not retried on 429", "POST", []reply{retryAfter("1"), ok}, nil, 1, nil, 429, ErrRateLimited},
		{"404 not retried", "GET", []reply{e404, ok}, nil, 1, nil, 404, ErrNotFound},
		{"default attempt bound", "GET", []reply{e500}, nil, 5, []time.Duration{500 * ms, time.Second, 2 * time.Second, 4 * time.Second}, 500, nil},
		{"attempt bound", "GET", []reply{e503}, []Option{WithRetry(3, time.Hour)}, 3, []time.Duration{500 * ms, time.Second}, 503, nil},
		{"retries disabled", "GET", []reply{e503}, []Option{WithRetry(1, time.Hour)}, 1, nil, 503, nil},
		// 0.5+1+2+4 = 7.5 s spent; the next 8 s would end at 15.5 s > 10 s.
		{"total-time bound", "GET", []reply{e503}, []Option{WithRetry(100, 10*time.Second)}, 5, []time.Duration{500 * ms, time.Second, 2 * time.Second, 4 * time.Second}, 503, nil},
		// The backoff is capped at 30 s: 0.5 1 2 4 8 16 30 30.
		{"backoff cap", "GET", []reply{e503}, []Option{WithRetry(9, time.Hour)}, 9, []time.Duration{500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}, 503, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.opts...)
			s := &script{replies: tt.replies}
			h.mux.Handle("/v1/apps", s)
			var body any
			if tt.method == "POST" || tt.method == "PATCH" || tt.method == "PUT" {
				body = map[string]string{"k": "v"}
			}
			req, err := h.client.NewRequest(t.Context(), tt.method, "/v1/apps", nil, body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := h.client.Do(req, nil)
			if got := len(s.Requests()); got != tt.wantRequests {
				t.Errorf("server saw %d requests, want %d", got, tt.wantRequests)
			}
			if h.client.Requests() != tt.wantRequests {
				t.Errorf("Requests() = %d, want %d", h.client.Requests(), tt.wantRequests)
			}
			equalDurations(t, h.clock.Sleeps(), tt.wantSleeps)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if resp.Attempts != tt.wantRequests {
					t.Errorf("Attempts = %d", resp.Attempts)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus {
				t.Fatalf("Do error = %v, want an APIError with status %d", err, tt.wantStatus)
			}
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Errorf("resp = %+v", resp)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			for _, r := range s.Requests() {
				if r.Header.Get("Authorization") != "Bearer tok-1" {
					t.Errorf("retry sent Authorization %q", r.Header.Get("Authorization"))
				}
			}
		})
	}
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Parallel()
	e401 := reply{status: 401, body: `{"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid.","detail":"Provide a properly configured and signed bearer token, and make sure that it has not expired."}]}`}
	ok := reply{status: 200, body: `{}`}
	e503 := reply{status: 503}
	tests := []struct {
		name       string
		method     string
		replies    []reply
		wantTokens []string
		wantSleeps int // the 401 retry itself is immediate
		wantErr    bool
	}{
		{"GET 401 then 200", "GET", []reply{e401, ok}, []string{"tok-1", "tok-2"}, 0, false},
		{"GET 401 twice surfaces", "GET", []reply{e401, e401, ok}, []string{"tok-1", "tok-2"}, 0, true},
		{"POST 401 then 201", "POST", []reply{e401, {status: 201, body: `{}`}}, []string{"tok-1", "tok-2"}, 0, false},
		{"POST 401 twice surfaces", "POST", []reply{e401, e401, ok}, []string{"tok-1", "tok-2"}, 0, true},
		{"503 then 401 then 200", "GET", []reply{e503, e401, ok}, []string{"tok-1", "tok-1", "tok-2"}, 1, false},
		{"401 then 503s use the attempts", "GET", []reply{e401, e503, e503, e503, e503, e503, ok}, []string{"tok-1", "tok-2", "tok-2", "tok-2", "tok-2", "tok-2"}, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: tt.replies}
			h.mux.Handle("/v1/apps", s)
			var body any
			if tt.method == "POST" {
				body = map[string]string{"type": "apps"}
			}
			req, err := h.client.NewRequest(t.Context(), tt.method, "/v1/apps", nil, body)
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.client.Do(req, nil)
			if tt.wantErr != (err != nil) {
				t.Fatalf("Do error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && errors.Is(err, ErrUnauthorized) != (strings.Contains(tt.name, "401 twice")) {
				t.Errorf("errors.Is(%v, ErrUnauthorized) is wrong", err)
			}
			reqs := s.Requests()
			var tokens []string
			for _, r := range reqs {
				tokens = append(tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				if r.Body != reqs[0].Body {
					t.Errorf("replayed body %q, first was %q", r.Body, reqs[0].Body)
				}
			}
			if strings.Join(tokens, " ") != strings.Join(tt.wantTokens, " ") {
				t.Errorf("tokens sent = %v, want %v", tokens, tt.wantTokens)
			}
			if n := len(h.clock.Sleeps()); n != tt.wantSleeps {
				t.Errorf("slept %d times, want %d", n, tt.wantSleeps)
			}
			if n := h.minter.Mints(); n != 2 {
				t.Errorf("minted %d tokens, want 2", n)
			}
		})
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			// A second is ample for the retry's immediate answer, even on a
			// loaded machine.
			h := newHarness(t, WithRequestTimeout(time.Second))
			block := reply{do: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			}}
			s := &script{replies: []reply{block, {status: 200, body: `{}`}}}
			h.mux.Handle("/v1/apps", s)
			req, err := h.client.NewRequest(t.Context(), method, "/v1/apps", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.client.Do(req, nil)
			if method == "GET" {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				equalDurations(t, h.clock.Sleeps(), []time.Duration{500 * time.Millisecond})
				return
			}
			if err == nil || !strings.Contains(err.Error(), "no response within 1s") {
				t.Fatalf("Do error = %v, want a timeout", err)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("POST sent %d times", n)
			}
		})
	}
}

// resetConn answers by resetting the TCP connection (RST, not FIN).
func resetConn(t *testing.T) reply {
	return reply{do: func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}}
}

func TestConnectionReset(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: []reply{resetConn(t), {status: 200, body: `{"ok":true}`}}}
			h.mux.Handle("/v1/apps", s)
			req, err := h.client.NewRequest(t.Context(), method, "/v1/apps", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var out struct{ OK bool }
			_, err = h.client.Do(req, &out)
			if method == "POST" {
				if err == nil {
					t.Fatal("POST was replayed after a connection reset")
				}
				if n := len(s.Requests()); n != 1 {
					t.Errorf("POST sent %d times", n)
				}
				return
			}
			if err != nil || !out.OK {
				t.Fatalf("Do = %v, %+v", err, out)
			}
			if n := len(s.Requests()); n != 2 {
				t.Errorf("server saw %d requests, want 2", n)
			}
			equalDurations(t, h.clock.Sleeps(), []time.Duration{500 * time.Millisecond})
		})
	}
}

func TestConnectionRefusedRedactsURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithRetry(3, time.Hour))
	h.srv.Close() // nothing listens on the port any more
	req, err := h.client.NewRequest(t.Context(), http.MethodGet, "/v1/apps?X-Amz-Signature=secret", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.client.Do(req, nil)
	if err == nil {
		t.Fatal("Do succeeded against a closed server")
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "Signature") {
		t.Errorf("error leaks the query: %v", err)
	}
	if !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("error = %v, want the attempt count", err)
	}
	if h.client.Requests() != 3 || len(h.clock.Sleeps()) != 2 {
		t.Errorf("Requests() = %d, sleeps = %v", h.client.Requests(), h.clock.Sleeps())
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	t.Run("during a request", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		arrived := make(chan struct{})
		s := &script{replies: []reply{{do: func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-r.Context().Done()
		}}}}
		h.mux.Handle("/v1/apps", s)
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-arrived; cancel() }()
		req, err := h.client.NewRequest(ctx, http.MethodGet, "/v1/apps", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Were cancellation ignored, Do would wait on the handler for
		// ever; the test's own deadline catches that, not a timing.
		_, err = h.client.Do(req, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Do error = %v, want context.Canceled", err)
		}
		if len(s.Requests()) != 1 || len(h.clock.Sleeps()) != 0 {
			t.Errorf("%d requests, sleeps %v; want 1 and none", len(s.Requests()), h.clock.Sleeps())
		}
	})
	t.Run("during a backoff", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		h := newHarness(t, WithSleep(func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		}))
		s := &script{replies: []reply{{status: 503}}}
		h.mux.Handle("/v1/apps", s)
		req, err := h.client.NewRequest(ctx, http.MethodGet, "/v1/apps", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.client.Do(req, nil)
		if !errors.Is(err, context.Canceled) || len(s.Requests()) != 1 {
			t.Fatalf("Do error = %v after %d requests, want context.Canceled after 1", err, len(s.Requests()))
		}
	})
	t.Run("before the request", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req, err := h.client.NewRequest(ctx, http.MethodGet, "/v1/apps", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.client.Do(req, nil); !errors.Is(err, context.Canceled) || h.client.Requests() != 0 {
			t.Fatalf("Do error = %v, %d requests", err, h.client.Requests())
		}
	})
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	if c := NewClient(nil); c.maxBody != 16<<20 {
		t.Fatalf("default cap = %d", c.maxBody)
	}
	const limit = 1024
	exact := `{"data":"` + strings.Repeat("x", limit-len(`{"data":""}`)) + `"}`
	tests := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"at the cap", exact, false},
		{"one byte over", exact + " ", true},
		{"far over", strings.Repeat(" ", 10*limit) + `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.client.maxBody = limit
			s := &script{replies: []reply{{status: 200, body: tt.body}}}
			h.mux.Handle("/v1/apps", s)
			req, err := h.client.NewRequest(t.Context(), http.MethodGet, "/v1/apps", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var out struct{ Data string }
			_, err = h.client.Do(req, &out)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
					t.Fatalf("Do error = %v, want the cap", err)
				}
				if len(s.Requests()) != 1 {
					t.Errorf("an oversized response was retried")
				}
				return
			}
			if err != nil || len(out.Data) != limit-len(`{"data":""}`) {
				t.Fatalf("Do = %v, %d bytes", err, len(out.Data))
			}
		})
	}
}

func TestRateLimitRecordedAndWarnedOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rl := func(v string) reply {
		return reply{status: 200, body: `{}`, header: map[string]string{"X-Rate-Limit": v}}
	}
	s := &script{replies: []reply{
		rl("user-hour-lim:3600;user-hour-rem:3599;"),
		rl("user-hour-lim:3600;user-hour-rem:360;"), // exactly 10%: no warning
		rl("user-hour-lim:3600;user-hour-rem:359;"), // below: warn
		{status: 200, body: `{}`},                   // no header: keep the last
		rl("user-hour-rem: 100 ; user-hour-lim: 3600"),
	}}
	h.mux.Handle("/v1/apps", s)
	wantRem := []int{3599, 360, 359, 359, 100}
	wantResp := []int{3599, 360, 359, 0, 100}
	wantWarnings := []int{0, 0, 1, 1, 1}
	for i := range wantRem {
		req, err := h.client.NewRequest(t.Context(), http.MethodGet, "/v1/apps", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.client.Do(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.client.RateLimit(); got.Remaining != wantRem[i] || got.Limit != 3600 {
			t.Errorf("call %d: RateLimit() = %+v, want %d remaining", i, got, wantRem[i])
		}
		if resp.RateLimit.Remaining != wantResp[i] {
			t.Errorf("call %d: resp.RateLimit = %+v", i, resp.RateLimit)
		}
		if n := len(h.Warnings()); n != wantWarnings[i] {
			t.Errorf("call %d: %d warnings, want %d", i, n, wantWarnings[i])
		}
	}
	if w := h.Warnings(); len(w) == 1 && !strings.Contains(w[0], "359 of 3600") {
		t.Errorf("warning = %q", w[0])
	}
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mux.Handle("/v1/apps", &script{replies: []reply{{status: 200, body: `{"data":`}}})
	req, err := h.client.NewRequest(t.Context(), http.MethodGet, "/v1/apps", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v json.RawMessage
	if _, err := h.client.Do(req, &v); err == nil || !strings.Contains(err.Error(), "asc: GET /v1/apps: decoding the response") {
		t.Fatalf("Do error = %v", err)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
	}))
	defer other.Close()
	h := newHarness(t)
	h.mux.HandleFunc("/v1/apps", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v1/apps", http.StatusFound)
	})
	req, err := h.client.NewRequest(t.Context(), http.MethodGet, "/v1/apps", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Do(req, nil); err == nil {
		t.Error("a redirect was treated as success")
	}
	if leaked.Load() {
		t.Fatal("the token followed the redirect")
	}
}
