package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/httpx"
)

const (
	testSize     = 1<<20 + 12345 // not a multiple of the part size
	testPartSize = 128 << 10     // 9 parts
	testParts    = 9
)

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestRunHappyPath(t *testing.T) {
	t.Parallel()
	for _, mode := range []ChecksumMode{"", ChecksumNone, ChecksumMD5} {
		t.Run("checksum="+string(mode), func(t *testing.T) {
			t.Parallel()
			file, content := testFile(t, testSize)
			f := newFake(t, testSize, testPartSize, content)
			f.checkMD5 = true
			f.warnings = []asc.StateDetail{{Code: "90725", Description: "SDK version issue."}}
			logs := &logBook{t: t}
			opts := f.options(logs)
			opts.Checksum = mode
			var (
				calls    int
				lastSent int64
				inCall   bool
			)
			opts.Progress = func(p Progress) {
				// Run promises one call at a time: the race detector and
				// inCall would both see overlapping calls.
				if inCall {
					t.Error("Progress called concurrently")
				}
				inCall = true
				calls++
				lastSent = p.Sent
				if p.Total != testSize || p.Sent < 0 || p.Sent > p.Total {
					t.Errorf("progress %+v", p)
				}
				inCall = false
			}

			res, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts)
			if err != nil {
				t.Fatal(err)
			}
			want := Result{
				BuildUploadID: uploadID, BuildUploadFileID: fileID, BuildID: buildID,
				UploadState: "COMPLETE", ProcessingState: "PROCESSING",
				Parts: testParts, Bytes: testSize,
			}
			if mode == ChecksumMD5 { // only then is the file read a second time
				want.MD5 = md5Hex(content)
			}
			if res.BuildUploadID != want.BuildUploadID || res.BuildUploadFileID != want.BuildUploadFileID || res.BuildID != want.BuildID ||
				res.UploadState != want.UploadState || res.ProcessingState != want.ProcessingState ||
				res.Parts != want.Parts || res.Bytes != want.Bytes || res.MD5 != want.MD5 || res.Retries != 0 {
				t.Errorf("result = %+v\nwant     %+v", res, want)
			}
			if len(res.Messages) != 1 || res.Messages[0] != (Message{LevelWarning, "90725", "SDK version issue."}) || len(logs.messages) != 1 {
				t.Errorf("messages = %v, callback got %v", res.Messages, logs.messages)
			}
			if calls == 0 || lastSent != testSize {
				t.Errorf("progress: %d calls, last Sent %d", calls, lastSent)
			}

			// The requests: every API call carries the token, in this order.
			var seq []string
			for _, r := range f.APIRequests() {
				seq = append(seq, r.Method+" "+r.Path)
				if !strings.HasPrefix(r.Auth, "Bearer tok-") {
					t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Auth)
				}
			}
			wantSeq := []string{"POST /v1/buildUploads", "POST /v1/buildUploadFiles", "PATCH /v1/buildUploadFiles/f-1",
				"GET /v1/buildUploads/up-1", "GET /v1/buildUploads/up-1"}
			if !slices.Equal(seq, wantSeq) {
				t.Errorf("API requests:\n%s\nwant\n%s", strings.Join(seq, "\n"), strings.Join(wantSeq, "\n"))
			}
			// The parts: each once, with its headers, its exact bytes, no token.
			parts := f.PartRequests()
			if len(parts) != testParts {
				t.Fatalf("%d part requests, want %d", len(parts), testParts)
			}
			for _, p := range parts {
				length := min(int64(testPartSize), testSize-int64(p.N-1)*testPartSize)
				if p.Method != http.MethodPut || p.ContentLength != length || p.Received != length || !p.Match ||
					p.Header.Get("Authorization") != "" || p.Header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("part %d: %+v", p.N, p)
				}
			}
			if md5Hex(f.assembled) != md5Hex(content) {
				t.Error("the assembled parts differ from the file")
			}
			// The commit carries the MD5 only in md5 mode.
			var commit asc.BuildUploadFileUpdateRequest
			for _, r := range f.APIRequests() {
				if r.Method == http.MethodPatch {
					if err := json.Unmarshal(r.Body, &commit); err != nil {
						t.Fatal(err)
					}
				}
			}
			sums := commit.Data.Attributes.SourceFileChecksums
			if mode == ChecksumMD5 {
				if sums == nil || sums.File == nil || sums.File.Hash != md5Hex(content) || sums.File.Algorithm != "MD5" {
					t.Errorf("commit checksums = %+v", sums)
				}
			} else if sums != nil {
				t.Errorf("commit sent checksums %+v without md5 mode", sums)
			}
		})
	}
}

func TestRunPartsOutOfOrderAndConcurrency(t *testing.T) {
	t.Parallel()
	t.Run("operations listed last first, part 1 finishing last", func(t *testing.T) {
		t.Parallel()
		file, content := testFile(t, testSize)
		f := newFake(t, testSize, testPartSize, content)
		f.reverseOps = true
		f.hold = func(n int) {
			if n != 1 {
				return
			}
			// Part 1 answers only once every other part has.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				f.mu.Lock()
				done := len(f.completed)
				f.mu.Unlock()
				if done == testParts-1 {
					return
				}
			}
		}
		logs := &logBook{t: t}
		opts := f.options(logs)
		opts.Concurrency = 3
		opts.Checksum = ChecksumMD5 // the MD5 pass reads in order what the parts send out of order
		res, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts)
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		completed := append([]int(nil), f.completed...)
		f.mu.Unlock()
		if len(completed) != testParts || completed[len(completed)-1] != 1 {
			t.Errorf("completion order %v, want part 1 last", completed)
		}
		if md5Hex(f.assembled) != md5Hex(content) || res.MD5 != md5Hex(content) {
			t.Error("the assembled parts or the MD5 differ from the file")
		}
	})
	t.Run("the bound is reached and never passed", func(t *testing.T) {
		t.Parallel()
		const size, partSize, conc = 12 * 64 << 10, 64 << 10, 4
		file, content := testFile(t, size)
		f := newFake(t, size, partSize, content)
		f.hold = func(int) {
			// Hold each request until conc are in flight (or all parts
			// have started), so the maximum is reached deterministically.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				f.mu.Lock()
				full := f.inflight >= conc || len(f.partReqs) == size/partSize
				f.mu.Unlock()
				if full {
					return
				}
			}
		}
		logs := &logBook{t: t}
		opts := f.options(logs)
		opts.Concurrency = conc
		if _, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		most := f.maxInflight
		f.mu.Unlock()
		if most != conc {
			t.Errorf("at most %d parts in flight, want %d", most, conc)
		}
	})
}

func TestRunPartFailures(t *testing.T) {
	t.Parallel()
	const failing = 3
	status := func(code int) func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
		return func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(code)
			return true
		}
	}
	failTimes := func(times int, fail func(n, attempt int, w http.ResponseWriter, r *http.Request) bool) func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
		return func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
			if n != failing || attempt > times {
				return false
			}
			return fail(n, attempt, w, r)
		}
	}
	resetMidBody := func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.CopyN(io.Discard, r.Body, 1000)
		hijackClose(w)
		return true
	}
	tests := []struct {
		name     string
		fault    func(n, attempt int, w http.ResponseWriter, r *http.Request) bool
		attempts int    // sends of the failing part
		fails    bool   // whether Run fails
		status   int    // the PartError's status
		contains string // in the error
		sleeps   []time.Duration
	}{
		{name: "503 once", fault: failTimes(1, status(503)), attempts: 2, sleeps: []time.Duration{time.Second}},
		{name: "500 four times", fault: failTimes(4, status(500)), attempts: 5,
			sleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{name: "408 and 429", fault: failTimes(2, func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
			if attempt == 1 {
				return status(408)(n, attempt, w, r)
			}
			w.Header().Set("Retry-After", "3")
			return status(429)(n, attempt, w, r)
		}), attempts: 3, sleeps: []time.Duration{time.Second, 3 * time.Second}},
		{name: "503 forever", fault: failTimes(99, status(503)), attempts: 5, fails: true, status: 503,
			contains: "part 3 of 9 (offset 262144, length 131072) failed after 5 attempts: PUT http://"},
		{name: "reset mid-body once", fault: failTimes(1, resetMidBody), attempts: 2},
		{name: "reset mid-body forever", fault: failTimes(99, resetMidBody), attempts: 5, fails: true,
			contains: "part 3 of 9 (offset 262144, length 131072) failed after 5 attempts"},
		{name: "400 is not retried", fault: failTimes(99, status(400)), attempts: 1, fails: true, status: 400,
			contains: "part 3 of 9 (offset 262144, length 131072) failed: PUT"},
		{name: "403 expired URL", fault: failTimes(99, func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(403)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>3600</X-Amz-Expires><StringToSign>%s</StringToSign><RequestId>R1</RequestId></Error>`, r.URL.RawQuery)
			return true
		}), attempts: 1, fails: true, status: 403, contains: "403 Forbidden (AccessDenied Request has expired); the presigned upload URL was refused: it has expired (it was valid until 2025-06-01T13:00:00Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file, content := testFile(t, testSize)
			f := newFake(t, testSize, testPartSize, content)
			f.partFault = tt.fault
			logs := &logBook{t: t}
			res, err := Run(t.Context(), f.client(), source(t, file), testPlan, f.options(logs))
			f.mu.Lock()
			attempts := f.attempts[failing]
			f.mu.Unlock()
			if attempts != tt.attempts {
				t.Errorf("part %d sent %d times, want %d", failing, attempts, tt.attempts)
			}
			for _, line := range logs.Lines() {
				noSecret(t, line)
			}
			if !tt.fails {
				if err != nil {
					t.Fatal(err)
				}
				if res.Retries != tt.attempts-1 || md5Hex(f.assembled) != md5Hex(content) {
					t.Errorf("retries %d, assembled MD5 %s", res.Retries, md5Hex(f.assembled))
				}
				if tt.sleeps != nil && !slices.Equal(f.clock.Sleeps()[:len(tt.sleeps)], tt.sleeps) {
					t.Errorf("sleeps %v, want %v first", f.clock.Sleeps(), tt.sleeps)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			noSecret(t, err.Error())
			var pe *PartError
			if !errors.As(err, &pe) || pe.Part != failing || pe.PartNumber != failing || pe.Offset != 2*testPartSize || pe.Length != testPartSize ||
				pe.Attempts != tt.attempts || pe.StatusCode != tt.status || pe.Expired != (tt.status == 403) {
				t.Errorf("err = %#v", err)
			}
			if !strings.Contains(err.Error(), tt.contains) || !strings.Contains(err.Error(), "not committed") {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if n := f.count(http.MethodPatch, "/v1/buildUploadFiles/f-1"); n != 0 {
				t.Errorf("%d commits sent after a part failed", n)
			}
			if n := f.count(http.MethodDelete, "/v1/buildUploads/up-1"); n != 1 {
				t.Errorf("%d deletions of the abandoned upload, want 1", n)
			}
			if res.BuildUploadID != uploadID || res.UploadState != "" {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestRunStalledPart(t *testing.T) {
	t.Parallel()
	// The margins are wide both ways, so that a loaded machine cannot
	// turn a slow part into a stall, nor a stall into a slow part.
	tests := []struct {
		name     string
		delay    time.Duration // before part 2's first answer
		stall    time.Duration // the stall timeout
		attempts int
	}{
		{"slow but within the stall timeout", 150 * time.Millisecond, 10 * time.Second, 1},
		{"stalled, then retried", 5 * time.Second, time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file, content := testFile(t, testSize)
			f := newFake(t, testSize, testPartSize, content)
			f.partFault = func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
				if n == 2 && attempt == 1 {
					select {
					case <-time.After(tt.delay):
					case <-r.Context().Done():
						return true
					}
				}
				return false
			}
			logs := &logBook{t: t}
			opts := f.options(logs)
			opts.StallTimeout = tt.stall
			if _, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			attempts := f.attempts[2]
			f.mu.Unlock()
			if attempts != tt.attempts {
				t.Errorf("part 2 sent %d times, want %d", attempts, tt.attempts)
			}
			if tt.attempts > 1 && !slices.ContainsFunc(logs.Lines(), func(s string) bool { return strings.Contains(s, "no progress for 1s") }) {
				t.Errorf("no stall in the log: %q", logs.Lines())
			}
		})
	}
}

func TestRunWrongChecksumRefused(t *testing.T) {
	t.Parallel()
	file, content := testFile(t, testSize)
	f := newFake(t, testSize, testPartSize, content)
	f.checkMD5, f.corruptPart = true, 2
	logs := &logBook{t: t}
	opts := f.options(logs)
	opts.Checksum = ChecksumMD5
	res, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts)
	if !errors.Is(err, asc.ErrConflict) || !strings.Contains(err.Error(), "MD5 "+md5Hex(content)) || !strings.Contains(err.Error(), "checksum does not match") {
		t.Fatalf("err = %v", err)
	}
	if f.count(http.MethodPatch, "/v1/buildUploadFiles/f-1") != 1 || f.count(http.MethodGet, "/v1/buildUploads/up-1") != 0 {
		t.Errorf("requests: %v", f.APIRequests())
	}
	if f.count(http.MethodDelete, "/v1/buildUploads/up-1") != 1 || res.MD5 != md5Hex(content) {
		t.Errorf("refused commit not cleaned up, or MD5 %s", res.MD5)
	}
}

func TestRunCommitAnswerLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		committed bool
	}{
		{"the commit arrived", true},
		{"the commit did not arrive", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file, content := testFile(t, testSize)
			f := newFake(t, testSize, testPartSize, content)
			f.commitFault = func(w http.ResponseWriter) bool {
				hijackClose(w)
				return tt.committed
			}
			logs := &logBook{t: t}
			res, err := Run(t.Context(), f.client(), source(t, file), testPlan, f.options(logs))
			if n := f.count(http.MethodPatch, "/v1/buildUploadFiles/f-1"); n != 1 {
				t.Errorf("the commit was sent %d times, want once", n)
			}
			if f.count(http.MethodDelete, "/v1/buildUploads/up-1") != 0 {
				t.Error("a possibly committed upload was deleted")
			}
			if tt.committed {
				if err != nil || res.UploadState != "COMPLETE" {
					t.Fatalf("res = %+v, err = %v", res, err)
				}
				return
			}
			if !errors.Is(err, ErrCommitUnconfirmed) || !strings.Contains(err.Error(), "still AWAITING_UPLOAD") || !strings.Contains(err.Error(), "GET /v1/buildUploads/up-1") {
				t.Fatalf("err = %v", err)
			}
			if n := f.count(http.MethodGet, "/v1/buildUploads/up-1"); n != confirmChecks {
				t.Errorf("%d checks, want %d", n, confirmChecks)
			}
		})
	}
}

func TestRunRetriesCreateOn429(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		sleep  time.Duration
	}{
		{"with Retry-After", "7", 7 * time.Second},
		{"without", "", createBackoffBase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file, content := testFile(t, testSize)
			f := newFake(t, testSize, testPartSize, content)
			f.createFaults = []func(http.ResponseWriter){func(w http.ResponseWriter) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				writeError(w, 429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.", "We've received too many requests for this API. Please wait and try again or slow down your request rate.")
			}}
			logs := &logBook{t: t}
			if _, err := Run(t.Context(), f.client(), source(t, file), testPlan, f.options(logs)); err != nil {
				t.Fatal(err)
			}
			if n := f.count(http.MethodPost, "/v1/buildUploads"); n != 2 {
				t.Errorf("%d creates, want 2", n)
			}
			if s := f.clock.Sleeps(); len(s) == 0 || s[0] != tt.sleep {
				t.Errorf("sleeps %v, want %v first", s, tt.sleep)
			}
		})
	}
	t.Run("Retry-After too long", func(t *testing.T) {
		t.Parallel()
		file, content := testFile(t, testSize)
		f := newFake(t, testSize, testPartSize, content)
		f.createFaults = []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3600")
			writeError(w, 429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.", "")
		}}
		_, err := Run(t.Context(), f.client(), source(t, file), testPlan, f.options(&logBook{t: t}))
		if !errors.Is(err, asc.ErrRateLimited) || !strings.Contains(err.Error(), "wait 1h0m0s") {
			t.Errorf("err = %v", err)
		}
		if n := f.count(http.MethodPost, "/v1/buildUploads"); n != 1 {
			t.Errorf("%d creates, want 1", n)
		}
	})
}

func TestRunFailedStateReported(t *testing.T) {
	t.Parallel()
	file, content := testFile(t, testSize)
	f := newFake(t, testSize, testPartSize, content)
	f.uploadState = func(n int) string {
		if n < 3 {
			return "PROCESSING"
		}
		return "FAILED"
	}
	f.warnings = []asc.StateDetail{{Code: "90725", Description: "SDK version issue."}}
	f.failErrors = []asc.StateDetail{
		{Code: "90062", Description: "The value for key CFBundleShortVersionString [2.1.0] must contain a higher version."},
		{Code: "90186", Description: "Invalid Pre-Release Train."},
	}
	logs := &logBook{t: t}
	res, err := Run(t.Context(), f.client(), source(t, file), testPlan, f.options(logs))
	var se *StateError
	if !errors.As(err, &se) || se.State != "FAILED" || se.ID != uploadID || len(se.Errors) != 2 {
		t.Fatalf("err = %v", err)
	}
	want := "upload: App Store Connect marked build upload up-1 FAILED: 90062: The value for key CFBundleShortVersionString [2.1.0] must contain a higher version.; 90186: Invalid Pre-Release Train."
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
	if res.UploadState != "FAILED" || len(res.Messages) != 3 || len(logs.messages) != 3 {
		t.Errorf("result %+v, callback %v", res, logs.messages)
	}
	levels := map[Level]int{}
	for _, m := range res.Messages {
		levels[m.Level]++
	}
	if levels[LevelError] != 2 || levels[LevelWarning] != 1 {
		t.Errorf("levels %v", levels)
	}
	if got := f.clock.Sleeps(); !slices.Equal(got, []time.Duration{httpx.PollFirst, 2 * httpx.PollFirst}) {
		t.Errorf("sleeps %v", got)
	}
}

func TestRunLongProcessingWaitRefreshesTheToken(t *testing.T) {
	t.Parallel()
	file, content := testFile(t, testSize)
	f := newFake(t, testSize, testPartSize, content)
	f.uploadState = func(n int) string {
		if n < 20 {
			return "PROCESSING"
		}
		return "COMPLETE"
	}
	f.buildState = func(n int, now time.Time) string {
		if now.Before(epoch.Add(2 * time.Hour)) {
			return "PROCESSING"
		}
		return "VALID"
	}
	logs := &logBook{t: t}
	opts := f.options(logs)
	opts.WaitForProcessing = 3 * time.Hour
	opts.PollInterval = time.Minute
	res, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.ProcessingState != "VALID" || res.BuildID != buildID || res.UploadState != "COMPLETE" {
		t.Errorf("result %+v", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unauthorized != 0 {
		t.Errorf("%d requests were sent with an expired token", f.unauthorized)
	}
	if f.mints < 6 {
		t.Errorf("%d tokens minted over two hours of 20-minute tokens", f.mints)
	}
}

func TestRunTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		build      func(int, time.Time) string
		upload     func(int) string
		opts       func(*Options)
		waited     time.Duration
		contains   []string
		processing string
	}{
		{
			name:     "build upload still processing",
			upload:   func(int) string { return "PROCESSING" },
			opts:     func(o *Options) { o.WaitForUpload = 10 * time.Minute },
			waited:   10 * time.Minute,
			contains: []string{"build upload up-1 is still PROCESSING after a wait of 10m0s", "the upload is committed", "GET /v1/buildUploads/up-1"},
		},
		{
			name:       "build still processing",
			build:      func(int, time.Time) string { return "PROCESSING" },
			opts:       func(o *Options) { o.WaitForProcessing = 30 * time.Minute; o.PollInterval = 7 * time.Minute },
			waited:     30 * time.Minute,
			contains:   []string{"build b-1 (build upload up-1) is still PROCESSING after a wait of 30m0s", "GET /v1/builds/b-1"},
			processing: "PROCESSING",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file, content := testFile(t, testSize)
			f := newFake(t, testSize, testPartSize, content)
			f.uploadState, f.buildState = tt.upload, tt.build
			logs := &logBook{t: t}
			opts := f.options(logs)
			tt.opts(&opts)
			res, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts)
			var te *WaitTimeoutError
			if !errors.As(err, &te) || te.Waited != tt.waited || te.BuildUploadID != uploadID {
				t.Fatalf("err = %#v", err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if res.BuildUploadID != uploadID || res.ProcessingState != tt.processing {
				t.Errorf("result %+v", res)
			}
			// The last poll happens at the deadline, not after it.
			var total time.Duration
			for _, s := range f.clock.Sleeps() {
				total += s
			}
			if total != tt.waited {
				t.Errorf("slept %s in all, want %s", total, tt.waited)
			}
		})
	}
}

func TestWaitResumes(t *testing.T) {
	t.Parallel()
	f := newFake(t, testSize, testPartSize, nil)
	f.committed = true
	logs := &logBook{t: t}
	opts := f.options(logs)
	opts.WaitForProcessing = time.Hour
	res, err := Wait(t.Context(), f.client(), uploadID, opts)
	if err != nil || res.UploadState != "COMPLETE" || res.ProcessingState != "VALID" || res.BuildID != buildID {
		t.Fatalf("res = %+v, err = %v", res, err)
	}
	for _, r := range f.APIRequests() {
		if r.Method != http.MethodGet {
			t.Errorf("Wait sent %s %s", r.Method, r.Path)
		}
	}
}

func TestRunReturnsRightAfterTheCommit(t *testing.T) {
	t.Parallel()
	file, content := testFile(t, testSize)
	f := newFake(t, testSize, testPartSize, content)
	opts := f.options(&logBook{t: t})
	opts.WaitForUpload = -1
	res, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts)
	if err != nil || f.count(http.MethodGet, "/v1/buildUploads/up-1") != 0 || res.UploadState != "AWAITING_UPLOAD" {
		t.Fatalf("res = %+v, err = %v, requests %v", res, err, f.APIRequests())
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	file, content := testFile(t, testSize)
	f := newFake(t, testSize, testPartSize, content)
	ctx, cancel := context.WithCancel(t.Context())
	f.partFault = func(n, attempt int, w http.ResponseWriter, r *http.Request) bool {
		if n == 2 {
			cancel()
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return true
		}
		return false
	}
	_, err := Run(ctx, f.client(), source(t, file), testPlan, f.options(&logBook{t: t}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	var pe *PartError
	if errors.As(err, &pe) {
		t.Errorf("a cancelled upload blamed part %d", pe.Part)
	}
	if f.count(http.MethodPatch, "/v1/buildUploadFiles/f-1") != 0 || f.count(http.MethodDelete, "/v1/buildUploads/up-1") != 1 {
		t.Errorf("requests %v", f.APIRequests())
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	t.Parallel()
	file, _ := testFile(t, 10)
	src := source(t, file)
	_, err := Run(t.Context(), nil, Source{Name: "a/b"}, Plan{AppID: "com.example", Platform: "ANDROID", ShortVersion: "1.x", BuildVersion: ""},
		Options{Concurrency: -1, Checksum: "sha256"})
	for _, want := range []string{"concurrency -1", `checksum "sha256"`, "no file", "empty", "not a base name", "app ID", "platform", "version", "build number", "no UTI", "no App Store Connect client"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	plan := testPlan
	plan.UTI = "public.data"
	if _, err := Run(t.Context(), nil, src, plan, Options{}); err == nil || !strings.Contains(err.Error(), `UTI "public.data"`) {
		t.Errorf("err = %v", err)
	}
	o, err := Options{Concurrency: 100}.withDefaults()
	if err != nil || o.Concurrency != MaxConcurrency {
		t.Errorf("concurrency 100 became %d (%v)", o.Concurrency, err)
	}
}

func TestPlanParts(t *testing.T) {
	t.Parallel()
	op := func(off, length int64) asc.DeliveryFileUploadOperation {
		return asc.DeliveryFileUploadOperation{Method: "PUT", URL: "https://up.example/p?X-Amz-Signature=" + secret, Offset: off, Length: length}
	}
	tests := []struct {
		name  string
		ops   []asc.DeliveryFileUploadOperation
		parts int
		err   string
	}{
		{"exact", []asc.DeliveryFileUploadOperation{op(0, 6), op(6, 4)}, 2, ""},
		{"unordered", []asc.DeliveryFileUploadOperation{op(6, 4), op(0, 6)}, 2, ""},
		{"none", nil, 0, "no upload operations"},
		{"gap", []asc.DeliveryFileUploadOperation{op(0, 5), op(6, 4)}, 0, "no operation covers bytes 5 to 6"},
		{"overlap", []asc.DeliveryFileUploadOperation{op(0, 7), op(6, 4)}, 0, "overlap at byte 6"},
		{"short", []asc.DeliveryFileUploadOperation{op(0, 6)}, 0, "no operation covers bytes 6 to 10"},
		{"beyond", []asc.DeliveryFileUploadOperation{op(0, 6), op(6, 5)}, 0, "bytes 6 to 11 are not within the file's 10"},
		{"empty", []asc.DeliveryFileUploadOperation{op(0, 10), op(10, 0)}, 0, "bytes 10 to 10"},
		{"bad URL", []asc.DeliveryFileUploadOperation{{Method: "PUT", URL: "ftp://up.example/p?X-Amz-Signature=" + secret, Length: 10}}, 0, `"ftp://up.example/p" is not an http(s) URL`},
		{"no method", []asc.DeliveryFileUploadOperation{{URL: "https://up.example/p", Length: 10}}, 0, `"" is not an HTTP method`},
		{"content length", []asc.DeliveryFileUploadOperation{{Method: "PUT", URL: "https://up.example/p", Length: 10, RequestHeaders: []asc.HTTPHeader{{Name: "content-length", Value: "9"}}}}, 0, "Content-Length 9 differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parts, err := planParts(tt.ops, 10)
			if tt.err == "" {
				if err != nil || len(parts) != tt.parts || parts[0].Offset != 0 {
					t.Errorf("parts %v, err %v", parts, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
			if err != nil {
				noSecret(t, err.Error())
			}
		})
	}
}

// panicReaderAt panics on every read, as a broken io.ReaderAt might.
type panicReaderAt struct{}

func (panicReaderAt) ReadAt([]byte, int64) (int, error) { panic("disk on fire") }

func TestMD5Pass(t *testing.T) {
	t.Parallel()
	content := []byte("the whole file")
	tests := []struct {
		name    string
		src     Source
		wantSum string
		wantErr string
	}{
		{"whole file", Source{File: bytes.NewReader(content), Size: int64(len(content)), Name: "A.ipa"}, md5Hex(content), ""},
		{"file shorter than said", Source{File: bytes.NewReader(content), Size: 100, Name: "A.ipa"}, "", "the file has 14 bytes, not 100"},
		{"ReadAt panics", Source{File: panicReaderAt{}, Size: 100, Name: "A.ipa"}, "", "upload: hashing A.ipa: panic: disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := md5Pass(t.Context(), tt.src)
			if h.sum != tt.wantSum || (tt.wantErr == "") != (h.err == nil) || (h.err != nil && !strings.Contains(h.err.Error(), tt.wantErr)) {
				t.Errorf("md5Pass = %q, %v; want %q, %q", h.sum, h.err, tt.wantSum, tt.wantErr)
			}
		})
	}
}
