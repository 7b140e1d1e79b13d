package buildnum_test

import (
	"fmt"
	"testing"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/buildnum"
)

// BenchmarkFind measures the build-number step against the simulator on
// loopback for apps with 10, 1,000 and 10,000 builds, reporting the HTTP
// requests it needs next to the wall time.
func BenchmarkFind(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("builds=%d", n), func(b *testing.B) {
			f := newFixtureTB(b)
			f.sim.SeedBuilds(f.app, "IOS", "1.0", n)
			f.sim.AddBuildUpload(f.app, "IOS", "1.0", fmt.Sprint(n+1), "PROCESSING")
			initial, _ := buildnum.Parse("1")
			q := buildnum.Query{App: "com.example.app", Platform: asc.PlatformIOS, Initial: initial}
			var requests int
			for b.Loop() {
				before := f.client.Requests()
				res, err := buildnum.Find(b.Context(), f.client, q)
				if err != nil {
					b.Fatal(err)
				}
				if res.Latest.String() != fmt.Sprint(n+1) {
					b.Fatalf("latest %s, want %d", res.Latest, n+1)
				}
				requests = f.client.Requests() - before
			}
			b.ReportMetric(float64(requests), "requests/op")
		})
	}
}
