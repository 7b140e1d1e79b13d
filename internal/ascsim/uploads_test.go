package ascsim_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/clocktest"
	"github.com/asc-auth/action/internal/token"
)

// testPartSize keeps test files small and still several parts long.
const testPartSize = 64 << 10

// upFixture is a simulator on a clock the test moves, with an app, small
// parts, and part files in the test's own directory.
type upFixture struct {
	*fixture
	clock *clocktest.Clock
	app   string
	dir   string
}

func newUpFixture(t *testing.T, opts ...ascsim.Option) *upFixture {
	t.Helper()
	clock := clocktest.New(epoch)
	dir := t.TempDir()
	base := []ascsim.Option{ascsim.WithClock(clock.Now), ascsim.WithPartSize(testPartSize), ascsim.WithUploadDir(dir)}
	f := newFixture(t, append(base, opts...)...)
	t.Cleanup(func() {
		if err := f.srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return &upFixture{fixture: f, clock: clock, app: f.srv.AddApp("com.example.app", "Example"), dir: dir}
}

// api sends an App Store Connect request with a token minted at the
// server's current time, and checks the answer against Apple's document.
func (u *upFixture) api(t *testing.T, method, target, body string) response {
	t.Helper()
	m, err := token.NewMinter(u.keys[teamKID], token.Config{KeyID: teamKID, IssuerID: issuerID}, token.WithClock(u.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	res := u.do(t, method, target, "Bearer "+mint(t, m), body)
	validateAs(t, method, u.url+target, res)
	return res
}

// validateAs checks a response of any method against Apple's document.
func validateAs(t *testing.T, method, target string, res response) {
	t.Helper()
	doc, router, err := ascsim.Spec()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.status,
		Header:                 res.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(res.body)
	if err := openapi3filter.ValidateResponse(t.Context(), in); err != nil {
		t.Errorf("%s %s: the response breaks Apple's document: %v\nbody: %s", method, target, err, res.body)
	}
	checkFieldNames(t, doc, res)
}

// operation is a DeliveryFileUploadOperation.
type operation struct {
	Method         string
	URL            string
	Offset, Length int64
	RequestHeaders []struct{ Name, Value string }
	Expiration     string
	PartNumber     int
	EntityTag      string
}

// uploadFile is a BuildUploadFile.
type uploadFile struct {
	ID         string
	Attributes struct {
		FileName, UTI, AssetType string
		FileSize                 int64
		AssetDeliveryState       struct {
			State    string
			Errors   []ascsim.StateDetail
			Warnings []ascsim.StateDetail
		}
		UploadOperations    []operation
		SourceFileChecksums *struct {
			File struct{ Hash, Algorithm string }
		}
	}
}

func decodeAs[T any](t *testing.T, res response, status int) T {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d; body %s", res.status, status, res.body)
	}
	var v struct{ Data T }
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("body %s: %v", res.body, err)
	}
	return v.Data
}

func createUploadBody(app, platform, short, number string) string {
	return fmt.Sprintf(`{"data":{"type":"buildUploads","attributes":{"cfBundleShortVersionString":%q,"cfBundleVersion":%q,"platform":%q},`+
		`"relationships":{"app":{"data":{"type":"apps","id":%q}}}}}`, short, number, platform, app)
}

func createFileBody(uploadID, name string, size int64, uti string) string {
	return fmt.Sprintf(`{"data":{"type":"buildUploadFiles","attributes":{"fileName":%q,"fileSize":%d,"uti":%q,"assetType":"ASSET"},`+
		`"relationships":{"buildUpload":{"data":{"type":"buildUploads","id":%q}}}}}`, name, size, uti, uploadID)
}

func commitBody(fileID, algorithm, hash string) string {
	sums := ""
	if algorithm != "" || hash != "" {
		sums = fmt.Sprintf(`,"sourceFileChecksums":{"file":{"hash":%q,"algorithm":%q}}`, hash, algorithm)
	}
	return fmt.Sprintf(`{"data":{"type":"buildUploadFiles","id":%q,"attributes":{"uploaded":true%s}}}`, fileID, sums)
}

// newUpload creates a build upload of version 1.0 (number) on iOS.
func (u *upFixture) newUpload(t *testing.T, number string) string {
	t.Helper()
	return decodeAs[resource](t, u.api(t, "POST", "/v1/buildUploads", createUploadBody(u.app, "IOS", "1.0", number)), http.StatusCreated).ID
}

// newFile reserves an ASSET file of size bytes for the upload.
func (u *upFixture) newFile(t *testing.T, uploadID string, size int64) uploadFile {
	t.Helper()
	return decodeAs[uploadFile](t, u.api(t, "POST", "/v1/buildUploadFiles", createFileBody(uploadID, "App.ipa", size, "com.apple.ipa")), http.StatusCreated)
}

// content is a file's deterministic bytes.
func content(size int64) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

// put carries out one operation with the bytes of data it covers; edit,
// if not nil, changes the request first.
func put(t *testing.T, op operation, data []byte, edit func(*http.Request)) response {
	t.Helper()
	res, err := tryPut(t, http.DefaultClient, op, data, edit)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func tryPut(t *testing.T, client *http.Client, op operation, data []byte, edit func(*http.Request)) (response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), op.Method, op.URL, bytes.NewReader(data[op.Offset:op.Offset+op.Length]))
	if err != nil {
		return response{}, err
	}
	for _, h := range op.RequestHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	if edit != nil {
		edit(req)
	}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}, err
}

// putAll uploads every part, one after another.
func putAll(t *testing.T, file uploadFile, data []byte) {
	t.Helper()
	for _, op := range file.Attributes.UploadOperations {
		if res := put(t, op, data, nil); res.status != http.StatusOK {
			t.Fatalf("part %d: status %d, body %s", op.PartNumber, res.status, res.body)
		}
	}
}

func md5Hex(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// uploadState returns a build upload's state attribute.
func (u *upFixture) uploadState(t *testing.T, id string) (string, resource) {
	t.Helper()
	r := decodeAs[resource](t, u.api(t, "GET", "/v1/buildUploads/"+id, ""), http.StatusOK)
	st, _ := r.Attributes["state"].(map[string]any)
	s, _ := st["state"].(string)
	return s, r
}

func TestBuildUploadHappyPath(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	const size = 3*testPartSize + 123
	data := content(size)

	res := u.api(t, "POST", "/v1/buildUploads", createUploadBody(u.app, "IOS", "1.2", "42"))
	up := decodeAs[resource](t, res, http.StatusCreated)
	if got, _ := up.Attributes["state"].(map[string]any)["state"].(string); got != "AWAITING_UPLOAD" {
		t.Errorf("state %q, want AWAITING_UPLOAD", got)
	}
	if up.Attributes["createdDate"] != "2025-06-02T04:00:00-08:00" || up.Attributes["cfBundleVersion"] != "42" || up.Attributes["platform"] != "IOS" {
		t.Errorf("attributes %v", up.Attributes)
	}
	if rel := up.Relationships["buildUploadFiles"]; rel.Links == nil || !strings.HasSuffix(rel.Links.Related, "/v1/buildUploads/"+up.ID+"/buildUploadFiles") {
		t.Errorf("buildUploadFiles relationship %+v", rel)
	}

	file := u.newFile(t, up.ID, size)
	ops := file.Attributes.UploadOperations
	if file.Attributes.AssetDeliveryState.State != "AWAITING_UPLOAD" || file.Attributes.FileSize != size || len(ops) != 4 {
		t.Fatalf("file %+v", file)
	}
	for i, op := range ops {
		wantLen := int64(testPartSize)
		if i == 3 {
			wantLen = 123
		}
		if op.Method != "PUT" || op.PartNumber != i+1 || op.Offset != int64(i)*testPartSize || op.Length != wantLen {
			t.Errorf("operation %d: %+v", i, op)
		}
		loc, err := url.Parse(op.URL)
		if err != nil {
			t.Fatal(err)
		}
		if loc.Path != "/upload/"+file.ID+"/"+strconv.Itoa(i+1) || len(loc.Query().Get("X-Amz-Signature")) != 64 || loc.Query().Get("X-Amz-Expires") != "3600" {
			t.Errorf("operation %d: URL %s", i, op.URL)
		}
		if op.Expiration != "2025-06-02T05:00:00-08:00" {
			t.Errorf("operation %d: expiration %s, want an hour after the server's clock", i, op.Expiration)
		}
		headers := map[string]string{}
		for _, h := range op.RequestHeaders {
			headers[h.Name] = h.Value
		}
		if headers["Content-Type"] != "application/octet-stream" || headers["x-asc-part"] == "" || len(headers) != 2 {
			t.Errorf("operation %d: headers %v", i, op.RequestHeaders)
		}
	}

	for _, op := range ops {
		res := put(t, op, data, nil)
		if want := `"` + md5Hex(data[op.Offset:op.Offset+op.Length]) + `"`; res.status != http.StatusOK || res.header.Get("ETag") != want {
			t.Errorf("part %d: status %d, ETag %s, want 200 and %s; body %s", op.PartNumber, res.status, res.header.Get("ETag"), want, res.body)
		}
	}
	got := decodeAs[uploadFile](t, u.api(t, "GET", "/v1/buildUploadFiles/"+file.ID, ""), http.StatusOK)
	for _, op := range got.Attributes.UploadOperations {
		if op.EntityTag == "" {
			t.Errorf("part %d has no entityTag once received", op.PartNumber)
		}
	}
	if st, _ := u.uploadState(t, up.ID); st != "AWAITING_UPLOAD" {
		t.Errorf("before the commit: state %s", st)
	}

	done := decodeAs[uploadFile](t, u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "SHA_256", sha256Hex(data))), http.StatusOK)
	if done.Attributes.AssetDeliveryState.State != "UPLOAD_COMPLETE" || done.Attributes.UploadOperations != nil ||
		done.Attributes.SourceFileChecksums == nil || done.Attributes.SourceFileChecksums.File.Algorithm != "SHA_256" {
		t.Errorf("committed file %+v", done.Attributes)
	}

	// No processing delay: the next read sees the upload COMPLETE and its build VALID.
	st, r := u.uploadState(t, up.ID)
	if st != "COMPLETE" || r.Attributes["uploadedDate"] == nil {
		t.Fatalf("after the commit: state %s, attributes %v", st, r.Attributes)
	}
	if a := r.Relationships["assetFile"]; a.Data == nil || a.Data.ID != file.ID {
		t.Errorf("assetFile %+v", a)
	}
	buildRel := r.Relationships["build"]
	if buildRel.Data == nil {
		t.Fatal("the complete upload has no build")
	}
	b := decode[single](t, u.api(t, "GET", "/v1/builds/"+buildRel.Data.ID+"?include=preReleaseVersion", ""))
	if b.Data.Attributes["processingState"] != "VALID" || b.Data.Attributes["version"] != "42" ||
		len(b.Included) != 1 || b.Included[0].Attributes["version"] != "1.2" || b.Included[0].Attributes["platform"] != "IOS" {
		t.Errorf("build %+v, included %+v", b.Data.Attributes, b.Included)
	}

	withFile := decode[single](t, u.api(t, "GET", "/v1/buildUploads/"+up.ID+"?include=assetFile,build", ""))
	if types := attrsTypes(withFile.Included); !slices.Equal(types, []string{"builds", "buildUploadFiles"}) {
		t.Errorf("included %v", types)
	}
	files := decode[list](t, u.api(t, "GET", "/v1/buildUploads/"+up.ID+"/buildUploadFiles", ""))
	if len(files.Data) != 1 || files.Data[0].ID != file.ID || files.Data[0].Attributes["assetDeliveryState"].(map[string]any)["state"] != "COMPLETE" {
		t.Errorf("files %+v", files.Data)
	}
	if entries, _ := os.ReadDir(u.dir); len(entries) != 0 {
		t.Errorf("part files left after the commit: %v", entries)
	}
}

func attrsTypes(rs []resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Type
	}
	return out
}

func TestUploadProcessingByClock(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t, ascsim.WithProcessing(30*time.Second, time.Minute))
	data := content(2 * testPartSize)
	up := u.newUpload(t, "7")
	file := u.newFile(t, up, int64(len(data)))
	putAll(t, file, data)
	u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "MD5", md5Hex(data)))

	buildState := func() string {
		l := decode[list](t, u.api(t, "GET", "/v1/builds?filter[app]="+u.app+"&filter[version]=7", ""))
		if len(l.Data) == 0 {
			return "none"
		}
		return l.Data[0].Attributes["processingState"].(string)
	}
	steps := []struct {
		advance     time.Duration
		upload      string
		build       string
		fileDeliver string
	}{
		{0, "PROCESSING", "none", "UPLOAD_COMPLETE"},
		{29 * time.Second, "PROCESSING", "none", "UPLOAD_COMPLETE"},
		{time.Second, "COMPLETE", "PROCESSING", "COMPLETE"},
		{59 * time.Second, "COMPLETE", "PROCESSING", "COMPLETE"},
		{time.Second, "COMPLETE", "VALID", "COMPLETE"},
	}
	for i, s := range steps {
		u.clock.Advance(s.advance)
		st, _ := u.uploadState(t, up)
		f := decodeAs[uploadFile](t, u.api(t, "GET", "/v1/buildUploadFiles/"+file.ID, ""), http.StatusOK)
		if b := buildState(); st != s.upload || b != s.build || f.Attributes.AssetDeliveryState.State != s.fileDeliver {
			t.Errorf("step %d (+%v): upload %s, build %s, file %s; want %s, %s, %s", i, s.advance, st, b, f.Attributes.AssetDeliveryState.State, s.upload, s.build, s.fileDeliver)
		}
	}
	// The build's uploadedDate is the commit, not the end of processing.
	l := decode[list](t, u.api(t, "GET", "/v1/builds?filter[app]="+u.app, ""))
	if l.Data[0].Attributes["uploadedDate"] != "2025-06-02T04:00:00-08:00" {
		t.Errorf("uploadedDate %v", l.Data[0].Attributes["uploadedDate"])
	}
}

func TestProcessingOutcomes(t *testing.T) {
	t.Parallel()
	errs := []ascsim.StateDetail{{Code: "90062", Description: "The value for key CFBundleShortVersionString must be higher."}}
	warn := []ascsim.StateDetail{{Code: "90725", Description: "SDK version issue."}}
	tests := []struct {
		name      string
		set       func(*ascsim.Server)
		number    string
		wantState string
		wantBuild bool
		wantErrs  int
		wantWarns int
		wantInfos int
	}{
		{"fail next", func(s *ascsim.Server) { s.FailNextUpload(errs) }, "1", "FAILED", false, 1, 0, 0},
		{"fail a version", func(s *ascsim.Server) {
			s.SetProcessingOutcome("2", ascsim.UploadState{State: "FAILED", Errors: errs, Warnings: warn})
		}, "2", "FAILED", false, 1, 1, 0},
		{"another version is not touched", func(s *ascsim.Server) {
			s.SetProcessingOutcome("9", ascsim.UploadState{State: "FAILED", Errors: errs})
		}, "3", "COMPLETE", true, 0, 0, 0},
		{"complete with warnings and infos", func(s *ascsim.Server) {
			s.SetProcessingOutcome("", ascsim.UploadState{State: "COMPLETE", Warnings: warn, Infos: []ascsim.StateDetail{{Code: "I", Description: "info"}}})
		}, "4", "COMPLETE", true, 0, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpFixture(t)
			tt.set(u.srv)
			data := content(100)
			up := u.newUpload(t, tt.number)
			file := u.newFile(t, up, int64(len(data)))
			putAll(t, file, data)
			u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "", ""))
			st, r := u.uploadState(t, up)
			state := r.Attributes["state"].(map[string]any)
			n := func(k string) int { return len(state[k].([]any)) }
			if st != tt.wantState || n("errors") != tt.wantErrs || n("warnings") != tt.wantWarns || n("infos") != tt.wantInfos {
				t.Errorf("state %v", state)
			}
			if got := r.Relationships["build"].Data != nil; got != tt.wantBuild {
				t.Errorf("build relationship %v, want %v", got, tt.wantBuild)
			}
			f := decodeAs[uploadFile](t, u.api(t, "GET", "/v1/buildUploadFiles/"+file.ID, ""), http.StatusOK)
			if want := map[bool]string{true: "COMPLETE", false: "FAILED"}[tt.wantBuild]; f.Attributes.AssetDeliveryState.State != want ||
				len(f.Attributes.AssetDeliveryState.Errors) != tt.wantErrs {
				t.Errorf("file state %+v", f.Attributes.AssetDeliveryState)
			}
			if tt.wantState == "FAILED" {
				// A failed upload frees its bundle version.
				u.newUpload(t, tt.number)
				if e := state["errors"].([]any)[0].(map[string]any); e["code"] != "90062" || !strings.Contains(e["description"].(string), "higher") {
					t.Errorf("error %v", e)
				}
			}
		})
	}
}

func TestBuildUploadRefusals(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	u.srv.AddBuild(u.app, "IOS", "1.0", "5", "VALID", epoch)
	waiting := u.newUpload(t, "6")
	failed := u.srv.AddBuildUpload(u.app, "IOS", "1.0", "8", "FAILED")
	processing := u.srv.AddBuildUpload(u.app, "IOS", "1.0", "9", "PROCESSING")
	withFile := u.newUpload(t, "10")
	u.newFile(t, withFile, 10)
	_ = failed

	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		wantStatus int
		wantCode   string
		wantDetail string
	}{
		{"duplicate of a build", "POST", "/v1/buildUploads", createUploadBody(u.app, "IOS", "1.0", "5"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "already used"},
		{"duplicate of an upload", "POST", "/v1/buildUploads", createUploadBody(u.app, "IOS", "1.0", "6"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "bundle version 6"},
		{"same number on another platform", "POST", "/v1/buildUploads", createUploadBody(u.app, "MAC_OS", "1.0", "5"), 201, "", ""},
		{"same number, another short version", "POST", "/v1/buildUploads", createUploadBody(u.app, "IOS", "1.1", "5"), 201, "", ""},
		{"number of a FAILED upload", "POST", "/v1/buildUploads", createUploadBody(u.app, "IOS", "1.0", "8"), 201, "", ""},
		{"unknown app", "POST", "/v1/buildUploads", createUploadBody("123", "IOS", "1.0", "1"), 409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "'123'"},
		{"bad CFBundleVersion", "POST", "/v1/buildUploads", createUploadBody(u.app, "IOS", "1.0", "1.a"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "'1.a'"},
		{"missing platform (schema)", "POST", "/v1/buildUploads",
			`{"data":{"type":"buildUploads","attributes":{"cfBundleShortVersionString":"1.0","cfBundleVersion":"1"},"relationships":{"app":{"data":{"type":"apps","id":"` + u.app + `"}}}}}`,
			409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "platform"},
		{"file without fileSize (schema)", "POST", "/v1/buildUploadFiles",
			`{"data":{"type":"buildUploadFiles","attributes":{"fileName":"App.ipa","uti":"com.apple.ipa","assetType":"ASSET"},"relationships":{"buildUpload":{"data":{"type":"buildUploads","id":"` + waiting + `"}}}}}`,
			409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "fileSize"},
		{"file of 0 bytes (schema)", "POST", "/v1/buildUploadFiles", createFileBody(waiting, "App.ipa", 0, "com.apple.ipa"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "fileSize"},
		{"uti outside the enum (schema)", "POST", "/v1/buildUploadFiles", createFileBody(waiting, "App.apk", 1, "com.android.apk"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "uti"},
		{"ASSET that is no app archive", "POST", "/v1/buildUploadFiles", createFileBody(waiting, "Info.plist", 1, "com.apple.xml-property-list"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "com.apple.ipa"},
		{"file name with a path", "POST", "/v1/buildUploadFiles", createFileBody(waiting, "build/App.ipa", 1, "com.apple.ipa"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "base name"},
		{"too many parts", "POST", "/v1/buildUploadFiles", createFileBody(waiting, "App.ipa", 10001*testPartSize, "com.apple.ipa"), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "10000"},
		{"unknown build upload", "POST", "/v1/buildUploadFiles", createFileBody("nope", "App.ipa", 1, "com.apple.ipa"), 409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "'nope'"},
		{"upload not awaiting", "POST", "/v1/buildUploadFiles", createFileBody(processing, "App.ipa", 1, "com.apple.ipa"), 409, "STATE_ERROR", "PROCESSING"},
		{"second ASSET file", "POST", "/v1/buildUploadFiles", createFileBody(withFile, "App.ipa", 1, "com.apple.ipa"), 409, "STATE_ERROR", "already has an ASSET file"},
		{"commit without an id (schema)", "PATCH", "/v1/buildUploadFiles/x", `{"data":{"type":"buildUploadFiles","attributes":{"uploaded":true}}}`, 409, "ENTITY_ERROR", "id"},
		{"commit of an unknown file", "PATCH", "/v1/buildUploadFiles/x", commitBody("x", "", ""), 404, "NOT_FOUND", "'buildUploadFiles' with id 'x'"},
		{"unknown file", "GET", "/v1/buildUploadFiles/x", "", 404, "NOT_FOUND", ""},
		{"files of an unknown upload", "GET", "/v1/buildUploads/x/buildUploadFiles", "", 404, "NOT_FOUND", ""},
		{"delete an unknown upload", "DELETE", "/v1/buildUploads/x", "", 404, "NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := u.api(t, tt.method, tt.target, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			if tt.wantCode == "" {
				return
			}
			e := res.errors(t).Errors
			if len(e) == 0 || e[0].Code != tt.wantCode || !strings.Contains(e[0].Detail, tt.wantDetail) {
				t.Errorf("errors %+v, want code %s with %q", e, tt.wantCode, tt.wantDetail)
			}
		})
	}
}

func TestCommit(t *testing.T) {
	t.Parallel()
	data := content(4*testPartSize + 1)
	wrongMD5 := md5Hex([]byte("something else"))
	tests := []struct {
		name       string
		skip       []int // part numbers not uploaded
		body       func(fileID string) string
		wantStatus int
		wantDetail string
	}{
		{"no checksum", nil, func(id string) string { return commitBody(id, "", "") }, 200, ""},
		{"right MD5", nil, func(id string) string { return commitBody(id, "MD5", md5Hex(data)) }, 200, ""},
		{"right MD5 in upper case", nil, func(id string) string { return commitBody(id, "MD5", strings.ToUpper(md5Hex(data))) }, 200, ""},
		{"right SHA_256", nil, func(id string) string { return commitBody(id, "SHA_256", sha256Hex(data)) }, 200, ""},
		{"wrong MD5", nil, func(id string) string { return commitBody(id, "MD5", wrongMD5) }, 409, "checksum mismatch"},
		{"wrong SHA_256", nil, func(id string) string { return commitBody(id, "SHA_256", sha256Hex(nil)) }, 409, "checksum mismatch"},
		{"MD5 given as SHA_256", nil, func(id string) string { return commitBody(id, "SHA_256", md5Hex(data)) }, 409, "64 hex digits"},
		{"hash not hex", nil, func(id string) string { return commitBody(id, "MD5", strings.Repeat("z", 32)) }, 409, "not a valid MD5 hash"},
		{"hash without algorithm", nil, func(id string) string {
			return `{"data":{"type":"buildUploadFiles","id":"` + id + `","attributes":{"uploaded":true,"sourceFileChecksums":{"file":{"hash":"` + md5Hex(data) + `"}}}}}`
		}, 409, "algorithm"},
		{"a missing part", []int{3}, func(id string) string { return commitBody(id, "MD5", md5Hex(data)) }, 409, "part 3 of 5 has not been received whole"},
		{"missing parts", []int{2, 4, 5}, func(id string) string { return commitBody(id, "", "") }, 409, "parts 2, 4 and 5 of 5 have not been received whole"},
		{"no part at all", []int{1, 2, 3, 4, 5}, func(id string) string { return commitBody(id, "", "") }, 409, "parts 1, 2, 3, 4 and 5"},
		{"id of another file", nil, func(id string) string { return commitBody("other", "", "") }, 409, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpFixture(t)
			up := u.newUpload(t, "1")
			file := u.newFile(t, up, int64(len(data)))
			for _, op := range file.Attributes.UploadOperations {
				if !slices.Contains(tt.skip, op.PartNumber) {
					put(t, op, data, nil)
				}
			}
			res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, tt.body(file.ID))
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			st, _ := u.uploadState(t, up)
			if tt.wantStatus != http.StatusOK {
				if e := res.errors(t).Errors; !strings.Contains(e[0].Detail, tt.wantDetail) {
					t.Errorf("detail %q, want %q", e[0].Detail, tt.wantDetail)
				}
				if st != "AWAITING_UPLOAD" {
					t.Errorf("a refused commit moved the upload to %s", st)
				}
				return
			}
			if st != "COMPLETE" {
				t.Errorf("upload %s after the commit", st)
			}
			// A replayed commit is a conflict: the client must GET instead.
			again := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, tt.body(file.ID))
			if e := again.errors(t).Errors; again.status != 409 || e[0].Code != "STATE_ERROR" || !strings.Contains(e[0].Detail, "already uploaded") {
				t.Errorf("second commit: status %d, body %s", again.status, again.body)
			}
			// The part URLs are done with.
			if res := put(t, file.Attributes.UploadOperations[0], data, nil); res.status != http.StatusNotFound || !bytes.Contains(res.body, []byte("NoSuchUpload")) {
				t.Errorf("PUT after the commit: status %d, body %s", res.status, res.body)
			}
		})
	}
}

func TestCommitAfterRefusal(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	data := content(3 * testPartSize)
	up := u.newUpload(t, "1")
	file := u.newFile(t, up, int64(len(data)))
	ops := file.Attributes.UploadOperations

	// Part 2 sent with wrong bytes: the MD5 does not match.
	wrong := slices.Clone(data)
	wrong[ops[1].Offset+5] ^= 0xff
	put(t, ops[0], data, nil)
	put(t, ops[1], wrong, nil)
	put(t, ops[2], data, nil)
	if res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "MD5", md5Hex(data))); res.status != 409 {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	// Checksums alone, without uploaded, are stored and commit nothing.
	res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID,
		`{"data":{"type":"buildUploadFiles","id":"`+file.ID+`","attributes":{"sourceFileChecksums":{"file":{"hash":"`+md5Hex(data)+`","algorithm":"MD5"}}}}}`)
	if f := decodeAs[uploadFile](t, res, http.StatusOK); f.Attributes.AssetDeliveryState.State != "AWAITING_UPLOAD" || f.Attributes.SourceFileChecksums == nil {
		t.Errorf("file %+v", f.Attributes)
	}
	// Sent again, the part replaces what was stored, and the stored checksum holds.
	put(t, ops[1], data, nil)
	if res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "", "")); res.status != 200 {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	if parts := u.srv.UploadedParts(file.ID); parts[1].Attempts != 2 || !parts[1].Complete || parts[0].Attempts != 1 {
		t.Errorf("parts %+v", parts)
	}
}

func TestPartsOutOfOrderAndConcurrent(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	data := content(8*testPartSize - 17)
	up := u.newUpload(t, "1")
	file := u.newFile(t, up, int64(len(data)))
	ops := file.Attributes.UploadOperations
	if len(ops) != 8 {
		t.Fatalf("%d operations", len(ops))
	}
	// The last part first, then the rest at once, two of them twice.
	put(t, ops[7], data, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for _, op := range append(slices.Clone(ops[:7]), ops[2], ops[5]) {
		wg.Go(func() {
			res, err := tryPut(t, http.DefaultClient, op, data, nil)
			if err == nil && res.status != http.StatusOK {
				err = fmt.Errorf("part %d: status %d, body %s", op.PartNumber, res.status, res.body)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "MD5", md5Hex(data)))
	if res.status != http.StatusOK {
		t.Fatalf("commit: status %d, body %s", res.status, res.body)
	}
	for _, p := range u.srv.UploadedParts(file.ID) {
		want := 1
		if p.Number == 3 || p.Number == 6 {
			want = 2
		}
		if !p.Complete || p.Received != p.Length || p.Attempts != want {
			t.Errorf("part %+v, want %d attempts", p, want)
		}
	}
}

func TestDeleteBuildUpload(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	data := content(2 * testPartSize)
	up := u.newUpload(t, "3")
	file := u.newFile(t, up, int64(len(data)))
	put(t, file.Attributes.UploadOperations[0], data, nil)
	if entries, _ := os.ReadDir(u.dir); len(entries) != 1 {
		t.Fatalf("part files %v, want one", entries)
	}
	if res := u.api(t, "DELETE", "/v1/buildUploads/"+up, ""); res.status != http.StatusNoContent {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	if entries, _ := os.ReadDir(u.dir); len(entries) != 0 {
		t.Errorf("part files left after DELETE: %v", entries)
	}
	for _, target := range []string{"/v1/buildUploads/" + up, "/v1/buildUploadFiles/" + file.ID} {
		if res := u.api(t, "GET", target, ""); res.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d", target, res.status)
		}
	}
	if res := put(t, file.Attributes.UploadOperations[1], data, nil); res.status != http.StatusNotFound {
		t.Errorf("PUT after DELETE: status %d", res.status)
	}
	// The bundle version is free again.
	u.newUpload(t, "3")
}

func TestCloseRemovesPartFiles(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	data := content(2 * testPartSize)
	file := u.newFile(t, u.newUpload(t, "1"), int64(len(data)))
	put(t, file.Attributes.UploadOperations[1], data, nil)
	if err := u.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(u.dir); len(entries) != 0 {
		t.Errorf("part files left after Close: %v", entries)
	}
	if res := put(t, file.Attributes.UploadOperations[0], data, nil); res.status != http.StatusNotFound {
		t.Errorf("PUT after Close: status %d", res.status)
	}
}

func TestUploadAPIFaults(t *testing.T) {
	t.Parallel()
	u := newUpFixture(t)
	u.srv.Inject(ascsim.Fault{Kind: ascsim.FaultRateLimit, Method: "POST", PathPrefix: "/v1/buildUploads", RetryAfter: time.Second, Times: 1})
	u.srv.Inject(ascsim.Fault{Kind: ascsim.FaultRateLimit, Method: "PATCH", PathPrefix: "/v1/buildUploadFiles/", Times: 1})
	body := createUploadBody(u.app, "IOS", "1.0", "1")
	if res := u.api(t, "POST", "/v1/buildUploads", body); res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	up := decodeAs[resource](t, u.api(t, "POST", "/v1/buildUploads", body), http.StatusCreated).ID

	// A Fault reaches the API, never the part URLs: those take PartFault.
	u.srv.Inject(ascsim.Fault{Kind: ascsim.FaultServerError, Method: "PUT"})
	data := content(10)
	file := u.newFile(t, up, int64(len(data)))
	putAll(t, file, data)
	if res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "", "")); res.status != http.StatusTooManyRequests {
		t.Fatalf("status %d", res.status)
	}
	if res := u.api(t, "PATCH", "/v1/buildUploadFiles/"+file.ID, commitBody(file.ID, "", "")); res.status != http.StatusOK {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
}
