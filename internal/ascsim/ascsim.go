// Package ascsim is a local App Store Connect API simulator: stateful, strict
// like Apple, with faults on demand. The tests and the demo run against it.
//
// Every request is checked as Apple checks it, in this order: injected
// faults, the bearer token (signature, audience, issuer, lifetime, scope),
// the hourly rate limit, the key's role, and then the path, method, query
// parameters and JSON body against Apple's OpenAPI document (embedded,
// version [SpecVersion]). Refusals carry Apple's error bodies. What passes
// is answered from in-memory state that tests seed with AddApp, AddBuild,
// AddBuildUpload and SeedBuilds, in JSON:API shapes with sparse fieldsets,
// includes, sorting and cursor paging.
//
// The Build Uploads API is simulated end to end (uploads.go): build
// uploads and their files, presigned part URLs under /upload/ that answer
// as the object store behind them does (uploadparts.go), the commit with
// its checksum check, and processing by the server's clock up to a VALID
// build.
//
// Requests the document allows but the simulator does not model (other
// paths, or filters it does not implement) get 501 NOT_IMPLEMENTED naming
// what is missing, never a silently wrong answer.
//
// Every request, faulted, reset or refused ones included, is kept for
// Requests and passed as it is answered to the WithRequestLog function,
// with the reason for any refusal; presigned part URLs are kept without
// their query.
package ascsim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// HourlyRateLimit is the number of requests per hour Apple allows a user
// or key, as its X-Rate-Limit header reports (user-hour-lim).
const HourlyRateLimit = 3600

// Request is one request the simulator answered, for test assertions and
// the request log (WithRequestLog).
type Request struct {
	Time   time.Time // by the server's clock, when the request arrived
	Method string
	Path   string
	// RawQuery is the query as sent, except on presigned part URLs, where
	// it is empty: their signature never reaches the log.
	RawQuery string
	Status   int    // 0 if the connection was reset or the client gave up
	KeyID    string // the token header's kid, "" if there was none
	// Note says why the simulator refused or faulted the request, in words
	// Apple's terse bodies never give ("exp is 21m0s ahead"), or "".
	Note string
}

// Server is a simulated App Store Connect API. It is an http.Handler;
// Start serves it on a TCP address. All methods are safe for concurrent use.
type Server struct {
	spec    *spec
	now     func() time.Time
	latency time.Duration

	mu        sync.Mutex
	keys      map[string]*apiKey
	faults    []*Fault
	remaining int // user-hour-rem
	requests  []Request
	data      store
	up        uploadStore // the Build Uploads API's files, parts and processing (uploads.go)
	tf        tfStore     // TestFlight (testflight.go)
	hs        *http.Server
	sessions  map[string]bool // web sessions by myacinfo value: valid or not (olympus.go)

	// logMu makes calls to log one at a time, in the order of requests.
	logMu sync.Mutex
	log   func(Request)
}

// Option changes a Server's defaults.
type Option func(*Server)

// WithClock sets the clock tokens are checked and dates are written by
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLatency delays every response by d, as a slow network would. A client
// that gives up first sees its own context error.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithRequestLog calls log with each request as the server answers it, or
// gives it up unanswered (a reset, a client that left): the same entries
// as Requests returns, one call at a time and in the same order. Request's
// String method formats one as a line of text. log runs on the request's
// goroutine before the response is sent, so it should be quick; it must
// not call the Server.
func WithRequestLog(log func(Request)) Option { return func(s *Server) { s.log = log } }

// New returns a Server with no keys and no data. It parses Apple's OpenAPI
// document the first time it is called in a process.
func New(opts ...Option) (*Server, error) {
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	s := &Server{
		spec:      sp,
		now:       time.Now,
		keys:      make(map[string]*apiKey),
		remaining: HourlyRateLimit,
		data:      newStore(),
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Start serves s on addr ("127.0.0.1:0" picks a free port) and returns its
// base URL, such as http://127.0.0.1:41234, to use in place of
// https://api.appstoreconnect.apple.com.
func (s *Server) Start(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs != nil {
		return "", errors.New("ascsim: the server is already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ascsim: listen: %w", err)
	}
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func(hs *http.Server) { _ = hs.Serve(ln) }(s.hs)
	return "http://" + ln.Addr().String(), nil
}

// Close stops a server Start started, closing its connections at once,
// and removes the temporary files of uploaded parts; it is safe to call on
// a server that was never started.
func (s *Server) Close() error {
	s.closeUploads()
	s.mu.Lock()
	hs := s.hs
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	if err := hs.Close(); err != nil {
		return fmt.Errorf("ascsim: close: %w", err)
	}
	return nil
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// SetRateLimitRemaining sets user-hour-rem, the requests left this hour.
// Each request takes one; at zero, authenticated requests get 429
// RATE_LIMIT_EXCEEDED, as Apple's do once the hour's quota is spent.
func (s *Server) SetRateLimitRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remaining = max(n, 0)
}

// ServeHTTP answers one request as App Store Connect would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := Request{Time: s.now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	logged := false
	logEntry := func(status int) {
		if logged {
			return
		}
		logged = true
		entry.Status = status
		s.logMu.Lock()
		defer s.logMu.Unlock()
		s.mu.Lock()
		s.requests = append(s.requests, entry)
		s.mu.Unlock()
		if s.log != nil {
			s.log(entry)
		}
	}
	// The entry is logged as the status is written, so a client that has
	// its answer finds it in Requests; or at the end if none was written.
	rec := &recorder{ResponseWriter: w, onStatus: logEntry}
	defer logEntry(0)

	if r.URL.Path == OlympusSessionPath { // cookie-authenticated, outside the API (olympus.go)
		s.serveOlympus(rec, r, &entry)
		return
	}

	if isUploadPath(r.URL.Path) {
		// A presigned part URL (uploadparts.go): no token, no rate limit,
		// and its signature never reaches the log.
		entry.RawQuery = ""
		s.servePart(rec, r, &entry)
		return
	}

	s.mu.Lock()
	exhausted := s.remaining == 0
	s.remaining = max(s.remaining-1, 0)
	rec.Header().Set("X-Rate-Limit", fmt.Sprintf("user-hour-lim:%d;user-hour-rem:%d;", HourlyRateLimit, s.remaining))
	s.mu.Unlock()

	if !sleep(r.Context(), s.latency) {
		entry.Note = "the client gave up during the simulated latency"
		return
	}
	answered, next := s.applyFaults(rec, r, &entry)
	if answered {
		return
	}
	r = withNextFault(r, next)

	key, note := s.authenticate(r, &entry)
	if key == nil {
		entry.Note = note
		writeErrors(rec, errNotAuthorized())
		return
	}
	if exhausted {
		entry.Note = "the hourly rate limit is spent"
		writeErrors(rec, errRateLimit())
		return
	}
	if key.forbidden {
		entry.Note = "the key's role does not allow this request"
		writeErrors(rec, errForbidden())
		return
	}
	s.serveAPI(rec, r, &entry)
}

// writeJSON writes v as the body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // links keep their & as Apple's do
	if err := enc.Encode(v); err != nil {
		// Only the simulator's own types are encoded; this is a bug.
		panic(fmt.Sprintf("ascsim: encode a response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}

// sleep waits d, or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// recorder reports the status a handler writes, before it is sent.
// Unwrap lets http.ResponseController reach the connection to hijack it.
type recorder struct {
	http.ResponseWriter
	onStatus func(status int)
	wrote    bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.wrote = true
		r.onStatus(status)
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logUnanswered logs the entry with no status, for a handler about to drop
// the connection: a client that sees the connection go, and asks for
// Requests or retries, must find this entry already there and in order.
func (r *recorder) logUnanswered() {
	if !r.wrote {
		r.wrote = true
		r.onStatus(0)
	}
}

// apiKey is a registered App Store Connect API key.
type apiKey struct {
	kid       string
	issuerID  string // "" for an individual key
	inHouse   bool
	pub       *ecdsa.PublicKey
	forbidden bool
}
