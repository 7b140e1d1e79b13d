package ascsim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/clocktest"
)

// walk follows links.next from target and returns every resource, failing
// on a repeated one or a total that changes between pages.
func walk(t *testing.T, f *fixture, target string) []resource {
	t.Helper()
	var all []resource
	seen := map[string]bool{}
	total := -1
	for pages := 0; target != ""; pages++ {
		if pages > 1000 {
			t.Fatal("links.next never ends")
		}
		l := decode[list](t, f.get(t, target))
		if total >= 0 && l.Meta.Paging.Total != total {
			t.Fatalf("total %d, then %d", total, l.Meta.Paging.Total)
		}
		total = l.Meta.Paging.Total
		for _, r := range l.Data {
			if seen[r.ID] {
				t.Fatalf("%s %s returned twice", r.Type, r.ID)
			}
			seen[r.ID] = true
		}
		all = append(all, l.Data...)
		target = l.Links.Next
	}
	if len(all) != total {
		t.Fatalf("walked %d resources, meta says %d", len(all), total)
	}
	return all
}

func TestApps(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Zeta")
	widget := f.srv.AddApp("com.example.app.widget", "Alpha")
	other := f.srv.AddApp("org.other", "Mid")

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{app, widget, other}},
		{"filter[bundleId]=com.example.app", []string{app, widget}}, // Apple's prefix match
		{"filter[bundleId]=com.example.app.widget", []string{widget}},
		{"filter[bundleId]=org.other,com.example.app.widget", []string{widget, other}},
		{"filter[id]=" + other, []string{other}},
		{"filter[name]=Alpha", []string{widget}},
		{"filter[sku]=org.other", []string{other}},
		{"sort=name", []string{widget, other, app}},
		{"sort=-bundleId", []string{other, widget, app}},
		{"filter[bundleId]=net", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			l := decode[list](t, f.get(t, "/v1/apps?"+tt.query))
			if got := ids(l.Data); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("instance", func(t *testing.T) {
		t.Parallel()
		s := decode[single](t, f.get(t, "/v1/apps/"+app))
		want := map[string]any{"bundleId": "com.example.app", "name": "Zeta", "sku": "com.example.app", "primaryLocale": "en-US"}
		if s.Data.Type != "apps" || s.Data.ID != app || fmt.Sprint(s.Data.Attributes) != fmt.Sprint(want) {
			t.Errorf("app %+v", s.Data)
		}
		if _, err := strconv.Atoi(app); err != nil {
			t.Errorf("app ID %q is not numeric", app)
		}
	})
	t.Run("sparse fieldset", func(t *testing.T) {
		t.Parallel()
		s := decode[single](t, f.get(t, "/v1/apps/"+app+"?fields[apps]=bundleId,builds"))
		if len(s.Data.Attributes) != 1 || s.Data.Attributes["bundleId"] != "com.example.app" {
			t.Errorf("attributes %v, want bundleId only", s.Data.Attributes)
		}
		if _, ok := s.Data.Relationships["builds"]; !ok || len(s.Data.Relationships) != 1 {
			t.Errorf("relationships %v, want builds only", s.Data.Relationships)
		}
	})
}

func TestBuilds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Example")
	other := f.srv.AddApp("com.example.other", "Other")
	day := 24 * time.Hour
	b9 := f.srv.AddBuild(app, "IOS", "1.0", "9", "VALID", epoch.Add(-3*day))
	b10 := f.srv.AddBuild(app, "IOS", "1.0", "10", "VALID", epoch.Add(-2*day))
	bMac := f.srv.AddBuild(app, "MAC_OS", "1.0", "10", "PROCESSING", epoch.Add(-day))
	bOld := f.srv.AddBuild(app, "IOS", "0.9", "8", "VALID", epoch.Add(-100*day)) // past its 90 days
	bBad := f.srv.AddBuild(app, "IOS", "1.1", "11", "INVALID", epoch.Add(-time.Hour))
	bOther := f.srv.AddBuild(other, "IOS", "1.0", "1", "VALID", epoch.Add(-time.Hour))
	f.srv.ExpireBuild(b9)
	prv10 := f.srv.AddPreReleaseVersion(app, "IOS", "1.0")

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{b9, b10, bMac, bOld, bBad, bOther}},
		{"filter[app]=" + app, []string{b9, b10, bMac, bOld, bBad}},
		{"filter[app]=" + app + "&filter[preReleaseVersion.platform]=MAC_OS", []string{bMac}},
		{"filter[app]=" + app + "&filter[preReleaseVersion.version]=1.0", []string{b9, b10, bMac}},
		{"filter[preReleaseVersion]=" + prv10, []string{b9, b10}},
		{"filter[version]=10", []string{b10, bMac}},
		{"filter[version]=10&filter[preReleaseVersion.platform]=IOS", []string{b10}},
		{"filter[expired]=true", []string{b9, bOld}},
		{"filter[app]=" + app + "&filter[expired]=false", []string{b10, bMac, bBad}},
		{"filter[processingState]=PROCESSING,INVALID", []string{bMac, bBad}},
		{"filter[id]=" + bOther, []string{bOther}},
		{"filter[app]=" + app + "&filter[preReleaseVersion.platform]=TV_OS", nil},
		// version sorts as a string: "10" < "11" < "8" < "9".
		{"filter[app]=" + app + "&sort=version", []string{b10, bMac, bBad, bOld, b9}},
		{"filter[app]=" + app + "&sort=-version", []string{b9, bOld, bBad, b10, bMac}},
		{"filter[app]=" + app + "&sort=-uploadedDate", []string{bBad, bMac, b10, b9, bOld}},
		{"filter[app]=" + app + "&sort=preReleaseVersion,-uploadedDate", []string{bOld, bMac, b10, b9, bBad}},
		{"filter[app]=" + app + "&sort=-preReleaseVersion,version", []string{bBad, b10, bMac, b9, bOld}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			l := decode[list](t, f.get(t, "/v1/builds?"+tt.query))
			if got := ids(l.Data); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("attributes", func(t *testing.T) {
		t.Parallel()
		s := decode[single](t, f.get(t, "/v1/builds/"+b10))
		a := s.Data.Attributes
		uploaded, err := time.Parse(time.RFC3339, a["uploadedDate"].(string))
		if err != nil || !uploaded.Equal(epoch.Add(-2*day)) {
			t.Errorf("uploadedDate %v (%v)", a["uploadedDate"], err)
		}
		expires, err := time.Parse(time.RFC3339, a["expirationDate"].(string))
		if err != nil || !expires.Equal(epoch.Add(88*day)) {
			t.Errorf("expirationDate %v (%v)", a["expirationDate"], err)
		}
		if a["version"] != "10" || a["processingState"] != "VALID" || a["expired"] != false {
			t.Errorf("attributes %v", a)
		}
		if rel := s.Data.Relationships["app"]; rel.Links == nil || rel.Data != nil {
			t.Errorf("app relationship %+v: want links and, without include, no data", rel)
		}
	})
	t.Run("include", func(t *testing.T) {
		t.Parallel()
		l := decode[list](t, f.get(t, "/v1/builds?filter[app]="+app+"&include=app,preReleaseVersion&fields[apps]=bundleId&fields[builds]=version,app,preReleaseVersion"))
		var types []string
		for _, r := range l.Included {
			types = append(types, r.Type)
			if r.Type == "apps" && (r.ID != app || len(r.Attributes) != 1 || r.Attributes["bundleId"] != "com.example.app") {
				t.Errorf("included app %+v", r)
			}
		}
		// One app and four pre-release versions (1.0 on IOS and MAC_OS, 0.9, 1.1), each once.
		if slices.Sort(types); strings.Join(types, ",") != "apps,preReleaseVersions,preReleaseVersions,preReleaseVersions,preReleaseVersions" {
			t.Errorf("included types %v", types)
		}
		for _, b := range l.Data {
			if len(b.Attributes) != 1 || b.Relationships["app"].Data == nil || b.Relationships["app"].Data.ID != app ||
				b.Relationships["preReleaseVersion"].Data == nil {
				t.Errorf("build %+v", b)
			}
		}
	})
	t.Run("unknown build", func(t *testing.T) {
		t.Parallel()
		if res := f.get(t, "/v1/builds/nope"); res.status != http.StatusNotFound {
			t.Errorf("status %d", res.status)
		}
	})
	t.Run("state changes", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t)
		a := g.srv.AddApp("com.example.app", "Example")
		b := g.srv.AddBuild(a, "IOS", "2.0", "1", "PROCESSING", epoch)
		g.srv.SetBuildProcessingState(b, "VALID")
		if s := decode[single](t, g.get(t, "/v1/builds/"+b)); s.Data.Attributes["processingState"] != "VALID" {
			t.Errorf("processingState %v", s.Data.Attributes["processingState"])
		}
	})
}

func TestPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Example")
	f.srv.SeedBuilds(app, "IOS", "1.0", 237)
	f.srv.SeedBuilds(app, "TV_OS", "1.0", 3)

	tests := []struct {
		query     string
		wantTotal int
		wantFirst string // version of the first build
	}{
		{"filter[preReleaseVersion.platform]=IOS", 237, "1"},
		{"filter[preReleaseVersion.platform]=IOS&limit=200", 237, "1"},
		{"filter[preReleaseVersion.platform]=IOS&limit=1&sort=-uploadedDate", 237, "237"},
		{"filter[preReleaseVersion.platform]=IOS&limit=7&sort=-version", 237, "99"},
		{"filter[app]=" + app + "&limit=13", 240, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			all := walk(t, f, "/v1/builds?"+tt.query)
			if len(all) != tt.wantTotal || all[0].Attributes["version"] != tt.wantFirst {
				t.Errorf("%d builds, first %v; want %d, first %s", len(all), all[0].Attributes["version"], tt.wantTotal, tt.wantFirst)
			}
		})
	}
	t.Run("page shape", func(t *testing.T) {
		t.Parallel()
		l := decode[list](t, f.get(t, "/v1/builds?filter[preReleaseVersion.platform]=IOS"))
		if len(l.Data) != 50 || l.Meta.Paging.Limit != 50 || l.Meta.Paging.Total != 237 {
			t.Errorf("default page: %d builds, paging %+v", len(l.Data), l.Meta.Paging)
		}
		next, err := url.Parse(l.Links.Next)
		if err != nil || next.Query().Get("cursor") == "" || next.Query().Get("filter[preReleaseVersion.platform]") != "IOS" {
			t.Errorf("links.next %q does not carry the filter and a cursor", l.Links.Next)
		}
		if !strings.HasSuffix(l.Links.Self, "/v1/builds?filter[preReleaseVersion.platform]=IOS") {
			t.Errorf("links.self %q", l.Links.Self)
		}
		last := decode[list](t, f.get(t, "/v1/builds?filter[preReleaseVersion.platform]=IOS&limit=200&cursor="+next.Query().Get("cursor")))
		if len(last.Data) != 187 || last.Links.Next != "" {
			t.Errorf("last page: %d builds, next %q", len(last.Data), last.Links.Next)
		}
	})
}

func TestPreReleaseVersions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Example")
	other := f.srv.AddApp("com.example.other", "Other")
	v10 := f.srv.AddPreReleaseVersion(app, "IOS", "1.0")
	v9 := f.srv.AddPreReleaseVersion(app, "IOS", "1.9")
	v10mac := f.srv.AddPreReleaseVersion(app, "MAC_OS", "1.10")
	vOther := f.srv.AddPreReleaseVersion(other, "IOS", "1.0")
	if again := f.srv.AddPreReleaseVersion(app, "IOS", "1.0"); again != v10 {
		t.Fatalf("AddPreReleaseVersion made %s again, want %s", again, v10)
	}
	// AddBuild reuses the pre-release version.
	b := f.srv.AddBuild(app, "IOS", "1.9", "5", "VALID", epoch)
	if s := decode[single](t, f.get(t, "/v1/builds/"+b+"?include=preReleaseVersion")); s.Data.Relationships["preReleaseVersion"].Data.ID != v9 {
		t.Errorf("build's preReleaseVersion %+v, want %s", s.Data.Relationships["preReleaseVersion"].Data, v9)
	}

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{v10, v9, v10mac, vOther}},
		{"filter[app]=" + app, []string{v10, v9, v10mac}},
		{"filter[app]=" + app + "&filter[platform]=IOS", []string{v10, v9}},
		{"filter[version]=1.0", []string{v10, vOther}},
		{"filter[app]=" + app + "&sort=-version", []string{v9, v10mac, v10}},
		{"filter[platform]=VISION_OS", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			l := decode[list](t, f.get(t, "/v1/preReleaseVersions?"+tt.query))
			if got := ids(l.Data); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("include app", func(t *testing.T) {
		t.Parallel()
		s := decode[single](t, f.get(t, "/v1/preReleaseVersions/"+v10mac+"?include=app"))
		if s.Data.Attributes["version"] != "1.10" || s.Data.Attributes["platform"] != "MAC_OS" ||
			len(s.Included) != 1 || s.Included[0].ID != app {
			t.Errorf("%+v", s)
		}
	})
}

func TestBuildUploads(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(epoch)
	advance := clock.Advance
	f := newFixture(t, ascsim.WithClock(clock.Now))
	app := f.srv.AddApp("com.example.app", "Example")
	other := f.srv.AddApp("com.example.other", "Other")
	u1 := f.srv.AddBuildUpload(app, "IOS", "1.0", "1", "COMPLETE")
	advance(time.Minute)
	u2 := f.srv.AddBuildUpload(app, "IOS", "1.0", "2", "PROCESSING")
	advance(time.Minute)
	u10 := f.srv.AddBuildUpload(app, "MAC_OS", "1.1", "10", "FAILED")
	advance(time.Minute)
	uWait := f.srv.AddBuildUpload(app, "IOS", "1.1", "11", "AWAITING_UPLOAD")
	f.srv.AddBuildUpload(other, "IOS", "1.0", "1", "COMPLETE")

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{u1, u2, u10, uWait}},
		{"filter[cfBundleShortVersionString]=1.1", []string{u10, uWait}},
		{"filter[cfBundleVersion]=2,10", []string{u2, u10}},
		{"filter[platform]=MAC_OS", []string{u10}},
		{"filter[state]=COMPLETE,FAILED", []string{u1, u10}},
		{"sort=cfBundleVersion", []string{u1, u10, uWait, u2}}, // string order
		{"sort=-uploadedDate", []string{u10, u2, u1, uWait}},   // not uploaded yet: last
		{"sort=uploadedDate&limit=2", []string{u1, u2}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			l := decode[list](t, f.get(t, "/v1/apps/"+app+"/buildUploads?"+tt.query))
			if got := ids(l.Data); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("walk", func(t *testing.T) {
		t.Parallel()
		if all := walk(t, f, "/v1/apps/"+app+"/buildUploads?limit=1&sort=cfBundleVersion"); !slices.Equal(ids(all), []string{u1, u10, uWait, u2}) {
			t.Errorf("walked %v", ids(all))
		}
	})
	t.Run("unknown app", func(t *testing.T) {
		t.Parallel()
		res := f.get(t, "/v1/apps/1/buildUploads")
		if res.status != http.StatusNotFound || res.errors(t).Errors[0].Code != "NOT_FOUND" {
			t.Errorf("status %d, body %s", res.status, res.body)
		}
	})
	t.Run("complete upload has its build", func(t *testing.T) {
		t.Parallel()
		s := decode[single](t, f.get(t, "/v1/buildUploads/"+u1+"?include=build"))
		st := s.Data.Attributes["state"].(map[string]any)
		if st["state"] != "COMPLETE" || s.Data.Attributes["cfBundleVersion"] != "1" || s.Data.Attributes["platform"] != "IOS" {
			t.Errorf("upload %+v", s.Data.Attributes)
		}
		rel := s.Data.Relationships["build"]
		if rel.Data == nil || len(s.Included) != 1 || s.Included[0].ID != rel.Data.ID || s.Included[0].Attributes["processingState"] != "VALID" {
			t.Errorf("build relationship %+v, included %+v", rel.Data, s.Included)
		}
	})
	t.Run("awaiting upload", func(t *testing.T) {
		t.Parallel()
		s := decode[single](t, f.get(t, "/v1/buildUploads/"+uWait))
		if _, ok := s.Data.Attributes["uploadedDate"]; ok || s.Data.Relationships["build"].Data != nil {
			t.Errorf("an upload awaiting its file has %+v", s.Data)
		}
	})
	t.Run("unknown upload", func(t *testing.T) {
		t.Parallel()
		if res := f.get(t, "/v1/buildUploads/nope"); res.status != http.StatusNotFound {
			t.Errorf("status %d", res.status)
		}
	})
}

func TestBuildUploadProgress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Example")
	u := f.srv.AddBuildUpload(app, "IOS", "3.0", "7", "AWAITING_UPLOAD")
	state := func() map[string]any {
		return decode[single](t, f.get(t, "/v1/buildUploads/"+u)).Data.Attributes["state"].(map[string]any)
	}
	f.srv.SetBuildUploadState(u, ascsim.UploadState{State: "FAILED", Errors: []ascsim.StateDetail{{Code: "90062", Description: "bad version"}}})
	st := state()
	if st["state"] != "FAILED" || fmt.Sprint(st["errors"]) != "[map[code:90062 description:bad version]]" {
		t.Errorf("state %v", st)
	}
	f.srv.SetBuildUploadState(u, ascsim.UploadState{State: "COMPLETE", Warnings: []ascsim.StateDetail{{Code: "W1"}}})
	if st := state(); st["state"] != "COMPLETE" || len(st["warnings"].([]any)) != 1 || len(st["errors"].([]any)) != 0 {
		t.Errorf("state %v", st)
	}
	l := decode[list](t, f.get(t, "/v1/builds?filter[app]="+app+"&filter[version]=7&include=buildUpload"))
	if len(l.Data) != 1 || l.Data[0].Relationships["buildUpload"].Data.ID != u || len(l.Included) != 1 {
		t.Errorf("the complete upload's build: %+v", l)
	}
}

func TestRateLimitHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := 1; i <= 3; i++ {
		res := f.get(t, "/v1/apps")
		if got, want := res.header.Get("X-Rate-Limit"), fmt.Sprintf("user-hour-lim:3600;user-hour-rem:%d;", 3600-i); got != want {
			t.Errorf("request %d: X-Rate-Limit %q, want %q", i, got, want)
		}
	}
	f.srv.SetRateLimitRemaining(1)
	if res := f.get(t, "/v1/apps"); res.status != http.StatusOK || res.header.Get("X-Rate-Limit") != "user-hour-lim:3600;user-hour-rem:0;" {
		t.Errorf("last request: status %d, X-Rate-Limit %q", res.status, res.header.Get("X-Rate-Limit"))
	}
	res := f.get(t, "/v1/apps")
	if res.status != http.StatusTooManyRequests || res.errors(t).Errors[0].Code != "RATE_LIMIT_EXCEEDED" {
		t.Errorf("over the limit: status %d, body %s", res.status, res.body)
	}
	if res := f.do(t, "GET", "/v1/apps", "", ""); res.status != http.StatusUnauthorized || res.header.Get("X-Rate-Limit") == "" {
		t.Errorf("unauthenticated: status %d, X-Rate-Limit %q", res.status, res.header.Get("X-Rate-Limit"))
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.get(t, "/v1/apps?limit=2")
	f.do(t, "GET", "/v1/builds", "", "")
	f.get(t, "/v1/nothing")
	got := f.srv.Requests()
	want := []ascsim.Request{
		{Time: epoch, Method: "GET", Path: "/v1/apps", RawQuery: "limit=2", Status: 200, KeyID: teamKID},
		{Time: epoch, Method: "GET", Path: "/v1/builds", Status: 401, Note: "no bearer token in the Authorization header"},
		{Time: epoch, Method: "GET", Path: "/v1/nothing", Status: 404, KeyID: teamKID, Note: "the document has no such path"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Requests()\n got %+v\nwant %+v", got, want)
	}
}

func TestSeedingPanics(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.AddApp("com.example.app", "Example")
	f.srv.AddBuild(app, "IOS", "1.0", "1", "VALID", epoch)
	for name, fn := range map[string]func(){
		"unknown app":      func() { f.srv.AddBuild("1", "IOS", "1.0", "1", "VALID", epoch) },
		"bad platform":     func() { f.srv.AddBuild(app, "ANDROID", "1.0", "2", "VALID", epoch) },
		"bad state":        func() { f.srv.AddBuild(app, "IOS", "1.0", "2", "DONE", epoch) },
		"duplicate build":  func() { f.srv.AddBuild(app, "IOS", "1.0", "1", "VALID", epoch) },
		"bad upload state": func() { f.srv.AddBuildUpload(app, "IOS", "1.0", "1", "DONE") },
		"unknown upload":   func() { f.srv.SetBuildUploadState("nope", ascsim.UploadState{State: "COMPLETE"}) },
		"unknown build":    func() { f.srv.ExpireBuild("nope") },
		"bad build state":  func() { f.srv.SetBuildProcessingState("nope", "VALID") },
		"bad prv platform": func() { f.srv.AddPreReleaseVersion(app, "WATCH_OS", "1.0") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "ascsim: ") {
					t.Errorf("recovered %v, want an ascsim panic", r)
				}
			}()
			fn()
		})
	}
}
