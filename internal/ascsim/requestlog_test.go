package ascsim_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/asc-auth/action/internal/ascsim"
)

// lineLog collects the request log as lines, as the CLI prints it.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(r ascsim.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.String())
}

func (l *lineLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func TestWithRequestLog(t *testing.T) {
	t.Parallel()
	var log lineLog
	f := newFixture(t, ascsim.WithRequestLog(log.add))
	f.srv.AddApp("com.example.app", "Example")

	f.get(t, "/v1/apps?filter%5BbundleId%5D=com.example.app")
	f.get(t, "/v1/apps?filter%5Bcolour%5D=red")
	f.do(t, "GET", "/v1/apps", "", "")
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultServerError, PathPrefix: "/v1/builds", Times: 1})
	f.get(t, "/v1/builds")
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultReset, PathPrefix: "/v1/builds", Times: 1})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", f.url+"/v1/builds?limit=1", nil)
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("status %d, want a reset", res.StatusCode)
	}

	want := []string{
		"GET /v1/apps?filter[bundleId]=com.example.app 200",
		"GET /v1/apps?filter[colour]=red 400 ",
		"GET /v1/apps 401 ",
		"GET /v1/builds 500 fault: server error",
		"GET /v1/builds?limit=1 (no response) fault: connection reset",
	}
	got := log.get()
	t.Logf("log:\n%s", strings.Join(got, "\n"))
	if len(got) != len(want) {
		t.Fatalf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("line %d = %q, want it to start %q", i, got[i], w)
		}
	}
	if !strings.Contains(got[1], "filter[colour]") || len(got[1]) <= len(want[1]) {
		t.Errorf("the refusal does not say why: %q", got[1])
	}
	for i, r := range f.srv.Requests() {
		if r.String() != got[i] {
			t.Errorf("Requests()[%d] = %q, logged %q", i, r, got[i])
		}
	}
}

// TestWithRequestLogParts checks that part uploads are logged, answered or
// reset, without their presigned URL's query.
func TestWithRequestLogParts(t *testing.T) {
	t.Parallel()
	var log lineLog
	u := newUpFixture(t, ascsim.WithRequestLog(log.add))
	data := content(testPartSize)
	file := u.newFile(t, u.newUpload(t, "1"), int64(len(data)))
	u.srv.InjectPartFault(ascsim.PartFault{Kind: ascsim.PartReset, Times: 1})
	op := file.Attributes.UploadOperations[0]
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", op.URL, strings.NewReader(string(data)))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("status %d, want a reset", res.StatusCode)
	}
	putAll(t, file, data)
	sig, _ := url.Parse(op.URL)
	var parts []string
	for _, line := range log.get() {
		if strings.Contains(line, sig.RawQuery) || strings.Contains(line, "Signature") {
			t.Errorf("the log shows the signature: %q", line)
		}
		if strings.HasPrefix(line, "PUT /upload/") {
			parts = append(parts, line)
		}
	}
	want := []string{
		"PUT /upload/" + file.ID + "/1 (no response) part fault: part connection reset",
		"PUT /upload/" + file.ID + "/1 200",
	}
	if strings.Join(parts, "\n") != strings.Join(want, "\n") {
		t.Errorf("part lines:\n%s\nwant:\n%s", strings.Join(parts, "\n"), strings.Join(want, "\n"))
	}
}

func TestRequestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    ascsim.Request
		want string
	}{
		{ascsim.Request{Method: "POST", Path: "/v1/buildUploads", Status: 201}, "POST /v1/buildUploads 201"},
		{ascsim.Request{Method: "GET", Path: "/v1/apps", RawQuery: "filter%5BbundleId%5D=x&limit=2", Status: 200}, "GET /v1/apps?filter[bundleId]=x&limit=2 200"},
		{ascsim.Request{Method: "GET", Path: "/v1/apps", RawQuery: "q=%zz", Status: 400, Note: "bad"}, "GET /v1/apps?q=%zz 400 bad"},
		{ascsim.Request{Method: "GET", Path: "/a\nb", RawQuery: "x=%0D%0Ay", Status: 404, Note: "line\nbreak\u2028"}, "GET /a%0Ab?x=%0D%0Ay 404 line%0Abreak%E2%80%A8"},
		{ascsim.Request{Method: "GET", Path: "/v1/builds", Note: "fault: connection reset"}, "GET /v1/builds (no response) fault: connection reset"},
	}
	for _, tc := range tests {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
