package upload_test

// Integration tests: Preflight, Run and Wait against the App Store Connect
// simulator on loopback, with a generated .ipa. Every test has its own
// simulator, key, app and fake clock, shared by the simulator, the token
// minter, the client and the uploader; every wait (backoffs, Retry-After,
// polls) advances that clock instead of sleeping, so an hour of processing
// takes no time. Each test checks what the simulator logged as well as
// what Run returned.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/clocktest"
	"github.com/asc-auth/action/internal/token"
	"github.com/asc-auth/action/internal/transfer"
	"github.com/asc-auth/action/internal/upload"
)

const (
	simKeyID  = "SIMKEY0001"
	simIssuer = "57246542-96fe-1a63-e053-0824d011072a"

	simVersion = "1.0.0"
	// simPartSize makes the .ipa about a dozen parts, so that several are
	// in flight at once and one can fail while others succeed.
	simPartSize = 256 << 10
	// simAssetSize makes the .ipa a little over 3 MiB.
	simAssetSize = 3 << 20
)

// simSetup tunes a simulator; the zero value is simPartSize parts and
// processing that is over by the first read after the commit.
type simSetup struct {
	partSize                int64
	uploadDelay, buildDelay time.Duration // ascsim.WithProcessing
	lifetime                time.Duration // the tokens' lifetime; 0 is token.DefaultLifetime
}

// simFixture is one simulator on loopback and a client of it.
type simFixture struct {
	t      *testing.T
	sim    *ascsim.Server
	client *asc.Client
	clock  *clocktest.Clock
	app    string

	leaks atomic.Int64 // part requests that carried an Authorization header

	mu     sync.Mutex
	tokens map[string]bool // the distinct Authorization headers the client sent
}

func newSimFixture(t *testing.T, s simSetup) *simFixture {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	partSize := s.partSize
	if partSize == 0 {
		partSize = simPartSize
	}
	sim, err := ascsim.New(
		ascsim.WithClock(clk.Now),
		ascsim.WithPartSize(partSize),
		ascsim.WithProcessing(s.uploadDelay, s.buildDelay),
		ascsim.WithUploadDir(t.TempDir()),
	)
	if err != nil {
		t.Fatal(err)
	}
	sim.RegisterKey(simKeyID, simIssuer, false, &key.PublicKey)
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })

	m, err := token.NewMinter(key, token.Config{KeyID: simKeyID, IssuerID: simIssuer, Lifetime: s.lifetime}, token.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	tokens := asc.NewTokenCache(func() (string, time.Time, error) {
		tok, err := m.Mint()
		return tok.Value, tok.ExpiresAt, err
	}, clk.Now)
	f := &simFixture{t: t, sim: sim, clock: clk, tokens: map[string]bool{}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	f.client = asc.NewClient(tokens,
		asc.WithBaseURL(base),
		asc.WithClock(clk.Now),
		asc.WithHTTPClient(&http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			f.mu.Lock()
			f.tokens[r.Header.Get("Authorization")] = true
			f.mu.Unlock()
			return tr.RoundTrip(r)
		})}),
		asc.WithSleep(f.clock.Sleep),
		asc.WithRand(func() float64 { return 0.5 }),
	)
	f.app = sim.AddApp("com.example.demo", "Demo")
	return f
}

type roundTripper func(*http.Request) (*http.Response, error)

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return rt(r) }

func (f *simFixture) Tokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

// options are Run's options on the fake clock, with a part client that
// counts any Authorization header: presigned URLs must never see the API
// token.
func (f *simFixture) options() upload.Options {
	pc := transfer.NewClient(upload.DefaultConcurrency)
	next := pc.Transport
	f.t.Cleanup(pc.CloseIdleConnections)
	pc.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") != "" {
			f.leaks.Add(1)
		}
		return next.RoundTrip(r)
	})
	return upload.Options{
		PartHTTPClient: pc,
		PollInterval:   time.Minute,
		Now:            f.clock.Now,
		Sleep:          f.clock.Sleep,
		Rand:           func() float64 { return 0.5 },
	}
}

func (f *simFixture) plan(build string) upload.Plan {
	return upload.Plan{AppID: f.app, Platform: asc.PlatformIOS, ShortVersion: simVersion, BuildVersion: build}
}

// run is what the action does: Preflight, then Run.
func (f *simFixture) run(src upload.Source, plan upload.Plan, opts upload.Options) (upload.Result, error) {
	f.t.Helper()
	if _, err := upload.Preflight(f.t.Context(), f.client, plan); err != nil {
		f.t.Fatalf("Preflight: %v", err)
	}
	res, err := upload.Run(f.t.Context(), f.client, src, plan, opts)
	if n := f.leaks.Load(); n > 0 {
		f.t.Errorf("%d part requests carried an Authorization header", n)
	}
	return res, err
}

// ipa writes a generated .ipa of build number build into a temporary
// directory and returns it, open, with its MD5.
func ipa(t *testing.T, build string) (upload.Source, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "App.ipa")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = bundletest.WriteIPA(w, bundletest.IPAOptions{ShortVersion: simVersion, BuildVersion: build, AssetSize: simAssetSize, AssetSeed: 7})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	src, err := upload.FileSource(r)
	if err != nil {
		t.Fatal(err)
	}
	return src, hex.EncodeToString(h.Sum(nil))
}

// Reading the simulator's log.

// matching returns the logged requests of method on exactly path, or
// under path when it ends in "/".
func matching(log []ascsim.Request, method, path string) []ascsim.Request {
	var out []ascsim.Request
	for _, r := range log {
		if r.Method != method {
			continue
		}
		if r.Path == path || (strings.HasSuffix(path, "/") && strings.HasPrefix(r.Path, path)) {
			out = append(out, r)
		}
	}
	return out
}

func statuses(rs []ascsim.Request) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Status
	}
	return out
}

func partPath(fileID string, n int) string { return "/upload/" + fileID + "/" + strconv.Itoa(n) }

// checkNoUnauthorized fails if the simulator refused any token.
func checkNoUnauthorized(t *testing.T, log []ascsim.Request) {
	t.Helper()
	for _, r := range log {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("%s %s got 401 (%s)", r.Method, r.Path, r.Note)
		}
	}
}

// checkAbandoned checks the log of a Run that failed before its commit:
// no PATCH, and the build upload deleted so its build number is free.
func checkAbandoned(t *testing.T, f *simFixture, res upload.Result) {
	t.Helper()
	log := f.sim.Requests()
	if p := matching(log, http.MethodPatch, "/v1/buildUploadFiles/"); len(p) != 0 {
		t.Errorf("a commit was sent after a failure: %v", statuses(p))
	}
	if d := matching(log, http.MethodDelete, "/v1/buildUploads/"+res.BuildUploadID); len(d) != 1 || d[0].Status != http.StatusNoContent {
		t.Errorf("DELETE of the uncommitted build upload %s: %v, want one 204", res.BuildUploadID, statuses(d))
	}
	if f.sim.UploadedParts(res.BuildUploadFileID) != nil {
		t.Errorf("the simulator still holds build upload file %s", res.BuildUploadFileID)
	}
}

func TestSimHappyPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		waitProcessing time.Duration
		wantProcessing string
	}{
		{"wait for the upload", 0, "PROCESSING"},
		{"wait for processing", time.Hour, "VALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, simSetup{uploadDelay: 5 * time.Minute, buildDelay: 10 * time.Minute})
			src, _ := ipa(t, "7")
			opts := f.options()
			opts.WaitForProcessing = tt.waitProcessing

			res, err := f.run(src, f.plan("7"), opts)
			if err != nil {
				t.Fatal(err)
			}
			wantParts := int((src.Size + simPartSize - 1) / simPartSize)
			if res.BuildUploadID == "" || res.BuildUploadFileID == "" || res.BuildID == "" ||
				res.UploadState != "COMPLETE" || res.ProcessingState != tt.wantProcessing ||
				res.Parts != wantParts || res.Bytes != src.Size || res.MD5 != "" || res.Retries != 0 {
				t.Errorf("result %+v\nwant IDs, COMPLETE, %s, %d parts, %d bytes, no MD5 (checksum none), no retries",
					res, tt.wantProcessing, wantParts, src.Size)
			}

			parts := f.sim.UploadedParts(res.BuildUploadFileID)
			if len(parts) != wantParts {
				t.Fatalf("the simulator has %d parts, want %d", len(parts), wantParts)
			}
			var next int64
			for _, p := range parts {
				if !p.Complete || p.Offset != next || p.Received != p.Length || p.Attempts != 1 {
					t.Errorf("part %+v: want complete, at offset %d, stored once", p, next)
				}
				next += p.Length
			}
			if next != src.Size {
				t.Errorf("the parts hold %d bytes, want %d", next, src.Size)
			}

			log := f.sim.Requests()
			checkNoUnauthorized(t, log)
			for _, c := range []struct {
				method, path string
				want         []int
			}{
				{"POST", "/v1/buildUploads", []int{201}},
				{"POST", "/v1/buildUploadFiles", []int{201}},
				{"PATCH", "/v1/buildUploadFiles/" + res.BuildUploadFileID, []int{200}},
				{"DELETE", "/v1/buildUploads/", nil},
			} {
				if got := statuses(matching(log, c.method, c.path)); !slices.Equal(got, c.want) {
					t.Errorf("%s %s: statuses %v, want %v", c.method, c.path, got, c.want)
				}
			}
			puts := matching(log, "PUT", "/upload/")
			if len(puts) != wantParts {
				t.Errorf("%d part PUTs, want %d", len(puts), wantParts)
			}
			// The commit comes after every part was stored, and only reads
			// of this upload and its build follow it.
			commit := slices.IndexFunc(log, func(r ascsim.Request) bool { return r.Method == "PATCH" })
			for i, r := range log {
				switch {
				case r.Method == "PUT" && (i > commit || r.Status != http.StatusOK):
					t.Errorf("request %d: PUT %s %d, at or after the commit (request %d)", i, r.Path, r.Status, commit)
				case i > commit && r.Method != "GET":
					t.Errorf("request %d after the commit: %s %s", i, r.Method, r.Path)
				case i > commit && r.Path != "/v1/buildUploads/"+res.BuildUploadID && r.Path != "/v1/builds/"+res.BuildID:
					t.Errorf("request %d after the commit reads %s", i, r.Path)
				}
			}
			readsBuild := len(matching(log, "GET", "/v1/builds/"+res.BuildID)) > 0
			if readsBuild != (tt.waitProcessing > 0) {
				t.Errorf("GET /v1/builds/%s sent: %v, want %v", res.BuildID, readsBuild, tt.waitProcessing > 0)
			}

			b, err := f.client.Build(t.Context(), res.BuildID)
			if err != nil {
				t.Fatal(err)
			}
			if b.Attributes == nil || b.Attributes.Version != "7" || string(b.Attributes.ProcessingState) != tt.wantProcessing {
				t.Errorf("build %s: %+v, want version 7, %s", res.BuildID, b.Attributes, tt.wantProcessing)
			}
		})
	}
}

func TestSimPartFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       ascsim.PartFault
		wantRetries int
		wantPuts    []int // the statuses of the faulted part's PUTs, in order
		wantErr     bool  // a *upload.PartError for the faulted part, with:
		wantStatus  int
		wantExpired bool
		wantText    string
	}{
		{
			name:        "500 once",
			fault:       ascsim.PartFault{Kind: ascsim.PartFail500, Part: 3, Times: 1},
			wantRetries: 1, wantPuts: []int{500, 200},
		},
		{
			name:        "500 three times",
			fault:       ascsim.PartFault{Kind: ascsim.PartFail500, Part: 3, Times: 3},
			wantRetries: 3, wantPuts: []int{500, 500, 500, 200},
		},
		{
			name:    "500 forever",
			fault:   ascsim.PartFault{Kind: ascsim.PartFail500, Part: 3},
			wantErr: true, wantStatus: 500, wantText: "after 5 attempts",
			wantRetries: upload.DefaultPartAttempts - 1, wantPuts: []int{500, 500, 500, 500, 500},
		},
		{
			// The connection is reset halfway through the body: no answer,
			// logged with status 0.
			name:        "reset mid-body",
			fault:       ascsim.PartFault{Kind: ascsim.PartReset, Part: 2, Times: 1},
			wantRetries: 1, wantPuts: []int{0, 200},
		},
		{
			// Slow is not stalled: the part is held, then stored, with no
			// retry.
			name:        "slow part",
			fault:       ascsim.PartFault{Kind: ascsim.PartSlow, Part: 4, Delay: 150 * time.Millisecond, Times: 1},
			wantRetries: 0, wantPuts: []int{200},
		},
		{
			// A refused presigned URL cannot get better by sending again.
			name:    "expired operation URL",
			fault:   ascsim.PartFault{Kind: ascsim.PartExpiredURL, Part: 2, Times: 1},
			wantErr: true, wantStatus: 403, wantExpired: true, wantText: "expired",
			wantRetries: 0, wantPuts: []int{403},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, simSetup{})
			f.sim.InjectPartFault(tt.fault)
			src, _ := ipa(t, "7")
			opts := f.options()
			var (
				mu    sync.Mutex
				lines []string
			)
			opts.Log = func(s string) {
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, s)
			}

			res, err := f.run(src, f.plan("7"), opts)
			mu.Lock()
			retried := 0
			for _, l := range lines {
				if strings.Contains(l, "X-Amz-") {
					t.Errorf("log line %q holds the presigned URL's query", l)
				}
				if strings.HasPrefix(l, "part "+strconv.Itoa(tt.fault.Part)+" of ") && strings.Contains(l, "; attempt ") {
					retried++
				}
			}
			mu.Unlock()
			if retried != tt.wantRetries {
				t.Errorf("%d log lines announce a retry of part %d, want %d", retried, tt.fault.Part, tt.wantRetries)
			}
			if res.Retries != tt.wantRetries {
				t.Errorf("Retries = %d, want %d", res.Retries, tt.wantRetries)
			}
			log := f.sim.Requests()
			checkNoUnauthorized(t, log)
			if got := statuses(matching(log, "PUT", partPath(res.BuildUploadFileID, tt.fault.Part))); !slices.Equal(got, tt.wantPuts) {
				t.Errorf("PUTs of part %d: %v, want %v", tt.fault.Part, got, tt.wantPuts)
			}

			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if res.UploadState != "COMPLETE" || res.MD5 != "" {
					t.Errorf("result %+v, want COMPLETE, no MD5 (checksum none)", res)
				}
				for _, p := range f.sim.UploadedParts(res.BuildUploadFileID) {
					if !p.Complete || p.Attempts != 1 {
						t.Errorf("part %+v: want stored whole, once", p)
					}
				}
				if p := matching(log, "PATCH", "/v1/buildUploadFiles/"+res.BuildUploadFileID); len(p) != 1 || p[0].Status != 200 {
					t.Errorf("commits: %v, want one 200", statuses(p))
				}
				return
			}

			pe, ok := errors.AsType[*upload.PartError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want a *upload.PartError", err, err)
			}
			if pe.Part != tt.fault.Part || pe.PartNumber != int64(tt.fault.Part) || pe.Parts != res.Parts ||
				pe.Offset != int64(tt.fault.Part-1)*simPartSize || pe.Length != simPartSize ||
				pe.StatusCode != tt.wantStatus || pe.Expired != tt.wantExpired || pe.Attempts != len(tt.wantPuts) || pe.Method != "PUT" {
				t.Errorf("PartError %+v", pe)
			}
			msg := err.Error()
			for _, want := range []string{"part " + strconv.Itoa(tt.fault.Part) + " of " + strconv.Itoa(res.Parts), tt.wantText, "not committed"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, "X-Amz-") {
				t.Errorf("error %q holds the presigned URL's signature", msg)
			}
			checkAbandoned(t, f, res)
		})
	}
}

// changingDisk stands for a disk whose contents changed under the upload:
// the bytes the MD5 pass reads differ, by one flipped byte, from those the
// parts sent. Run hashes the file in one sequential pass of 256 KiB reads
// while the parts go out, each part read through an io.SectionReader that
// never reads past the part's end. With parts of partSize bytes, not a
// divisor of 256 KiB, the hashing pass's reads straddle part boundaries and
// the parts' reads never do: so a read that straddles a boundary is the
// hashing pass, and only those are changed.
type changingDisk struct {
	f        io.ReaderAt
	partSize int64
	changed  atomic.Int64
}

func (d *changingDisk) ReadAt(p []byte, off int64) (int, error) {
	n, err := d.f.ReadAt(p, off)
	if boundary := (off/d.partSize + 1) * d.partSize; boundary < off+int64(n) {
		p[boundary-off] ^= 0xff
		d.changed.Add(1)
	}
	return n, err
}

func TestSimChecksum(t *testing.T) {
	t.Parallel()
	const partSize = 192 << 10 // not a divisor of the hashing pass's 256 KiB reads: see changingDisk
	tests := []struct {
		name     string
		changed  bool // the file changes under the upload
		checksum upload.ChecksumMode
		wantErr  bool
	}{
		{"md5 of a file that changed is refused", true, upload.ChecksumMD5, true},
		{"md5 of the file is committed", false, upload.ChecksumMD5, false},
		// By default the commit carries no checksum (see ChecksumMode).
		{"no checksum is sent by default", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, simSetup{partSize: partSize})
			src, sum := ipa(t, "7")
			disk := &changingDisk{f: src.File, partSize: partSize}
			if tt.changed {
				src.File = disk
			}
			opts := f.options()
			opts.Checksum = tt.checksum

			res, err := f.run(src, f.plan("7"), opts)
			log := f.sim.Requests()
			commits := matching(log, "PATCH", "/v1/buildUploadFiles/"+res.BuildUploadFileID)
			if tt.wantErr {
				if disk.changed.Load() == 0 {
					t.Fatal("the hashing pass was never changed: the test proves nothing")
				}
				if err == nil {
					t.Fatalf("Run succeeded with a file that changed under it: %+v", res)
				}
				if !errors.Is(err, asc.ErrConflict) {
					t.Errorf("err = %v, want an asc.ErrConflict", err)
				}
				for _, want := range []string{"checksum mismatch", "refused the commit with the file's MD5 " + res.MD5} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if res.MD5 == sum {
					t.Errorf("MD5 = the file's %s, want the changed read's", sum)
				}
				if got := statuses(commits); !slices.Equal(got, []int{409}) {
					t.Errorf("commits: %v, want one 409", got)
				}
				if d := matching(log, "DELETE", "/v1/buildUploads/"+res.BuildUploadID); len(d) != 1 || d[0].Status != 204 {
					t.Errorf("DELETE of the refused upload: %v, want one 204", statuses(d))
				}
				return
			}

			if err != nil {
				t.Fatal(err)
			}
			wantMD5 := ""
			if tt.checksum == upload.ChecksumMD5 {
				wantMD5 = sum
			}
			if res.MD5 != wantMD5 || res.UploadState != "COMPLETE" {
				t.Errorf("result %+v, want COMPLETE, MD5 %q", res, wantMD5)
			}
			if got := statuses(commits); !slices.Equal(got, []int{200}) {
				t.Errorf("commits: %v, want one 200", got)
			}
			file, err := f.client.BuildUploadFile(t.Context(), res.BuildUploadFileID)
			if err != nil {
				t.Fatal(err)
			}
			var got *asc.Checksum
			if a := file.Attributes; a != nil && a.SourceFileChecksums != nil {
				got = a.SourceFileChecksums.File
			}
			switch {
			case tt.checksum == upload.ChecksumMD5 && (got == nil || got.Hash != sum || got.Algorithm != asc.ChecksumAlgorithmMD5):
				t.Errorf("the commit carried checksum %+v, want MD5 %s", got, sum)
			case tt.checksum != upload.ChecksumMD5 && got != nil:
				t.Errorf("the commit carried checksum %+v, want none", got)
			}
		})
	}
}

func TestSimCreateRateLimited(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, simSetup{})
	f.sim.Inject(ascsim.Fault{Kind: ascsim.FaultRateLimit, Method: "POST", PathPrefix: "/v1/buildUploads", RetryAfter: 2 * time.Second, Times: 1})
	src, _ := ipa(t, "7")

	res, err := f.run(src, f.plan("7"), f.options())
	if err != nil {
		t.Fatal(err)
	}
	if res.UploadState != "COMPLETE" {
		t.Errorf("result %+v", res)
	}
	creates := matching(f.sim.Requests(), "POST", "/v1/buildUploads")
	if got := statuses(creates); !slices.Equal(got, []int{429, 201}) {
		t.Fatalf("POST /v1/buildUploads: %v, want 429 then 201", got)
	}
	// Retry-After was honoured, by the server's clock, and nothing else
	// waited in between.
	if gap := creates[1].Time.Sub(creates[0].Time); gap != 2*time.Second {
		t.Errorf("the second POST came %s after the first, want 2s (Retry-After)", gap)
	}
	if !slices.Contains(f.clock.Sleeps(), 2*time.Second) {
		t.Errorf("sleeps %v, want one of 2s", f.clock.Sleeps())
	}
	if n := len(matching(f.sim.Requests(), "POST", "/v1/buildUploadFiles")); n != 1 {
		t.Errorf("%d POST /v1/buildUploadFiles, want 1", n)
	}
}

func TestSimFailedState(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, simSetup{uploadDelay: 3 * time.Minute})
	errs := []ascsim.StateDetail{
		{Code: "90062", Description: "The value for key CFBundleShortVersionString must be higher than the previously approved version."},
		{Code: "90683", Description: "Missing purpose string in Info.plist."},
	}
	f.sim.FailNextUpload(errs)
	src, _ := ipa(t, "7")
	var (
		mu  sync.Mutex
		got []upload.Message
	)
	opts := f.options()
	opts.WaitForProcessing = time.Hour
	opts.Messages = func(m upload.Message) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m)
	}

	res, err := f.run(src, f.plan("7"), opts)
	se, ok := errors.AsType[*upload.StateError](err)
	if !ok {
		t.Fatalf("err = %v (%T), want a *upload.StateError", err, err)
	}
	want := make([]upload.Message, len(errs))
	for i, e := range errs {
		want[i] = upload.Message{Level: upload.LevelError, Code: e.Code, Description: e.Description}
	}
	if se.Resource != "build upload" || se.ID != res.BuildUploadID || se.State != "FAILED" || !slices.Equal(se.Errors, want) {
		t.Errorf("StateError %+v, want build upload %s FAILED with %v", se, res.BuildUploadID, want)
	}
	for _, e := range errs {
		if !strings.Contains(err.Error(), e.Code+": "+e.Description) {
			t.Errorf("error %q does not give %s", err, e.Code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(res.Messages, want) || !slices.Equal(got, want) {
		t.Errorf("Result.Messages %v, callback got %v, want %v", res.Messages, got, want)
	}
	if res.UploadState != "FAILED" || res.BuildID != "" {
		t.Errorf("result %+v, want FAILED without a build", res)
	}
	log := f.sim.Requests()
	if c := matching(log, "PATCH", "/v1/buildUploadFiles/"); len(c) != 1 || c[0].Status != 200 {
		t.Errorf("commits: %v, want one 200", statuses(c))
	}
	// A committed upload is Apple's record of the failure: it is kept.
	if d := matching(log, "DELETE", "/v1/buildUploads/"); len(d) != 0 {
		t.Errorf("a committed build upload was deleted")
	}
	if polls := matching(log, "GET", "/v1/buildUploads/"+res.BuildUploadID); len(polls) != 4 {
		t.Errorf("%d polls, want 4 (a minute apart, FAILED after 3 minutes)", len(polls))
	}
}

func TestSimTokenExpiresDuringLongWait(t *testing.T) {
	t.Parallel()
	const lifetime = 5 * time.Minute
	f := newSimFixture(t, simSetup{lifetime: lifetime, uploadDelay: 40 * time.Minute, buildDelay: 20 * time.Minute})
	src, _ := ipa(t, "7")
	opts := f.options()
	opts.WaitForProcessing = 2 * time.Hour
	opts.PollInterval = time.Minute

	res, err := f.run(src, f.plan("7"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.UploadState != "COMPLETE" || res.ProcessingState != "VALID" || res.BuildID == "" {
		t.Errorf("result %+v, want COMPLETE and a VALID build", res)
	}
	log := f.sim.Requests()
	checkNoUnauthorized(t, log)
	if span := log[len(log)-1].Time.Sub(log[0].Time); span < time.Hour {
		t.Errorf("the requests span %s of the server's clock, want an hour or more", span)
	}
	// One token serves about lifetime − backdate − RefreshMargin (3
	// minutes) of the hour: about twenty.
	if n, atLeast := f.Tokens(), int(time.Hour/lifetime); n < atLeast {
		t.Errorf("%d distinct tokens over an hour of 5-minute tokens, want at least %d", n, atLeast)
	}
}

func TestSimPreflightBuildNumberTaken(t *testing.T) {
	t.Parallel()
	type seed struct {
		version, number, state string
		upload                 bool // a build upload in that state, not a build
	}
	tests := []struct {
		name        string
		seeds       []seed
		build       string
		wantNext    string // "" if the number is free
		wantTakenBy string
	}{
		{
			name:  "a build has it",
			seeds: []seed{{simVersion, "5", "VALID", false}, {simVersion, "7", "VALID", false}, {simVersion, "9", "PROCESSING", false}},
			build: "7", wantNext: "10", wantTakenBy: "build ",
		},
		{
			name:  "an upload in flight has it",
			seeds: []seed{{simVersion, "5", "VALID", false}, {simVersion, "12", "PROCESSING", true}},
			build: "12", wantNext: "13", wantTakenBy: "build upload ",
		},
		{
			name:  "an upload awaiting its file has it",
			seeds: []seed{{simVersion, "8", "VALID", false}, {simVersion, "3", "AWAITING_UPLOAD", true}},
			build: "3", wantNext: "9", wantTakenBy: "(AWAITING_UPLOAD)",
		},
		{
			name:  "compared as numbers",
			seeds: []seed{{simVersion, "7.0", "VALID", false}},
			build: "7", wantNext: "7.1", wantTakenBy: "build ",
		},
		{
			name:  "a failed upload frees its number",
			seeds: []seed{{simVersion, "6", "VALID", false}, {simVersion, "7", "FAILED", true}},
			build: "7",
		},
		{
			name:  "another version's build does not count",
			seeds: []seed{{"2.0.0", "7", "VALID", false}},
			build: "7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, simSetup{})
			for _, s := range tt.seeds {
				if s.upload {
					f.sim.AddBuildUpload(f.app, "IOS", s.version, s.number, s.state)
				} else {
					f.sim.AddBuild(f.app, "IOS", s.version, s.number, s.state, f.clock.Now().Add(-time.Hour))
				}
			}

			pre, err := upload.Preflight(t.Context(), f.client, f.plan(tt.build))
			for _, r := range f.sim.Requests() {
				if r.Method != "GET" || r.Status != http.StatusOK {
					t.Errorf("Preflight sent %s %s (%d), want only successful GETs", r.Method, r.Path, r.Status)
				}
			}
			if pre.AppID != f.app || pre.BundleID != "com.example.demo" {
				t.Errorf("PreflightResult %+v", pre)
			}
			if tt.wantNext == "" {
				if err != nil {
					t.Fatalf("build number %s: %v, want it free", tt.build, err)
				}
				return
			}
			taken, ok := errors.AsType[*upload.BuildNumberTakenError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want a *upload.BuildNumberTakenError", err, err)
			}
			if !errors.Is(err, upload.ErrBuildNumberTaken) {
				t.Error("errors.Is(err, ErrBuildNumberTaken) = false")
			}
			if taken.Next != tt.wantNext || taken.BuildNumber != tt.build || taken.Version != simVersion || !strings.Contains(taken.TakenBy, tt.wantTakenBy) {
				t.Errorf("%+v, want next %s, taken by %q…", taken, tt.wantNext, tt.wantTakenBy)
			}
			if !strings.Contains(err.Error(), "CFBundleVersion "+tt.wantNext) {
				t.Errorf("error %q does not say which build number to use", err)
			}
		})
	}
}

func TestSimWaitTimesOut(t *testing.T) {
	t.Parallel()
	const wait = 10 * time.Minute
	tests := []struct {
		name                    string
		uploadDelay, buildDelay time.Duration
		wantUpload, wantBuild   string // the states when the wait ran out
		wantHint                func(res upload.Result) string
	}{
		{
			name:        "the upload is still processing",
			uploadDelay: 30 * time.Minute, buildDelay: 10 * time.Minute,
			wantUpload: "PROCESSING",
			wantHint:   func(res upload.Result) string { return "GET /v1/buildUploads/" + res.BuildUploadID },
		},
		{
			name:        "the build is still processing",
			uploadDelay: 2 * time.Minute, buildDelay: time.Hour,
			wantUpload: "COMPLETE", wantBuild: "PROCESSING",
			wantHint: func(res upload.Result) string { return "GET /v1/builds/" + res.BuildID },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, simSetup{uploadDelay: tt.uploadDelay, buildDelay: tt.buildDelay})
			src, _ := ipa(t, "7")
			opts := f.options()
			opts.WaitForProcessing = wait

			res, err := f.run(src, f.plan("7"), opts)
			we, ok := errors.AsType[*upload.WaitTimeoutError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want a *upload.WaitTimeoutError", err, err)
			}
			if we.BuildUploadID != res.BuildUploadID || we.BuildID != res.BuildID || we.UploadState != tt.wantUpload ||
				we.ProcessingState != tt.wantBuild || we.Waited != wait {
				t.Errorf("WaitTimeoutError %+v, want upload %s, build %q, waited %s", we, tt.wantUpload, tt.wantBuild, wait)
			}
			for _, want := range []string{res.BuildUploadID, tt.wantHint(res), "is committed", "wait longer"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if d := matching(f.sim.Requests(), "DELETE", "/v1/buildUploads/"); len(d) != 0 {
				t.Error("a committed build upload was deleted after a wait timed out")
			}

			// Resuming reads only, and reaches the end.
			before := len(f.sim.Requests())
			resumed := f.options()
			resumed.WaitForProcessing = 2 * time.Hour
			got, err := upload.Wait(t.Context(), f.client, res.BuildUploadID, resumed)
			if err != nil {
				t.Fatal(err)
			}
			if got.BuildUploadID != res.BuildUploadID || got.UploadState != "COMPLETE" || got.BuildID == "" || got.ProcessingState != "VALID" {
				t.Errorf("Wait: %+v, want COMPLETE and a VALID build", got)
			}
			for _, r := range f.sim.Requests()[before:] {
				if r.Method != "GET" {
					t.Errorf("Wait sent %s %s", r.Method, r.Path)
				}
			}
		})
	}
}
