// Package asc is an App Store Connect API client. It knows nothing about GitHub.
//
// A Client sends every request through one path, NewRequest then Do, which
// attaches a bearer token from a TokenSource, retries what is safe to retry,
// records Apple's rate-limit header and turns error documents into *APIError.
// The typed methods (AppByBundleID, Builds, BuildUploads, ...) are thin
// wrappers over that path; GetAll and ListAll follow paged collections.
package asc

import (
	"bytes"
	"context"
	"encoding/json"
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
	// DefaultBaseURL is App Store Connect's API origin.
	DefaultBaseURL = "https://api.appstoreconnect.apple.com"

	// DefaultUserAgent is sent when WithUserAgent is not given. Callers pass
	// "asc-auth/<version>" so Apple's logs can tell releases apart.
	DefaultUserAgent = "asc-auth/dev"

	// DefaultRequestTimeout bounds one attempt: connecting, sending and
	// reading the whole response body. Collection pages of 200 builds take a
	// few seconds at worst; a minute means something is stuck.
	DefaultRequestTimeout = 60 * time.Second

	// DefaultMaxAttempts is how many times an idempotent request is sent
	// before its last failure is returned (the 401 refresh is not counted).
	DefaultMaxAttempts = 5

	// DefaultMaxTotal bounds the time one Do call spends on retries: a
	// retry whose backoff would end later than this after the first attempt
	// is not made.
	DefaultMaxTotal = 2 * time.Minute

	// MaxResponseBytes caps a response body. App Store Connect's largest
	// pages (200 resources with includes) are a few MiB; anything beyond
	// this is refused rather than decoded truncated.
	MaxResponseBytes = 16 << 20
)

// Backoff parameters: "full jitter", a uniformly random delay between zero
// and min(backoffCap, backoffBase·2^(n−1)) before retry n.
const (
	backoffBase = 500 * time.Millisecond
	backoffCap  = 30 * time.Second
)

// Client talks to App Store Connect. It is safe for concurrent use; its
// configuration is fixed by NewClient.
type Client struct {
	baseURL    *url.URL
	baseErr    error
	httpClient *http.Client
	userAgent  string
	tokens     TokenSource

	now            func() time.Time
	sleep          func(context.Context, time.Duration) error
	rand           func() float64
	warn           func(string)
	maxAttempts    int
	maxTotal       time.Duration
	requestTimeout time.Duration
	maxBody        int64

	requests atomic.Int64

	mu         sync.Mutex
	rateLimit  RateLimit
	warnedRate bool
}

// Option changes one of a Client's defaults.
type Option func(*Client)

// WithBaseURL sets the API origin (default DefaultBaseURL), for instance a
// local simulator's "http://127.0.0.1:8080". A path prefix is kept. The
// client refuses to send requests anywhere else, since every request
// carries the token.
func WithBaseURL(base string) Option {
	return func(c *Client) { c.baseURL, c.baseErr = parseBaseURL(base) }
}

// WithHTTPClient sets the HTTP client (default: a client on
// http.DefaultTransport with no overall timeout; see WithRequestTimeout).
// Its redirect policy is replaced: the client never follows redirects.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithUserAgent sets the User-Agent header (default DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// WithClock sets the clock used for the retry time budget and for
// Retry-After dates (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithSleep sets how the client waits between attempts (default: a timer
// that returns ctx.Err() as soon as ctx is done). Tests pass a function that
// records the delay and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithRetry bounds automatic retries: at most maxAttempts sends of one
// request and no retry that would end more than maxTotal after the first
// send. maxAttempts 1 disables retries. Values below 1 (or ≤ 0 for
// maxTotal) keep the defaults, DefaultMaxAttempts and DefaultMaxTotal.
func WithRetry(maxAttempts int, maxTotal time.Duration) Option {
	return func(c *Client) {
		if maxAttempts >= 1 {
			c.maxAttempts = maxAttempts
		}
		if maxTotal > 0 {
			c.maxTotal = maxTotal
		}
	}
}

// WithRequestTimeout bounds each attempt, body included (default
// DefaultRequestTimeout). An attempt that times out is retried like a
// connection error.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.requestTimeout = d
		}
	}
}

// WithWarn sets where warnings go (default: dropped). The client warns once
// when fewer than 10% of the hourly request allowance remain.
func WithWarn(warn func(string)) Option {
	return func(c *Client) {
		if warn != nil {
			c.warn = warn
		}
	}
}

// WithRand sets the source of backoff jitter, a function returning a number
// in [0, 1) (default math/rand/v2's Float64). Returning a constant makes
// delays predictable in tests.
func WithRand(f func() float64) Option {
	return func(c *Client) {
		if f != nil {
			c.rand = f
		}
	}
}

// NewClient returns a client that authorizes every request with a token
// from tokens (typically a *TokenCache).
func NewClient(tokens TokenSource, opts ...Option) *Client {
	c := &Client{
		httpClient:     &http.Client{},
		userAgent:      DefaultUserAgent,
		tokens:         tokens,
		now:            time.Now,
		sleep:          httpx.Sleep,
		rand:           rand.Float64,
		warn:           func(string) {},
		maxAttempts:    DefaultMaxAttempts,
		maxTotal:       DefaultMaxTotal,
		requestTimeout: DefaultRequestTimeout,
		maxBody:        MaxResponseBytes,
	}
	c.baseURL, c.baseErr = parseBaseURL(DefaultBaseURL)
	for _, o := range opts {
		o(c)
	}
	// Never follow a redirect: Go would resend the Authorization header to
	// the same host on another port or scheme, and App Store Connect's API
	// does not redirect. A copy, so the caller's client is left as it was.
	hc := *c.httpClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.httpClient = &hc
	return c
}

// Requests returns how many HTTP requests the client has sent, retries and
// token refreshes included.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// RateLimit returns the allowance App Store Connect reported on the latest
// response that carried an X-Rate-Limit header; the zero value if none has.
func (c *Client) RateLimit() RateLimit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rateLimit
}

// Response is what Do learned from the final HTTP response. The body has
// already been read, capped and (for 2xx) decoded into Do's v.
type Response struct {
	StatusCode int
	Header     http.Header
	// RateLimit is parsed from X-Rate-Limit; zero if it was absent or
	// malformed.
	RateLimit RateLimit
	// Attempts is how many times the request was sent.
	Attempts int
}

// NewRequest builds a request for pathOrURL, which is either a path such as
// "/v1/apps" (joined to the base URL, keeping any prefix) or an absolute
// URL on the base URL's scheme and host, such as a links.next value. Other
// hosts are refused. query is merged into the URL's own query. A non-nil
// body is encoded as JSON once and kept, so the request can be replayed.
func (c *Client) NewRequest(ctx context.Context, method, pathOrURL string, query url.Values, body any) (*http.Request, error) {
	u, err := c.resolve(pathOrURL)
	if err != nil {
		return nil, err
	}
	if len(query) > 0 {
		q := u.Query()
		for k, vs := range query {
			q[k] = append([]string(nil), vs...)
		}
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("asc: %s %s: encoding request body: %w", method, u.Path, err)
		}
		rd = bytes.NewReader(b) // sets GetBody, so the body can be replayed
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("asc: %s %s: %w", method, u.Path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// resolve turns pathOrURL into an absolute URL on the base origin.
func (c *Client) resolve(pathOrURL string) (*url.URL, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	ref, err := url.Parse(pathOrURL)
	if err != nil {
		return nil, fmt.Errorf("asc: invalid request URL %s", redactURLString(pathOrURL))
	}
	if ref.Scheme != "" || ref.Host != "" || ref.User != nil {
		if !sameOrigin(ref, c.baseURL) {
			return nil, fmt.Errorf("asc: refusing to send a request to %s: only %s is allowed", redactURL(ref), redactURL(c.baseURL))
		}
		ref.User = nil
		ref.Fragment, ref.RawFragment = "", ""
		return ref, nil
	}
	if !strings.HasPrefix(ref.Path, "/") {
		return nil, fmt.Errorf("asc: request path %q does not start with /", ref.Path)
	}
	u := *c.baseURL
	u.Path = strings.TrimSuffix(c.baseURL.Path, "/") + ref.Path
	u.RawPath = ""
	u.RawQuery = ref.RawQuery
	return &u, nil
}

// Do sends req, retrying as described below, and decodes a 2xx JSON body
// into v (unless v is nil or the body is empty). A non-2xx response becomes
// an *APIError; the returned *Response is then non-nil too.
//
// Every attempt gets a fresh token and its own timeout. A 401 invalidates
// the token and the request is sent once more with a new one, whatever its
// method: Apple rejects unauthorized requests before processing them.
// Idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS) are also retried
// after 429, 5xx, a timeout or a dropped connection, backing off
// exponentially (or as Retry-After says), within the WithRetry bounds.
// POST and PATCH are never retried otherwise, except a PATCH the typed
// methods mark as setting values (see UpdateBuild). Cancelling req's context
// stops everything at once.
func (c *Client) Do(req *http.Request, v any) (*Response, error) {
	ctx := req.Context()
	method := req.Method
	path := req.URL.Path
	if c.tokens == nil {
		return nil, errors.New("asc: the client has no TokenSource")
	}
	if !sameOrigin(req.URL, c.baseURL) {
		return nil, fmt.Errorf("asc: refusing to send a request to %s: only %s is allowed", redactURL(req.URL), redactURL(c.baseURL))
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	retryable := replayable && (isIdempotent(method) || markedIdempotent(ctx))

	start := c.now()
	var (
		sent      int  // requests sent by this call
		failures  int  // retryable failures so far, for the backoff
		refreshed bool // whether the 401 refresh has been used
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("asc: %s %s: %w", method, path, err)
		}
		sent++
		resp, body, err := c.send(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("asc: %s %s: %w", method, path, ctx.Err())
			}
			var perm *permanentError
			if errors.As(err, &perm) {
				return nil, perm.err
			}
			if !retryable || !httpx.Temporary(err) {
				return nil, fmt.Errorf("asc: %s %s: %w", method, redactURL(req.URL), err)
			}
			failures++
			if werr := c.wait(ctx, start, sent-refreshes(refreshed), failures, 0, false); werr != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("asc: %s %s: %w", method, path, ctx.Err())
				}
				return nil, fmt.Errorf("asc: %s %s: %w (%s)", method, redactURL(req.URL), err, werr)
			}
			continue
		}

		r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: sent}
		if rl, ok := ParseRateLimit(resp.Header.Get("X-Rate-Limit")); ok {
			r.RateLimit = rl
			c.recordRateLimit(rl)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if v != nil && len(bytes.TrimSpace(body)) > 0 {
				if err := json.Unmarshal(body, v); err != nil {
					return r, fmt.Errorf("asc: %s %s: decoding the response: %w", method, path, err)
				}
			}
			return r, nil
		}

		apiErr := newAPIError(method, path, resp.StatusCode, body)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !refreshed && replayable:
			refreshed = true
			c.tokens.Invalidate()
			continue
		case retryable && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500):
			failures++
			after, ok := httpx.RetryAfter(resp.Header.Get("Retry-After"), c.now())
			if c.wait(ctx, start, sent-refreshes(refreshed), failures, after, ok) == nil {
				continue
			}
			if ctx.Err() != nil {
				return r, fmt.Errorf("asc: %s %s: %w", method, path, ctx.Err())
			}
		}
		return r, apiErr
	}
}

// send makes one attempt: it clones req with a fresh token, a fresh body
// and the per-attempt timeout, and reads the capped body.
func (c *Client) send(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, nil, &permanentError{fmt.Errorf("asc: %s %s: getting a token: %w", req.Method, req.URL.Path, err)}
	}
	actx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	r := req.Clone(actx)
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, nil, &permanentError{fmt.Errorf("asc: %s %s: replaying the body: %w", req.Method, req.URL.Path, err)}
		}
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", c.userAgent)
	}
	c.requests.Add(1)
	resp, err := c.httpClient.Do(r)
	if err != nil {
		return nil, nil, c.describe(httpx.UnwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the response: %w", c.describe(httpx.UnwrapURLError(err)))
	}
	if int64(len(body)) > c.maxBody {
		return nil, nil, &permanentError{fmt.Errorf("asc: %s %s: %d response is larger than %d bytes", req.Method, req.URL.Path, resp.StatusCode, c.maxBody)}
	}
	return resp, body, nil
}

// describe words the per-attempt timeout; other errors are left alone.
func (c *Client) describe(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no response within %s: %w", c.requestTimeout, err)
	}
	return err
}

// wait sleeps before retry number failures, or says why it will not: the
// attempts are used up, the delay would overrun the time budget, or ctx
// ended. With hasAfter, the server's Retry-After delay is used instead of
// the exponential backoff.
func (c *Client) wait(ctx context.Context, start time.Time, attempts, failures int, after time.Duration, hasAfter bool) error {
	if attempts >= c.maxAttempts {
		return fmt.Errorf("gave up after %d attempts", attempts)
	}
	d := after
	if !hasAfter {
		d = c.backoff(failures)
	}
	if elapsed := c.now().Sub(start); elapsed+d > c.maxTotal {
		return fmt.Errorf("gave up after %d attempts in %s", attempts, elapsed.Round(time.Millisecond))
	}
	return c.sleep(ctx, d)
}

// backoff returns the full-jitter delay before retry n (n ≥ 1).
func (c *Client) backoff(n int) time.Duration {
	return httpx.Backoff(n, backoffBase, backoffCap, c.rand)
}

// recordRateLimit stores rl and warns once when less than 10% is left.
func (c *Client) recordRateLimit(rl RateLimit) {
	c.mu.Lock()
	c.rateLimit = rl
	warn := rl.Limit > 0 && rl.Remaining*10 < rl.Limit && !c.warnedRate
	if warn {
		c.warnedRate = true
	}
	c.mu.Unlock()
	if warn {
		c.warn(fmt.Sprintf("asc: only %d of %d App Store Connect API requests remain this hour; requests will fail with 429 when none are left", rl.Remaining, rl.Limit))
	}
}

// permanentError marks a failure in send that must not be retried; err is
// already fully described.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// refreshes is how many sends the 401 refresh accounts for, which do not
// count against the attempt bound.
func refreshes(refreshed bool) int {
	if refreshed {
		return 1
	}
	return 0
}

func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func parseBaseURL(base string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("asc: base URL %s is not an http(s) origin with an optional path", redactURLString(base))
	}
	return u, nil
}
