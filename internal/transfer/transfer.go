// Package transfer sends byte ranges of a file over HTTP, several at a
// time. Each part is streamed from the file through its own
// io.SectionReader with an explicit Content-Length (never buffered, never
// chunked), abandoned when it stops moving, and retried on its own with
// backoff. It knows nothing of the services it sends to: presigned URLs
// need nothing more, and a request that needs signing is signed by a hook.
//
// No secret reaches an error or a log line: URLs appear without their
// query or user information, and what an error quotes of them is cut. A
// panic in any goroutine the engine starts, or in a hook or the file's
// ReadAt, becomes an error.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asc-auth/action/internal/httpx"
)

const (
	// DefaultConcurrency is how many parts are sent at once by default:
	// enough to fill a CI runner's uplink without one slow part holding
	// the rest back.
	DefaultConcurrency = 4

	// DefaultAttempts is how many times a part is sent before its last
	// failure ends the transfer.
	DefaultAttempts = 5

	// DefaultStallTimeout abandons (and retries) a part attempt that has
	// read nothing from the file for this long, or has sent it all and got
	// no answer. A slow part that keeps moving is never cut off.
	DefaultStallTimeout = 2 * time.Minute

	// DefaultBackoffBase and DefaultBackoffMax bound the backoff between
	// attempts: "full jitter", a uniformly random delay between zero and
	// min(Max, Base·2^(n−1)) before retry n.
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 30 * time.Second
)

// Part is one byte range of the file and the request that carries it.
type Part struct {
	Method string
	URL    *url.URL
	// Header is sent with every attempt; Content-Length is left out (the
	// engine sends Length) and Host sets the request's Host.
	Header http.Header
	Offset int64
	Length int64
}

// RetryPolicy bounds the retries of one part.
type RetryPolicy struct {
	Attempts int           // sends of one part at most (default DefaultAttempts)
	Base     time.Duration // backoff before the first retry, at most (default DefaultBackoffBase)
	Max      time.Duration // longest backoff (default DefaultBackoffMax)
}

// Progress is how far the parts are.
type Progress struct {
	Sent    int64 // bytes of the file sent so far; it drops back when an attempt fails
	Total   int64 // the file's size
	Elapsed time.Duration
}

// Options tune Send. The zero value is usable: it gets the defaults.
type Options struct {
	// Client sends the parts (default NewClient(Concurrency)).
	Client *http.Client
	// Concurrency is how many parts are sent at once (default
	// DefaultConcurrency).
	Concurrency int
	// StallTimeout ends a part attempt that makes no progress (default
	// DefaultStallTimeout); the part is then retried.
	StallTimeout time.Duration
	// Retry bounds the retries of each part.
	Retry RetryPolicy

	// Sign, if set, is called on every attempt's request just before it is
	// sent, its headers set, to add authentication (an AWS SigV4 signature,
	// say). Its error ends the transfer: signing again would fail again.
	Sign func(*http.Request, Part) error
	// Response, if set, is called with every successful answer, the whole
	// part sent, before its body is drained; what it returns is the part's
	// entry in Result.Responses (an S3 ETag, say). Its error ends the
	// transfer.
	Response func(*http.Response, Part) (string, error)
	// Progress is called as bytes go out, often and from several
	// goroutines, but never concurrently. It must return quickly.
	Progress func(Progress)
	// Log receives a line for every retry, possibly from several
	// goroutines at once.
	Log func(string)
	// Secrets are values an error answer may echo (the request's
	// credentials): they are taken out of the error's detail before it is
	// cut short.
	Secrets []string

	// Now, Sleep and Rand replace the clock, the backoff waits and the
	// backoff jitter (a number in [0, 1)) in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Client == nil {
		o.Client = NewClient(o.Concurrency)
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.Retry.Attempts <= 0 {
		o.Retry.Attempts = DefaultAttempts
	}
	if o.Retry.Base <= 0 {
		o.Retry.Base = DefaultBackoffBase
	}
	if o.Retry.Max <= 0 {
		o.Retry.Max = DefaultBackoffMax
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = httpx.Sleep
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}

// NewClient returns a client made for parts: its own transport, HTTP/1.1
// only so that parallel parts use separate connections (their own
// congestion windows, and a reset loses one part, not all), idle
// connections kept for as many parts as run at once, and a large write
// buffer so TLS records are full. It has no overall timeout: the stall
// timeout ends stuck attempts instead. It adds no credentials.
func NewClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	t.ForceAttemptHTTP2 = false
	t.MaxIdleConnsPerHost = max(concurrency, 2)
	t.WriteBufferSize = 256 << 10
	return &http.Client{Transport: t}
}

// Result is what Send achieved.
type Result struct {
	Retries int // part attempts beyond the first
	// Responses holds, with Options.Response, what it returned for each
	// part, in the order of the parts; nil without it.
	Responses []string
}

// PartError is a part that failed for good.
type PartError struct {
	Part, Parts    int // 1-based position in the list, and how many parts there are
	Offset, Length int64
	Method         string
	URL            string // without its query
	Attempts       int
	StatusCode     int // the last answer's HTTP status, 0 if there was none
	Err            error
}

func (e *PartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "transfer: part %d of %d (offset %d, length %d) failed", e.Part, e.Parts, e.Offset, e.Length)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *PartError) Unwrap() error { return e.Err }

// Send sends every part of the size bytes of file, which is read with
// ReadAt only, from several goroutines at once (an *os.File does that).
// Parts start in the order given, Concurrency at a time. The first part
// that fails for good, a *PartError, cancels the others and is the error;
// Result counts the retries made either way.
func Send(ctx context.Context, file io.ReaderAt, size int64, parts []Part, opts Options) (Result, error) {
	if err := check(file, size, parts); err != nil {
		return Result{}, err
	}
	e := &engine{file: file, o: opts.withDefaults(), of: len(parts)}
	if e.o.Response != nil {
		e.responses = make([]string, len(parts))
	}
	e.prog = &progress{total: size, start: e.o.Now(), now: e.o.Now, fn: e.o.Progress}

	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan int)
	for range min(e.o.Concurrency, len(parts)) {
		wg.Go(func() {
			for i := range jobs {
				if err := e.sendGuarded(pctx, i, parts[i]); err != nil {
					once.Do(func() { firstErr = err })
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range parts {
		select {
		case jobs <- i:
		case <-pctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	res := Result{Retries: int(e.retries.Load()), Responses: e.responses}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("transfer: sending %d parts: %w", len(parts), err)
	}
	return res, firstErr
}

// check reports every part that cannot be sent.
func check(file io.ReaderAt, size int64, parts []Part) error {
	var errs []error
	if file == nil {
		errs = append(errs, errors.New("transfer: no file"))
	}
	for i, p := range parts {
		if p.URL == nil || p.Method == "" {
			errs = append(errs, fmt.Errorf("transfer: part %d has no method or URL", i+1))
		}
		if p.Length < 1 || p.Offset < 0 || p.Offset > size-p.Length {
			errs = append(errs, fmt.Errorf("transfer: part %d: bytes %d to %d are not within the file's %d", i+1, p.Offset, p.Offset+p.Length, size))
		}
	}
	return errors.Join(errs...)
}

// engine is one Send's state.
type engine struct {
	file      io.ReaderAt
	o         Options
	of        int // how many parts there are
	prog      *progress
	retries   atomic.Int64
	responses []string // written by one goroutine a part
}

func (e *engine) logf(format string, args ...any) { e.o.Log(fmt.Sprintf(format, args...)) }

// sendGuarded is sendPart with a panic (in a hook, say) turned into the
// part's error.
func (e *engine) sendGuarded(ctx context.Context, i int, p Part) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("transfer: part %d of %d: panic: %v", i+1, e.of, v)
		}
	}()
	return e.sendPart(ctx, i, p)
}

// sendPart sends p until it succeeds, fails for good or ctx ends.
func (e *engine) sendPart(ctx context.Context, i int, p Part) error {
	pol := e.o.Retry
	where := httpx.RedactURL(p.URL)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		a := e.attempt(ctx, i, p, where)
		if a.err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err() // cancelled, not this part's failure
		}
		if !a.retry || n >= pol.Attempts {
			return &PartError{
				Part: i + 1, Parts: e.of, Offset: p.Offset, Length: p.Length,
				Method: p.Method, URL: where, Attempts: n, StatusCode: a.status, Err: a.err,
			}
		}
		d := httpx.Backoff(n, pol.Base, pol.Max, e.o.Rand)
		if a.after > 0 {
			d = min(a.after, httpx.MaxRetryAfter)
		}
		e.retries.Add(1)
		e.logf("part %d of %d (offset %d, length %d): %v; attempt %d of %d in %s",
			i+1, e.of, p.Offset, p.Length, a.err, n+1, pol.Attempts, d.Round(time.Millisecond))
		if err := e.o.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// attempt is how one send of a part went.
type attempt struct {
	status int           // the HTTP status, 0 without an answer
	retry  bool          // whether another attempt may succeed
	after  time.Duration // the server's Retry-After, if any
	err    error
}

// errStalled is the cause of an attempt the stall timer ended.
var errStalled = errors.New("stalled")

// attempt sends p once, streaming its bytes from the file.
func (e *engine) attempt(ctx context.Context, i int, p Part, where string) attempt {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := e.o.StallTimeout
	timer := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer timer.Stop()
	fail := func(retry bool, format string, args ...any) attempt {
		msg := fmt.Sprintf(format, args...)
		return attempt{retry: retry, err: fmt.Errorf("%s %s: %s", p.Method, where, httpx.Scrub(msg, p.URL))}
	}

	body := &partBody{
		r:    io.NewSectionReader(e.file, p.Offset, p.Length),
		want: p.Length,
		onRead: func(n int) {
			timer.Reset(stall)
			e.prog.add(int64(n))
		},
	}
	req, err := http.NewRequestWithContext(actx, p.Method, p.URL.String(), body)
	if err != nil {
		return fail(false, "%v", err)
	}
	req.ContentLength = p.Length
	for k, vs := range p.Header {
		for _, v := range vs {
			switch http.CanonicalHeaderKey(k) {
			case "Content-Length": // req.ContentLength is sent
			case "Host":
				req.Host = v
			default:
				req.Header.Add(k, v)
			}
		}
	}
	if e.o.Sign != nil {
		if err := e.o.Sign(req, p); err != nil {
			return fail(false, "signing the request: %v", err)
		}
	}

	resp, err := e.o.Client.Do(req)
	if err != nil {
		sent, short, perr := body.finish()
		e.prog.add(-sent)
		err = httpx.UnwrapURLError(err)
		switch {
		case perr != nil:
			return fail(false, "%v", perr)
		case errors.Is(err, errReadPanic):
			return fail(false, "%v", err)
		case ctx.Err() != nil:
			return attempt{err: ctx.Err()}
		case errors.Is(context.Cause(actx), errStalled):
			return fail(true, "no progress for %s (%d of %d bytes read)", stall, sent, p.Length)
		case short:
			return fail(false, "the file ended after %d of the part's %d bytes: was it changed during the transfer?", sent, p.Length)
		case httpx.Permanent(err):
			// A part is a byte range sent again whole: repeating it is
			// harmless, and cheaper than failing a large file, so every
			// failure not known to last is retried.
			return fail(false, "%v", err)
		}
		return fail(true, "%v", err)
	}
	defer resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	var (
		detail string
		value  string
		verr   error
	)
	switch {
	case !ok:
		// A presigned URL's own credentials may come back too.
		detail = ErrorDetail(resp.Body, append(httpx.URLSecrets(p.URL), e.o.Secrets...))
	case e.o.Response != nil:
		value, verr = e.o.Response(resp, p)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	sent, _, perr := body.finish()
	switch {
	case perr != nil:
		e.prog.add(-sent)
		return fail(false, "%v", perr)
	case ok && sent != p.Length:
		e.prog.add(-sent)
		return attempt{status: resp.StatusCode, retry: true,
			err: fmt.Errorf("%s %s: %s after only %d of %d bytes", p.Method, where, resp.Status, sent, p.Length)}
	case ok && verr != nil:
		a := fail(false, "%s: %v", resp.Status, verr)
		a.status = resp.StatusCode
		return a
	case ok:
		if e.responses != nil {
			e.responses[i] = value
		}
		return attempt{status: resp.StatusCode}
	}
	e.prog.add(-sent)
	a := attempt{status: resp.StatusCode, err: fmt.Errorf("%s %s: %s%s", p.Method, where, resp.Status, httpx.Scrub(detail, p.URL))}
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		a.retry = true
		if d, ok := httpx.RetryAfter(resp.Header.Get("Retry-After"), e.o.Now()); ok {
			a.after = d
		}
	}
	return a
}
