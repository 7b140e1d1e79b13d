package ascsim

import (
	"fmt"
	"net/http"
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
// they were injected: every matching delay, then the first matching fault
// of another kind, if any, answers the request. Each use counts against
// the fault's Times.
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
		func(f *Fault) (match, delay bool) { return f.matches(r), f.Kind == FaultDelay },
		func(f *Fault) *int { return &f.Times })
	return apply
}

// take returns copies of the faults in list that apply, and list without
// those used up. Every matching delay applies, and the first matching
// fault of another kind, which answers the request, ends the choice. Each
// use counts against a fault's times: at 1 it is used up, 0 never is.
func take[F any](list []*F, applies func(*F) (match, delay bool), times func(*F) *int) (apply []F, kept []*F) {
	kept = list[:0]
	answered := false
	for _, f := range list {
		if match, delay := applies(f); match && (delay || !answered) {
			apply = append(apply, *f)
			answered = answered || !delay
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
// of them answered it.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, entry *Request) bool {
	for _, f := range s.takeFaults(r) {
		entry.Note = "fault: " + f.Kind.String()
		switch f.Kind {
		case FaultDelay:
			if !sleep(r.Context(), f.Delay) {
				entry.Note += "; the client gave up"
				return true
			}
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
		case FaultReset:
			resetConnection(w)
		default:
			writeErrors(w, errUnexpected())
			entry.Note = fmt.Sprintf("fault: unknown kind %d", f.Kind)
		}
		return true
	}
	return false
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
