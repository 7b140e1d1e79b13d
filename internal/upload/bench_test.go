package upload

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/benchtest"
	"github.com/asc-auth/action/internal/transfer"
)

// BenchmarkUpload measures Run on loopback against the fake App Store
// Connect, whose part server discards what it receives, next to a
// baseline that sends the same bytes the simplest way: one sequential PUT
// streaming the whole file. Both report MB/s. Settings, from the
// environment:
//
//	ASC_AUTH_BENCH_SIZE         file size: bytes, or with KiB, MiB or GiB (default 64MiB)
//	ASC_AUTH_BENCH_PART_SIZE    part size (default 10MiB, what Apple's operations
//	                            commonly are, and the simulator's default)
//	ASC_AUTH_BENCH_CONCURRENCY  parts at once (default DefaultConcurrency)
//
// The file is generated once, with pseudo-random bytes, in a temporary
// directory. Run one case per process to read its peak RSS (peak-RSS-MiB,
// from /proc/self/status VmHWM, or /usr/bin/time):
//
//	ASC_AUTH_BENCH_SIZE=1GiB /usr/bin/time -v go test -run '^$' -bench 'Upload/parallel' -benchtime 3x ./internal/upload/
//	ASC_AUTH_BENCH_SIZE=1GiB /usr/bin/time -v go test -run '^$' -bench 'Upload/baseline' -benchtime 3x ./internal/upload/
//
// ("Maximum resident set size" is then the test binary's, the largest
// process go test waits for.)
func BenchmarkUpload(b *testing.B) {
	size := benchtest.Size(b, "ASC_AUTH_BENCH_SIZE", 64<<20)
	partSize := benchtest.Size(b, "ASC_AUTH_BENCH_PART_SIZE", 10<<20)
	conc := int(benchtest.Size(b, "ASC_AUTH_BENCH_CONCURRENCY", DefaultConcurrency))
	path := benchtest.File(b, size, "Bench.ipa")
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	src := source(b, file)

	b.Run(fmt.Sprintf("parallel/size=%s/part=%s/conc=%d", benchtest.Human(size), benchtest.Human(partSize), conc), func(b *testing.B) {
		f := newFake(b, size, partSize, nil)
		c := f.client()
		opts := Options{Concurrency: conc, PollInterval: 1, PartHTTPClient: transfer.NewClient(conc)} // the fake is COMPLETE at the second poll
		var sending time.Duration
		for b.Loop() {
			f.reset()
			res, err := Run(b.Context(), c, src, testPlan, opts)
			if err != nil {
				b.Fatal(err)
			}
			if res.Bytes != size {
				b.Fatalf("result %+v", res)
			}
			sending += res.UploadDuration
		}
		benchtest.Report(b, size)
		// The parts alone, without the API calls (and, in md5 mode, the
		// wait for the MD5 pass, which bounds Run on loopback).
		b.ReportMetric(float64(size)*float64(b.N)/sending.Seconds()/1e6, "parts-MB/s")
	})

	b.Run(fmt.Sprintf("baseline/size=%s", benchtest.Human(size)), func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n, err := io.Copy(io.Discard, r.Body); err != nil || n != size {
				w.WriteHeader(http.StatusBadRequest)
			}
		}))
		defer srv.Close()
		hc := &http.Client{Transport: &http.Transport{}}
		for b.Loop() {
			// A SectionReader, not the *os.File itself, so that neither side
			// gets sendfile and both read the file the same way.
			req, err := http.NewRequestWithContext(b.Context(), http.MethodPut, srv.URL+"/whole", io.NewSectionReader(file, 0, size))
			if err != nil {
				b.Fatal(err)
			}
			req.ContentLength = size
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
		benchtest.Report(b, size)
	})
}
