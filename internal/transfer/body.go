package transfer

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// errReadPanic marks a panic in the file's ReadAt (or in onRead): it is
// never retried. net/http may report it on another part's request, which
// shared the connection, so it is recognised in any error's chain.
var errReadPanic = errors.New("transfer: reading the file: panic")

// partBody streams a part from the file as a request body, counting what
// the transport reads. finish stops the count: a transport still reading
// after Do returned then gets an error. Read runs on the transport's
// goroutine, so a panic in the file's ReadAt or in onRead is caught there
// and kept for finish to report.
type partBody struct {
	r      io.Reader
	want   int64
	onRead func(int)

	mu       sync.Mutex
	n        int64
	short    bool  // the file ended before the part did
	panicked error // what a panic in Read said
	done     bool
}

func (b *partBody) Read(p []byte) (n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errors.New("transfer: the attempt is over")
	}
	defer func() {
		if v := recover(); v != nil {
			b.panicked = fmt.Errorf("%w: %v", errReadPanic, v)
			n, err = 0, b.panicked
		}
	}()
	n, err = b.r.Read(p)
	b.n += int64(n)
	if errors.Is(err, io.EOF) && b.n < b.want {
		b.short = true
	}
	b.onRead(n)
	return n, err
}

// finish ends the attempt's reading and says how many bytes were read,
// whether the file ended early, and what a panic said, if any.
func (b *partBody) finish() (sent int64, short bool, panicked error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	return b.n, b.short, b.panicked
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

// ErrorDetail reads the start of an error answer and keeps only an S3-style
// <Code> and <Message>: anything else the body holds (a request ID, the
// string that was signed) is left out, as it may echo the request. The
// secrets are taken out before the detail is cut short, so that no part
// of one is left either.
func ErrorDetail(body io.Reader, secrets []string) string {
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
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return " (" + s + ")"
}
