package asc

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// checkQuery compares a request's query with want (one value per key).
func checkQuery(t *testing.T, r recorded, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k, vs := range r.Query {
		got[k] = strings.Join(vs, "|")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s query =\n%v\nwant\n%v", r.Method, r.Path, got, want)
	}
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "Bearer tok-1" || r.Header.Get("Accept") != "application/json" {
		t.Errorf("request = %s with headers %v", r.Method, r.Header)
	}
}

func TestAppByBundleID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		bundleID string
		wantID   string
		wantErr  string
		notFound bool
	}{
		{"exact match among similar", "com.example.app", "1500000000", "", false},
		{"prefix is not a match", "com.example", "", `no app has bundle ID "com.example" (2 similar found)`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: []reply{{status: 200, body: fixture(t, "apps_by_bundle_id.json", "")}}}
			h.mux.Handle("/v1/apps", s)
			app, err := h.client.AppByBundleID(t.Context(), tt.bundleID)
			checkQuery(t, s.Requests()[0], map[string]string{
				"filter[bundleId]": tt.bundleID,
				"fields[apps]":     "bundleId,name",
				"limit":            "200",
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrNotFound) != tt.notFound {
					t.Fatalf("AppByBundleID error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if app.ID != tt.wantID || app.Type != "apps" || app.Attributes.Name != "Example" {
				t.Errorf("app = %+v", app)
			}
		})
	}
}

func TestAppByBundleIDRejectsBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, id := range []string{"", "com.a,com.b", "com.a b"} {
		if _, err := h.client.AppByBundleID(t.Context(), id); err == nil {
			t.Errorf("AppByBundleID(%q) succeeded", id)
		}
	}
	if h.client.Requests() != 0 {
		t.Error("a request was sent for invalid input")
	}
}

func TestApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{{status: 200, body: fixture(t, "app.json", "")}}}
	h.mux.Handle("/v1/apps/1500000000", s)
	h.mux.Handle("/v1/apps/999", &script{replies: []reply{{status: 404, body: fixture(t, "error_404.json", "")}}})

	app, err := h.client.App(t.Context(), "1500000000")
	if err != nil {
		t.Fatal(err)
	}
	want := AppAttributes{Name: "Example", BundleID: "com.example.app", SKU: "EXAMPLE1", PrimaryLocale: "en-US"}
	if app.ID != "1500000000" || *app.Attributes != want {
		t.Errorf("app = %+v %+v", app, app.Attributes)
	}
	checkQuery(t, s.Requests()[0], map[string]string{})

	_, err = h.client.App(t.Context(), "999")
	if !errors.Is(err, ErrNotFound) || err.Error() != "asc: GET /v1/apps/999: 404 NOT_FOUND: The specified resource does not exist: There is no resource of type 'apps' with id '999'" {
		t.Errorf("App(999) error = %v", err)
	}
	if _, err := h.client.App(t.Context(), "../builds"); err == nil {
		t.Error("App accepted a path as an ID")
	}
}

func TestBuilds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		query BuildsQuery
		want  map[string]string
	}{
		{"app only", BuildsQuery{AppID: "1500000000", Limit: 2}, map[string]string{
			"filter[app]": "1500000000", "fields[builds]": "version", "limit": "2",
		}},
		{"platform and version", BuildsQuery{AppID: "1500000000", Platform: PlatformIOS, Version: "2.1.0", Limit: 2}, map[string]string{
			"filter[app]": "1500000000", "filter[preReleaseVersion.platform]": "IOS", "filter[preReleaseVersion.version]": "2.1.0",
			"fields[builds]": "version", "limit": "2",
		}},
		{"fields and default limit", BuildsQuery{AppID: "1500000000", Platform: PlatformVisionOS, Fields: []string{"version", "processingState"}}, map[string]string{
			"filter[app]": "1500000000", "filter[preReleaseVersion.platform]": "VISION_OS",
			"fields[builds]": "version,processingState", "limit": "200",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := buildPages(t, h)
			builds, err := h.client.Builds(t.Context(), tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(builds) != 5 || builds[4].Attributes.Version != "45" || builds[4].Type != "builds" {
				t.Errorf("builds = %+v", builds)
			}
			reqs := s.Requests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests, want 3", len(reqs))
			}
			checkQuery(t, reqs[0], tt.want)
		})
	}
}

func TestBuildsRejectsBadQueryAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.client.Builds(t.Context(), BuildsQuery{Platform: "iOS", Version: "1,2", Limit: 500, Fields: []string{"a,b"}})
	if err == nil {
		t.Fatal("Builds accepted a bad query")
	}
	for _, want := range []string{"app ID is empty", `platform "iOS"`, `version "1,2"`, "limit 500", `field "a,b"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if h.client.Requests() != 0 {
		t.Error("a request was sent for a bad query")
	}
}

func TestBuildUploads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		query BuildUploadsQuery
		want  map[string]string
	}{
		{"app only", BuildUploadsQuery{AppID: "1500000000"}, map[string]string{
			"fields[buildUploads]": "cfBundleShortVersionString,cfBundleVersion,platform,state", "limit": "200",
		}},
		{"all filters", BuildUploadsQuery{
			AppID: "1500000000", Platform: PlatformMacOS, Version: "2.1.0",
			States: []BuildUploadState{BuildUploadStateAwaitingUpload, BuildUploadStateProcessing, BuildUploadStateComplete},
		}, map[string]string{
			"filter[platform]": "MAC_OS", "filter[cfBundleShortVersionString]": "2.1.0",
			"filter[state]":        "AWAITING_UPLOAD,PROCESSING,COMPLETE",
			"fields[buildUploads]": "cfBundleShortVersionString,cfBundleVersion,platform,state", "limit": "200",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: []reply{{status: 200, body: fixture(t, "build_uploads.json", "")}}}
			h.mux.Handle("/v1/apps/1500000000/buildUploads", s)
			ups, err := h.client.BuildUploads(t.Context(), tt.query)
			if err != nil {
				t.Fatal(err)
			}
			checkQuery(t, s.Requests()[0], tt.want)
			if len(ups) != 2 {
				t.Fatalf("uploads = %+v", ups)
			}
			a := ups[0].Attributes
			if ups[0].Type != "buildUploads" || a.CFBundleShortVersionString != "2.1.0" || a.CFBundleVersion != "46" || a.Platform != PlatformIOS ||
				a.State.State != BuildUploadStateProcessing || len(a.State.Warnings) != 1 || a.State.Warnings[0].Code != "90725" {
				t.Errorf("first upload = %+v, state %+v", a, a.State)
			}
			if ups[1].Attributes.State.State != BuildUploadStateAwaitingUpload {
				t.Errorf("second upload state = %+v", ups[1].Attributes.State)
			}
		})
	}
}

func TestBuildUploadsRejectsBadQuery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.client.BuildUploads(t.Context(), BuildUploadsQuery{AppID: "1", Platform: "ANDROID", States: []BuildUploadState{"DONE"}})
	if err == nil || !strings.Contains(err.Error(), `"ANDROID"`) || !strings.Contains(err.Error(), `"DONE"`) {
		t.Fatalf("BuildUploads error = %v", err)
	}
}
