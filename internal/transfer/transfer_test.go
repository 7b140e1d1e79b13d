package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// secret stands in a presigned URL's signature: no error or log line may
// contain it.
const secret = "sig-8f3e2a1c"

// server records the parts it receives; answer decides each reply (nil:
// read the body, 200).
type server struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(n int, w http.ResponseWriter, r *http.Request) bool // true: answered

	mu       sync.Mutex
	got      map[string][]byte // path → last body received whole
	requests []*http.Request
	attempts map[string]int
}

func newServer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request) bool) *server {
	s := &server{t: t, answer: answer, got: map[string][]byte{}, attempts: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.attempts[r.URL.Path]++
		n := s.attempts[r.URL.Path]
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		if s.answer != nil && s.answer(n, w, r) {
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.got[r.URL.Path] = b
		s.mu.Unlock()
		w.Header().Set("ETag", `"`+r.URL.Path+`"`)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// parts cuts size bytes into parts of partSize, each PUT to /p<n> with the
// secret in its query.
func (s *server) parts(size, partSize int64) []Part {
	var ps []Part
	for off, n := int64(0), 1; off < size; off, n = off+partSize, n+1 {
		u, err := url.Parse(fmt.Sprintf("%s/p%d?X-Amz-Signature=%s", s.srv.URL, n, secret))
		if err != nil {
			s.t.Fatal(err)
		}
		ps = append(ps, Part{Method: http.MethodPut, URL: u, Offset: off, Length: min(partSize, size-off),
			Header: http.Header{"Content-Type": {"application/octet-stream"}}})
	}
	return ps
}

func content(size int) []byte {
	b := make([]byte, size)
	r := rand.NewChaCha8([32]byte{7})
	_, _ = r.Read(b)
	return b
}

// options has no real waits, and records the backoffs and the log.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
	lines  []string
}

func (rec *recorder) options() Options {
	return Options{
		Sleep: func(ctx context.Context, d time.Duration) error {
			rec.mu.Lock()
			rec.sleeps = append(rec.sleeps, d)
			rec.mu.Unlock()
			return ctx.Err()
		},
		Rand: func() float64 { return 1 },
		Log: func(s string) {
			rec.mu.Lock()
			rec.lines = append(rec.lines, s)
			rec.mu.Unlock()
		},
	}
}

func noSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, secret) {
		t.Errorf("%s holds the signature: %s", what, s)
	}
}

func TestSendStreamsEveryPart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		size, partSize    int64
		concurrency       int
		wantMaxConcurrent int
	}{
		{"one part", 1000, 4096, 0, 1},
		{"uneven last part, one at a time", 10_000, 1024, 1, 1},
		{"uneven last part, three at a time", 10_000, 1024, 3, 3},
		{"more workers than parts", 3000, 1024, 16, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := content(int(tt.size))
			var (
				mu               sync.Mutex
				now, most        int
				calls            int
				inCall           bool
				lastSent, lastTo int64
			)
			s := newServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				now++
				most = max(most, now)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // lets the others start
				mu.Lock()
				now--
				mu.Unlock()
				return false
			})
			parts := s.parts(tt.size, tt.partSize)
			rec := &recorder{}
			opts := rec.options()
			opts.Concurrency = tt.concurrency
			opts.Progress = func(p Progress) {
				if inCall {
					t.Error("Progress called concurrently")
				}
				inCall = true
				calls++
				lastSent, lastTo = p.Sent, p.Total
				inCall = false
			}
			res, err := Send(t.Context(), bytes.NewReader(data), tt.size, parts, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Retries != 0 || res.Responses != nil {
				t.Errorf("result %+v", res)
			}
			for _, p := range parts {
				if got := s.got[p.URL.Path]; !bytes.Equal(got, data[p.Offset:p.Offset+p.Length]) {
					t.Errorf("%s: %d bytes, not the file's %d at %d", p.URL.Path, len(got), p.Length, p.Offset)
				}
			}
			for _, r := range s.requests {
				if r.ContentLength < 1 || len(r.TransferEncoding) != 0 || r.Header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("%s: Content-Length %d, Transfer-Encoding %v, headers %v", r.URL.Path, r.ContentLength, r.TransferEncoding, r.Header)
				}
			}
			if most > tt.wantMaxConcurrent || (tt.wantMaxConcurrent > 1 && most < 2) {
				t.Errorf("%d parts at once, want at most %d", most, tt.wantMaxConcurrent)
			}
			if calls == 0 || lastSent != tt.size || lastTo != tt.size {
				t.Errorf("progress: %d calls, last %d of %d", calls, lastSent, lastTo)
			}
		})
	}
}

func TestSendSetsHeadersAndHost(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	parts := s.parts(100, 100)
	parts[0].Header = http.Header{"Host": {"bucket.example"}, "Content-Length": {"100"}, "X-Amz-Acl": {"private"}, "X-Multi": {"a", "b"}}
	if _, err := Send(t.Context(), bytes.NewReader(content(100)), 100, parts, Options{}); err != nil {
		t.Fatal(err)
	}
	r := s.requests[0]
	if r.Host != "bucket.example" || r.ContentLength != 100 || r.Header.Get("X-Amz-Acl") != "private" || !slices.Equal(r.Header["X-Multi"], []string{"a", "b"}) {
		t.Errorf("request: Host %q, Content-Length %d, headers %v", r.Host, r.ContentLength, r.Header)
	}
}

func TestSendRetries(t *testing.T) {
	t.Parallel()
	fail := func(status int, header, body string, times int) func(int, http.ResponseWriter, *http.Request) bool {
		return func(n int, w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/p2" || n > times {
				return false
			}
			_, _ = io.Copy(io.Discard, r.Body)
			if header != "" {
				k, v, _ := strings.Cut(header, ": ")
				w.Header().Set(k, v)
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return true
		}
	}
	// The server quotes the signature back in its message too: the error
	// must carry the message without it.
	s3Error := "<Error><Code>SignatureDoesNotMatch</Code><Message>no " + secret + "</Message><StringToSign>PUT /p2?X-Amz-Signature=" + secret + "</StringToSign></Error>"
	tests := []struct {
		name        string
		answer      func(int, http.ResponseWriter, *http.Request) bool
		wantErr     string // "" for success
		wantStatus  int
		wantRetries int
		wantSleeps  []time.Duration
	}{
		{"500 once", fail(500, "", "", 1), "", 0, 1, []time.Duration{time.Second}},
		{"503 twice", fail(503, "", "", 2), "", 0, 2, []time.Duration{time.Second, 2 * time.Second}},
		{"408 is retried", fail(408, "", "", 1), "", 0, 1, []time.Duration{time.Second}},
		{"429 with Retry-After", fail(429, "Retry-After: 7", "", 1), "", 0, 1, []time.Duration{7 * time.Second}},
		{"a long Retry-After is cut", fail(503, "Retry-After: 86400", "", 1), "", 0, 1, []time.Duration{2 * time.Minute}},
		{"500 every time", fail(500, "", "", 99), "after 5 attempts: PUT " + "http", 500, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{"403 is not retried", fail(403, "", s3Error, 1), "(SignatureDoesNotMatch no ***)", 403, 0, nil},
		{"404 is not retried", fail(404, "", "", 1), "404 Not Found", 404, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, tt.answer)
			parts := s.parts(3000, 1024)
			rec := &recorder{}
			res, err := Send(t.Context(), bytes.NewReader(content(3000)), 3000, parts, rec.options())
			if res.Retries != tt.wantRetries || !slices.Equal(rec.sleeps, tt.wantSleeps) || len(rec.lines) != tt.wantRetries {
				t.Errorf("retries %d, sleeps %v, log %q; want %d, %v", res.Retries, rec.sleeps, rec.lines, tt.wantRetries, tt.wantSleeps)
			}
			for _, l := range rec.lines {
				noSecret(t, "log line", l)
				if !strings.HasPrefix(l, "part 2 of 3 (offset 1024, length 1024): PUT "+s.srv.URL+"/p2: ") {
					t.Errorf("log line %q", l)
				}
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			pe, ok := errors.AsType[*PartError](err)
			if !ok || pe.Part != 2 || pe.Parts != 3 || pe.StatusCode != tt.wantStatus || pe.URL != s.srv.URL+"/p2" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v (%+v), want a PartError for part 2 with %d, saying %q", err, pe, tt.wantStatus, tt.wantErr)
			}
			noSecret(t, "error", err.Error())
		})
	}
}

func TestSendNetworkErrors(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // connections are refused: temporary
	u, err := url.Parse(closed.URL + "/p1?X-Amz-Signature=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts := rec.options()
	opts.Retry = RetryPolicy{Attempts: 3}
	_, err = Send(t.Context(), bytes.NewReader(content(10)), 10, []Part{{Method: "PUT", URL: u, Length: 10}}, opts)
	pe, ok := errors.AsType[*PartError](err)
	if !ok || pe.Attempts != 3 || pe.StatusCode != 0 {
		t.Fatalf("err = %v, want a PartError after 3 attempts", err)
	}
	noSecret(t, "error", err.Error())
	for _, l := range rec.lines {
		noSecret(t, "log line", l)
	}
}

func TestSendStall(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 1 {
			return false
		}
		<-stop // reads nothing, answers nothing
		return true
	})
	t.Cleanup(func() { close(stop) }) // before the server closes
	rec := &recorder{}
	opts := rec.options()
	opts.StallTimeout = 100 * time.Millisecond
	res, err := Send(t.Context(), bytes.NewReader(content(1<<20)), 1<<20, s.parts(1<<20, 1<<20), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Retries != 1 || len(rec.lines) != 1 || !strings.Contains(rec.lines[0], "no progress for 100ms") {
		t.Errorf("retries %d, log %q", res.Retries, rec.lines)
	}
}

func TestSendHooks(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "signed "+r.URL.Path {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	})
	parts := s.parts(3000, 1024)
	opts := Options{
		Sign: func(r *http.Request, p Part) error {
			if r.ContentLength != p.Length || r.Header.Get("Content-Type") == "" {
				return errors.New("signed before the request was complete")
			}
			r.Header.Set("Authorization", "signed "+p.URL.Path)
			return nil
		},
		Response: func(resp *http.Response, p Part) (string, error) { return resp.Header.Get("ETag"), nil },
	}
	res, err := Send(t.Context(), bytes.NewReader(content(3000)), 3000, parts, opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`"/p1"`, `"/p2"`, `"/p3"`}; !slices.Equal(res.Responses, want) {
		t.Errorf("responses %q, want %q", res.Responses, want)
	}

	t.Run("errors end the transfer", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			opts Options
			want string
		}{
			{"sign", Options{Sign: func(*http.Request, Part) error { return errors.New("no credentials") }}, "signing the request: no credentials"},
			{"response", Options{Response: func(*http.Response, Part) (string, error) { return "", errors.New("no ETag") }}, "200 OK: no ETag"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s := newServer(t, nil)
				_, err := Send(t.Context(), bytes.NewReader(content(100)), 100, s.parts(100, 100), tt.opts)
				if pe, ok := errors.AsType[*PartError](err); !ok || pe.Attempts != 1 || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want one attempt failing with %q", err, tt.want)
				}
			})
		}
	})
}

// panicReader panics when a read reaches byte at.
type panicReader struct {
	r  io.ReaderAt
	at int64
}

func (p panicReader) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > p.at {
		panic("disk on fire")
	}
	return p.r.ReadAt(b, off)
}

func TestSendTurnsPanicsIntoErrors(t *testing.T) {
	t.Parallel()
	data := content(3000)
	tests := []struct {
		name string
		file io.ReaderAt
		opts Options
	}{
		{"ReadAt", panicReader{bytes.NewReader(data), 2000}, Options{}},
		{"Sign", bytes.NewReader(data), Options{Sign: func(*http.Request, Part) error { panic("disk on fire") }}},
		{"Response", bytes.NewReader(data), Options{Response: func(*http.Response, Part) (string, error) { panic("disk on fire") }}},
		{"Progress", bytes.NewReader(data), Options{Progress: func(p Progress) {
			if p.Sent > 1000 {
				panic("disk on fire")
			}
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, nil)
			rec := &recorder{}
			opts := tt.opts
			opts.Sleep, opts.Log = rec.options().Sleep, rec.options().Log
			_, err := Send(t.Context(), tt.file, 3000, s.parts(3000, 1024), opts)
			if err == nil || !strings.Contains(err.Error(), "panic: disk on fire") {
				t.Fatalf("err = %v, want the panic as an error", err)
			}
			if len(rec.sleeps) != 0 {
				t.Errorf("a panic was retried: %v", rec.lines)
			}
		})
	}
}

func TestSendShortFile(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	// The file has 2000 bytes, not the 3000 the parts say.
	_, err := Send(t.Context(), bytes.NewReader(content(2000)), 3000, s.parts(3000, 1024), Options{Concurrency: 1})
	pe, ok := errors.AsType[*PartError](err)
	if !ok || pe.Part != 2 || pe.Attempts != 1 || !strings.Contains(err.Error(), "the file ended after 976 of the part's 1024 bytes") {
		t.Fatalf("err = %v", err)
	}
}

func TestSendCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	stop := make(chan struct{})
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/p2" {
			cancel()
			<-stop
			return true
		}
		return false
	})
	t.Cleanup(func() { close(stop) }) // before the server closes
	_, err := Send(ctx, bytes.NewReader(content(3000)), 3000, s.parts(3000, 1024), Options{Concurrency: 1})
	if !errors.Is(err, context.Canceled) || errors.As(err, new(*PartError)) {
		t.Fatalf("err = %v, want cancelled, blaming no part", err)
	}
}

func TestSendRefusesBadParts(t *testing.T) {
	t.Parallel()
	u := &url.URL{Scheme: "https", Host: "h.example"}
	_, err := Send(t.Context(), nil, 100, []Part{
		{Method: "PUT", URL: u, Offset: 0, Length: 50},
		{URL: u, Offset: 50, Length: 50},
		{Method: "PUT", Offset: 90, Length: 20},
		{Method: "PUT", URL: u, Offset: -1, Length: 1},
	}, Options{})
	for _, want := range []string{"no file", "part 2 has no method", "part 3 has no method", "part 3: bytes 90 to 110", "part 4: bytes -1 to 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
