// Package ciapi is the one request path of the CI services' REST APIs
// (GitHub, GitLab, CircleCI, Bitrise) that asc-auth writes secrets to and
// files issues in: JSON in and out, a base URL, an authentication header,
// bounded retries for idempotent requests only, and errors that carry the
// status and the server's message, never the request body.
//
// It is deliberately small; the HTTP hygiene shared by the whole program
// (which failures are worth repeating, backoff, Retry-After) is httpx's.
package ciapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asc-auth/action/internal/httpx"
)

// maxBody caps an answer read: every answer these APIs give a secret or
// issue request is a small JSON document.
const maxBody = 4 << 20

// defaultTimeout bounds one request when the caller gives no client.
const defaultTimeout = 30 * time.Second

// retries is how often an idempotent request (GET, PUT, DELETE) is tried
// again after a temporary network error, a 429 or a 502/503/504; other
// methods are never retried, since a lost answer does not say whether
// they took effect.
const retries = 2

// Backoff between retries: full jitter from 500 ms, at most 5 s, or the
// server's Retry-After (capped by httpx) when it asks for longer.
const (
	backoffBase = 500 * time.Millisecond
	backoffMax  = 5 * time.Second
)

// Client sends requests to one API.
type Client struct {
	base   string
	auth   func(h http.Header)
	hc     *http.Client
	ua     string
	count  atomic.Int64
	sleep  func(context.Context, time.Duration) error
	accept string
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.ua = ua } }

// WithAccept sets the Accept header (default application/json).
func WithAccept(a string) Option { return func(c *Client) { c.accept = a } }

// WithBackoff replaces the wait between retries (tests pass one that does
// not sleep).
func WithBackoff(sleep func(context.Context, time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// New returns a Client for the API at base (no trailing slash), which
// sets its credentials on every request with auth.
func New(base string, auth func(http.Header), opts ...Option) *Client {
	c := &Client{
		base: strings.TrimSuffix(base, "/"), auth: auth,
		// A transport of its own: the default one is shared with whatever
		// else the process runs, and closing its idle connections (as
		// httptest servers do) would break a request of this client.
		hc: &http.Client{Timeout: defaultTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		ua: "asc-auth", accept: "application/json",
		sleep: httpx.Sleep,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Requests reports how many HTTP requests the client has sent, retries
// included.
func (c *Client) Requests() int { return int(c.count.Load()) }

// Error is an answer outside 2xx.
type Error struct {
	Method, Path string // the path without the base URL
	Status       int
	Message      string // the server's own message, if it gave one; may echo input
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.Method, e.Path, statusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Do sends a request with in as its JSON body (nil for none) and decodes a
// JSON answer into out (nil to ignore it). It returns the status of a 2xx
// answer; any other is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, err
		}
	}
	idempotent := method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
	for attempt := 0; ; attempt++ {
		status, header, data, err := c.once(ctx, method, path, body)
		if idempotent && attempt < retries && ctx.Err() == nil && retryable(status, err) {
			wait := httpx.Backoff(attempt+1, backoffBase, backoffMax, rand.Float64)
			if ra, ok := httpx.RetryAfter(header.Get("Retry-After"), time.Now()); ok {
				wait = max(wait, min(ra, httpx.MaxRetryAfter))
			}
			if serr := c.sleep(ctx, wait); serr != nil {
				return 0, serr
			}
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", method, path, err)
		}
		if status < 200 || status > 299 {
			return status, &Error{Method: method, Path: path, Status: status, Message: message(data)}
		}
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return status, fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
			}
		}
		return status, nil
	}
}

// retryable reports whether an attempt's failure is worth repeating: a
// temporary network error, or an answer that asks to come back later.
func retryable(status int, err error) bool {
	if err != nil {
		return httpx.Temporary(err)
	}
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (c *Client) once(ctx context.Context, method, path string, body []byte) (int, http.Header, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", c.accept)
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != nil {
		c.auth(req.Header)
	}
	c.count.Add(1)
	res, err := c.hc.Do(req)
	if err != nil {
		// Drop the URL net/http adds; the caller names the path.
		return 0, nil, nil, httpx.UnwrapURLError(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return 0, nil, nil, err
	}
	return res.StatusCode, res.Header, data, nil
}

// message takes the server's message out of an error body: GitHub's
// {"message": "..."}, GitLab's {"message": ...} or {"error": "..."},
// CircleCI's and Bitrise's {"message": "..."}, on one line.
func message(data []byte) string {
	var doc struct {
		Message json.RawMessage `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return ""
	}
	raw := doc.Message
	if len(raw) == 0 {
		raw = doc.Error
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw) // an object, as GitLab gives for validation errors
	}
	// One line, but whole: a message may quote a secret back, and only a
	// whole secret can be recognised and taken out before it is printed.
	return strings.Join(strings.Fields(s), " ")
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprintf("%d", code)
}

// gitHubAPIVersion pins the GitHub REST API version the requests were
// written against.
const gitHubAPIVersion = "2022-11-28"

// NewGitHub returns a Client for the GitHub REST API at base, with token as
// its bearer credential, GitHub's media type and the pinned API version.
func NewGitHub(base, token string, opts ...Option) *Client {
	auth := func(h http.Header) {
		h.Set("Authorization", "Bearer "+token)
		h.Set("X-GitHub-Api-Version", gitHubAPIVersion)
	}
	return New(base, auth, append([]Option{WithAccept("application/vnd.github+json")}, opts...)...)
}
