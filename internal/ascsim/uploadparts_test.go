package ascsim_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
)

// s3Error is the XML error body of a refused part.
type s3Error struct {
	Code, Message, Expires, ServerTime, RequestId string
}

func parseS3Error(t *testing.T, res response) s3Error {
	t.Helper()
	var e s3Error
	if err := xml.Unmarshal(res.body, &e); err != nil {
		t.Fatalf("error body %q: %v", res.body, err)
	}
	if res.header.Get("Content-Type") != "application/xml" || e.RequestId == "" {
		t.Errorf("not S3's error shape: %s %s", res.header.Get("Content-Type"), res.body)
	}
	return e
}

func withQuery(op operation, edit func(url.Values)) operation {
	u, _ := url.Parse(op.URL)
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	op.URL = u.String()
	return op
}

func TestPartRefusals(t *testing.T) {
	t.Parallel()
	data := content(2*testPartSize + 10)
	tests := []struct {
		name       string
		op         func(operation) operation
		edit       func(*http.Request)
		advance    time.Duration // the clock moves before the PUT
		wantStatus int
		wantCode   string
		wantNote   string
	}{
		{name: "wrong signature", op: func(op operation) operation {
			return withQuery(op, func(q url.Values) { q.Set("X-Amz-Signature", strings.Repeat("0", 64)) })
		}, wantStatus: 403, wantCode: "SignatureDoesNotMatch", wantNote: "signature"},
		{name: "no signature", op: func(op operation) operation {
			return withQuery(op, func(q url.Values) { q.Del("X-Amz-Signature") })
		}, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "signature of another part", op: func(op operation) operation {
			op.URL = strings.Replace(op.URL, "/1?", "/2?", 1)
			return op
		}, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "expired URL", advance: time.Hour + time.Second, wantStatus: 403, wantCode: "AccessDenied", wantNote: "expired"},
		{name: "URL at its expiry", advance: time.Hour, wantStatus: 200},
		{name: "missing x-asc-part", edit: func(r *http.Request) { r.Header.Del("x-asc-part") }, wantStatus: 403, wantCode: "SignatureDoesNotMatch", wantNote: "x-asc-part"},
		{name: "x-asc-part of another part", edit: func(r *http.Request) { r.Header.Set("x-asc-part", "0123") }, wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "missing Content-Type", edit: func(r *http.Request) { r.Header.Del("Content-Type") }, wantStatus: 403, wantCode: "SignatureDoesNotMatch", wantNote: "Content-Type"},
		{name: "Content-Length short of the part", edit: func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(data[:100]))
			r.ContentLength = 100
		}, wantStatus: 400, wantCode: "InvalidRequest", wantNote: "Content-Length 100"},
		{name: "Content-Length over the part", edit: func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(data[:testPartSize+1]))
			r.ContentLength = testPartSize + 1
		}, wantStatus: 400, wantCode: "InvalidRequest"},
		{name: "no Content-Length", edit: func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(data[:testPartSize]))
			r.ContentLength = -1 // chunked
		}, wantStatus: 411, wantCode: "MissingContentLength"},
		{name: "POST", edit: func(r *http.Request) { r.Method = "POST" }, wantStatus: 405, wantCode: "MethodNotAllowed"},
		{name: "unknown file", op: func(op operation) operation {
			op.URL = strings.Replace(op.URL, "/upload/", "/upload/x", 1)
			return op
		}, wantStatus: 404, wantCode: "NoSuchUpload"},
		{name: "part past the last", op: func(op operation) operation {
			op.URL = strings.Replace(op.URL, "/1?", "/4?", 1)
			return op
		}, wantStatus: 404, wantCode: "NoSuchUpload"},
		{name: "part 0", op: func(op operation) operation {
			op.URL = strings.Replace(op.URL, "/1?", "/0?", 1)
			return op
		}, wantStatus: 404, wantCode: "NoSuchUpload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpFixture(t)
			file := u.newFile(t, u.newUpload(t, "1"), int64(len(data)))
			op := file.Attributes.UploadOperations[0]
			if tt.op != nil {
				op = tt.op(op)
			}
			u.clock.Advance(tt.advance)
			res := put(t, op, data, tt.edit)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			parts := u.srv.UploadedParts(file.ID)
			if tt.wantStatus == http.StatusOK {
				if !parts[0].Complete {
					t.Errorf("part 1 not stored: %+v", parts[0])
				}
				return
			}
			if e := parseS3Error(t, res); e.Code != tt.wantCode {
				t.Errorf("code %s, want %s", e.Code, tt.wantCode)
			}
			for _, p := range parts {
				if p.Complete || p.Attempts != 0 {
					t.Errorf("a refused PUT stored part %+v", p)
				}
			}
			log := u.srv.Requests()
			last := log[len(log)-1]
			if !strings.HasPrefix(last.Path, "/upload/") || last.Status != tt.wantStatus || !strings.Contains(last.Note, tt.wantNote) {
				t.Errorf("log entry %+v, want note with %q", last, tt.wantNote)
			}
		})
	}
}

func TestPartFaults(t *testing.T) {
	t.Parallel()
	data := content(3 * testPartSize)
	tests := []struct {
		name       string
		fault      ascsim.PartFault
		part       int // index of the operation sent
		wantStatus int // 0: the connection is reset
		wantCode   string
		wantNote   string
	}{
		{"500", ascsim.PartFault{Kind: ascsim.PartFail500, Part: ascsim.AnyPart, Times: 1}, 0, 500, "InternalError", "part fault: part server error"},
		{"expired URL", ascsim.PartFault{Kind: ascsim.PartExpiredURL, Part: 2, Times: 1}, 1, 403, "AccessDenied", "part fault: part URL expired"},
		{"reset mid-body", ascsim.PartFault{Kind: ascsim.PartReset, Times: 1}, 2, 0, "", "part fault: part connection reset"},
		{"slow", ascsim.PartFault{Kind: ascsim.PartSlow, Part: 1, Delay: 100 * time.Millisecond, Times: 1}, 0, 200, "", "part fault: part delay"},
		{"fault of another part", ascsim.PartFault{Kind: ascsim.PartFail500, Part: 3, Times: 1}, 0, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpFixture(t)
			file := u.newFile(t, u.newUpload(t, "1"), int64(len(data)))
			op := file.Attributes.UploadOperations[tt.part]
			u.srv.InjectPartFault(tt.fault)
			// A new connection for each request, so that a reset is
			// seen on this PUT and nothing retries it.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			start := time.Now()
			res, err := tryPut(t, client, op, data, nil)
			switch {
			case tt.wantStatus == 0:
				if err == nil {
					t.Fatalf("status %d, want a reset connection", res.status)
				}
			case err != nil:
				t.Fatal(err)
			case res.status != tt.wantStatus:
				t.Fatalf("status %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			case tt.wantCode != "":
				if e := parseS3Error(t, res); e.Code != tt.wantCode {
					t.Errorf("code %s, want %s", e.Code, tt.wantCode)
				}
			}
			if tt.fault.Kind == ascsim.PartSlow && time.Since(start) < tt.fault.Delay {
				t.Errorf("answered after %v, want at least %v", time.Since(start), tt.fault.Delay)
			}
			waitFor(t, func() bool {
				log := u.srv.Requests()
				return log[len(log)-1].Method == "PUT"
			})
			log := u.srv.Requests()
			if last := log[len(log)-1]; last.Note != tt.wantNote || last.Status != tt.wantStatus {
				t.Errorf("log entry %+v, want status %d and note %q", last, tt.wantStatus, tt.wantNote)
			}
			stored := u.srv.UploadedParts(file.ID)[tt.part].Complete
			if stored != (tt.wantStatus == http.StatusOK) {
				t.Errorf("part stored %v after status %d", stored, tt.wantStatus)
			}
			// Times is used up: the client's retry goes through.
			if res, err := tryPut(t, client, op, data, nil); err != nil || res.status != http.StatusOK {
				t.Fatalf("retry: %v, %+v", err, res)
			}
			if !u.srv.UploadedParts(file.ID)[tt.part].Complete {
				t.Error("the retry did not store the part")
			}
		})
	}
}

func TestPartFaultTimesAndClear(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	data := content(2 * testPartSize)
	file := u.newFile(t, u.newUpload(t, "1"), int64(len(data)))
	ops := file.Attributes.UploadOperations
	u.srv.InjectPartFault(ascsim.PartFault{Kind: ascsim.PartFail500, Part: 2, Times: 2})
	u.srv.InjectPartFault(ascsim.PartFault{Kind: ascsim.PartExpiredURL}) // every part, forever
	for i, want := range []int{500, 500, 403, 403} {
		if res := put(t, ops[1], data, nil); res.status != want {
			t.Errorf("PUT %d of part 2: status %d, want %d", i+1, res.status, want)
		}
	}
	if res := put(t, ops[0], data, nil); res.status != 403 {
		t.Errorf("part 1: status %d, want 403", res.status)
	}
	u.srv.ClearFaults()
	putAll(t, file, data)
}

func TestPartLogHidesSignature(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	data := content(2 * testPartSize)
	file := u.newFile(t, u.newUpload(t, "1"), int64(len(data)))
	putAll(t, file, data)
	put(t, withQuery(file.Attributes.UploadOperations[0], func(q url.Values) { q.Set("X-Amz-Signature", "bad") }), data, nil)
	var puts []ascsim.Request
	for _, r := range u.srv.Requests() {
		for _, op := range file.Attributes.UploadOperations {
			sig, _ := url.Parse(op.URL)
			if s := sig.Query().Get("X-Amz-Signature"); strings.Contains(r.Path+r.RawQuery+r.Note, s) {
				t.Errorf("the log holds a signature: %+v", r)
			}
		}
		if r.Method == "PUT" {
			puts = append(puts, r)
		}
	}
	want := []string{"/upload/" + file.ID + "/1 200", "/upload/" + file.ID + "/2 200", "/upload/" + file.ID + "/1 403"}
	var got []string
	for _, r := range puts {
		got = append(got, r.Path+" "+strconv.Itoa(r.Status))
		if r.RawQuery != "" || r.KeyID != "" || !r.Time.Equal(epoch) {
			t.Errorf("log entry %+v", r)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("PUTs logged %q, want %q", got, want)
	}
}

// patterned reads size bytes of content(size) without holding them.
type patterned struct{ off, size int64 }

func (p *patterned) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.size-p.off))
	for i := range n {
		j := int(p.off) + i
		b[i] = byte(j*7 + j>>9)
	}
	p.off += int64(n)
	return n, nil
}

// TestPartMemoryFlat uploads a file much larger than the memory the
// upload may take: the parts go to disk through a small buffer. It does
// not run in parallel, so the allocation count is its own.
func TestPartMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 32 MiB")
	}
	const size, partSize = 32 << 20, 8 << 20
	u := newUpFixture(t, ascsim.WithPartSize(partSize))
	file := u.newFile(t, u.newUpload(t, "1"), size)
	sum := md5.New()
	if _, err := io.Copy(sum, &patterned{size: size}); err != nil {
		t.Fatal(err)
	}
	wantMD5 := hex.EncodeToString(sum.Sum(nil))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, op := range file.Attributes.UploadOperations {
		body := io.LimitReader(&patterned{off: op.Offset, size: size}, op.Length)
		req, err := http.NewRequestWithContext(t.Context(), op.Method, op.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = op.Length
		for _, h := range op.RequestHeaders {
			req.Header.Set(h.Name, h.Value)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("part %d: status %d", op.PartNumber, res.StatusCode)
		}
	}
	res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "MD5", wantMD5))
	runtime.ReadMemStats(&after)
	if res.status != http.StatusOK {
		t.Fatalf("commit: status %d, body %s", res.status, res.body)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("uploading %d MiB allocated %d KiB", size>>20, alloc>>10)
	if alloc > 8<<20 {
		t.Errorf("uploading %d MiB allocated %d KiB", size>>20, alloc>>10)
	}
}
