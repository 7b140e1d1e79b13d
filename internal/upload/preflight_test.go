package upload

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
)

// preflightAPI serves an app, its builds and build uploads of one version
// and records the requests.
type preflightAPI struct {
	builds  []string // build numbers
	uploads []struct{ number, state string }

	mu       sync.Mutex
	requests []string // method and path
}

func (p *preflightAPI) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

func (p *preflightAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.Method+" "+r.URL.Path)
	p.mu.Unlock()
	q := r.URL.Query()
	switch r.URL.Path {
	case "/v1/apps/" + appID:
		writeJSON(w, 200, map[string]any{
			"data":  map[string]any{"type": "apps", "id": appID, "attributes": map[string]any{"bundleId": "com.example.app", "name": "Example"}},
			"links": map[string]string{"self": ""},
		})
	case "/v1/builds":
		if q.Get("filter[app]") != appID || q.Get("filter[preReleaseVersion.version]") != "2.1.0" || q.Get("filter[preReleaseVersion.platform]") != "IOS" {
			writeError(w, 400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", r.URL.RawQuery)
			return
		}
		var data []map[string]any
		for i, n := range p.builds {
			data = append(data, map[string]any{"type": "builds", "id": fmt.Sprintf("b%d", i+1), "attributes": map[string]any{"version": n}})
		}
		writeJSON(w, 200, map[string]any{"data": data, "links": map[string]string{"self": ""}})
	case "/v1/apps/" + appID + "/buildUploads":
		if q.Get("filter[cfBundleShortVersionString]") != "2.1.0" || q.Get("filter[platform]") != "IOS" || q.Get("filter[state]") != "AWAITING_UPLOAD,PROCESSING,COMPLETE" {
			writeError(w, 400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", r.URL.RawQuery)
			return
		}
		var data []map[string]any
		for i, u := range p.uploads {
			data = append(data, map[string]any{"type": "buildUploads", "id": fmt.Sprintf("u%d", i+1), "attributes": map[string]any{
				"cfBundleShortVersionString": "2.1.0", "cfBundleVersion": u.number, "platform": "IOS", "state": map[string]any{"state": u.state},
			}})
		}
		writeJSON(w, 200, map[string]any{"data": data, "links": map[string]string{"self": ""}})
	default:
		writeError(w, 404, "NOT_FOUND", "The specified resource does not exist", "There is no resource of type 'apps' with id '"+strings.TrimPrefix(r.URL.Path, "/v1/apps/")+"'")
	}
}

func preflightClient(t *testing.T, api http.Handler) *asc.Client {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	mint := func() (string, time.Time, error) { return "tok", time.Now().Add(20 * time.Minute), nil }
	return asc.NewClient(asc.NewTokenCache(mint, nil), asc.WithBaseURL(srv.URL), asc.WithHTTPClient(srv.Client()))
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	type upload = struct{ number, state string }
	tests := []struct {
		name    string
		build   string
		builds  []string
		uploads []upload
		takenBy string
		next    string
	}{
		{name: "free", build: "48", builds: []string{"46", "47"}, uploads: []upload{{"47", "COMPLETE"}}},
		{name: "no builds yet", build: "1"},
		{name: "used by a build", build: "46", builds: []string{"46", "47", "9"}, takenBy: "build b1", next: "48"},
		{name: "used by a build, written differently", build: "1.2", builds: []string{"1.2.0", "1.1"}, takenBy: "build b1", next: "1.2.1"},
		{name: "used by an upload in flight", build: "48", builds: []string{"47"}, uploads: []upload{{"48", "PROCESSING"}, {"50", "AWAITING_UPLOAD"}},
			takenBy: "build upload u1 (PROCESSING)", next: "51"},
		{name: "a failed upload frees its number", build: "48", uploads: []upload{{"48", "FAILED"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &preflightAPI{builds: tt.builds, uploads: tt.uploads}
			plan := testPlan
			plan.BuildVersion = tt.build
			res, err := Preflight(t.Context(), preflightClient(t, api), plan)
			if res.AppID != appID || res.BundleID != "com.example.app" || res.AppName != "Example" || res.Builds != len(tt.builds) {
				t.Errorf("result %+v", res)
			}
			for _, r := range api.Requests() {
				if !strings.HasPrefix(r, "GET ") {
					t.Errorf("Preflight sent %s", r)
				}
			}
			if tt.takenBy == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var taken *BuildNumberTakenError
			if !errors.As(err, &taken) || !errors.Is(err, ErrBuildNumberTaken) || taken.TakenBy != tt.takenBy || taken.Next != tt.next {
				t.Fatalf("err = %v", err)
			}
			want := fmt.Sprintf("upload: build number %s of version 2.1.0 is already used by %s; the next free build number is %s: build again with CFBundleVersion %s",
				tt.build, tt.takenBy, tt.next, tt.next)
			if err.Error() != want {
				t.Errorf("err =\n%s\nwant\n%s", err, want)
			}
		})
	}
}

func TestPreflightNoApp(t *testing.T) {
	t.Parallel()
	plan := testPlan
	plan.AppID = "999"
	_, err := Preflight(t.Context(), preflightClient(t, &preflightAPI{}), plan)
	if !errors.Is(err, asc.ErrNotFound) || !strings.Contains(err.Error(), "no app with ID 999 is visible to this key") {
		t.Errorf("err = %v", err)
	}
}

func TestPreflightRefusesBadPlan(t *testing.T) {
	t.Parallel()
	api := &preflightAPI{}
	_, err := Preflight(t.Context(), preflightClient(t, api), Plan{AppID: "x", Platform: "IOS", ShortVersion: "2", BuildVersion: "a"})
	if err == nil || !strings.Contains(err.Error(), "app ID") || !strings.Contains(err.Error(), "build number") || strings.Contains(err.Error(), "UTI") {
		t.Errorf("err = %v", err)
	}
	if n := len(api.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
