package ascsim_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/asc-auth/action/internal/ascsim"
)

// BenchmarkBuilds lists builds of an app with 10,000 of them, as a client
// looking for the latest build would.
func BenchmarkBuilds(b *testing.B) {
	f := newFixture(b)
	app := f.srv.AddApp("com.example.app", "Example")
	f.srv.SeedBuilds(app, "IOS", "1.0", 10000)
	auth := "Bearer " + mint(b, f.minters[teamKID])
	for _, bm := range []struct{ name, query string }{
		{"latest", "filter[app]=" + app + "&filter[preReleaseVersion.platform]=IOS&sort=-uploadedDate&limit=1"},
		{"page of 200", "filter[app]=" + app + "&limit=200"},
		{"by version", "filter[app]=" + app + "&filter[version]=9999&filter[preReleaseVersion.version]=1.0"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/builds?"+bm.query, nil)
			req.Header.Set("Authorization", auth)
			for b.Loop() {
				f.srv.SetRateLimitRemaining(ascsim.HourlyRateLimit)
				w := httptest.NewRecorder()
				f.srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkNew measures a Server's construction once the document is
// cached.
func BenchmarkNew(b *testing.B) {
	if _, err := ascsim.New(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ascsim.New(); err != nil {
			b.Fatal(err)
		}
	}
}
