package actions_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/asc-auth/action/internal/actions"
)

// BenchmarkInfof measures a log line as the upload's progress prints it,
// with no secrets known and with as many as a real job holds (the key in
// its forms, the IDs, a few dozen tokens): the cost of taking secrets out
// of every line.
func BenchmarkInfof(b *testing.B) {
	for _, n := range []int{0, 50} {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			rt := actions.New(func(string) string { return "" }, io.Discard)
			for i := range n {
				rt.Mask(fmt.Sprintf("eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjE3%08d.c2lnbmF0dXJl%08d", i, i))
			}
			b.ReportAllocs()
			for b.Loop() {
				rt.Infof("%3.0f%%  %s of %s  %.1f MB/s  ETA %s", 42.0, "1.2 GB", "2.9 GB", 112.4, "15s")
			}
		})
	}
}
