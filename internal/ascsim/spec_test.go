package ascsim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/asc-auth/action/internal/ascsim"
)

// sharedSpec is Apple's document in the workspace's shared folder, beside
// the repository.
var sharedSpec = filepath.Join("..", "..", "..", "shared", "openapi", "app_store_connect_api.json")

// TestEmbeddedSpecMatches keeps the embedded copy equal to the shared one;
// to refresh it: gzip -9 -n -c <shared file> > openapi/app_store_connect_api.json.gz
func TestEmbeddedSpecMatches(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(sharedSpec)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is not here", sharedSpec)
	}
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(ascsim.SpecGzip))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the embedded document (%d bytes) differs from %s (%d bytes)", len(got), sharedSpec, len(want))
	}
}

// TestResponsesMatchSpec checks the simulator's answers, successes and
// errors, against the response schemas of Apple's document.
func TestResponsesMatchSpec(t *testing.T) {
	t.Parallel()
	doc, router, err := ascsim.Spec()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Example")
	f.srv.SeedBuilds(app, "IOS", "1.0", 3)
	build := f.srv.AddBuild(app, "VISION_OS", "2.0", "1", "PROCESSING", epoch)
	up := f.srv.AddBuildUpload(app, "IOS", "1.0", "3", "COMPLETE")
	f.srv.SetBuildUploadState(up, ascsim.UploadState{State: "COMPLETE", Warnings: []ascsim.StateDetail{{Code: "W", Description: "a warning"}}})
	f.srv.AddBuildUpload(app, "IOS", "1.1", "4", "AWAITING_UPLOAD")
	prv := f.srv.AddPreReleaseVersion(app, "IOS", "1.0")

	targets := []struct {
		target string
		status int
	}{
		{"/v1/apps", 200},
		{"/v1/apps?filter[bundleId]=com.example&fields[apps]=name,bundleId&limit=1", 200},
		{"/v1/apps/" + app, 200},
		{"/v1/apps/404", 404},
		{"/v1/builds?include=app,preReleaseVersion,buildUpload&limit=2", 200},
		{"/v1/builds?fields[builds]=version,expired&sort=-uploadedDate", 200},
		{"/v1/builds/" + build, 200},
		{"/v1/builds?limit=500", 400},
		{"/v1/preReleaseVersions?include=app", 200},
		{"/v1/preReleaseVersions/" + prv + "?include=app", 200},
		{"/v1/apps/" + app + "/buildUploads?include=build", 200},
		{"/v1/apps/" + app + "/buildUploads?sort=-uploadedDate&limit=1", 200},
		{"/v1/buildUploads/" + up + "?include=build", 200},
		{"/v1/buildUploads/" + up + "?fields[buildUploads]=state", 200},
	}
	for _, tt := range targets {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			res := f.get(t, tt.target)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			validate(t, router, f.url+tt.target, res)
			checkFieldNames(t, doc, res)
		})
	}
	t.Run("401", func(t *testing.T) {
		t.Parallel()
		res := f.do(t, "GET", "/v1/builds", "", "")
		validate(t, router, f.url+"/v1/builds", res)
	})
}

// validate checks a response with openapi3filter.ValidateResponse.
func validate(t *testing.T, router routers.Router, target string, res response) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.status,
		Header:                 res.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(res.body)
	if err := openapi3filter.ValidateResponse(t.Context(), in); err != nil {
		t.Errorf("the response breaks Apple's document: %v\nbody: %s", err, res.body)
	}
}

// checkFieldNames checks what the schemas cannot, as they allow extra
// properties: that every attribute and relationship the simulator writes
// is one Apple's schema for that resource type names.
func checkFieldNames(t *testing.T, doc *openapi3.T, res response) {
	t.Helper()
	if res.status != http.StatusOK && res.status != http.StatusCreated {
		return
	}
	schemas := map[string]string{"apps": "App", "builds": "Build", "preReleaseVersions": "PrereleaseVersion", "buildUploads": "BuildUpload",
		"buildUploadFiles": "BuildUploadFile", "betaGroups": "BetaGroup", "buildBetaDetails": "BuildBetaDetail",
		"betaBuildLocalizations": "BetaBuildLocalization", "betaAppReviewSubmissions": "BetaAppReviewSubmission",
		"betaAppLocalizations": "BetaAppLocalization", "betaAppReviewDetails": "BetaAppReviewDetail",
		"appEncryptionDeclarations": "AppEncryptionDeclaration"}
	var body struct {
		Data     json.RawMessage
		Included []resource
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatal(err)
	}
	all := body.Included
	var one resource
	var many []resource
	if json.Unmarshal(body.Data, &many) == nil {
		all = append(all, many...)
	} else if err := json.Unmarshal(body.Data, &one); err == nil {
		all = append(all, one)
	}
	for _, r := range all {
		ref, ok := doc.Components.Schemas[schemas[r.Type]]
		if !ok {
			t.Errorf("no schema for type %q", r.Type)
			continue
		}
		props := ref.Value.Properties
		for name := range r.Attributes {
			if props["attributes"].Value.Properties[name] == nil {
				t.Errorf("%s has attribute %q, which Apple's %s schema lacks", r.Type, name, schemas[r.Type])
			}
		}
		for name := range r.Relationships {
			if props["relationships"].Value.Properties[name] == nil {
				t.Errorf("%s has relationship %q, which Apple's %s schema lacks", r.Type, name, schemas[r.Type])
			}
		}
	}
}
