package upload

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	size := benchBytes(b, "ASC_AUTH_BENCH_SIZE", 64<<20)
	partSize := benchBytes(b, "ASC_AUTH_BENCH_PART_SIZE", 10<<20)
	conc := int(benchBytes(b, "ASC_AUTH_BENCH_CONCURRENCY", DefaultConcurrency))
	path := benchFile(b, size)
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	src := source(b, file)

	b.Run(fmt.Sprintf("parallel/size=%s/part=%s/conc=%d", human(size), human(partSize), conc), func(b *testing.B) {
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
		report(b, size)
		// The parts alone, without the API calls (and, in md5 mode, the
		// wait for the MD5 pass, which bounds Run on loopback).
		b.ReportMetric(float64(size)*float64(b.N)/sending.Seconds()/1e6, "parts-MB/s")
	})

	b.Run(fmt.Sprintf("baseline/size=%s", human(size)), func(b *testing.B) {
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
		report(b, size)
	})
}

// report adds MB/s and, where /proc is, the process's peak RSS so far.
func report(b *testing.B, size int64) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/s/1e6, "MB/s")
	}
	if kib, ok := peakRSS(); ok {
		b.ReportMetric(float64(kib)/1024, "peak-RSS-MiB")
	}
}

// peakRSS reads VmHWM, the process's peak resident set, in KiB.
func peakRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// benchBytes reads a size from the environment: a number of bytes, or one
// with a KiB, MiB or GiB suffix.
func benchBytes(b *testing.B, name string, def int64) int64 {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if s, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = s, m
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q is not a positive size such as 1GiB", name, os.Getenv(name))
	}
	return n * mult
}

// benchFile writes size pseudo-random bytes, 1 MiB at a time.
func benchFile(b *testing.B, size int64) string {
	path := filepath.Join(b.TempDir(), "Bench.ipa")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		chunk := buf[:min(int64(len(buf)), left)]
		_, _ = rng.Read(chunk)
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return strconv.FormatInt(n, 10)
}
