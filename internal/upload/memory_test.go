package upload

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestRunMemoryStaysFlat uploads a 256 MiB sparse file in 1 MiB parts, 8 at
// a time, sampling the heap meanwhile: what is in use must stay a small
// fraction of the file, since parts are streamed from it, never loaded.
// It does not run in parallel with other tests, which would add their heap.
func TestRunMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 256 MiB")
	}
	const (
		size     = 256 << 20
		partSize = 1 << 20
		// limit is the growth allowed, an eighth of the file: connection
		// buffers (256 KiB write buffer each), the hashing buffer, the
		// test servers and garbage not yet collected come to about 5 MiB.
		limit = size / 8
	)
	path := filepath.Join(t.TempDir(), "Big.ipa")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := file.Truncate(size); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f := newFake(t, size, partSize, nil)
	logs := &logBook{t: t}
	opts := f.options(logs)
	opts.Concurrency = 8
	opts.Checksum = ChecksumMD5

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var (
		peak uint64
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	wg.Go(func() {
		var m runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	res, err := Run(t.Context(), f.client(), source(t, file), testPlan, opts)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Parts != size/partSize || res.MD5 != "1f5039e50bd66b290c56684d8550c6c2" { // the MD5 of 256 MiB of zeros
		t.Errorf("result %+v", res)
	}
	growth := int64(peak) - int64(base.HeapInuse)
	t.Logf("heap in use: %d KiB before, %d KiB at most during the upload (+%d KiB) for a %d MiB file",
		base.HeapInuse>>10, peak>>10, growth>>10, size>>20)
	if growth > limit {
		t.Errorf("the heap grew by %d MiB uploading a %d MiB file; want under %d MiB", growth>>20, size>>20, limit>>20)
	}
}
