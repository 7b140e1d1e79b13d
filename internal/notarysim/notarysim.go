// Package notarysim is a local stand-in for Apple's notary service: the
// Notary API (submit, status, list, logs), an S3 bucket that verifies
// every SigV4 signature with smithy-go's signer (independent of
// internal/sigv4), the presigned developer log, and the CloudKit ticket
// lookup. Faults can be injected. The notary API is not in Apple's
// OpenAPI document, so requests are checked by hand against the
// documented shapes. It is test-world code: only tests and the
// development build link it.
package notarysim

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault kinds.
type FaultKind int

const (
	// FaultStatus5xx answers a status request 503.
	FaultStatus5xx FaultKind = iota + 1
	// FaultStatusDrop closes the connection of a status request unanswered.
	FaultStatusDrop
	// FaultExpiredToken answers a status request 401, as to an expired token.
	FaultExpiredToken
	// FaultSubmitLanded makes the submission, then drops the connection:
	// the client cannot tell that it landed.
	FaultSubmitLanded
	// FaultSubmit503 answers a submission request 503 without making one.
	FaultSubmit503
	// FaultEchoToken answers a status request 401 with the request's
	// bearer token quoted in the error's description, as some gateways do.
	FaultEchoToken
	// FaultEchoS3Credentials answers an S3 request 403 with the session
	// token, the secret key and the Authorization header quoted in the
	// error's message.
	FaultEchoS3Credentials
	// FaultSubmitAgreement answers a submission request 403 as Apple does
	// when the team's Account Holder has not accepted an updated agreement.
	FaultSubmitAgreement
	// FaultEchoLogURL answers a developer-log fetch 403 with the presigned
	// URL (signature, credential, security token) quoted in the body.
	FaultEchoLogURL
)

// EchoMarker begins every echoed error, so that a test can tell the echo
// reached what the client printed.
const EchoMarker = "gateway echo:"

// Issue is one entry of a developer log's issues.
type Issue struct {
	Severity, Path, Message, DocURL, Architecture string
}

// Submission is the simulator's record of one submission.
type Submission struct {
	ID, Name, SHA256, Status string
	Created                  time.Time
	AccessKey, Secret, Token string
	Bucket, Object           string
	Uploaded                 bool   // the object is complete
	UploadedSHA              string // "" when too large to keep
	Data                     []byte // the object, when kept
	Polls                    int    // status reads since the upload
	Multipart                bool
}

// Server is the simulator.
type Server struct {
	now func() time.Time

	mu          sync.Mutex
	keys        map[string]*ecdsa.PublicKey
	subs        []*Submission
	outcome     string
	issues      []Issue
	decideAfter int // status polls after the upload before Apple decides
	faults      map[FaultKind]int
	objects     map[string]*object // bucket/key
	uploads     map[string]*mpu
	tickets     map[string][]byte // record name -> ticket
	ticketLag   int               // lookups answered "not found" first
	lookups     map[string]int
	recordName  func(name string, data []byte) (string, error)
	tokens      map[string]bool // distinct tokens seen
	violations  []string
	s3Requests  int
	keepLimit   int64

	notary, s3 *http.Server
	notaryURL  string
	s3URL      string
	lns        []net.Listener
}

type object struct {
	sha  string
	data []byte
	size int64
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock tokens and dates are checked against.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithOutcome sets what Apple decides (Accepted by default) and the
// issues its log lists.
func WithOutcome(status string, issues ...Issue) Option {
	return func(s *Server) { s.outcome, s.issues = status, issues }
}

// WithDecideAfter sets how many status reads after the upload return
// In Progress (default 1).
func WithDecideAfter(n int) Option { return func(s *Server) { s.decideAfter = n } }

// WithFault makes the next n matching requests fail with kind.
func WithFault(kind FaultKind, n int) Option { return func(s *Server) { s.faults[kind] += n } }

// WithTicketLag answers the first n lookups of each record "not found".
func WithTicketLag(n int) Option { return func(s *Server) { s.ticketLag = n } }

// WithRecordName sets how the ticket's record name is derived from an
// accepted file (a staple function); without it no ticket is made.
func WithRecordName(f func(name string, data []byte) (string, error)) Option {
	return func(s *Server) { s.recordName = f }
}

// WithKeepLimit sets the largest object kept in memory (default 64 MiB);
// a larger one is checked part by part and then only counted.
func WithKeepLimit(n int64) Option { return func(s *Server) { s.keepLimit = n } }

// New returns a simulator; Start serves it.
func New(opts ...Option) *Server {
	s := &Server{now: time.Now, keys: map[string]*ecdsa.PublicKey{}, outcome: "Accepted", decideAfter: 1,
		faults: map[FaultKind]int{}, objects: map[string]*object{}, uploads: map[string]*mpu{},
		tickets: map[string][]byte{}, lookups: map[string]int{}, tokens: map[string]bool{}, keepLimit: 64 << 20}
	for _, o := range opts {
		o(s)
	}
	return s
}

// RegisterKey trusts a team key.
func (s *Server) RegisterKey(kid string, pub *ecdsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[kid] = pub
}

// Start serves the notary side and the S3 side on two loopback ports.
func (s *Server) Start() error {
	for _, side := range []struct {
		h   http.Handler
		srv **http.Server
		url *string
	}{{http.HandlerFunc(s.serveNotary), &s.notary, &s.notaryURL}, {http.HandlerFunc(s.serveS3), &s.s3, &s.s3URL}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return err
		}
		s.lns = append(s.lns, ln)
		*side.srv = &http.Server{Handler: side.h, ReadHeaderTimeout: 10 * time.Second}
		*side.url = "http://" + ln.Addr().String()
		go (*side.srv).Serve(ln)
	}
	return nil
}

// NotaryURL is the base URL of the Notary API, the log and the ticket
// lookup.
func (s *Server) NotaryURL() string { return s.notaryURL }

// S3URL is the S3 endpoint (path-style).
func (s *Server) S3URL() string { return s.s3URL }

// Close stops serving.
func (s *Server) Close() {
	for _, srv := range []*http.Server{s.notary, s.s3} {
		if srv != nil {
			srv.Close()
		}
	}
}

// SetDecideAfter changes how many status reads after the upload return
// In Progress, for submissions not decided yet.
func (s *Server) SetDecideAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decideAfter = n
}

// Submissions returns copies of every submission made.
func (s *Server) Submissions() []Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Submission, len(s.subs))
	for i, sub := range s.subs {
		out[i] = *sub
		out[i].Data = nil
	}
	return out
}

// Violations lists what clients did wrong that a real service would
// refuse or that must never happen (a token sent with the log, say).
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Tokens is how many distinct tokens the Notary API saw.
func (s *Server) Tokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// Lookups is how many ticket lookups were made for a record.
func (s *Server) Lookups(record string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups[record]
}

// AddTicket publishes a ticket under a record name, as if a submission
// had been accepted.
func (s *Server) AddTicket(record string, ticket []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickets[record] = append([]byte(nil), ticket...)
}

// Ticket is the ticket served for an accepted submission's record, if any.
func (s *Server) Ticket(record string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tickets[record]
}

func (s *Server) violation(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// takeFault uses one fault of kind, if any is left; s.mu is held.
func (s *Server) takeFault(kind FaultKind) bool {
	if s.faults[kind] > 0 {
		s.faults[kind]--
		return true
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func upper(s string) string { return strings.ToUpper(s) }
