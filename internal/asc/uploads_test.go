package asc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/token"
)

// Real-shaped answers, as App Store Connect writes them.
const (
	buildUploadCreated = `{
  "data" : {
    "type" : "buildUploads",
    "id" : "7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03",
    "attributes" : {
      "cfBundleShortVersionString" : "2.1.0",
      "cfBundleVersion" : "48",
      "createdDate" : "2025-06-01T05:00:00-07:00",
      "platform" : "IOS",
      "state" : { "errors" : [ ], "warnings" : [ ], "infos" : [ ], "state" : "AWAITING_UPLOAD" }
    },
    "links" : { "self" : "https://api.appstoreconnect.apple.com/v1/buildUploads/7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03" }
  },
  "links" : { "self" : "https://api.appstoreconnect.apple.com/v1/buildUploads" }
}`
	buildUploadFileCreated = `{
  "data" : {
    "type" : "buildUploadFiles",
    "id" : "f00dfeed-0000-4000-8000-000000000001",
    "attributes" : {
      "assetDeliveryState" : { "errors" : [ ], "warnings" : [ ], "state" : "AWAITING_UPLOAD" },
      "assetType" : "ASSET",
      "fileName" : "App.ipa",
      "fileSize" : 15728640,
      "uti" : "com.apple.ipa",
      "uploadOperations" : [ {
        "method" : "PUT",
        "url" : "https://store-030.blobstore.apple.com/itmspod11-assets-massilia-030001/PurpleSource/v4/part1?uploadId=abc&partNumber=1&X-Amz-Signature=SECRETSIG1",
        "length" : 10485760,
        "offset" : 0,
        "requestHeaders" : [ { "name" : "Content-Type", "value" : "application/octet-stream" } ],
        "expiration" : "2025-06-08T12:00:00Z",
        "partNumber" : 1
      }, {
        "method" : "PUT",
        "url" : "https://store-030.blobstore.apple.com/itmspod11-assets-massilia-030001/PurpleSource/v4/part2?uploadId=abc&partNumber=2&X-Amz-Signature=SECRETSIG2",
        "length" : 5242880,
        "offset" : 10485760,
        "requestHeaders" : [ { "name" : "Content-Type", "value" : "application/octet-stream" } ],
        "expiration" : "2025-06-08T12:00:00Z",
        "partNumber" : 2
      } ]
    },
    "links" : { "self" : "https://api.appstoreconnect.apple.com/v1/buildUploadFiles/f00dfeed-0000-4000-8000-000000000001" }
  },
  "links" : { "self" : "https://api.appstoreconnect.apple.com/v1/buildUploadFiles" }
}`
	buildUploadFileCommitted = `{
  "data" : {
    "type" : "buildUploadFiles",
    "id" : "f00dfeed-0000-4000-8000-000000000001",
    "attributes" : {
      "assetDeliveryState" : { "errors" : [ ], "warnings" : [ ], "state" : "UPLOAD_COMPLETE" },
      "fileName" : "App.ipa",
      "fileSize" : 15728640
    }
  },
  "links" : { "self" : "https://api.appstoreconnect.apple.com/v1/buildUploadFiles/f00dfeed-0000-4000-8000-000000000001" }
}`
	buildUploadComplete = `{
  "data" : {
    "type" : "buildUploads",
    "id" : "7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03",
    "attributes" : {
      "cfBundleShortVersionString" : "2.1.0",
      "cfBundleVersion" : "48",
      "platform" : "IOS",
      "state" : {
        "errors" : [ ],
        "warnings" : [ { "code" : "90725", "description" : "SDK version issue." } ],
        "infos" : [ ],
        "state" : "COMPLETE"
      }
    },
    "relationships" : { "build" : { "data" : { "type" : "builds", "id" : "b-48" } } },
    "links" : { "self" : "https://api.appstoreconnect.apple.com/v1/buildUploads/7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03" }
  },
  "included" : [ {
    "type" : "builds",
    "id" : "b-48",
    "attributes" : { "version" : "48", "processingState" : "PROCESSING" }
  } ],
  "links" : { "self" : "https://api.appstoreconnect.apple.com/v1/buildUploads/7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03" }
}`
)

func TestCreateBuildUploadSendsTheDocumentsBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{{status: 201, body: buildUploadCreated}}}
	h.mux.Handle("/v1/buildUploads", s)

	up, err := h.client.CreateBuildUpload(t.Context(), "1500000000", PlatformIOS, "2.1.0", "48")
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != "7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03" || up.Attributes.State.State != BuildUploadStateAwaitingUpload {
		t.Errorf("upload = %+v", up)
	}
	got := s.Requests()[0]
	if got.Method != http.MethodPost || got.Header.Get("Authorization") != "Bearer tok-1" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %v", got.Method, got.Header)
	}
	want := `{"data":{"type":"buildUploads","attributes":{"cfBundleShortVersionString":"2.1.0","cfBundleVersion":"48","platform":"IOS"},"relationships":{"app":{"data":{"type":"apps","id":"1500000000"}}}}}`
	if got.Body != want {
		t.Errorf("body =\n%s\nwant\n%s", got.Body, want)
	}
}

func TestCreateBuildUploadFileDecodesOperations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{{status: 201, body: buildUploadFileCreated}}}
	h.mux.Handle("/v1/buildUploadFiles", s)

	f, err := h.client.CreateBuildUploadFile(t.Context(), "up-1", "App.ipa", 15728640, UTIIPA, AssetTypeAsset)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"type":"buildUploadFiles","attributes":{"assetType":"ASSET","fileName":"App.ipa","fileSize":15728640,"uti":"com.apple.ipa"},"relationships":{"buildUpload":{"data":{"type":"buildUploads","id":"up-1"}}}}}`
	if got := s.Requests()[0].Body; got != want {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}
	ops := f.Attributes.UploadOperations
	if len(ops) != 2 || ops[1].Offset != 10485760 || ops[1].Length != 5242880 || ops[1].PartNumber != 2 ||
		ops[0].RequestHeaders[0] != (HTTPHeader{"Content-Type", "application/octet-stream"}) || ops[0].Expiration == nil {
		t.Errorf("operations = %v", ops)
	}
	if f.Attributes.AssetDeliveryState.State != AssetDeliveryStateAwaitingUpload {
		t.Errorf("state = %+v", f.Attributes.AssetDeliveryState)
	}
	// The presigned URL must not leak through %v, %+v or %#v.
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, ops[0]); strings.Contains(s, "SECRETSIG") || strings.Contains(s, "uploadId") {
			t.Errorf("%s prints the query: %s", format, s)
		}
	}
	if s := fmt.Sprintf("%v", ops); strings.Contains(s, "SECRETSIG") {
		t.Errorf("a slice of operations prints the query: %s", s)
	}
}

func TestCommitBuildUploadFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		checksums *Checksums
		want      string
	}{
		{"without checksums", nil,
			`{"data":{"type":"buildUploadFiles","id":"f-1","attributes":{"uploaded":true}}}`},
		{"with an MD5", &Checksums{File: &Checksum{Hash: "9e107d9d372bb6826bd81d3542a419d6", Algorithm: ChecksumAlgorithmMD5}},
			`{"data":{"type":"buildUploadFiles","id":"f-1","attributes":{"sourceFileChecksums":{"file":{"hash":"9e107d9d372bb6826bd81d3542a419d6","algorithm":"MD5"}},"uploaded":true}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: []reply{{status: 200, body: buildUploadFileCommitted}}}
			h.mux.Handle("/v1/buildUploadFiles/f-1", s)
			f, err := h.client.CommitBuildUploadFile(t.Context(), "f-1", tt.checksums)
			if err != nil {
				t.Fatal(err)
			}
			if f.Attributes.AssetDeliveryState.State != AssetDeliveryStateUploadComplete {
				t.Errorf("state = %+v", f.Attributes.AssetDeliveryState)
			}
			got := s.Requests()[0]
			if got.Method != http.MethodPatch || got.Body != tt.want {
				t.Errorf("%s body =\n%s\nwant\n%s", got.Method, got.Body, tt.want)
			}
		})
	}
}

func TestMutatingUploadCallsAreSentOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rep        reply
		retryAfter time.Duration // 0: no *RetryAfterError expected
		is         error
	}{
		{"503", reply{status: 503}, 0, nil},
		{"429 with Retry-After", reply{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"errors":[{"status":"429","code":"RATE_LIMIT_EXCEEDED","title":"The request rate limit has been reached."}]}`}, 7 * time.Second, ErrRateLimited},
		{"429 without Retry-After", reply{status: 429}, 0, ErrRateLimited},
		{"409", reply{status: 409, body: `{"errors":[{"status":"409","code":"ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE","title":"The provided entity includes an attribute with a value that has already been used"}]}`}, 0, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: []reply{tt.rep, {status: 201, body: buildUploadCreated}}}
			h.mux.Handle("/v1/buildUploads", s)
			_, err := h.client.CreateBuildUpload(t.Context(), "1", PlatformIOS, "1.0", "1")
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			var ra *RetryAfterError
			if errors.As(err, &ra) != (tt.retryAfter > 0) || (ra != nil && ra.RetryAfter != tt.retryAfter) {
				t.Errorf("err = %v (%T)", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Path != "/v1/buildUploads" {
				t.Errorf("err = %v, not an *APIError for the path", err)
			}
		})
	}
}

func TestBuildUploadReadsStateAndBuild(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{{status: 200, body: buildUploadComplete}}}
	h.mux.Handle("/v1/buildUploads/7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03", s)
	doc, err := h.client.BuildUpload(t.Context(), "7d2b7e4a-1c0e-4d8e-9a51-6b2f0c1e9a03")
	if err != nil {
		t.Fatal(err)
	}
	q := s.Requests()[0].Query
	if q.Get("include") != "build" || q.Get("fields[buildUploads]") != buildUploadGetFields || q.Get("fields[builds]") != buildGetFields {
		t.Errorf("query = %v", q)
	}
	st := doc.Data.Attributes.State
	if st.State != BuildUploadStateComplete || len(st.Warnings) != 1 || st.Warnings[0].Code != "90725" {
		t.Errorf("state = %+v", st)
	}
	id, b := doc.Build()
	if id != "b-48" || b == nil || b.Attributes.ProcessingState != BuildProcessingStateProcessing {
		t.Errorf("Build() = %q, %+v", id, b)
	}
}

func TestBuildUploadResponseBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, id string
		included      bool
	}{
		{"no build yet", `{"data":{"type":"buildUploads","id":"u"},"links":{"self":""}}`, "", false},
		{"relationship only", `{"data":{"type":"buildUploads","id":"u","relationships":{"build":{"data":{"type":"builds","id":"b1"}}}},"links":{"self":""}}`, "b1", false},
		{"included only", `{"data":{"type":"buildUploads","id":"u"},"included":[{"type":"buildUploadFiles","id":"f"},{"type":"builds","id":"b2"}],"links":{"self":""}}`, "b2", true},
		{"null relationship", `{"data":{"type":"buildUploads","id":"u","relationships":{"build":{"data":null}}},"links":{"self":""}}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var doc BuildUploadResponse
			if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			id, b := doc.Build()
			if id != tt.id || (b != nil) != tt.included {
				t.Errorf("Build() = %q, %v", id, b)
			}
		})
	}
}

func TestBuildAndBuildUploadFileAndDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	builds := &script{replies: []reply{{status: 200, body: `{"data":{"type":"builds","id":"b-48","attributes":{"version":"48","processingState":"VALID"}},"links":{"self":""}}`}}}
	files := &script{replies: []reply{{status: 200, body: buildUploadFileCommitted}}}
	uploads := &script{replies: []reply{{status: 204}}}
	h.mux.Handle("/v1/builds/b-48", builds)
	h.mux.Handle("/v1/buildUploadFiles/f-1", files)
	h.mux.Handle("/v1/buildUploads/u-1", uploads)

	b, err := h.client.Build(t.Context(), "b-48")
	if err != nil || b.Attributes.ProcessingState != BuildProcessingStateValid {
		t.Fatalf("Build = %+v, %v", b, err)
	}
	if q := builds.Requests()[0].Query.Get("fields[builds]"); !strings.Contains(q, "processingState") {
		t.Errorf("fields[builds] = %q", q)
	}
	f, err := h.client.BuildUploadFile(t.Context(), "f-1")
	if err != nil || f.Attributes.FileSize != 15728640 {
		t.Fatalf("BuildUploadFile = %+v, %v", f, err)
	}
	if q := files.Requests()[0].Query.Get("fields[buildUploadFiles]"); strings.Contains(q, "uploadOperations") {
		t.Errorf("fields[buildUploadFiles] = %q asks for the presigned URLs", q)
	}
	if err := h.client.DeleteBuildUpload(t.Context(), "u-1"); err != nil {
		t.Fatal(err)
	}
	if m := uploads.Requests()[0].Method; m != http.MethodDelete {
		t.Errorf("method = %s", m)
	}
}

func TestUploadMethodsRefuseBadArguments(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	_, err := h.client.CreateBuildUpload(ctx, "", "ANDROID", "", "1 2")
	for _, want := range []string{"app ID", "platform", "version", "build number"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CreateBuildUpload error %v does not mention %s", err, want)
		}
	}
	_, err = h.client.CreateBuildUploadFile(ctx, "u/1", "../App.ipa", 0, "public.data", "BINARY")
	for _, want := range []string{"build upload ID", "file name", "size", "UTI", "asset type"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CreateBuildUploadFile error %v does not mention %s", err, want)
		}
	}
	if _, err := h.client.CommitBuildUploadFile(ctx, "", nil); err == nil {
		t.Error("CommitBuildUploadFile accepted an empty ID")
	}
	if h.client.Requests() != 0 {
		t.Errorf("%d requests sent", h.client.Requests())
	}
}

// TestUploadRequestsMatchTheDocument sends every upload request to the
// simulator, which validates bodies and queries against Apple's OpenAPI
// document before anything else: it may answer 501 (not simulated) or
// succeed, but must not refuse the request as malformed.
func TestUploadRequestsMatchTheDocument(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	sim, err := ascsim.New(ascsim.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const kid, iss = "UPLOADKEY1", "69a6de70-03db-47e3-e053-5b8c7c11a4d1"
	sim.RegisterKey(kid, iss, false, &key.PublicKey)
	m, err := token.NewMinter(key, token.Config{KeyID: kid, IssuerID: iss}, token.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	mint := func() (string, time.Time, error) {
		tok, err := m.Mint()
		return tok.Value, tok.ExpiresAt, err
	}
	c := NewClient(NewTokenCache(mint, clock), WithBaseURL(srv.URL), WithClock(clock), WithRetry(1, 0))
	ctx := t.Context()
	appID := sim.AddApp("com.example.upload", "Upload")
	sums := &Checksums{File: &Checksum{Hash: "9e107d9d372bb6826bd81d3542a419d6", Algorithm: ChecksumAlgorithmMD5}}

	// Each call uses the IDs the previous ones got, or stand-ins when the
	// simulator does not model the call (501).
	uploadID, fileID, buildID := "up-1", "f-1", "b-1"
	check := func(name string, err error) {
		t.Helper()
		var apiErr *APIError
		switch {
		case err == nil:
		case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusNotImplemented || apiErr.StatusCode == http.StatusNotFound):
		default:
			t.Errorf("%s: %v", name, err)
		}
	}
	up, err := c.CreateBuildUpload(ctx, appID, PlatformIOS, "2.1.0", "48")
	check("CreateBuildUpload", err)
	if up != nil {
		uploadID = up.ID
	}
	f, err := c.CreateBuildUploadFile(ctx, uploadID, "App.ipa", 1<<20, UTIIPA, AssetTypeAsset)
	check("CreateBuildUploadFile", err)
	if f != nil {
		fileID = f.ID
	}
	_, err = c.BuildUploadFile(ctx, fileID)
	check("BuildUploadFile", err)
	doc, err := c.BuildUpload(ctx, uploadID)
	check("BuildUpload", err)
	if doc != nil {
		if id, _ := doc.Build(); id != "" {
			buildID = id
		}
	}
	_, err = c.Build(ctx, buildID)
	check("Build", err)
	// The commit is refused (the parts were never sent) or not simulated;
	// either way its body must pass the document's schema.
	_, _ = c.CommitBuildUploadFile(ctx, fileID, sums)
	check("DeleteBuildUpload", c.DeleteBuildUpload(ctx, uploadID))

	for _, r := range sim.Requests() {
		schema := r.Status == http.StatusConflict && strings.HasPrefix(r.Note, "The value at")
		if r.Status == http.StatusBadRequest || r.Status == http.StatusUnprocessableEntity || schema {
			t.Errorf("%s %s?%s: %d %s", r.Method, r.Path, r.RawQuery, r.Status, r.Note)
		}
	}
}
