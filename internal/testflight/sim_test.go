package testflight_test

// Integration tests: Preflight and Run against the App Store Connect
// simulator on loopback. Each test has its own simulator, key, app and
// fake clock, shared by the simulator, the token minter, the client and
// Run; every wait advances that clock, so an hour of processing takes no
// time. Each test checks the simulator's state and log as well as what
// Run returned.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/clocktest"
	"github.com/asc-auth/action/internal/httpx"
	"github.com/asc-auth/action/internal/testflight"
	"github.com/asc-auth/action/internal/token"
)

const (
	simKeyID  = "SIMKEY0001"
	simIssuer = "57246542-96fe-1a63-e053-0824d011072a"
)

type fixture struct {
	t      testing.TB
	sim    *ascsim.Server
	client *asc.Client
	clock  *clocktest.Clock
	app    string

	mu     sync.Mutex
	tokens map[string]bool
	// hook, if set, sees every API request before it is sent.
	hook func(*http.Request)
	logs []string
}

type setup struct {
	lifetime time.Duration // token lifetime; 0 is the default
	opts     []ascsim.Option
}

func newFixture(t testing.TB, s setup) *fixture {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := ascsim.New(append([]ascsim.Option{ascsim.WithClock(clk.Now)}, s.opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	sim.RegisterKey(simKeyID, simIssuer, false, &key.PublicKey)
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	m, err := token.NewMinter(key, token.Config{KeyID: simKeyID, IssuerID: simIssuer, Lifetime: s.lifetime}, token.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	tokens := asc.NewTokenCache(func() (string, time.Time, error) {
		tok, err := m.Mint()
		return tok.Value, tok.ExpiresAt, err
	}, clk.Now)
	f := &fixture{t: t, sim: sim, clock: clk, tokens: map[string]bool{}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	f.client = asc.NewClient(tokens,
		asc.WithBaseURL(base),
		asc.WithClock(clk.Now),
		asc.WithSleep(clk.Sleep),
		asc.WithRand(func() float64 { return 0.5 }),
		asc.WithHTTPClient(&http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			f.mu.Lock()
			f.tokens[r.Header.Get("Authorization")] = true
			hook := f.hook
			f.mu.Unlock()
			if hook != nil {
				hook(r)
			}
			return tr.RoundTrip(r)
		})}),
	)
	f.app = sim.AddApp("com.example.demo", "Demo")
	return f
}

type roundTripper func(*http.Request) (*http.Response, error)

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return rt(r) }

func (f *fixture) setHook(h func(*http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

func (f *fixture) tokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

// build adds a processed build of version whose export compliance is
// answered (false) unless unanswered.
func (f *fixture) build(version, number string, unanswered bool) string {
	id := f.sim.AddBuild(f.app, "IOS", version, number, "VALID", f.clock.Now())
	if !unanswered {
		no := false
		f.sim.SetUsesNonExemptEncryption(id, &no)
	}
	return id
}

// testInfo fills in the app's test information and review contact.
func (f *fixture) testInfo() {
	f.sim.AddBetaAppLocalization(f.app, "en-US", "A demo app.", "beta@example.com")
	f.sim.SetBetaReviewContact(f.app, ascsim.BetaReviewContact{FirstName: "Ada", LastName: "Lovelace", Phone: "+1 555 0100", Email: "ada@example.com"})
}

func (f *fixture) options() testflight.Options {
	return testflight.Options{
		Now:   f.clock.Now,
		Sleep: f.clock.Sleep,
		Log: func(s string) {
			f.mu.Lock()
			f.logs = append(f.logs, s)
			f.mu.Unlock()
		},
		Warn: func(s string) {
			f.mu.Lock()
			f.logs = append(f.logs, "warning: "+s)
			f.mu.Unlock()
		},
	}
}

// distribute is Preflight then Run.
func (f *fixture) distribute(p testflight.Plan) (testflight.Resolved, testflight.Result, error) {
	f.t.Helper()
	r, err := testflight.Preflight(f.t.Context(), f.client, p)
	if err != nil {
		f.t.Fatalf("Preflight: %v", err)
	}
	res, err := testflight.Run(f.t.Context(), f.client, r, f.options())
	f.t.Logf("Run: %d requests, %+v", res.Requests, res)
	return r, res, err
}

// writes returns the simulator's log entries that were not GETs.
func writes(reqs []ascsim.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestPreflightRefusesUnknownAndAmbiguousGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	build := f.build("1.0", "1", false)
	f.sim.AddBetaGroup(f.app, "Beta", false, false)
	f.sim.AddBetaGroup(f.app, "QA", true, false)
	f.sim.AddBetaGroup(f.app, "qa", false, false)
	_, err := testflight.Preflight(t.Context(), f.client, testflight.Plan{BuildID: build, Groups: []string{"beta", "Nope", "QA"}})
	if err == nil {
		t.Fatal("Preflight accepted an unknown group")
	}
	for _, want := range []string{`name "Nope"`, `2 beta groups of app ` + f.app + ` are named "QA"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"beta"`) {
		t.Errorf("error %q names a group that exists", err)
	}
	if w := writes(f.sim.Requests()); len(w) > 0 {
		t.Errorf("Preflight sent %q", w)
	}
}

func TestPreflightRefusesEmojiBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	_, err := testflight.Preflight(t.Context(), f.client, testflight.Plan{AppID: f.app, Version: "1.0", BuildNumber: "1", Notes: map[string]string{"": "New 🐤 mode"}})
	if err == nil || !strings.Contains(err.Error(), "emoji") {
		t.Fatalf("Preflight = %v, want an emoji error", err)
	}
	if n := len(f.sim.Requests()); n != 0 {
		t.Errorf("Preflight sent %d requests", n)
	}
}

func TestPreflightChecksTestInformation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	build := f.build("1.0", "1", false)
	f.sim.AddBetaGroup(f.app, "Public", false, false)
	f.sim.AddBetaAppLocalization(f.app, "en-US", "", "")
	_, err := testflight.Preflight(t.Context(), f.client, testflight.Plan{BuildID: build, Groups: []string{"Public"}})
	if err == nil {
		t.Fatal("Preflight accepted an app without test information")
	}
	for _, want := range []string{"description for en-US", "feedback e-mail", "first name", testflight.TestInfoURL(f.app)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Without a review, nothing is needed.
	if _, err := testflight.Preflight(t.Context(), f.client, testflight.Plan{BuildID: build, Groups: []string{"Public"}, SubmitBetaReview: testflight.ReviewNever}); err != nil {
		t.Errorf("Preflight with no review: %v", err)
	}
	if w := writes(f.sim.Requests()); len(w) > 0 {
		t.Errorf("Preflight sent %q", w)
	}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		internal, all    bool
		wantResult       string
		wantMember       bool
		wantReview       string
		wantInt, wantExt string
	}{
		{"automatic internal group is skipped", true, true, testflight.GroupSkippedAutomatic, false, "", "IN_BETA_TESTING", "READY_FOR_BETA_SUBMISSION"},
		{"manual internal group is added", true, false, testflight.GroupAdded, true, "", "IN_BETA_TESTING", "READY_FOR_BETA_SUBMISSION"},
		{"external group is added and submitted", false, false, testflight.GroupAdded, true, "WAITING_FOR_REVIEW", "READY_FOR_BETA_TESTING", "WAITING_FOR_BETA_REVIEW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, setup{})
			f.testInfo()
			build := f.build("1.0", "1", false)
			group := f.sim.AddBetaGroup(f.app, "Testers", tc.internal, tc.all)
			_, res, err := f.distribute(testflight.Plan{BuildID: build, Groups: []string{"testers"}})
			if err != nil {
				t.Fatal(err)
			}
			want := []testflight.GroupResult{{ID: group, Name: "Testers", Internal: tc.internal, Automatic: tc.internal && tc.all, Result: tc.wantResult}}
			if !slices.Equal(res.Groups, want) {
				t.Errorf("groups = %+v, want %+v", res.Groups, want)
			}
			st := f.sim.TestFlight(build)
			if got := slices.Contains(st.Groups, group); got != tc.wantMember {
				t.Errorf("member of the group: %t, want %t", got, tc.wantMember)
			}
			if st.BetaReviewState != tc.wantReview || res.BetaReviewState != tc.wantReview || res.Submitted != (tc.wantReview != "") {
				t.Errorf("review: simulator %q, result %q (submitted %t), want %q", st.BetaReviewState, res.BetaReviewState, res.Submitted, tc.wantReview)
			}
			if res.InternalState != tc.wantInt || res.ExternalState != tc.wantExt {
				t.Errorf("states %s/%s, want %s/%s", res.InternalState, res.ExternalState, tc.wantInt, tc.wantExt)
			}
			if tc.all && slices.Contains(writes(f.sim.Requests()), "POST /v1/builds/"+build+"/relationships/betaGroups") {
				t.Error("the build was added to an automatic group")
			}
			if res.Notification != testflight.NotificationAuto {
				t.Errorf("notification %q, want auto (the default)", res.Notification)
			}
		})
	}
}

// TestNotesDefaultLocaleAppearsLate writes two locales while App Store
// Connect creates the primary one between Run's read and its create: the
// 409 leads to a read and an update.
func TestNotesDefaultLocaleAppearsLate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{opts: []ascsim.Option{ascsim.WithTestFlight(30*time.Second, 5*time.Minute, -1)}})
	build := f.build("1.0", "1", false)
	var once sync.Once
	f.setHook(func(r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/betaBuildLocalizations" {
			once.Do(func() { f.clock.Advance(5 * time.Minute) })
		}
	})
	_, res, err := f.distribute(testflight.Plan{BuildID: build, Notes: map[string]string{"": "Try the new login.", "de-DE": "Neue Anmeldung."}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"de-DE", "en-US"}; !slices.Equal(res.Locales, want) {
		t.Errorf("locales %q, want %q", res.Locales, want)
	}
	st := f.sim.TestFlight(build)
	if st.Locales["en-US"] != "Try the new login." || st.Locales["de-DE"] != "Neue Anmeldung." || len(st.Locales) != 2 {
		t.Errorf("simulator's notes = %q", st.Locales)
	}
	var conflicts, patches int
	for _, r := range f.sim.Requests() {
		switch {
		case r.Method == http.MethodPost && r.Path == "/v1/betaBuildLocalizations" && r.Status == http.StatusConflict:
			conflicts++
		case r.Method == http.MethodPatch && strings.HasPrefix(r.Path, "/v1/betaBuildLocalizations/"):
			patches++
		case r.Path == "/v1/builds/"+build+"/betaBuildLocalizations" && strings.Contains(r.RawQuery, "filter"):
			t.Errorf("the localizations were filtered: %s", r.RawQuery)
		}
	}
	if conflicts != 1 || patches != 1 {
		t.Errorf("%d conflicts and %d updates, want 1 and 1", conflicts, patches)
	}
	if len(res.Messages) != 1 || !strings.Contains(res.Messages[0], "already exists") {
		t.Errorf("messages %q, want Apple's 409", res.Messages)
	}
}

func TestExportCompliance(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	for _, tc := range []struct {
		name     string
		input    *bool
		decl     string // declaration state, "" for none
		wantErr  []string
		wantUses *bool
	}{
		{"missing without the input", nil, "", []string{"uses-non-exempt-encryption", "ITSAppUsesNonExemptEncryption"}, nil},
		{"answered false", &no, "", nil, &no},
		{"answered true with an approved declaration", &yes, "APPROVED", nil, &yes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, setup{})
			build := f.build("1.0", "1", true)
			group := f.sim.AddBetaGroup(f.app, "Team", true, false)
			p := testflight.Plan{BuildID: build, Groups: []string{"Team"}, UsesNonExemptEncryption: tc.input}
			if tc.decl != "" {
				p.EncryptionDeclarationID = f.sim.AddAppEncryptionDeclaration(f.app, tc.decl)
			}
			_, res, err := f.distribute(p)
			st := f.sim.TestFlight(build)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("Run succeeded")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				if len(st.Groups) != 0 || slices.ContainsFunc(writes(f.sim.Requests()), func(s string) bool { return true }) {
					t.Errorf("Run changed something: %q", writes(f.sim.Requests()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !res.ComplianceAnswered || st.UsesNonExemptEncryption == nil || *st.UsesNonExemptEncryption != *tc.wantUses {
				t.Errorf("compliance: answered %t, simulator %v", res.ComplianceAnswered, st.UsesNonExemptEncryption)
			}
			if tc.decl != "" && st.EncryptionDeclaration != p.EncryptionDeclarationID {
				t.Errorf("declaration %q linked, want %q", st.EncryptionDeclaration, p.EncryptionDeclarationID)
			}
			if !slices.Contains(st.Groups, group) || res.InternalState != "IN_BETA_TESTING" {
				t.Errorf("after compliance: groups %q, internal %s", st.Groups, res.InternalState)
			}
			// The group was added only once the build had been processed again.
			var patched time.Time
			for _, r := range f.sim.Requests() {
				if r.Method == http.MethodPatch && r.Path == "/v1/builds/"+build {
					patched = r.Time
				}
				if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/betaGroups") && r.Time.Sub(patched) < ascsim.DefaultComplianceReprocessing {
					t.Errorf("groups added %s after the compliance PATCH, during re-processing", r.Time.Sub(patched))
				}
			}
		})
	}
}

func TestPreflightRefusesUnapprovedDeclaration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	build := f.build("1.0", "1", true)
	yes := true
	decl := f.sim.AddAppEncryptionDeclaration(f.app, "IN_REVIEW")
	_, err := testflight.Preflight(t.Context(), f.client, testflight.Plan{BuildID: build, UsesNonExemptEncryption: &yes, EncryptionDeclarationID: decl})
	if err == nil || !strings.Contains(err.Error(), "IN_REVIEW, not APPROVED") {
		t.Errorf("Preflight = %v", err)
	}
}

func TestNotify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		auto       bool
		race       bool // auto-notify turns on between Run's read and its POST
		want       string
		wantPosted bool
		wantSent   int
	}{
		{"auto-notify on: nothing to send", true, false, testflight.NotificationAuto, false, 0},
		{"auto-notify off: sent", false, false, testflight.NotificationSent, true, 1},
		{"auto-notify turned on meanwhile: Apple's 409 is success", false, true, testflight.NotificationAuto, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, setup{})
			build := f.build("1.0", "1", false)
			f.sim.SetAutoNotify(build, tc.auto)
			if tc.race {
				f.setHook(func(r *http.Request) {
					if r.URL.Path == "/v1/buildBetaNotifications" {
						f.sim.SetAutoNotify(build, true)
					}
				})
			}
			_, res, err := f.distribute(testflight.Plan{BuildID: build, NotifyTesters: testflight.NotifyOn})
			if err != nil {
				t.Fatal(err)
			}
			if res.Notification != tc.want {
				t.Errorf("notification %q, want %q", res.Notification, tc.want)
			}
			posted := slices.Contains(writes(f.sim.Requests()), "POST /v1/buildBetaNotifications")
			if posted != tc.wantPosted || f.sim.TestFlight(build).Notifications != tc.wantSent {
				t.Errorf("posted %t, sent %d; want %t, %d", posted, f.sim.TestFlight(build).Notifications, tc.wantPosted, tc.wantSent)
			}
		})
	}
}

func TestNotifyOffTurnsAutoNotifyOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	build := f.build("1.0", "1", false)
	_, res, err := f.distribute(testflight.Plan{BuildID: build, NotifyTesters: testflight.NotifyOff})
	if err != nil {
		t.Fatal(err)
	}
	if f.sim.TestFlight(build).AutoNotify || res.Notification != testflight.NotificationNone {
		t.Errorf("auto-notify still on, or notification %q", res.Notification)
	}
}

// TestAnotherBuildInReview: a build of the same version is waiting for
// review, and one of another version is in review (Apple allows one per
// version). Only the same version's build may be expired.
func TestAnotherBuildInReview(t *testing.T) {
	t.Parallel()
	for _, expire := range []bool{false, true} {
		t.Run(map[bool]string{false: "refused", true: "expired and submitted"}[expire], func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, setup{})
			f.testInfo()
			group := f.sim.AddBetaGroup(f.app, "Public", false, false)
			same := f.build("1.0", "1", false)
			f.sim.AddBuildToBetaGroup(same, group)
			f.sim.SetBetaReview(same, "WAITING_FOR_REVIEW")
			other := f.build("0.9", "7", false)
			f.sim.SetBetaReview(other, "IN_REVIEW")
			build := f.build("1.0", "2", false)

			_, res, err := f.distribute(testflight.Plan{BuildID: build, Groups: []string{"Public"}, ExpireBuildInReview: expire})
			if !expire {
				if err == nil || !strings.Contains(err.Error(), "Another build is in review") || !strings.Contains(err.Error(), "expire-build-in-review") {
					t.Fatalf("Run = %v, want Apple's refusal and the input's name", err)
				}
				if f.sim.TestFlight(same).Expired || res.Submitted {
					t.Error("a build was expired, or the build submitted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.ExpiredBuilds, []string{same}) || !f.sim.TestFlight(same).Expired {
				t.Errorf("expired %q, want only %s", res.ExpiredBuilds, same)
			}
			if f.sim.TestFlight(other).Expired {
				t.Error("the other version's build was expired")
			}
			if !res.Submitted || f.sim.TestFlight(build).BetaReviewState != "WAITING_FOR_REVIEW" {
				t.Errorf("submitted %t, state %q", res.Submitted, f.sim.TestFlight(build).BetaReviewState)
			}
		})
	}
}

// TestTokenExpiresDuringLongWait waits 40 minutes of processing with
// 5-minute tokens: the client mints new ones as they near expiry.
func TestTokenExpiresDuringLongWait(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{lifetime: 5 * time.Minute})
	build := f.sim.AddBuild(f.app, "IOS", "1.0", "1", "PROCESSING", f.clock.Now())
	no := false
	f.sim.SetUsesNonExemptEncryption(build, &no)
	done := f.clock.Now().Add(40 * time.Minute)
	f.setHook(func(*http.Request) {
		if !f.clock.Now().Before(done) {
			f.sim.SetBuildProcessingState(build, "VALID")
		}
	})
	_, res, err := f.distribute(testflight.Plan{BuildID: build, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if res.ProcessingState != "VALID" || res.InternalState != "READY_FOR_BETA_TESTING" {
		t.Errorf("states %s %s", res.ProcessingState, res.InternalState)
	}
	if n := f.tokenCount(); n < 8 {
		t.Errorf("%d tokens used over 40 minutes of 5-minute tokens", n)
	}
	for _, r := range f.sim.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("%s %s was refused: %s", r.Method, r.Path, r.Note)
		}
	}
	sleeps := f.clock.Sleeps()
	if len(sleeps) == 0 || sleeps[0] != httpx.PollFirst || slices.Max(sleeps) != httpx.PollMax {
		t.Errorf("polls waited %v, want %s first and %s at most", sleeps, httpx.PollFirst, httpx.PollMax)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	build := f.sim.AddBuild(f.app, "IOS", "1.0", "1", "PROCESSING", f.clock.Now())
	_, _, err := f.distribute(testflight.Plan{BuildID: build, Timeout: 5 * time.Minute})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 5m0s") || !strings.Contains(err.Error(), "processing PROCESSING") {
		t.Errorf("Run = %v", err)
	}
}

// TestGroupAddFailsAfterApplying: the group POST is applied but answered
// 500. Run reads the build's groups and adds only what is missing: here,
// nothing.
func TestGroupAddFailsAfterApplying(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	build := f.build("1.0", "1", false)
	a := f.sim.AddBetaGroup(f.app, "A", true, false)
	b := f.sim.AddBetaGroup(f.app, "B", true, false)
	f.sim.FailAfterApplying(http.MethodPost, "/v1/builds/"+build+"/relationships/betaGroups", 1)
	_, res, err := f.distribute(testflight.Plan{BuildID: build, Groups: []string{"A", "B"}})
	if err != nil {
		t.Fatal(err)
	}
	if adds := f.sim.TestFlight(build).GroupAdds; !slices.Equal(adds, []string{a, b}) {
		t.Errorf("groups added %q, want each once", adds)
	}
	for _, g := range res.Groups {
		if g.Result != testflight.GroupAdded {
			t.Errorf("group %s: %s", g.Name, g.Result)
		}
	}
	if len(res.Messages) != 1 || !strings.Contains(res.Messages[0], "500") {
		t.Errorf("messages %q", res.Messages)
	}
	var posts int
	for _, w := range writes(f.sim.Requests()) {
		if strings.HasSuffix(w, "/relationships/betaGroups") {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d group POSTs, want 1", posts)
	}
}

// TestGroupAddFailsPartly: the first POST is lost before it applies
// (503 before the simulator looks at it), so the read finds nothing added
// and Run sends one more POST with both groups.
func TestGroupAddLostIsSentAgainAfterReading(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	build := f.build("1.0", "1", false)
	a := f.sim.AddBetaGroup(f.app, "A", true, false)
	f.sim.Inject(ascsim.Fault{Kind: ascsim.FaultUnavailable, Method: http.MethodPost, PathPrefix: "/v1/builds/" + build + "/relationships/betaGroups", Times: 1})
	_, res, err := f.distribute(testflight.Plan{BuildID: build, Groups: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	if adds := f.sim.TestFlight(build).GroupAdds; !slices.Equal(adds, []string{a}) || res.Groups[0].Result != testflight.GroupAdded {
		t.Errorf("groups added %q, result %+v", adds, res.Groups)
	}
	var sawRead bool
	for _, r := range f.sim.Requests() {
		if r.Path == "/v1/betaGroups" && strings.Contains(r.RawQuery, "filter%5Bbuilds%5D="+build) {
			sawRead = true
		}
	}
	if !sawRead {
		t.Error("Run sent the POST again without reading the build's groups")
	}
}

// countScenario seeds ten groups (two automatic internal, three manual
// internal, five external) and the app's test information, and returns a
// plan for a processed build of version with notes in five locales, the
// primary one (en-US) already made by App Store Connect.
func countScenario(f *fixture, version string) testflight.Plan {
	if version == "1.0" {
		f.testInfo()
		for i := range 10 {
			internal, all := i < 5, i < 2
			f.sim.AddBetaGroup(f.app, "Group "+string(rune('A'+i)), internal, all)
		}
	}
	f.build(version, "1", false)
	groups := make([]string, 10)
	for i := range groups {
		groups[i] = "group " + string(rune('a'+i))
	}
	return testflight.Plan{
		AppID: f.app, Version: version, BuildNumber: "1", Groups: groups,
		Notes: map[string]string{"": "New login.", "de-DE": "Neue Anmeldung.", "fr-FR": "Nouvelle connexion.", "ja": "新しいログイン。", "es-MX": "Nuevo inicio."},
	}
}

// counts runs a plan and returns the requests of Preflight and Run.
func counts(tb testing.TB, f *fixture, p testflight.Plan) (preflight, run int) {
	r, err := testflight.Preflight(tb.Context(), f.client, p)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := testflight.Run(tb.Context(), f.client, r, f.options())
	if err != nil {
		tb.Fatal(err)
	}
	if !res.Submitted || len(res.Locales) != 5 || len(res.Groups) != 10 {
		tb.Fatalf("not distributed: %+v", res)
	}
	return r.Requests, res.Requests
}

// TestRequestCounts reports the requests spent distributing a processed
// build to ten groups with notes in five locales and a review submission.
// The API's floor for Run is 8: five note writes (there is no batch
// operation, and the primary locale exists, so one PATCH and four POSTs),
// one group POST for all groups, one submission POST, and at least one
// read to see that processing is over and which locales exist (a GET of
// the build including its beta detail, groups, localizations and
// submission). Run adds one final read so that the states it reports are
// Apple's, not assumed: 9. Preflight reads the build with its app (1), the
// app's groups (1, up to 200 a page) and, for the review, the test
// information (2): 4.
func TestRequestCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{opts: []ascsim.Option{ascsim.WithTestFlight(0, 0, -1)}})
	pre, run := counts(t, f, countScenario(f, "1.0"))
	t.Logf("ten groups, five locales, review: preflight %d requests, processed to distributed %d requests", pre, run)
	if pre != 4 || run != 9 {
		t.Errorf("preflight %d, run %d requests; want 4 and 9", pre, run)
	}
	for _, r := range f.sim.Requests() {
		if r.Status >= 300 {
			t.Errorf("%s %s: %d %s", r.Method, r.Path, r.Status, r.Note)
		}
	}
}

func BenchmarkDistribute(b *testing.B) {
	f := newFixture(b, setup{opts: []ascsim.Option{ascsim.WithTestFlight(0, 0, -1)}})
	var pre, run int
	n := 0
	for b.Loop() {
		n++
		p, r := counts(b, f, countScenario(f, "1."+strconv.Itoa(n-1)))
		pre += p
		run += r
	}
	b.ReportMetric(float64(pre)/float64(n), "preflight-requests/op")
	b.ReportMetric(float64(run)/float64(n), "run-requests/op")
}

// TestPostsFailingAfterApplying: each POST is applied by App Store
// Connect but answered 500. Run reads the state instead of sending it
// again; a notification, which cannot be read back, is reported unknown.
func TestPostsFailingAfterApplying(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path  string
		check func(t *testing.T, res testflight.Result, st ascsim.TestFlightState)
	}{
		{"/v1/betaAppReviewSubmissions", func(t *testing.T, res testflight.Result, st ascsim.TestFlightState) {
			if !res.Submitted || res.BetaReviewSubmissionID == "" || st.BetaReviewState != "WAITING_FOR_REVIEW" {
				t.Errorf("submitted %t (%q), simulator %q", res.Submitted, res.BetaReviewSubmissionID, st.BetaReviewState)
			}
		}},
		{"/v1/betaBuildLocalizations", func(t *testing.T, res testflight.Result, st ascsim.TestFlightState) {
			if !slices.Equal(res.Locales, []string{"en-US"}) || st.Locales["en-US"] != "Notes" {
				t.Errorf("locales %q, simulator %q", res.Locales, st.Locales)
			}
		}},
		{"/v1/buildBetaNotifications", func(t *testing.T, res testflight.Result, st ascsim.TestFlightState) {
			if res.Notification != testflight.NotificationUnknown || st.Notifications != 1 {
				t.Errorf("notification %q, %d sent", res.Notification, st.Notifications)
			}
		}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, setup{})
			f.testInfo()
			build := f.build("1.0", "1", false)
			f.sim.SetAutoNotify(build, false)
			f.sim.AddBetaGroup(f.app, "Public", false, false)
			f.sim.FailAfterApplying(http.MethodPost, tc.path, 1)
			_, res, err := f.distribute(testflight.Plan{BuildID: build, Groups: []string{"Public"}, Notes: map[string]string{"en-US": "Notes"}, NotifyTesters: testflight.NotifyOn})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res, f.sim.TestFlight(build))
			if n := slices.Index(writes(f.sim.Requests()), "POST "+tc.path); n < 0 || slices.Contains(writes(f.sim.Requests())[n+1:], "POST "+tc.path) {
				t.Errorf("POST %s sent %d times: %q", tc.path, strings.Count(strings.Join(writes(f.sim.Requests()), "\n"), "POST "+tc.path), writes(f.sim.Requests()))
			}
			if len(res.Messages) != 1 {
				t.Errorf("messages %q", res.Messages)
			}
		})
	}
}
