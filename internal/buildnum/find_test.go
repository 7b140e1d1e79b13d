package buildnum_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/ascsim/simtest"
	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/clocktest"
)

// advancing moves the clock forward before every request, so that a long
// series of calls outlives several tokens.
type advancing struct {
	clock *clocktest.Clock
	step  time.Duration
	next  http.RoundTripper
}

func (a advancing) RoundTrip(r *http.Request) (*http.Response, error) {
	a.clock.Advance(a.step)
	return a.next.RoundTrip(r)
}

type fixture struct {
	sim    *ascsim.Server
	client *asc.Client
	clock  *clocktest.Clock
	app    string
}

type setup struct {
	lifetime time.Duration // token lifetime; default 15m
	step     time.Duration // clock advance per request
}

func newFixture(t *testing.T, s setup) *fixture { return newFixtureWith(t, s) }

func newFixtureTB(b *testing.B) *fixture { return newFixtureWith(b, setup{}) }

func newFixtureWith(t testing.TB, s setup) *fixture {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	sim, err := ascsim.New(ascsim.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	client := simtest.NewClient(t, sim, clk, s.lifetime,
		asc.WithHTTPClient(&http.Client{Transport: advancing{clk, s.step, http.DefaultTransport}}),
	)
	return &fixture{sim: sim, client: client, clock: clk, app: sim.AddApp("com.example.app", "Example")}
}

func (f *fixture) build(platform, version, number, state string) {
	f.sim.AddBuild(f.app, platform, version, number, state, f.clock.Now().Add(-time.Hour))
}

func one(t *testing.T) buildnum.Number {
	n, err := buildnum.Parse("1")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		seed        func(f *fixture)
		query       func(q *buildnum.Query)
		wantLatest  string
		wantNext    string
		wantSource  string
		wantIgnored int
	}{
		{
			name:       "no builds gives the initial number",
			seed:       func(f *fixture) {},
			query:      func(q *buildnum.Query) { q.Initial, _ = buildnum.Parse("100") },
			wantLatest: "", wantNext: "100",
		},
		{
			name: "numeric, not string, order",
			seed: func(f *fixture) {
				for _, n := range []string{"9", "10", "2", "99", "100"} {
					f.build("IOS", "1.0", n, "VALID")
				}
			},
			wantLatest: "100", wantNext: "101", wantSource: "build",
		},
		{
			name: "dotted numbers compare component by component",
			seed: func(f *fixture) {
				for _, n := range []string{"1.2.9", "1.2", "1.2.10", "1.10"} {
					f.build("IOS", "1.0", n, "VALID")
				}
			},
			wantLatest: "1.10", wantNext: "1.11", wantSource: "build",
		},
		{
			name: "expired and processing builds count",
			seed: func(f *fixture) {
				f.build("IOS", "1.0", "5", "VALID")
				f.build("IOS", "1.0", "6", "PROCESSING")
				f.build("IOS", "1.0", "7", "FAILED")
			},
			wantLatest: "7", wantNext: "8", wantSource: "build",
		},
		{
			name: "in-flight uploads count, failed ones do not",
			seed: func(f *fixture) {
				f.build("IOS", "1.0", "5", "VALID")
				f.sim.AddBuildUpload(f.app, "IOS", "1.0", "6", "AWAITING_UPLOAD")
				f.sim.AddBuildUpload(f.app, "IOS", "1.0", "7", "PROCESSING")
				f.sim.AddBuildUpload(f.app, "IOS", "1.0", "9", "FAILED")
			},
			wantLatest: "7", wantNext: "8", wantSource: "build upload",
		},
		{
			name: "other platforms do not count",
			seed: func(f *fixture) {
				f.build("IOS", "1.0", "5", "VALID")
				f.build("MAC_OS", "1.0", "50", "VALID")
				f.sim.AddBuildUpload(f.app, "TV_OS", "1.0", "60", "PROCESSING")
			},
			wantLatest: "5", wantNext: "6", wantSource: "build",
		},
		{
			name: "the version filter",
			seed: func(f *fixture) {
				f.build("IOS", "1.0", "50", "VALID")
				f.build("IOS", "2.0", "3", "VALID")
			},
			query:      func(q *buildnum.Query) { q.Version = "2.0" },
			wantLatest: "3", wantNext: "4", wantSource: "build",
		},
		{
			name:       "the app by its numeric ID",
			seed:       func(f *fixture) { f.build("IOS", "1.0", "5", "VALID") },
			query:      func(q *buildnum.Query) {},
			wantLatest: "5", wantNext: "6", wantSource: "build",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, setup{})
			tc.seed(f)
			q := buildnum.Query{App: "com.example.app", Platform: asc.PlatformIOS, Initial: one(t)}
			if tc.name == "the app by its numeric ID" {
				q.App = f.app
			}
			if tc.query != nil {
				tc.query(&q)
			}
			res, err := buildnum.Find(t.Context(), f.client, q)
			if err != nil {
				t.Fatal(err)
			}
			latest := ""
			if !res.Latest.IsZero() {
				latest = res.Latest.String()
			}
			if latest != tc.wantLatest || res.Next.String() != tc.wantNext || !strings.HasPrefix(res.LatestSource, tc.wantSource) {
				t.Errorf("latest %q from %q, next %s; want %q from %q…, next %s", latest, res.LatestSource, res.Next, tc.wantLatest, tc.wantSource, tc.wantNext)
			}
			if res.AppID != f.app || res.BundleID != "com.example.app" {
				t.Errorf("app %s %s", res.AppID, res.BundleID)
			}
		})
	}
}

func TestFindErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	tests := []struct {
		name string
		prep func()
		q    buildnum.Query
		want string
		is   error
	}{
		{name: "unknown bundle ID", q: buildnum.Query{App: "com.example.missing", Platform: asc.PlatformIOS, Initial: one(t)},
			want: "no app with bundle ID com.example.missing is visible to this key", is: asc.ErrNotFound},
		{name: "unknown app ID", q: buildnum.Query{App: "1234", Platform: asc.PlatformIOS, Initial: one(t)},
			want: "no app with ID 1234 is visible to this key"},
		{name: "invalid platform, no request", q: buildnum.Query{App: "com.example.app", Platform: "ANDROID", Initial: one(t)},
			want: `platform "ANDROID"`},
		{name: "invalid version, no request", q: buildnum.Query{App: "com.example.app", Platform: asc.PlatformIOS, Version: "one", Initial: one(t)},
			want: "not a marketing version"},
	}
	for _, tc := range tests {
		before := len(f.sim.Requests())
		_, err := buildnum.Find(t.Context(), f.client, tc.q)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if strings.Contains(tc.name, "no request") && len(f.sim.Requests()) != before {
			t.Errorf("%s: a request was sent", tc.name)
		}
	}

	f.sim.SetForbidden(simtest.KeyID, true)
	_, err := buildnum.Find(t.Context(), f.client, buildnum.Query{App: "com.example.app", Platform: asc.PlatformIOS, Initial: one(t)})
	if err == nil || !strings.Contains(err.Error(), "role") || !errors.Is(err, asc.ErrForbidden) {
		t.Errorf("403: error %v, want one naming the key's role", err)
	}
}

// TestFindThroughFaults runs the step through each fault Apple's servers
// produce; the step must succeed with the right answer each time.
func TestFindThroughFaults(t *testing.T) {
	t.Parallel()
	faults := []ascsim.Fault{
		{Kind: ascsim.FaultRateLimit, PathPrefix: "/v1/builds", RetryAfter: 3 * time.Second, Times: 2},
		{Kind: ascsim.FaultRateLimit, PathPrefix: "/v1/apps", Times: 1},
		{Kind: ascsim.FaultServerError, PathPrefix: "/v1/builds", Times: 2},
		{Kind: ascsim.FaultUnavailable, PathPrefix: "/v1/apps", Times: 1},
		{Kind: ascsim.FaultReset, PathPrefix: "/v1/builds", Times: 1},
		{Kind: ascsim.FaultExpiredToken, PathPrefix: "/v1/builds", Times: 1},
		{Kind: ascsim.FaultDelay, PathPrefix: "/v1/apps", Delay: 50 * time.Millisecond, Times: 1},
	}
	for _, fault := range faults {
		t.Run(fault.Kind.String()+" "+fault.PathPrefix, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, setup{})
			for i := range 450 {
				f.build("IOS", "1.0", strconv.Itoa(1000+i), "VALID")
			}
			f.sim.Inject(fault)
			res, err := buildnum.Find(t.Context(), f.client, buildnum.Query{App: "com.example.app", Platform: asc.PlatformIOS, Initial: one(t)})
			if err != nil {
				t.Fatalf("Find through %v: %v", fault.Kind, err)
			}
			if res.Latest.String() != "1449" || res.Builds != 450 {
				t.Errorf("latest %s of %d builds, want 1449 of 450", res.Latest, res.Builds)
			}
		})
	}
}

// TestFindOutlivesTokens makes every request take three minutes of the
// fake clock, so a series of calls outlives several 5-minute tokens: the
// client must mint again before each expires, and no 401 may happen.
func TestFindOutlivesTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{lifetime: 5 * time.Minute, step: 3 * time.Minute})
	for i := range 2000 {
		f.build("IOS", "1.0", strconv.Itoa(i+1), "VALID")
	}
	res, err := buildnum.Find(t.Context(), f.client, buildnum.Query{App: "com.example.app", Platform: asc.PlatformIOS, Initial: one(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Latest.String() != "2000" {
		t.Errorf("latest %s, want 2000", res.Latest)
	}
	reqs := f.sim.Requests()
	for _, r := range reqs {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("a request got 401: %s %s", r.Method, r.Path)
		}
	}
	if len(reqs) < 12 {
		t.Errorf("only %d requests; the test needs a long series", len(reqs))
	}
}
