package upload

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/clocktest"
)

// This file is a fake App Store Connect (the Build Uploads endpoints) and a
// fake presigned part endpoint. Both record every request so that tests
// assert what was sent, not only what Run returned.

// epoch is the fake clock's start.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// secret is in every presigned URL's query; no error or log line may
// contain it.
const secret = "SECRETSIGNATURE"

// apiRequest is what the fake API saw of one request.
type apiRequest struct {
	Method, Path, Auth string
	Body               []byte
}

// partRequest is what the part server saw of one request.
type partRequest struct {
	N, Attempt    int // part number and which attempt of it this was
	Method        string
	Header        http.Header
	ContentLength int64
	Received      int64 // body bytes read
	Match         bool  // whether they equal the file's section
}

// fake is the fake Apple. Set its knobs before calling run.
type fake struct {
	t     testing.TB
	clock *clocktest.Clock
	api   *httptest.Server
	parts *httptest.Server

	// The file the parts must carry; nil with discard.
	content  []byte
	size     int64
	partSize int64

	// Knobs.
	discard       bool // the part server only counts bytes
	reverseOps    bool // list the operations last first
	checkMD5      bool // refuse a commit whose MD5 differs from the bytes received
	corruptPart   int  // store this part with its first byte flipped
	tokenLifetime time.Duration
	createFaults  []func(w http.ResponseWriter) // answers to the first POST /v1/buildUploads
	// partFault may answer a part request itself (returning true) or
	// delay it; attempt counts from 1.
	partFault func(n, attempt int, w http.ResponseWriter, r *http.Request) bool
	// hold is called when a part request arrives, after it is counted in
	// flight.
	hold func(n int)
	// commitFault may answer the commit itself; committed says whether
	// the commit is recorded first.
	commitFault func(w http.ResponseWriter) (committed bool)
	// uploadState is the build upload's state at the n-th GET after the
	// commit (n from 1); default PROCESSING then COMPLETE.
	uploadState func(n int) string
	// buildState is the build's processingState at the n-th GET of the
	// build; default VALID.
	buildState func(n int, now time.Time) string
	failErrors []asc.StateDetail // the state's errors when FAILED
	warnings   []asc.StateDetail // the state's warnings once committed

	mu           sync.Mutex
	apiReqs      []apiRequest
	partReqs     []partRequest
	attempts     map[int]int
	inflight     int
	maxInflight  int
	completed    []int // part numbers in the order they succeeded
	assembled    []byte
	received     map[int]bool
	committed    bool
	uploadGets   int
	buildGets    int
	tokens       map[string]time.Time
	mints        int
	unauthorized int
}

const (
	uploadID = "up-1"
	fileID   = "f-1"
	buildID  = "b-1"
	appID    = "1500000000"
)

// newFake starts the servers for content of size bytes (content nil means
// a file of zeros and discard).
func newFake(t testing.TB, size, partSize int64, content []byte) *fake {
	t.Helper()
	f := &fake{
		t: t, clock: clocktest.New(epoch), content: content, size: size, partSize: partSize,
		discard: content == nil, tokenLifetime: 20 * time.Minute,
		attempts: map[int]int{}, received: map[int]bool{}, tokens: map[string]time.Time{},
	}
	if content != nil {
		f.assembled = make([]byte, size)
	}
	f.api = httptest.NewServer(http.HandlerFunc(f.serveAPI))
	t.Cleanup(f.api.Close)
	f.parts = httptest.NewServer(http.HandlerFunc(f.servePart))
	t.Cleanup(f.parts.Close)
	return f
}

// client is an App Store Connect client on the fake, its clock and sleep.
func (f *fake) client() *asc.Client {
	return asc.NewClient(asc.NewTokenCache(f.mint, f.clock.Now),
		asc.WithBaseURL(f.api.URL), asc.WithHTTPClient(f.api.Client()),
		asc.WithClock(f.clock.Now), asc.WithSleep(f.clock.Sleep), asc.WithRand(func() float64 { return 1 }))
}

// options are Run's options on the fake clock, with a log that fails the
// test if a secret reaches it.
func (f *fake) options(logs *logBook) Options {
	return Options{
		Now: f.clock.Now, Sleep: f.clock.Sleep, Rand: func() float64 { return 1 },
		Log: logs.add, Messages: logs.message,
	}
}

func (f *fake) mint() (string, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mints++
	v := fmt.Sprintf("tok-%d", f.mints)
	exp := f.clock.Now().Add(f.tokenLifetime)
	f.tokens[v] = exp
	return v, exp, nil
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, title, detail string) {
	writeJSON(w, status, asc.ErrorResponse{Errors: []asc.ErrorItem{{Status: strconv.Itoa(status), Code: code, Title: title, Detail: detail}}})
}

// hijackClose drops the connection without an answer.
func hijackClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func (f *fake) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	f.apiReqs = append(f.apiReqs, apiRequest{Method: r.Method, Path: r.URL.Path, Auth: auth, Body: body})
	exp, known := f.tokens[strings.TrimPrefix(auth, "Bearer ")]
	valid := known && f.clock.Now().Before(exp)
	if !valid {
		f.unauthorized++
	}
	f.mu.Unlock()
	if !valid {
		writeError(w, 401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.", "Provide a properly configured and signed bearer token, and make sure that it has not expired.")
		return
	}

	switch r.Method + " " + r.URL.Path {
	case "POST /v1/buildUploads":
		f.mu.Lock()
		var fault func(http.ResponseWriter)
		if len(f.createFaults) > 0 {
			fault, f.createFaults = f.createFaults[0], f.createFaults[1:]
		}
		f.mu.Unlock()
		if fault != nil {
			fault(w)
			return
		}
		var req asc.BuildUploadCreateRequest
		if err := json.Unmarshal(body, &req); err != nil || req.Data.Type != "buildUploads" || req.Data.Relationships.App.Data == nil || req.Data.Relationships.App.Data.ID != appID {
			writeError(w, 409, "ENTITY_ERROR", "The provided entity is invalid.", string(body))
			return
		}
		writeJSON(w, 201, map[string]any{
			"data": map[string]any{"type": "buildUploads", "id": uploadID, "attributes": map[string]any{
				"cfBundleShortVersionString": req.Data.Attributes.CFBundleShortVersionString,
				"cfBundleVersion":            req.Data.Attributes.CFBundleVersion,
				"platform":                   req.Data.Attributes.Platform,
				"state":                      map[string]any{"state": "AWAITING_UPLOAD", "errors": []any{}, "warnings": []any{}, "infos": []any{}},
			}},
			"links": map[string]string{"self": f.api.URL + "/v1/buildUploads"},
		})
	case "POST /v1/buildUploadFiles":
		var req asc.BuildUploadFileCreateRequest
		a := &req.Data.Attributes
		if err := json.Unmarshal(body, &req); err != nil || a.FileSize != f.size || a.AssetType != "ASSET" || !asc.ValidUTI(a.UTI) ||
			req.Data.Relationships.BuildUpload.Data == nil || req.Data.Relationships.BuildUpload.Data.ID != uploadID {
			writeError(w, 409, "ENTITY_ERROR", "The provided entity is invalid.", string(body))
			return
		}
		writeJSON(w, 201, map[string]any{
			"data": map[string]any{"type": "buildUploadFiles", "id": fileID, "attributes": map[string]any{
				"assetDeliveryState": map[string]any{"state": "AWAITING_UPLOAD"},
				"assetType":          a.AssetType, "fileName": a.FileName, "fileSize": a.FileSize, "uti": a.UTI,
				"uploadOperations": f.operations(),
			}},
			"links": map[string]string{"self": f.api.URL + "/v1/buildUploadFiles"},
		})
	case "PATCH /v1/buildUploadFiles/" + fileID:
		f.commit(w, body)
	case "GET /v1/buildUploads/" + uploadID:
		f.getUpload(w)
	case "GET /v1/builds/" + buildID:
		f.mu.Lock()
		f.buildGets++
		state := f.currentBuildState()
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{
			"data":  map[string]any{"type": "builds", "id": buildID, "attributes": map[string]any{"version": "48", "processingState": state}},
			"links": map[string]string{"self": ""},
		})
	case "DELETE /v1/buildUploads/" + uploadID:
		w.WriteHeader(204)
	default:
		writeError(w, 404, "NOT_FOUND", "The specified resource does not exist", r.Method+" "+r.URL.Path)
	}
}

func (f *fake) currentBuildState() string {
	if f.buildState == nil {
		return "VALID"
	}
	return f.buildState(f.buildGets, f.clock.Now())
}

// operations splits the file into partSize parts at presigned URLs.
func (f *fake) operations() []map[string]any {
	var ops []map[string]any
	for n, off := 1, int64(0); off < f.size; n, off = n+1, off+f.partSize {
		ops = append(ops, map[string]any{
			"method":         "PUT",
			"url":            fmt.Sprintf("%s/bucket/parts/%d?partNumber=%d&X-Amz-Signature=%s%d&X-Amz-Expires=3600", f.parts.URL, n, n, secret, n),
			"offset":         off,
			"length":         min(f.partSize, f.size-off),
			"partNumber":     n,
			"expiration":     f.clock.Now().Add(time.Hour).Format(time.RFC3339),
			"requestHeaders": []map[string]string{{"name": "Content-Type", "value": "application/octet-stream"}, {"name": "x-amz-meta-part", "value": strconv.Itoa(n)}},
		})
	}
	if f.reverseOps {
		for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
			ops[i], ops[j] = ops[j], ops[i]
		}
	}
	return ops
}

func (f *fake) servePart(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/bucket/parts/"))
	if err != nil || r.URL.Query().Get("X-Amz-Signature") != secret+strconv.Itoa(n) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	off := int64(n-1) * f.partSize
	length := min(f.partSize, f.size-off)

	f.mu.Lock()
	f.attempts[n]++
	attempt := f.attempts[n]
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	idx := len(f.partReqs)
	f.partReqs = append(f.partReqs, partRequest{N: n, Attempt: attempt, Method: r.Method, Header: r.Header.Clone(), ContentLength: r.ContentLength})
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if f.hold != nil {
		f.hold(n)
	}
	if f.partFault != nil && f.partFault(n, attempt, w, r) {
		return
	}

	var got int64
	match := true
	if f.discard {
		got, _ = io.Copy(io.Discard, r.Body)
	} else {
		buf, _ := io.ReadAll(r.Body)
		got = int64(len(buf))
		match = got == length && bytes.Equal(buf, f.content[off:off+length])
		if match {
			f.mu.Lock()
			copy(f.assembled[off:], buf)
			if n == f.corruptPart {
				f.assembled[off] ^= 0xff
			}
			f.mu.Unlock()
		}
	}
	f.mu.Lock()
	f.partReqs[idx].Received, f.partReqs[idx].Match = got, match
	ok := match && got == length && r.Method == http.MethodPut && r.Header.Get("Authorization") == "" &&
		r.Header.Get("Content-Type") == "application/octet-stream" && r.Header.Get("X-Amz-Meta-Part") == strconv.Itoa(n)
	if ok {
		f.received[n] = true
		f.completed = append(f.completed, n)
	}
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(n)))
	w.WriteHeader(http.StatusOK)
}

func (f *fake) commit(w http.ResponseWriter, body []byte) {
	var req asc.BuildUploadFileUpdateRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Data.ID != fileID || req.Data.Attributes == nil ||
		req.Data.Attributes.Uploaded == nil || !*req.Data.Attributes.Uploaded {
		writeError(w, 409, "ENTITY_ERROR", "The provided entity is invalid.", string(body))
		return
	}
	f.mu.Lock()
	parts := int((f.size + f.partSize - 1) / f.partSize)
	missing := len(f.received) != parts
	var bad bool
	if sums := req.Data.Attributes.SourceFileChecksums; f.checkMD5 && sums != nil && sums.File != nil && !f.discard {
		sum := md5.Sum(f.assembled)
		bad = sums.File.Algorithm != asc.ChecksumAlgorithmMD5 || sums.File.Hash != hex.EncodeToString(sum[:])
	}
	f.mu.Unlock()
	switch {
	case missing:
		writeError(w, 409, "STATE_ERROR", "The request cannot be fulfilled because of the state of another resource.", "Not every part was uploaded.")
		return
	case bad:
		writeError(w, 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is invalid.", "The checksum does not match the uploaded file.")
		return
	}
	if f.commitFault != nil {
		if f.commitFault(w) {
			f.setCommitted()
		}
		return
	}
	f.setCommitted()
	writeJSON(w, 200, map[string]any{
		"data":  map[string]any{"type": "buildUploadFiles", "id": fileID, "attributes": map[string]any{"assetDeliveryState": map[string]any{"state": "UPLOAD_COMPLETE"}}},
		"links": map[string]string{"self": ""},
	})
}

func (f *fake) setCommitted() {
	f.mu.Lock()
	f.committed = true
	f.mu.Unlock()
}

func (f *fake) getUpload(w http.ResponseWriter) {
	f.mu.Lock()
	state := "AWAITING_UPLOAD"
	if f.committed {
		f.uploadGets++
		switch {
		case f.uploadState != nil:
			state = f.uploadState(f.uploadGets)
		case f.uploadGets == 1:
			state = "PROCESSING"
		default:
			state = "COMPLETE"
		}
	}
	st := map[string]any{"state": state, "errors": []asc.StateDetail{}, "warnings": []asc.StateDetail{}, "infos": []asc.StateDetail{}}
	if f.committed && f.warnings != nil {
		st["warnings"] = f.warnings
	}
	if state == "FAILED" && f.failErrors != nil {
		st["errors"] = f.failErrors
	}
	data := map[string]any{"type": "buildUploads", "id": uploadID, "attributes": map[string]any{
		"cfBundleShortVersionString": "2.1.0", "cfBundleVersion": "48", "platform": "IOS", "state": st,
	}}
	doc := map[string]any{"data": data, "links": map[string]string{"self": ""}}
	if state == "COMPLETE" {
		data["relationships"] = map[string]any{"build": map[string]any{"data": map[string]string{"type": "builds", "id": buildID}}}
		doc["included"] = []any{map[string]any{"type": "builds", "id": buildID, "attributes": map[string]any{"version": "48", "processingState": "PROCESSING"}}}
	}
	f.mu.Unlock()
	writeJSON(w, 200, doc)
}

// Accessors for assertions.

func (f *fake) APIRequests() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.apiReqs...)
}

func (f *fake) PartRequests() []partRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]partRequest(nil), f.partReqs...)
}

// count is how many API requests had this method and path.
func (f *fake) count(method, path string) int {
	n := 0
	for _, r := range f.APIRequests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// logBook collects Run's log lines and messages.
type logBook struct {
	t        testing.TB
	mu       sync.Mutex
	lines    []string
	messages []Message
}

func (l *logBook) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	if strings.Contains(s, secret) || strings.Contains(s, "X-Amz-Signature") {
		l.t.Errorf("a log line holds a presigned URL's query: %s", s)
	}
}

func (l *logBook) message(m Message) {
	l.mu.Lock()
	l.messages = append(l.messages, m)
	l.mu.Unlock()
}

func (l *logBook) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// testFile writes size random bytes to a temporary file and opens it.
func testFile(t testing.TB, size int64) (*os.File, []byte) {
	t.Helper()
	content := make([]byte, size)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "App.ipa")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, content
}

func source(t testing.TB, f *os.File) Source {
	t.Helper()
	src, err := FileSource(f)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var testPlan = Plan{AppID: appID, Platform: asc.PlatformIOS, ShortVersion: "2.1.0", BuildVersion: "48"}

// noSecret fails the test if s holds a presigned URL's query.
func noSecret(t testing.TB, s string) {
	t.Helper()
	if strings.Contains(s, secret) || strings.Contains(s, "X-Amz-Signature") || strings.Contains(s, "X-Amz-Expires") {
		t.Errorf("a presigned URL's query leaked: %s", s)
	}
}

// reset forgets the previous upload, so that the fake serves another.
func (f *fake) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apiReqs, f.partReqs, f.completed = nil, nil, nil
	f.attempts, f.received = map[int]int{}, map[int]bool{}
	f.committed, f.uploadGets, f.buildGets = false, 0, 0
	f.inflight, f.maxInflight = 0, 0
}
