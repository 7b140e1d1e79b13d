package notary_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/notary"
	"github.com/asc-auth/action/internal/notarysim"
	"github.com/asc-auth/action/internal/sigv4"
	"github.com/asc-auth/action/internal/token"
	"github.com/asc-auth/action/internal/transfer"
)

const issuer = "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1"

// clock is a fake clock that sleeping moves on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

type env struct {
	sim    *notarysim.Server
	client *notary.Client
	clock  *clock
	masked []string
}

func setup(t *testing.T, opts ...notarysim.Option) *env {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	clk := &clock{t: time.Now().UTC()}
	sim := notarysim.New(append([]notarysim.Option{notarysim.WithClock(clk.Now)}, opts...)...)
	sim.RegisterKey("NOTARYK001", &key.PublicKey)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	m, err := token.NewMinter(key, token.Config{KeyID: "NOTARYK001", IssuerID: issuer, Lifetime: 20 * time.Minute}, token.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	tokens := asc.NewTokenCache(func() (string, time.Time, error) {
		tk, err := m.Mint()
		return tk.Value, tk.ExpiresAt, err
	}, clk.Now)
	e := &env{sim: sim, clock: clk}
	api := asc.NewClient(tokens, asc.WithBaseURL(sim.NotaryURL()), asc.WithClock(clk.Now), asc.WithSleep(clk.Sleep), asc.WithRand(func() float64 { return 0.5 }))
	e.client = &notary.Client{API: api, S3Endpoint: sim.S3URL(), Now: clk.Now, Sleep: clk.Sleep, Rand: func() float64 { return 0.5 },
		Mask: func(v ...string) { e.masked = append(e.masked, v...) }, Log: func(s string) { t.Log(s) }}
	return e
}

func writeFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	p := filepath.Join(t.TempDir(), "App.zip")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// notarize runs submit, upload and wait as the step does.
func (e *env) notarize(t *testing.T, path string) (notary.NewSubmission, notary.Submission, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	h, err := notary.Hash(t.Context(), f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.client.Submit(t.Context(), filepath.Base(path), h.Sum)
	if err != nil {
		return sub, notary.Submission{}, err
	}
	if _, err := e.client.Upload(t.Context(), f, h, sub, notary.UploadOptions{Concurrency: 4, Retry: transfer.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}}); err != nil {
		return sub, notary.Submission{}, err
	}
	s, err := e.client.Wait(t.Context(), sub.ID, notary.WaitOptions{Interval: 20 * time.Second, Timeout: 2 * time.Hour})
	return sub, s, err
}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	three := []notarysim.Issue{
		{Severity: "error", Path: "App.zip/App.app/Contents/MacOS/App", Message: "The signature of the binary is invalid.", DocURL: "https://developer.apple.com/doc#1", Architecture: "x86_64"},
		{Severity: "error", Path: "App.zip/App.app/Contents/MacOS/App", Message: "The executable does not have the hardened runtime enabled.", Architecture: "arm64"},
		{Severity: "warning", Path: "App.zip/App.app/Contents/Frameworks/X.framework/X", Message: "The binary uses an SDK older than the 10.9 SDK.", Architecture: "x86_64"},
	}
	for _, tc := range []struct {
		status string
		issues []notarysim.Issue
	}{{"Accepted", nil}, {"Invalid", three}, {"Rejected", nil}} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			e := setup(t, notarysim.WithOutcome(tc.status, tc.issues...), notarysim.WithDecideAfter(3))
			path, _ := writeFile(t, 300<<10)
			sub, s, err := e.notarize(t, path)
			if err != nil || s.Status != tc.status {
				t.Fatalf("status %q, err %v", s.Status, err)
			}
			raw, log, err := e.client.FetchLog(t.Context(), sub.ID)
			if err != nil || log.Status != tc.status || len(log.Issues) != len(tc.issues) || !bytes.Contains(raw, []byte(sub.ID)) {
				t.Fatalf("log %+v, err %v", log, err)
			}
			if v := e.sim.Violations(); len(v) > 0 {
				t.Errorf("violations: %q", v)
			}
			if !contains(e.masked, sub.Credentials.SecretAccessKey) || !contains(e.masked, sub.Credentials.SessionToken) {
				t.Errorf("the AWS secret key and session token were not handed to Mask")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestWaitSurvivesFaultsAndLongWaits(t *testing.T) {
	t.Parallel()
	e := setup(t, notarysim.WithDecideAfter(300), // 300 polls of 20 s: 100 minutes
		notarysim.WithFault(notarysim.FaultStatus5xx, 8), notarysim.WithFault(notarysim.FaultStatusDrop, 3), notarysim.WithFault(notarysim.FaultExpiredToken, 1))
	path, _ := writeFile(t, 10<<10)
	_, s, err := e.notarize(t, path)
	if err != nil || s.Status != "Accepted" {
		t.Fatalf("status %q, err %v", s.Status, err)
	}
	// Tokens live 20 minutes; a 100-minute wait needs fresh ones.
	if n := e.sim.Tokens(); n < 5 {
		t.Errorf("%d distinct tokens over a 100-minute wait, want at least 5", n)
	}
}

func TestTimeoutNamesTheResumeCommand(t *testing.T) {
	t.Parallel()
	e := setup(t, notarysim.WithDecideAfter(1000))
	path, _ := writeFile(t, 10<<10)
	f, _ := os.Open(path)
	defer f.Close()
	h, _ := notary.Hash(t.Context(), f, 10<<10)
	sub, err := e.client.Submit(t.Context(), "App.zip", h.Sum)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Upload(t.Context(), f, h, sub, notary.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Wait(t.Context(), sub.ID, notary.WaitOptions{Interval: 20 * time.Second, Timeout: 10 * time.Minute})
	var te *notary.TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "asc-auth notarize --wait "+sub.ID) {
		t.Fatalf("err = %v", err)
	}
}

func TestAmbiguousSubmit(t *testing.T) {
	t.Parallel()
	t.Run("landed", func(t *testing.T) {
		t.Parallel()
		e := setup(t, notarysim.WithFault(notarysim.FaultSubmitLanded, 1))
		path, _ := writeFile(t, 10<<10)
		_, _, err := e.notarize(t, path)
		var le *notary.LandedError
		if !errors.As(err, &le) {
			t.Fatalf("err = %v", err)
		}
		if n := len(e.sim.Submissions()); n != 1 {
			t.Errorf("%d submissions, want 1", n)
		}
	})
	t.Run("not landed", func(t *testing.T) {
		t.Parallel()
		e := setup(t, notarysim.WithFault(notarysim.FaultSubmit503, 1))
		path, _ := writeFile(t, 10<<10)
		_, s, err := e.notarize(t, path)
		if err != nil || s.Status != "Accepted" {
			t.Fatalf("status %q, err %v", s.Status, err)
		}
		if n := len(e.sim.Submissions()); n != 1 {
			t.Errorf("%d submissions, want 1", n)
		}
	})
}

func TestMultipartAboveThreshold(t *testing.T) {
	t.Parallel()
	e := setup(t, notarysim.WithKeepLimit(200<<20))
	path, data := writeFile(t, notary.MultipartThreshold+3<<20)
	_, s, err := e.notarize(t, path)
	if err != nil || s.Status != "Accepted" {
		t.Fatalf("status %q, err %v", s.Status, err)
	}
	subs := e.sim.Submissions()
	sum := sha256.Sum256(data)
	if len(subs) != 1 || !subs[0].Multipart || subs[0].UploadedSHA != hex.EncodeToString(sum[:]) {
		t.Errorf("submission %+v", subs[0])
	}
}

// TestS3RefusesAWrongSignature sends a PUT signed with the wrong secret,
// and one whose key's ':' goes out unencoded.
func TestS3RefusesBadRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sub, err := e.client.Submit(t.Context(), "App.zip", strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sub.Object, ":") {
		t.Fatalf("object %s has no ':'", sub.Object)
	}
	body := []byte("payload")
	sum := sha256.Sum256(body)
	put := func(secret string, raw bool) int {
		u := e.sim.S3URL() + "/" + sub.Bucket + "/" + sub.Object
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
		creds := sub.Credentials
		creds.SecretAccessKey = secret
		if err := (sigv4.Signer{Credentials: creds, Region: "us-west-2", Service: "s3"}).Sign(req, hex.EncodeToString(sum[:]), e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if raw {
			req.URL.RawPath = ""
			req.URL.Opaque = "//" + req.URL.Host + req.URL.Path // ':' as is
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("wrong"+sub.Credentials.SecretAccessKey, false); code != http.StatusForbidden {
		t.Errorf("wrong secret: %d, want 403", code)
	}
	if code := put(sub.Credentials.SecretAccessKey, true); code != http.StatusForbidden {
		t.Errorf("':' on the wire: %d, want 403", code)
	}
	if code := put(sub.Credentials.SecretAccessKey, false); code != http.StatusOK {
		t.Errorf("a good PUT: %d, want 200", code)
	}
}

// TestEchoedS3CredentialsAreTakenOut has the S3 stand-in quote the
// session token and the secret key in its error, for a single PUT and
// for a multipart upload: the error keeps S3's message but neither
// secret, whole or cut short.
func TestEchoedS3CredentialsAreTakenOut(t *testing.T) {
	t.Parallel()
	for name, size := range map[string]int{"single PUT": 1 << 20, "multipart": notary.MultipartThreshold + 1} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, notarysim.WithFault(notarysim.FaultEchoS3Credentials, 1))
			path, _ := writeFile(t, size)
			_, _, err := e.notarize(t, path)
			if err == nil || !strings.Contains(err.Error(), notarysim.EchoMarker) {
				t.Fatalf("err = %v; want the echoed S3 error", err)
			}
			sub := e.sim.Submissions()[0]
			for _, s := range []string{sub.Secret, sub.Token} {
				if strings.Contains(err.Error(), s[:12]) || strings.Contains(err.Error(), s[len(s)-12:]) {
					t.Errorf("the error keeps part of a secret: %v", err)
				}
			}
		})
	}
}
