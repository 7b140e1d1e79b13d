package notary_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/benchtest"
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
	size := benchtest.Size(b, "ASC_AUTH_BENCH_SIZE", 256<<20)
	path := benchtest.File(b, size, "Bench.zip")
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

	b.Run(fmt.Sprintf("notary/size=%s", benchtest.Human(size)), func(b *testing.B) {
		var parts int
		for b.Loop() {
			res, err := c.Upload(b.Context(), f, h, sub, notary.UploadOptions{Concurrency: 4, Client: transfer.NewClient(4)})
			if err != nil {
				b.Fatal(err)
			}
			parts = res.Parts
		}
		benchtest.Report(b, size)
		b.ReportMetric(float64(parts), "parts")
		b.ReportMetric(hashRate, "hash-MB/s")
		if v := sim.Violations(); len(v) > 0 {
			b.Fatalf("violations: %q", v)
		}
	})

	b.Run(fmt.Sprintf("baseline/size=%s", benchtest.Human(size)), func(b *testing.B) {
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
		benchtest.Report(b, size)
	})
}
