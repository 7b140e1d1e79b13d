package notary_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/notary"
	"github.com/asc-auth/action/internal/notarysim"
	"github.com/asc-auth/action/internal/sigv4"
	"github.com/asc-auth/action/internal/token"
	"github.com/asc-auth/action/internal/transfer"
)

// BenchmarkUpload measures Upload on loopback into notarysim's S3
// stand-in (which checks every request's SigV4 signature with smithy-go
// and the SHA-256 of every body, keeping nothing), next to a baseline
// that sends the same bytes the simplest way: one sequential signed PUT
// of the whole file to the same stand-in. Both report MB/s; the hashing
// pass that comes before any upload (Hash) is measured once, as
// hash-MB/s. Settings, from the environment:
//
//	ASC_AUTH_BENCH_SIZE  file size: bytes, or with KiB, MiB or GiB (default 256MiB)
//
// Above notary.MultipartThreshold the upload is multipart (16 MiB parts,
// 4 at once); below it, one PUT like the baseline. Run one case per
// process to read the peak RSS (peak-RSS-MiB, from VmHWM): the client and
// the stand-in share the process, so it bounds the client's from above.
//
//	go test -c -o notary.test ./internal/notary
//	ASC_AUTH_BENCH_SIZE=1GiB /usr/bin/time -v ./notary.test -test.run '^$' -test.bench 'Upload/notary' -test.benchtime 3x
func BenchmarkUpload(b *testing.B) {
	size := benchBytes(b, "ASC_AUTH_BENCH_SIZE", 256<<20)
	path := benchFile(b, size)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sim := notarysim.New(notarysim.WithKeepLimit(0))
	sim.RegisterKey("BENCHKEY01", &key.PublicKey)
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	m, err := token.NewMinter(key, token.Config{KeyID: "BENCHKEY01", IssuerID: issuer, Lifetime: 20 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	tokens := asc.NewTokenCache(func() (string, time.Time, error) {
		tk, err := m.Mint()
		return tk.Value, tk.ExpiresAt, err
	}, time.Now)
	c := &notary.Client{API: asc.NewClient(tokens, asc.WithBaseURL(sim.NotaryURL())), S3Endpoint: sim.S3URL()}

	start := time.Now()
	h, err := notary.Hash(b.Context(), io.NewSectionReader(f, 0, size), size)
	if err != nil {
		b.Fatal(err)
	}
	hashRate := float64(size) / time.Since(start).Seconds() / 1e6
	sub, err := c.Submit(b.Context(), "Bench.zip", h.Sum)
	if err != nil {
		b.Fatal(err)
	}

	b.Run(fmt.Sprintf("notary/size=%s", human(size)), func(b *testing.B) {
		var parts int
		for b.Loop() {
			res, err := c.Upload(b.Context(), f, h, sub, notary.UploadOptions{Concurrency: 4, Client: transfer.NewClient(4)})
			if err != nil {
				b.Fatal(err)
			}
			parts = res.Parts
		}
		report(b, size)
		b.ReportMetric(float64(parts), "parts")
		b.ReportMetric(hashRate, "hash-MB/s")
		if v := sim.Violations(); len(v) > 0 {
			b.Fatalf("violations: %q", v)
		}
	})

	b.Run(fmt.Sprintf("baseline/size=%s", human(size)), func(b *testing.B) {
		u, err := url.Parse(sim.S3URL())
		if err != nil {
			b.Fatal(err)
		}
		u.Path = "/" + sub.Bucket + "/" + sub.Object
		sg := sigv4.Signer{Credentials: sub.Credentials, Region: notary.Region, Service: "s3"}
		hc := &http.Client{Transport: &http.Transport{}}
		for b.Loop() {
			// A SectionReader, not the *os.File, so that neither side gets
			// sendfile and both read the file the same way.
			req, err := http.NewRequestWithContext(b.Context(), http.MethodPut, u.String(), io.NewSectionReader(f, 0, size))
			if err != nil {
				b.Fatal(err)
			}
			req.ContentLength = size
			if err := sg.Sign(req, h.Sum, time.Now()); err != nil {
				b.Fatal(err)
			}
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
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				if kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					b.ReportMetric(float64(kib)/1024, "peak-RSS-MiB")
				}
			}
		}
	}
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
	path := filepath.Join(b.TempDir(), "Bench.zip")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rng := mrand.NewChaCha8([32]byte{2})
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
