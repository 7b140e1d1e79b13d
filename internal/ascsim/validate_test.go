package ascsim_test

import (
	"strconv"
	"strings"
	"testing"
)

func TestSchemaRejection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	appID := f.srv.AddApp("com.example.app", "Example")

	const validUpload = `{"data":{"type":"buildUploads","attributes":{"cfBundleShortVersionString":"1.0","cfBundleVersion":"1","platform":"IOS"},` +
		`"relationships":{"app":{"data":{"type":"apps","id":"1"}}}}}`
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		wantStatus int
		wantCodes  []string
		wantParam  string // source.parameter of the first error
		wantDetail string // in the first error's detail
	}{
		{name: "platform outside the enum", target: "/v1/builds?filter[preReleaseVersion.platform]=ANDROID",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "filter[preReleaseVersion.platform]", wantDetail: "'ANDROID'"},
		{name: "one bad value among good", target: "/v1/builds?filter[preReleaseVersion.platform]=IOS,ANDROID",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "filter[preReleaseVersion.platform]"},
		{name: "limit over 200", target: "/v1/builds?limit=500",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "limit", wantDetail: "maximum is 200"},
		{name: "limit 0", target: "/v1/builds?limit=0",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "limit"},
		{name: "limit not a number", target: "/v1/apps?limit=ten",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "limit"},
		{name: "unknown fields[builds] value", target: "/v1/builds?fields[builds]=version,buildNumber",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "fields[builds]", wantDetail: "'buildNumber'"},
		{name: "sort outside the enum", target: "/v1/builds?sort=-buildNumber",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "sort"},
		{name: "sort preReleaseVersions by date", target: "/v1/preReleaseVersions?sort=uploadedDate",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "sort"},
		{name: "include outside the enum", target: "/v1/builds?include=everything",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "include"},
		{name: "filter[expired] not a boolean", target: "/v1/builds?filter[expired]=maybe",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "filter[expired]"},
		{name: "filter[state] outside the enum", target: "/v1/apps/" + appID + "/buildUploads?filter[state]=DONE",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "filter[state]"},
		{name: "cursor not made by the server", target: "/v1/builds?cursor=!!",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.INVALID"}, wantParam: "cursor"},
		{name: "cursor on a single resource", target: "/v1/apps/" + appID + "?cursor=eyJvZmZzZXQiOiIxIn0",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.ILLEGAL"}, wantParam: "cursor"},
		{name: "unknown parameter", target: "/v1/apps?filter[platform]=IOS",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.ILLEGAL"}, wantParam: "filter[platform]"},
		{name: "every problem at once", target: "/v1/builds?limit=500&filter[preReleaseVersion.platform]=ANDROID&foo=1",
			wantStatus: 400, wantCodes: []string{"PARAMETER_ERROR.ILLEGAL", "PARAMETER_ERROR.INVALID", "PARAMETER_ERROR.INVALID"}},
		{name: "unknown path", target: "/v1/nothing", wantStatus: 404, wantCodes: []string{"NOT_FOUND"}},
		{name: "trailing slash", target: "/v1/apps/", wantStatus: 404, wantCodes: []string{"NOT_FOUND"}},
		{name: "unknown app", target: "/v1/apps/1", wantStatus: 404, wantCodes: []string{"NOT_FOUND"}, wantDetail: "'apps' with id '1'"},
		{name: "method not in the document", method: "PUT", target: "/v1/apps", wantStatus: 405, wantCodes: []string{"METHOD_NOT_ALLOWED"}},
		{name: "body breaks the schema", method: "POST", target: "/v1/buildUploads",
			body:       `{"data":{"type":"buildUploads","attributes":{"cfBundleShortVersionString":"1.0","cfBundleVersion":"1","platform":"ANDROID"},"relationships":{"app":{"data":{"type":"apps","id":"1"}}}}}`,
			wantStatus: 409, wantCodes: []string{"ENTITY_ERROR.ATTRIBUTE.INVALID"}, wantDetail: "/data/attributes/platform"},
		{name: "body misses a relationship", method: "POST", target: "/v1/buildUploads",
			body:       `{"data":{"type":"buildUploads","attributes":{"cfBundleShortVersionString":"1.0","cfBundleVersion":"1","platform":"IOS"},"relationships":{}}}`,
			wantStatus: 409, wantCodes: []string{"ENTITY_ERROR.RELATIONSHIP.INVALID"}},
		{name: "body not JSON", method: "POST", target: "/v1/buildUploads", body: `{"data":`,
			wantStatus: 422, wantCodes: []string{"ENTITY_UNPROCESSABLE"}},
		{name: "valid body, operation not simulated", method: "POST", target: "/v1/bundleIds",
			body:       `{"data":{"type":"bundleIds","attributes":{"identifier":"com.example.app","name":"Example","platform":"IOS"}}}`,
			wantStatus: 501, wantCodes: []string{"NOT_IMPLEMENTED"}},
		{name: "valid body, unknown app", method: "POST", target: "/v1/buildUploads", body: validUpload,
			wantStatus: 409, wantCodes: []string{"ENTITY_ERROR.RELATIONSHIP.INVALID"}, wantDetail: "'1' is not a valid ID"},
		{name: "filter not simulated", target: "/v1/builds?filter[betaGroups]=1",
			wantStatus: 501, wantCodes: []string{"NOT_IMPLEMENTED"}, wantDetail: "filter[betaGroups]"},
		{name: "include not simulated", target: "/v1/apps/" + appID + "?include=builds",
			wantStatus: 501, wantCodes: []string{"NOT_IMPLEMENTED"}},
		{name: "path not simulated", target: "/v1/bundleIds",
			wantStatus: 501, wantCodes: []string{"NOT_IMPLEMENTED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = "GET"
			}
			res := f.do(t, method, tt.target, "Bearer "+mint(t, f.minters[teamKID]), tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			errs := res.errors(t).Errors
			var codes []string
			for _, e := range errs {
				codes = append(codes, e.Code)
				if e.Status != strconv.Itoa(tt.wantStatus) || e.Title == "" || e.Detail == "" || e.ID == "" {
					t.Errorf("error %+v lacks Apple's fields", e)
				}
			}
			if strings.Join(codes, " ") != strings.Join(tt.wantCodes, " ") {
				t.Errorf("codes %q, want %q; body %s", codes, tt.wantCodes, res.body)
			}
			if tt.wantParam != "" && errs[0].Source.Parameter != tt.wantParam {
				t.Errorf("source.parameter %q, want %q", errs[0].Source.Parameter, tt.wantParam)
			}
			if !strings.Contains(errs[0].Detail, tt.wantDetail) {
				t.Errorf("detail %q does not mention %q", errs[0].Detail, tt.wantDetail)
			}
		})
	}
}
