package ascsim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

const (
	// FaultRateLimit answers 429 RATE_LIMIT_EXCEEDED, with a Retry-After
	// header when Fault.RetryAfter is set.
	FaultRateLimit FaultKind = iota + 1
	// FaultServerError answers 500 UNEXPECTED_ERROR.
	FaultServerError
	// FaultUnavailable answers 503, with Retry-After when set.
	FaultUnavailable
	// FaultDelay holds the request for Fault.Delay (or until the client
	// gives up), then answers it normally or with the next matching fault.
	FaultDelay
	// FaultReset closes the TCP connection with SO_LINGER 0, so the client
	// sees ECONNRESET and no response.
	FaultReset
	// FaultExpiredToken answers 401 NOT_AUTHORIZED whatever the token, as
	// Apple does to a token that expired in flight.
	FaultExpiredToken

	// The next-link faults answer a paged listing as usual but with a
	// links.next that leads a client in circles. Like delays, they let
	// the request on, to be answered normally or by a fault of another kind.

	// FaultNextCycle makes every page but the first link back to the
	// first (the request's own query without its cursor): A → B → A. It
	// needs a listing of at least two pages.
	FaultNextCycle
	// FaultNextSelfReordered makes a page link to itself, its query
	// parameters in reverse order (byte for byte itself when it has fewer
	// than two).
	FaultNextSelfReordered
	// FaultNextSelfFragment makes a page link to itself with a #fragment
	// added.
	FaultNextSelfFragment

	// FaultEchoCredentials answers 401 with an error whose detail quotes
	// the request's Authorization and Cookie headers, as some proxies and
	// gateways do: a client must never print what it is sent back.
	FaultEchoCredentials
)

func (k FaultKind) String() string {
	switch k {
	case FaultRateLimit:
		return "rate limit"
	case FaultServerError:
		return "server error"
	case FaultUnavailable:
		return "unavailable"
	case FaultDelay:
		return "delay"
	case FaultReset:
		return "connection reset"
	case FaultExpiredToken:
		return "expired token"
	case FaultNextCycle:
		return "next link cycles to the first page"
	case FaultNextSelfReordered:
		return "next link to itself, reordered"
	case FaultNextSelfFragment:
		return "next link to itself with a fragment"
	case FaultEchoCredentials:
		return "credentials echoed"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a failure to inject into matching requests.
type Fault struct {
	Kind       FaultKind
	Method     string        // "GET"; "" matches any method
	PathPrefix string        // "/v1/builds"; "" matches any path
	RetryAfter time.Duration // FaultRateLimit, FaultUnavailable: Retry-After, rounded up to whole seconds; 0 sends none
	Delay      time.Duration // FaultDelay: how long to hold the request
	Times      int           // how many requests to fault; 0 means every one
}

func (f *Fault) matches(r *http.Request) bool {
	return (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.Path, f.PathPrefix)
}

// Inject adds a fault. Faults apply before authentication, in the order
// they were injected: every matching delay and next-link fault, then the
// first matching fault of another kind, if any, answers the request. Each
// use counts against the fault's Times, whether or not the answer turns
// out to be a paged listing that a next-link fault changes.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every injected fault, part faults included.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.up.partFaults = nil
}

// takeFaults returns the faults that apply to r, using them up.
func (s *Server) takeFaults(r *http.Request) []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var apply []Fault
	apply, s.faults = take(s.faults,
		func(f *Fault) (match, passes bool) { return f.matches(r), f.Kind.passes() },
		func(f *Fault) *int { return &f.Times })
	return apply
}

// passes reports whether a fault of kind k lets the request on to be
// answered, rather than answering it.
func (k FaultKind) passes() bool {
	switch k {
	case FaultDelay, FaultNextCycle, FaultNextSelfReordered, FaultNextSelfFragment:
		return true
	}
	return false
}

// take returns copies of the faults in list that apply, and list without
// those used up. Every matching fault that passes the request on (a delay)
// applies, and the first matching fault of another kind, which answers the
// request, ends the choice. Each use counts against a fault's times: at 1
// it is used up, 0 never is.
func take[F any](list []*F, applies func(*F) (match, passes bool), times func(*F) *int) (apply []F, kept []*F) {
	kept = list[:0]
	answered := false
	for _, f := range list {
		if match, passes := applies(f); match && (passes || !answered) {
			apply = append(apply, *f)
			answered = answered || !passes
			switch n := times(f); {
			case *n == 1:
				continue // used up
			case *n > 1:
				*n--
			}
		}
		kept = append(kept, f)
	}
	clear(list[len(kept):])
	return apply, kept
}

// applyFaults carries out the faults that match r and reports whether one
// of them answered it and, if not, the next-link fault (the last) that the
// answer is to carry out, or 0.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, entry *Request) (answered bool, next FaultKind) {
	for _, f := range s.takeFaults(r) {
		entry.Note = "fault: " + f.Kind.String()
		switch f.Kind {
		case FaultDelay:
			if !sleep(r.Context(), f.Delay) {
				entry.Note += "; the client gave up"
				return true, 0
			}
			continue
		case FaultNextCycle, FaultNextSelfReordered, FaultNextSelfFragment:
			next = f.Kind
			continue
		case FaultRateLimit, FaultUnavailable:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			}
			if f.Kind == FaultRateLimit {
				writeErrors(w, errRateLimit())
			} else {
				writeErrors(w, errUnavailable())
			}
		case FaultServerError:
			writeErrors(w, errUnexpected())
		case FaultExpiredToken:
			writeErrors(w, errNotAuthorized())
		case FaultEchoCredentials:
			e := errNotAuthorized()
			e.Detail = "gateway refused Authorization: " + r.Header.Get("Authorization") + "; Cookie: " + r.Header.Get("Cookie")
			writeErrors(w, e)
		case FaultReset:
			resetConnection(w)
		default:
			writeErrors(w, errUnexpected())
			entry.Note = fmt.Sprintf("fault: unknown kind %d", f.Kind)
		}
		return true, 0
	}
	return false, next
}

// nextFaultKey is the request context key of the next-link fault that
// ServeHTTP passes on to page.
type nextFaultKey struct{}

// withNextFault returns r carrying the next-link fault k, if any.
func withNextFault(r *http.Request, k FaultKind) *http.Request {
	if k == 0 {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), nextFaultKey{}, k))
}

// faultNext returns the links.next of a page of c's listing: next, the
// link page made ("" on the last page), or the one a next-link fault
// carried by the request makes instead.
func faultNext(c *call, next string) string {
	k, _ := c.r.Context().Value(nextFaultKey{}).(FaultKind)
	self := c.base + c.r.URL.Path
	switch k {
	case FaultNextCycle:
		if c.q.offset == 0 {
			return next // the first page leads on as usual
		}
		v := c.r.URL.Query()
		v.Del("cursor")
		if len(v) == 0 {
			return self
		}
		return self + "?" + v.Encode()
	case FaultNextSelfReordered:
		params := strings.Split(c.r.URL.RawQuery, "&")
		slices.Reverse(params)
		return self + "?" + strings.Join(params, "&")
	case FaultNextSelfFragment:
		return c.base + c.r.URL.RequestURI() + "#page"
	}
	return next
}

// resetConnection closes the client's TCP connection with SO_LINGER 0, so
// the kernel sends RST and the client reads ECONNRESET. Where the
// connection cannot be hijacked (HTTP/2), the handler aborts instead.
// The request is logged first, so that it is in Requests, and before any
// retry, by the time the client sees the reset.
func resetConnection(w http.ResponseWriter) {
	if rec, ok := w.(*recorder); ok {
		rec.logUnanswered()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if l, ok := conn.(interface{ SetLinger(sec int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = conn.Close()
}
