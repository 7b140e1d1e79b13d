package upload

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/httpx"
)

// part is one upload operation, checked.
type part struct {
	n      int // 1-based position in offset order
	of     int // how many parts there are
	op     asc.DeliveryFileUploadOperation
	method string
	url    *url.URL
	where  string // the URL without its query, for messages
}

// planParts checks App Store Connect's operations before any is sent: each
// is an http(s) URL with a method and a byte range within the file, and
// together, sorted by offset, they cover the file exactly once. The list
// may come in any order.
func planParts(ops []asc.DeliveryFileUploadOperation, size int64) ([]part, error) {
	if len(ops) == 0 {
		return nil, errors.New("upload: App Store Connect sent no upload operations")
	}
	var errs []error
	parts := make([]part, 0, len(ops))
	for i, op := range ops {
		what := fmt.Sprintf("operation %d", i+1)
		if op.PartNumber > 0 {
			what = fmt.Sprintf("operation %d (part number %d)", i+1, op.PartNumber)
		}
		u, err := url.Parse(op.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", what, httpx.RedactURLString(op.URL)))
			continue
		}
		method := strings.ToUpper(strings.TrimSpace(op.Method))
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			errs = append(errs, fmt.Errorf("%s: %q is not an HTTP method", what, op.Method))
		}
		if op.Length < 1 || op.Offset < 0 || op.Offset > size-op.Length {
			errs = append(errs, fmt.Errorf("%s: bytes %d to %d are not within the file's %d", what, op.Offset, op.Offset+op.Length, size))
		}
		for _, h := range op.RequestHeaders {
			if strings.EqualFold(h.Name, "Content-Length") && h.Value != strconv.FormatInt(op.Length, 10) {
				errs = append(errs, fmt.Errorf("%s: header Content-Length %s differs from its length %d", what, h.Value, op.Length))
			}
		}
		parts = append(parts, part{op: op, method: method, url: u, where: httpx.RedactURL(u)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(parts, func(a, b part) int { return cmpInt64(a.op.Offset, b.op.Offset) })
	var next int64
	for i := range parts {
		p := &parts[i]
		p.n, p.of = i+1, len(parts)
		switch {
		case p.op.Offset > next:
			return nil, fmt.Errorf("no operation covers bytes %d to %d of the file", next, p.op.Offset)
		case p.op.Offset < next:
			return nil, fmt.Errorf("operations overlap at byte %d of the file", p.op.Offset)
		}
		next = p.op.Offset + p.op.Length
	}
	if next != size {
		return nil, fmt.Errorf("no operation covers bytes %d to %d of the file", next, size)
	}
	return parts, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func largest(parts []part) int64 {
	var m int64
	for _, p := range parts {
		m = max(m, p.op.Length)
	}
	return m
}

// sendParts sends every part, Concurrency at a time, in offset order. The
// first part that fails for good cancels the others and is the error.
func (r *run) sendParts(ctx context.Context, parts []part) error {
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	prog := &progress{total: r.src.Size, start: r.o.Now(), now: r.o.Now, fn: r.o.Progress}
	var (
		retries  atomic.Int64
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan part)
	for range min(r.o.Concurrency, len(parts)) {
		wg.Go(func() {
			for p := range jobs {
				if err := r.sendPart(pctx, p, prog, &retries); err != nil {
					once.Do(func() { firstErr = err })
					cancel(err)
				}
			}
		})
	}
feed:
	for _, p := range parts {
		select {
		case jobs <- p:
		case <-pctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	r.res.Retries += int(retries.Load())
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("upload: sending the parts of build upload %s: %w", r.res.BuildUploadID, err)
	}
	return firstErr
}

// sendPart sends p until it succeeds, fails for good or ctx ends.
func (r *run) sendPart(ctx context.Context, p part, prog *progress, retries *atomic.Int64) error {
	pol := r.o.PartRetry
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := r.attemptPart(ctx, p, prog)
		if res.err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err() // cancelled, not this part's failure
		}
		if !res.retry || attempt >= pol.Attempts {
			return &PartError{
				Part: p.n, Parts: p.of, PartNumber: p.op.PartNumber,
				Offset: p.op.Offset, Length: p.op.Length,
				Method: p.method, URL: p.where,
				Attempts: attempt, StatusCode: res.status,
				Expired: res.status == http.StatusForbidden, Expiration: p.op.Expiration,
				Err: res.err,
			}
		}
		d := httpx.Backoff(attempt, pol.Base, pol.Max, r.o.Rand)
		if res.after > 0 {
			d = min(res.after, httpx.MaxRetryAfter)
		}
		retries.Add(1)
		r.logf("part %d of %d (offset %d, length %d): %v; attempt %d of %d in %s",
			p.n, p.of, p.op.Offset, p.op.Length, res.err, attempt+1, pol.Attempts, d.Round(time.Millisecond))
		if err := r.o.Sleep(ctx, d); err != nil {
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

// attemptPart sends p once, streaming its bytes from the file.
func (r *run) attemptPart(ctx context.Context, p part, prog *progress) attempt {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := r.o.StallTimeout
	timer := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer timer.Stop()

	body := &partBody{
		r:    io.NewSectionReader(r.src.File, p.op.Offset, p.op.Length),
		want: p.op.Length,
		onRead: func(n int) {
			timer.Reset(stall)
			prog.add(int64(n))
		},
	}
	req, err := http.NewRequestWithContext(actx, p.method, p.url.String(), body)
	if err != nil {
		return attempt{err: fmt.Errorf("%s %s: %s", p.method, p.where, httpx.Scrub(err.Error(), p.url))}
	}
	req.ContentLength = p.op.Length
	for _, h := range p.op.RequestHeaders {
		switch {
		case strings.EqualFold(h.Name, "Content-Length"): // checked by planParts; Go sends ContentLength
		case strings.EqualFold(h.Name, "Host"):
			req.Host = h.Value
		default:
			req.Header.Add(h.Name, h.Value)
		}
	}

	resp, err := r.o.PartHTTPClient.Do(req)
	if err != nil {
		sent, short := body.finish()
		prog.add(-sent)
		err = httpx.UnwrapURLError(err)
		fail := func(retry bool, format string, args ...any) attempt {
			msg := fmt.Sprintf(format, args...)
			return attempt{retry: retry, err: fmt.Errorf("%s %s: %s", p.method, p.where, httpx.Scrub(msg, p.url))}
		}
		switch {
		case ctx.Err() != nil:
			return attempt{err: ctx.Err()}
		case errors.Is(context.Cause(actx), errStalled):
			return fail(true, "no progress for %s (%d of %d bytes read)", stall, sent, p.op.Length)
		case short:
			return fail(false, "the file ended after %d of the part's %d bytes: was it changed during the upload?", sent, p.op.Length)
		case httpx.Permanent(err):
			return fail(false, "%v", err)
		}
		return fail(true, "%v", err)
	}
	defer resp.Body.Close()
	var detail string
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		detail = errorDetail(resp.Body)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	sent, _ := body.finish()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if sent != p.op.Length {
			prog.add(-sent)
			return attempt{status: resp.StatusCode, retry: true,
				err: fmt.Errorf("%s %s: %s after only %d of %d bytes", p.method, p.where, resp.Status, sent, p.op.Length)}
		}
		return attempt{status: resp.StatusCode}
	}
	prog.add(-sent)
	a := attempt{status: resp.StatusCode, err: fmt.Errorf("%s %s: %s%s", p.method, p.where, resp.Status, httpx.Scrub(detail, p.url))}
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		a.retry = true
		if d, ok := httpx.RetryAfter(resp.Header.Get("Retry-After"), r.o.Now()); ok {
			a.after = d
		}
	}
	return a
}

// partBody streams a part from the file as a request body, counting what
// the transport reads. finish stops the count: a transport still reading
// after Do returned then gets an error.
type partBody struct {
	r      io.Reader
	want   int64
	onRead func(int)

	mu    sync.Mutex
	n     int64
	short bool // the file ended before the part did
	done  bool
}

func (b *partBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errors.New("upload: the attempt is over")
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if errors.Is(err, io.EOF) && b.n < b.want {
		b.short = true
	}
	b.onRead(n)
	return n, err
}

func (b *partBody) finish() (sent int64, short bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	return b.n, b.short
}

// progress adds up the bytes sent and reports them, one call at a time.
type progress struct {
	total int64
	start time.Time
	now   func() time.Time
	fn    func(Progress)

	mu   sync.Mutex
	sent int64
}

func (p *progress) add(n int64) {
	if n == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent += n
	if p.fn != nil {
		p.fn(Progress{Sent: p.sent, Total: p.total, Elapsed: p.now().Sub(p.start)})
	}
}

// errorDetail reads the start of an error answer and keeps only an S3-style
// <Code> and <Message>: anything else the body holds (a request ID, the
// string that was signed) is left out, as it may echo the request.
func errorDetail(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 4<<10))
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false // S3-style servers do not always escape what they echo
	if d.Decode(&doc) != nil || (doc.Code == "" && doc.Message == "") {
		return ""
	}
	s := strings.Join(strings.Fields(strings.TrimSpace(doc.Code+" "+doc.Message)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return " (" + s + ")"
}
