package ascsim

// The presigned part URLs of upload operations, answered as the object
// store behind Apple's uploads answers them: no bearer token (the URL's
// signature is the credential), S3-shaped XML errors, an ETag per part.

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	// uploadPathPrefix starts the path of every part URL:
	// /upload/{fileID}/{partNumber}. Apple's document has no such path.
	uploadPathPrefix = "/upload/"
	// partHeader is the per-part header each operation lists and the
	// server requires, so a client must send the requestHeaders it was
	// given rather than headers of its own.
	partHeader = "x-asc-part"
	// partContentType is the Content-Type each operation requires.
	partContentType = "application/octet-stream"
	// maxDrain is the most of a refused part's body the server reads
	// before answering, so the client sees the answer rather than a
	// connection closed while it was still sending.
	maxDrain = 256 << 20
	// copyBufferSize is the only memory a part's body passes through on
	// its way to the temporary file.
	copyBufferSize = 32 << 10
)

// PartFaultKind is what an injected part fault does to a part upload.
type PartFaultKind int

const (
	// PartFail500 reads the part's body, stores nothing, and answers 500
	// InternalError, as S3 does now and then.
	PartFail500 PartFaultKind = iota + 1
	// PartReset reads half the part's body, then closes the connection
	// with SO_LINGER 0: the client sees ECONNRESET (or a broken pipe)
	// mid-body and no response.
	PartReset
	// PartSlow holds the part for PartFault.Delay (or until the client
	// gives up) before reading it, then answers it normally or with the
	// next matching fault.
	PartSlow
	// PartExpiredURL answers 403 AccessDenied "Request has expired",
	// whatever the URL's expiry.
	PartExpiredURL
	// PartEchoURL answers 403 AccessDenied with a message that quotes the
	// request's whole URL, signature included, as a hostile or careless
	// proxy might: a client must never print it.
	PartEchoURL
)

func (k PartFaultKind) String() string {
	switch k {
	case PartFail500:
		return "part server error"
	case PartReset:
		return "part connection reset"
	case PartSlow:
		return "part delay"
	case PartExpiredURL:
		return "part URL expired"
	case PartEchoURL:
		return "part URL echoed"
	}
	return "PartFaultKind(" + strconv.Itoa(int(k)) + ")"
}

// AnyPart in PartFault.Part matches every part.
const AnyPart = -1

// PartFault is a failure to inject into part uploads (the PUTs to upload
// operations' URLs), which Fault does not reach.
type PartFault struct {
	Kind  PartFaultKind
	Part  int           // the operation's partNumber (1 for the first); AnyPart or 0 matches every part
	Delay time.Duration // PartSlow: how long to hold the part
	Times int           // how many part uploads to fault; 0 means every one
}

// InjectPartFault adds a part fault. Part faults apply to PUTs on a known
// part before any other check, in the order they were injected: every
// matching PartSlow, then the first matching fault of another kind, if
// any, answers the PUT. Each use counts against the fault's Times.
// ClearFaults removes part faults too.
func (s *Server) InjectPartFault(f PartFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up.partFaults = append(s.up.partFaults, &f)
}

// takePartFaults returns the part faults that apply to part n, using
// them up. The caller holds s.mu.
func (s *Server) takePartFaults(n int) []PartFault {
	var apply []PartFault
	apply, s.up.partFaults = take(s.up.partFaults,
		func(f *PartFault) (match, delay bool) { return f.Part < 1 || f.Part == n, f.Kind == PartSlow },
		func(f *PartFault) *int { return &f.Times })
	return apply
}

// isUploadPath reports whether a request is for a part URL.
func isUploadPath(path string) bool { return strings.HasPrefix(path, uploadPathPrefix) }

// s3Error is the XML error body of S3.
type s3Error struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	Expires    string   `xml:"Expires,omitempty"`
	ServerTime string   `xml:"ServerTime,omitempty"`
	RequestID  string   `xml:"RequestId"`
}

// writeS3Error answers a part upload with S3's error body, reading what
// is left of the body first (up to maxDrain).
func writeS3Error(w http.ResponseWriter, r *http.Request, status int, e s3Error) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
	e.RequestID = strings.ToUpper(randomHex(8))
	body, err := xml.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("ascsim: encode an S3 error: %v", err)) // a bug
	}
	w.Header().Set("Content-Type", "application/xml")
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPut)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}

// servePart answers a PUT of one part: its URL's signature and expiry,
// the headers the operation listed, a Content-Length equal to the part's
// length, then the body, streamed to the file's temporary file at the
// part's offset. A part sent again replaces what was stored for it.
func (s *Server) servePart(w http.ResponseWriter, r *http.Request, entry *Request) {
	refuse := func(status int, code, message, note string) {
		entry.Note = note
		writeS3Error(w, r, status, s3Error{Code: code, Message: message})
	}
	if !sleep(r.Context(), s.latency) {
		entry.Note = "the client gave up during the simulated latency"
		return
	}
	fileID, number, ok := parsePartPath(r.URL.Path)
	s.mu.Lock()
	f := s.up.fileByID[fileID]
	var p *uploadPart
	if ok && f != nil && number <= len(f.parts) {
		p = f.parts[number-1]
	}
	var faults []PartFault
	if p != nil {
		faults = s.takePartFaults(number)
	}
	s.mu.Unlock()
	if p == nil {
		refuse(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.", "no such file or part")
		return
	}

	for _, pf := range faults {
		entry.Note = "part fault: " + pf.Kind.String()
		switch pf.Kind {
		case PartSlow:
			if !sleep(r.Context(), pf.Delay) {
				entry.Note += "; the client gave up"
				return
			}
			continue
		case PartFail500:
			writeS3Error(w, r, http.StatusInternalServerError, s3Error{Code: "InternalError", Message: "We encountered an internal error. Please try again."})
		case PartExpiredURL:
			writeS3Error(w, r, http.StatusForbidden, expiredError(p.expires, s.now()))
		case PartEchoURL:
			writeS3Error(w, r, http.StatusForbidden, s3Error{Code: "AccessDenied", Message: "Access Denied: signature " + r.URL.Query().Get("X-Amz-Signature") + " for " + r.URL.RawQuery})
		case PartReset:
			_, _ = io.CopyN(io.Discard, r.Body, max(p.length/2, 1))
			resetConnection(w)
		default:
			writeS3Error(w, r, http.StatusInternalServerError, s3Error{Code: "InternalError", Message: "We encountered an internal error. Please try again."})
			entry.Note = fmt.Sprintf("part fault: unknown kind %d", pf.Kind)
		}
		return
	}

	now := s.now()
	sig := r.URL.Query().Get("X-Amz-Signature")
	switch {
	case r.Method != http.MethodPut:
		refuse(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.",
			fmt.Sprintf("part %d: method %s, want PUT", number, r.Method))
		return
	case subtle.ConstantTimeCompare([]byte(sig), []byte(p.signature)) != 1:
		refuse(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.",
			fmt.Sprintf("part %d: the URL's signature does not match", number))
		return
	case now.After(p.expires):
		entry.Note = fmt.Sprintf("part %d: the URL expired %v ago", number, now.Sub(p.expires))
		writeS3Error(w, r, http.StatusForbidden, expiredError(p.expires, now))
		return
	}
	for _, h := range [][2]string{{"Content-Type", partContentType}, {partHeader, p.header}} {
		if got := r.Header.Get(h[0]); got != h[1] {
			refuse(http.StatusForbidden, "SignatureDoesNotMatch",
				fmt.Sprintf("The request signature we calculated does not match the signature you provided: the signed header %s is missing or differs. Send the operation's requestHeaders as given.", h[0]),
				fmt.Sprintf("part %d: header %s is %q, want the operation's value", number, h[0], got))
			return
		}
	}
	switch {
	case r.ContentLength < 0:
		refuse(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.",
			fmt.Sprintf("part %d: no Content-Length", number))
		return
	case r.ContentLength != p.length:
		refuse(http.StatusBadRequest, "InvalidRequest",
			fmt.Sprintf("Content-Length %d does not match the part's length %d.", r.ContentLength, p.length),
			fmt.Sprintf("part %d: Content-Length %d, want %d", number, r.ContentLength, p.length))
		return
	}

	// One attempt at a time stores a part; a second waits its turn.
	select {
	case p.busy <- struct{}{}:
	case <-r.Context().Done():
		entry.Note = fmt.Sprintf("part %d: the client gave up waiting for an earlier upload of the part", number)
		return
	}
	defer func() { <-p.busy }()

	s.mu.Lock()
	tmp, err := s.partFile(f)
	if err == nil {
		p.complete, p.received, p.etag = false, 0, ""
		p.attempts++
	}
	s.mu.Unlock()
	switch {
	case errors.Is(err, errUploadGone):
		refuse(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.",
			fmt.Sprintf("part %d: the file is already committed or deleted", number))
		return
	case errors.Is(err, errCommitting):
		refuse(http.StatusConflict, "OperationAborted", "A conflicting conditional operation is currently in progress against this resource. Please try again.",
			fmt.Sprintf("part %d: the file is being committed", number))
		return
	case err != nil:
		refuse(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.",
			fmt.Sprintf("part %d: %v", number, err))
		return
	}

	sum := md5.New()
	buf := make([]byte, copyBufferSize)
	n, err := io.CopyBuffer(io.MultiWriter(io.NewOffsetWriter(tmp, p.offset), sum), io.LimitReader(r.Body, p.length), buf)

	etag := `"` + hexSum(sum) + `"`
	s.mu.Lock()
	p.received = n
	gone := f.gone
	stored := err == nil && n == p.length && !gone
	if stored {
		p.complete, p.etag = true, etag
	}
	s.mu.Unlock()
	switch {
	case stored:
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusOK)
	case gone:
		refuse(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.",
			fmt.Sprintf("part %d: the file was deleted during the upload", number))
	default:
		// The client stopped sending: it will not read an answer.
		refuse(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.",
			fmt.Sprintf("part %d: the body ended after %d of %d bytes: %v", number, n, p.length, err))
	}
}

var (
	errUploadGone = errors.New("the file is committed or deleted")
	errCommitting = errors.New("the file is being committed")
)

// partFile returns f's temporary file, creating it at the first part.
// The caller holds s.mu.
func (s *Server) partFile(f *uploadFile) (*os.File, error) {
	switch {
	case f.gone || f.state != assetAwaiting || s.up.closed:
		return nil, errUploadGone
	case f.committing:
		return nil, errCommitting
	case f.tmp != nil:
		return f.tmp, nil
	}
	tmp, err := os.CreateTemp(s.up.dir, "ascsim-upload-*")
	if err != nil {
		return nil, fmt.Errorf("create the part file: %w", err)
	}
	f.tmp = tmp
	return tmp, nil
}

func expiredError(expires, now time.Time) s3Error {
	return s3Error{Code: "AccessDenied", Message: "Request has expired",
		Expires: expires.UTC().Format(time.RFC3339), ServerTime: now.UTC().Format(time.RFC3339)}
}

// parsePartPath reads /upload/{fileID}/{partNumber}.
func parsePartPath(path string) (string, int, bool) {
	fileID, part, ok := strings.Cut(strings.TrimPrefix(path, uploadPathPrefix), "/")
	if !ok || fileID == "" {
		return "", 0, false
	}
	n, err := strconv.Atoi(part)
	if err != nil || n < 1 {
		return "", 0, false
	}
	return fileID, n, true
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
