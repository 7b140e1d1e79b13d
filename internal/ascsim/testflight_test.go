package ascsim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/ascsim"
)

// TestTestFlightResponsesMatchSpec checks the TestFlight reads against the
// response schemas of Apple's document.
func TestTestFlightResponsesMatchSpec(t *testing.T) {
	t.Parallel()
	doc, router, err := ascsim.Spec()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, ascsim.WithTestFlight(0, 0, 0))
	app := f.srv.AddApp("com.example.app", "Example")
	build := f.srv.AddBuild(app, "IOS", "1.0", "1", "VALID", epoch)
	no := false
	f.srv.SetUsesNonExemptEncryption(build, &no)
	group := f.srv.AddBetaGroup(app, "Beta", false, false)
	f.srv.AddBetaGroup(app, "Team", true, true)
	f.srv.AddBuildToBetaGroup(build, group)
	f.srv.SetBetaReview(build, "WAITING_FOR_REVIEW")
	f.srv.AddBetaAppLocalization(app, "en-US", "A demo.", "beta@example.com")
	f.srv.SetBetaReviewContact(app, ascsim.BetaReviewContact{FirstName: "Ada", LastName: "L", Phone: "1", Email: "a@example.com"})
	decl := f.srv.AddAppEncryptionDeclaration(app, "APPROVED")
	f.get(t, "/v1/apps/"+app) // the first TestFlight read settles the default locale

	for _, tt := range []struct {
		target string
		status int
	}{
		{"/v1/builds/" + build + "?include=buildBetaDetail,betaGroups,betaBuildLocalizations,betaAppReviewSubmission,preReleaseVersion&limit[betaGroups]=1", 200},
		{"/v1/builds?filter[app]=" + app + "&filter[betaAppReviewSubmission.betaReviewState]=WAITING_FOR_REVIEW,IN_REVIEW", 200},
		{"/v1/apps/" + app + "/betaGroups?limit=1", 200},
		{"/v1/betaGroups?filter[app]=" + app + "&filter[builds]=" + build, 200},
		{"/v1/builds/" + build + "/buildBetaDetail", 200},
		{"/v1/builds/" + build + "/betaBuildLocalizations", 200},
		{"/v1/builds/" + build + "/betaAppReviewSubmission", 200},
		{"/v1/apps/" + app + "/betaAppLocalizations", 200},
		{"/v1/apps/" + app + "/betaAppReviewDetail", 200},
		{"/v1/appEncryptionDeclarations/" + decl, 200},
		{"/v1/builds/" + build + "/betaBuildLocalizations?filter[locale]=en-US", 400},
	} {
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
}

// TestTestFlightRefusals checks the answers Apple is reported to give.
func TestTestFlightRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ascsim.WithTestFlight(0, 0, 0))
	app := f.srv.AddApp("com.example.app", "Example")
	build := f.srv.AddBuild(app, "IOS", "1.0", "1", "VALID", epoch)
	auto := f.srv.AddBetaGroup(app, "Team", true, true)
	f.get(t, "/v1/builds/"+build+"?include=buildBetaDetail")

	post := func(path, body string) response {
		return f.do(t, "POST", path, "Bearer "+mint(t, f.minters[teamKID]), body)
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		detail           string
	}{
		{"compliance unanswered", "/v1/betaAppReviewSubmissions",
			`{"data":{"type":"betaAppReviewSubmissions","relationships":{"build":{"data":{"type":"builds","id":"` + build + `"}}}}}`,
			422, "missing export compliance"},
		{"automatic group", "/v1/builds/" + build + "/relationships/betaGroups",
			`{"data":[{"type":"betaGroups","id":"` + auto + `"}]}`, 422, "Cannot add internal group to a build."},
		{"duplicate default locale", "/v1/betaBuildLocalizations",
			`{"data":{"type":"betaBuildLocalizations","attributes":{"locale":"en-US","whatsNew":"x"},"relationships":{"build":{"data":{"type":"builds","id":"` + build + `"}}}}}`,
			409, "already exists"},
		{"emoji", "/v1/betaBuildLocalizations",
			`{"data":{"type":"betaBuildLocalizations","attributes":{"locale":"de-DE","whatsNew":"🐤"},"relationships":{"build":{"data":{"type":"builds","id":"` + build + `"}}}}}`,
			409, "invalid characters"},
		{"auto-notify", "/v1/buildBetaNotifications",
			`{"data":{"type":"buildBetaNotifications","relationships":{"build":{"data":{"type":"builds","id":"` + build + `"}}}}}`,
			409, "Auto-notify already enabled"},
	} {
		res := post(tc.path, tc.body)
		if res.status != tc.status || !strings.Contains(string(res.body), tc.detail) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, res.status, res.body, tc.status, tc.detail)
		}
	}
	if res := f.get(t, "/v1/builds/"+build+"/betaAppReviewSubmission"); res.status != http.StatusNotFound {
		t.Errorf("a build never submitted: %d", res.status)
	}
}

// TestBetaDetailLags: right after processing the beta detail is not there.
func TestBetaDetailLags(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // the default lag, on a clock that does not move
	app := f.srv.AddApp("com.example.app", "Example")
	build := f.srv.AddBuild(app, "IOS", "1.0", "1", "VALID", epoch)
	res := f.get(t, "/v1/builds/"+build+"/buildBetaDetail")
	if res.status != http.StatusNotFound || !strings.Contains(string(res.body), "There is no resource of type 'buildBetaDetails'") {
		t.Errorf("%d %s", res.status, res.body)
	}
	if st := f.srv.TestFlight(build); st.BetaDetailExists || st.Internal != "PROCESSING" {
		t.Errorf("state %+v", st)
	}
}
