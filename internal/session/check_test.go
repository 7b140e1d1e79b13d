package session

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
)

// simulator serves a simulated App Store Connect at the fixed clock.
func simulator(t *testing.T, opts ...ascsim.Option) (*ascsim.Server, string) {
	t.Helper()
	srv, err := ascsim.New(append([]ascsim.Option{ascsim.WithClock(func() time.Time { return fixedNow })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// myacinfo returns the value of the session's myacinfo cookie.
func myacinfo(t *testing.T, s *Session) string {
	t.Helper()
	for _, c := range s.Cookies {
		if c.Name == "myacinfo" {
			return c.Value
		}
	}
	t.Fatal("no myacinfo cookie")
	return ""
}

func TestCheckSimulator(t *testing.T) {
	t.Parallel()
	sess := mustParse(t, fixture(t, "valid.session"))
	if exp, ok := sess.ExpiresAt(); !ok || !exp.After(fixedNow) {
		t.Fatalf("the fixture's cookies should still be valid at %v: %v", fixedNow, exp)
	}

	tests := []struct {
		name        string
		register    *bool // nil: the session is unknown to the server
		fault       ascsim.FaultKind
		want        Status
		wantHTTP    int
		wantErr     bool
		wantInCause string
	}{
		{name: "valid", register: ptr(true), want: StatusValid, wantHTTP: 200},
		{name: "dead while the cookies still look valid", register: ptr(false), want: StatusDead, wantHTTP: 401},
		{name: "unknown to the server", want: StatusDead, wantHTTP: 401},
		{name: "500", register: ptr(true), fault: ascsim.FaultServerError, want: StatusUnknown, wantHTTP: 500, wantErr: true, wantInCause: "500 Internal Server Error"},
		{name: "503", register: ptr(true), fault: ascsim.FaultUnavailable, want: StatusUnknown, wantHTTP: 503, wantErr: true, wantInCause: "503 Service Unavailable"},
		{name: "429", register: ptr(true), fault: ascsim.FaultRateLimit, want: StatusUnknown, wantHTTP: 429, wantErr: true, wantInCause: "429"},
		{name: "connection reset", register: ptr(true), fault: ascsim.FaultReset, want: StatusUnknown, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, base := simulator(t)
			if tc.register != nil {
				srv.RegisterSession(myacinfo(t, sess), *tc.register)
			}
			if tc.fault != 0 {
				srv.Inject(ascsim.Fault{Kind: tc.fault, PathPrefix: ascsim.OlympusSessionPath})
			}
			res, err := Check(t.Context(), &http.Client{Timeout: 10 * time.Second}, base, sess)
			if res.Status != tc.want || res.HTTPStatus != tc.wantHTTP {
				t.Errorf("Check = %+v, want %v (HTTP %d)", res, tc.want, tc.wantHTTP)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.want == StatusValid && res.Provider != "Example Team" {
				t.Errorf("Provider = %q", res.Provider)
			}
			if err != nil {
				checkUnverified(t, err, sess)
				if !strings.Contains(err.Error(), tc.wantInCause) {
					t.Errorf("error %q does not say %q", err, tc.wantInCause)
				}
			}
			log := srv.Requests()
			if len(log) != 1 || log[0].Method != "GET" || log[0].Path != "/olympus/v1/session" {
				t.Errorf("requests %+v", log)
			}
		})
	}
}

func TestCheckTimeout(t *testing.T) {
	t.Parallel()
	sess := mustParse(t, fixture(t, "valid.yaml"))
	srv, base := simulator(t, ascsim.WithLatency(time.Minute))
	srv.RegisterSession(myacinfo(t, sess), true)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	res, err := Check(ctx, nil, base, sess)
	if res.Status != StatusUnknown || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Check = %+v, %v; want unknown, deadline exceeded", res, err)
	}
	checkUnverified(t, err, sess)
}

func TestCheckRefused(t *testing.T) {
	t.Parallel()
	sess := mustParse(t, fixture(t, "valid.session"))
	// A port that was listening and no longer is.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res, err := Check(t.Context(), nil, "http://"+addr, sess)
	if res.Status != StatusUnknown || err == nil {
		t.Fatalf("Check = %+v, %v; want unknown", res, err)
	}
	checkUnverified(t, err, sess)
}

// seen is the request a test server received.
type seen struct {
	mu     sync.Mutex
	method string
	path   string
	header http.Header
}

func TestCheckAnswers(t *testing.T) {
	t.Parallel()
	sess := mustParse(t, fixture(t, "valid.session"))
	tests := []struct {
		name     string
		status   int
		body     string
		header   map[string]string
		want     Status
		provider string
		wantErr  string
	}{
		{name: "valid", status: 200, body: `{"user":{"emailAddress":"dev@example.com"},"provider":{"providerId":1,"name":"Team A"}}`, want: StatusValid, provider: "Team A"},
		{name: "provider without a name", status: 200, body: `{"provider":{"providerId":1}}`, want: StatusValid},
		{name: "provider of another shape", status: 200, body: `{"provider":"Team"}`, want: StatusValid},
		{name: "403", status: 403, body: `<html>Forbidden</html>`, want: StatusDead},
		{name: "401", status: 401, want: StatusDead},
		{name: "no provider", status: 200, body: `{"user":{"emailAddress":"dev@example.com"}}`, want: StatusDead},
		{name: "null provider", status: 200, body: `{"provider":null}`, want: StatusDead},
		{name: "empty object", status: 200, body: `{}`, want: StatusDead},
		{name: "not JSON", status: 200, body: `<html>Sign in</html>`, want: StatusUnknown, wantErr: "not a JSON object"},
		{name: "JSON list", status: 200, body: `[]`, want: StatusUnknown, wantErr: "not a JSON object"},
		{name: "huge", status: 200, body: `{"provider":{"name":"` + strings.Repeat("x", maxBody) + `"}}`, want: StatusUnknown, wantErr: "larger than 1024 KiB"},
		{name: "redirect not followed", status: 302, header: map[string]string{"Location": "/login"}, want: StatusUnknown, wantErr: "302 Found"},
		{name: "404", status: 404, want: StatusUnknown, wantErr: "404 Not Found"},
		{name: "502", status: 502, want: StatusUnknown, wantErr: "502 Bad Gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got seen
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.mu.Lock()
				got.method, got.path, got.header = r.Method, r.URL.Path, r.Header.Clone()
				got.mu.Unlock()
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer ts.Close()

			res, err := Check(t.Context(), ts.Client(), ts.URL+"/", sess, WithUserAgent("asc-auth/1.2.3"))
			if res.Status != tc.want || res.Provider != tc.provider || res.HTTPStatus != tc.status {
				t.Errorf("Check = %+v, want %v provider %q HTTP %d", res, tc.want, tc.provider, tc.status)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tc.wantErr != "":
				checkUnverified(t, err, sess)
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not say %q", err, tc.wantErr)
				}
			}

			got.mu.Lock()
			defer got.mu.Unlock()
			wantCookie := strings.Join([]string{
				sess.Cookies[0].Name + "=" + sess.Cookies[0].Value,
				"myacinfo=" + sess.Cookies[1].Value,
				"dqsid=" + sess.Cookies[2].Value,
			}, "; ")
			if got.method != "GET" || got.path != "/olympus/v1/session" ||
				got.header.Get("Cookie") != wantCookie || got.header.Get("Accept") != "application/json" ||
				got.header.Get("User-Agent") != "asc-auth/1.2.3" || got.header.Get("Authorization") != "" {
				t.Errorf("request %s %s with headers Accept %q, User-Agent %q, Cookie as expected: %v",
					got.method, got.path, got.header.Get("Accept"), got.header.Get("User-Agent"), got.header.Get("Cookie") == wantCookie)
			}
		})
	}
}

func TestCheckDefaults(t *testing.T) {
	t.Parallel()
	sess := mustParse(t, fixture(t, "valid.session"))
	uas := make(chan string, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case uas <- r.Header.Get("User-Agent"):
		default:
		}
		w.WriteHeader(401)
	}))
	defer ts.Close()
	if res, err := Check(t.Context(), nil, ts.URL, sess); err != nil || res.Status != StatusDead {
		t.Errorf("Check = %+v, %v", res, err)
	}
	if ua := <-uas; ua != DefaultUserAgent {
		t.Errorf("User-Agent %q", ua)
	}
	if u, err := sessionURL(""); err != nil || u != "https://appstoreconnect.apple.com/olympus/v1/session" {
		t.Errorf("sessionURL(\"\") = %q, %v", u, err)
	}
	if u, err := sessionURL("http://127.0.0.1:8080/prefix/"); err != nil || u != "http://127.0.0.1:8080/prefix/olympus/v1/session" {
		t.Errorf("sessionURL with a prefix = %q, %v", u, err)
	}
	for _, bad := range []string{"ftp://example.com", "example.com", "https://user:pass@example.com", "https://example.com?x=1", "://"} {
		if _, err := Check(t.Context(), nil, bad, sess); !errors.Is(err, ErrUnverified) || strings.Contains(err.Error(), "pass") {
			t.Errorf("Check(%q) = %v", bad, err)
		}
	}
	for _, empty := range []*Session{nil, {}} {
		if res, err := Check(t.Context(), nil, ts.URL, empty); res.Status != StatusUnknown || !errors.Is(err, ErrUnverified) {
			t.Errorf("Check(no cookies) = %+v, %v", res, err)
		}
	}
	for s, want := range map[Status]string{StatusValid: "valid", StatusDead: "dead", StatusUnknown: "unknown", Status(9): "unknown"} {
		if s.String() != want {
			t.Errorf("Status(%d).String() = %q", s, s.String())
		}
	}
}

// checkUnverified checks that err says the session could not be verified,
// never that it is invalid, and holds no cookie value.
func checkUnverified(t *testing.T, err error, s *Session) {
	t.Helper()
	if !errors.Is(err, ErrUnverified) || !strings.HasPrefix(err.Error(), "session: could not verify the session: ") {
		t.Errorf("error %q does not wrap ErrUnverified", err)
	}
	if strings.Contains(err.Error(), "invalid") {
		t.Errorf("error %q calls the session invalid", err)
	}
	for _, c := range s.Cookies {
		if strings.Contains(err.Error(), c.Value[:8]) {
			t.Errorf("error %q holds a cookie value", err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
