// Package upload sends a build to App Store Connect through the Build
// Uploads API and waits for it: streaming, parallel, retried, verified.
//
// Run carries out Apple's steps in order:
//
//  1. POST /v1/buildUploads reserves the version and build number;
//  2. POST /v1/buildUploadFiles declares the file and gets back its upload
//     operations: presigned URLs, each for one byte range of the file;
//  3. every operation is sent, several at a time, each streamed from the
//     file through its own io.SectionReader and retried on its own;
//  4. PATCH /v1/buildUploadFiles/{id} with uploaded:true commits the file,
//     once, and only if every part succeeded;
//  5. GET /v1/buildUploads/{id} is polled until COMPLETE or FAILED and, if
//     asked, GET /v1/builds/{id} until the build is VALID, INVALID or FAILED.
//
// Preflight checks beforehand, reading only, that the app exists and that
// the version and build number are free.
//
// The parts are sent by package transfer. Memory does not grow with the
// file: no part is ever held in memory, only the HTTP stack's buffers per
// connection and, with ChecksumMD5, one hashing buffer. The file is read
// once, by the parts; only ChecksumMD5 reads it a second time, in a
// sequential pass that runs while the parts are sent (MD5 needs the bytes
// in order, the parts go out of order, and hashing retried attempts would
// be wrong), since the commit needs the MD5.
//
// The parts go through their own *http.Client, never the App Store
// Connect client: presigned URLs carry their own authorization and must
// never see the API token. Their query, which holds the signature, is cut
// from every log line and error.
package upload

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/httpx"
	"github.com/asc-auth/action/internal/transfer"
)

const (
	// DefaultConcurrency is how many parts are sent at once by default
	// (see package transfer). MaxConcurrency bounds Options.Concurrency.
	DefaultConcurrency = transfer.DefaultConcurrency
	MaxConcurrency     = 16

	// DefaultPartAttempts is how many times a part is sent before its last
	// failure ends the upload.
	DefaultPartAttempts = transfer.DefaultAttempts

	// DefaultStallTimeout abandons (and retries) a part attempt that makes
	// no progress (see package transfer).
	DefaultStallTimeout = transfer.DefaultStallTimeout

	// DefaultWaitForUpload bounds the wait for the build upload to become
	// COMPLETE or FAILED after the commit. Apple usually takes 5 to 20
	// minutes.
	DefaultWaitForUpload = 30 * time.Minute
)

const (
	// createAttempts is how many times a create or commit call is sent
	// when App Store Connect answers 429, which means it did not process
	// the request, so sending it again cannot create a duplicate. Other
	// failures of these calls are never retried.
	createAttempts = 4
	// createBackoffBase and createBackoffMax bound the 429 backoff when
	// Apple gives no Retry-After.
	createBackoffBase = 2 * time.Second
	createBackoffMax  = 30 * time.Second
	// cleanupTimeout bounds the deletion of an abandoned build upload,
	// which runs even after ctx is cancelled.
	cleanupTimeout = 30 * time.Second
	// maxPollFailures is how many polls in a row may fail (each after the
	// client's own retries) before the wait gives up.
	maxPollFailures = 3
	// confirmChecks is how many times a commit whose answer was lost is
	// checked, PollInterval apart, before it is reported unconfirmed.
	confirmChecks = 3
)

// Source is the file to upload. File is read with ReadAt only, from
// several goroutines at once; an *os.File does that.
type Source struct {
	File io.ReaderAt
	Size int64
	// Name is the file name App Store Connect records, a base name such as
	// "App.ipa".
	Name string
}

// FileSource describes an open regular file.
func FileSource(f *os.File) (Source, error) {
	fi, err := f.Stat()
	if err != nil {
		return Source{}, fmt.Errorf("upload: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Source{}, fmt.Errorf("upload: %s is not a regular file", f.Name())
	}
	return Source{File: f, Size: fi.Size(), Name: filepath.Base(f.Name())}, nil
}

func (s Source) check() error {
	var errs []error
	if s.File == nil {
		errs = append(errs, errors.New("upload: no file to upload"))
	}
	if s.Size < 1 {
		errs = append(errs, fmt.Errorf("upload: the file %s is empty", s.Name))
	}
	if s.Name == "" || s.Name != filepath.Base(s.Name) || strings.ContainsAny(s.Name, "/\\\x00\r\n") {
		errs = append(errs, fmt.Errorf("upload: file name %q is not a base name", s.Name))
	}
	return errors.Join(errs...)
}

// Plan says what the file is.
type Plan struct {
	AppID        string       // the app's App Store Connect ID, digits
	Platform     asc.Platform // IOS, MAC_OS, TV_OS or VISION_OS
	ShortVersion string       // CFBundleShortVersionString, e.g. 2.1.0
	BuildVersion string       // CFBundleVersion, the build number, e.g. 48
	// UTI is the file's type, one of the asc.UTI… values; when empty it is
	// com.apple.ipa for a .ipa and com.apple.pkg for a .pkg.
	UTI string
}

// withUTI fills in the UTI from the file name.
func (p Plan) withUTI(name string) Plan {
	if p.UTI == "" {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".ipa":
			p.UTI = asc.UTIIPA
		case ".pkg":
			p.UTI = asc.UTIPKG
		}
	}
	return p
}

// check reports every problem with p at once; withUTI says whether the UTI
// matters (it does not for Preflight).
func (p Plan) check(withUTI bool) error {
	var errs []error
	if !buildnum.IsAppID(p.AppID) {
		errs = append(errs, fmt.Errorf("upload: app ID %q is not an App Store Connect app ID (digits)", p.AppID))
	}
	if !p.Platform.Valid() {
		errs = append(errs, fmt.Errorf("upload: platform %q is not one of IOS, MAC_OS, TV_OS, VISION_OS", string(p.Platform)))
	}
	if _, err := buildnum.Parse(p.ShortVersion); err != nil {
		errs = append(errs, fmt.Errorf("upload: version %q is not one to three period-separated integers (CFBundleShortVersionString)", p.ShortVersion))
	}
	if _, err := buildnum.Parse(p.BuildVersion); err != nil {
		errs = append(errs, fmt.Errorf("upload: build number %q is not one to three period-separated integers (CFBundleVersion)", p.BuildVersion))
	}
	if withUTI && !asc.ValidUTI(p.UTI) {
		if p.UTI == "" {
			errs = append(errs, errors.New("upload: no UTI: the file is neither .ipa nor .pkg, so give its UTI"))
		} else {
			errs = append(errs, fmt.Errorf("upload: UTI %q is not one of %s, %s, %s, %s, %s", p.UTI,
				asc.UTIIPA, asc.UTIPKG, asc.UTIZipArchive, asc.UTIBinaryPropertyList, asc.UTIXMLPropertyList))
		}
	}
	return errors.Join(errs...)
}

// ChecksumMode says whether the commit carries the file's checksum.
type ChecksumMode string

// Checksum modes. Only ChecksumMD5 computes the MD5 (a second read of the
// file), sends it as sourceFileChecksums and reports it. The default is none, as current
// uploaders do: a live report saw Apple answer 409 to a SHA_256 checksum,
// and the exact form Apple accepts is undocumented.
const (
	ChecksumNone ChecksumMode = "none"
	ChecksumMD5  ChecksumMode = "md5"
)

// RetryPolicy bounds the retries of one part.
type RetryPolicy = transfer.RetryPolicy

// Progress is how far the parts are.
type Progress = transfer.Progress

// Level is how serious an App Store Connect message is.
type Level string

// Levels, from the state's errors, warnings and infos arrays.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelInfo    Level = "info"
)

// Message is one entry of a build upload state's errors, warnings or
// infos, for the caller to annotate.
type Message struct {
	Level       Level
	Code        string
	Description string
}

func (m Message) String() string {
	if m.Code == "" {
		return m.Description
	}
	return m.Code + ": " + m.Description
}

// Options tune Run. The zero value is usable: it gets the defaults below.
type Options struct {
	// Concurrency is how many parts are sent at once: default
	// DefaultConcurrency, at most MaxConcurrency.
	Concurrency int
	// PartHTTPClient sends the parts (default: transfer.NewClient, HTTP/1.1
	// so that each part has its own connection). It must add no
	// credentials: the presigned URLs carry theirs.
	PartHTTPClient *http.Client
	// PartRetry bounds the retries of each part.
	PartRetry RetryPolicy
	// StallTimeout ends a part attempt that makes no progress (default
	// DefaultStallTimeout); the part is then retried.
	StallTimeout time.Duration
	// Checksum says whether the MD5 is computed and sent with the commit
	// (default none: it is not computed, and Result.MD5 stays empty).
	Checksum ChecksumMode

	// Progress is called as bytes go out, often and from the goroutines
	// sending parts, but never concurrently. It must return quickly:
	// throttle in it.
	Progress func(Progress)
	// Messages is called once for each distinct message App Store Connect
	// attaches to the build upload's state.
	Messages func(Message)
	// Log receives one line per notable event (part retries, state
	// changes), possibly from several goroutines at once. Presigned URLs
	// appear without their query.
	Log func(string)

	// WaitForUpload bounds the wait for the build upload to become
	// COMPLETE or FAILED after the commit (default DefaultWaitForUpload);
	// negative means return right after the commit.
	WaitForUpload time.Duration
	// WaitForProcessing, when positive, makes Run also wait for the build
	// to be VALID, INVALID or FAILED, and then bounds the whole wait after
	// the commit instead of WaitForUpload.
	WaitForProcessing time.Duration
	// PollInterval, if set, is the one pause between two reads of a
	// state, instead of the shared schedule (httpx.Poll: 2 s, doubling up
	// to 20 s).
	PollInterval time.Duration

	// Now, Sleep and Rand replace the clock, the waits (backoffs and polls)
	// and the backoff jitter (a number in [0, 1)) in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

// withDefaults fills in every default and reports invalid values.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	switch {
	case o.Concurrency == 0:
		o.Concurrency = DefaultConcurrency
	case o.Concurrency < 0:
		errs = append(errs, fmt.Errorf("upload: concurrency %d is negative", o.Concurrency))
	case o.Concurrency > MaxConcurrency:
		o.Concurrency = MaxConcurrency
	}
	switch o.Checksum {
	case "":
		o.Checksum = ChecksumNone
	case ChecksumNone, ChecksumMD5:
	default:
		errs = append(errs, fmt.Errorf("upload: checksum %q is not none or md5", string(o.Checksum)))
	}
	if o.WaitForUpload == 0 {
		o.WaitForUpload = DefaultWaitForUpload
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = httpx.Sleep
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o, errors.Join(errs...)
}

// Result is what an upload achieved, filled in as far as it got: Run
// returns it with its error too.
type Result struct {
	BuildUploadID     string
	BuildUploadFileID string
	BuildID           string // "" until App Store Connect has made the build
	UploadState       string // the build upload's last known state
	ProcessingState   string // the build's last known processingState
	Parts             int    // upload operations
	Retries           int    // part attempts beyond the first
	Bytes             int64  // the file's size
	MD5               string // the file's MD5, lower-case hex, with ChecksumMD5 only
	Duration          time.Duration
	UploadDuration    time.Duration // sending the parts
	Messages          []Message
}

// Run uploads src as plan describes and, as opts ask, waits for App Store
// Connect to process it. The result is filled in as far as the upload got,
// also when an error is returned: a *PartError, *StateError or
// *WaitTimeoutError, ErrCommitUnconfirmed, or an *asc.APIError wrapped
// with what was being done. Run it after Preflight.
func Run(ctx context.Context, c *asc.Client, src Source, plan Plan, opts Options) (Result, error) {
	o, err := opts.withDefaults()
	plan = plan.withUTI(src.Name)
	errs := []error{err, src.check(), plan.check(true)}
	if c == nil {
		errs = append(errs, errors.New("upload: no App Store Connect client"))
	}
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	r := &run{c: c, src: src, plan: plan, o: o, seen: map[Message]bool{}}
	r.start = o.Now()
	r.res.Bytes = src.Size
	err = r.upload(ctx)
	r.res.Duration = o.Now().Sub(r.start)
	return r.res, err
}

// run is one Run's state.
type run struct {
	c     *asc.Client
	src   Source
	plan  Plan
	o     Options
	res   Result
	start time.Time
	seen  map[Message]bool
}

func (r *run) logf(format string, args ...any) { r.o.Log(fmt.Sprintf(format, args...)) }

func (r *run) upload(ctx context.Context) error {
	// With ChecksumMD5 the commit carries the MD5: it is computed in one
	// sequential pass that overlaps the API calls and the parts. Otherwise
	// the file is read once, by the parts, and no MD5 is computed.
	hctx, cancelHash := context.WithCancel(ctx)
	defer cancelHash()
	var hashed chan hashResult
	if r.o.Checksum == ChecksumMD5 {
		hashed = make(chan hashResult, 1)
		go func() { hashed <- md5Pass(hctx, r.src) }()
	}

	up, err := retry429(ctx, r, "creating the build upload", func() (*asc.BuildUpload, error) {
		return r.c.CreateBuildUpload(ctx, r.plan.AppID, r.plan.Platform, r.plan.ShortVersion, r.plan.BuildVersion)
	})
	if err != nil {
		return fmt.Errorf("upload: creating the build upload for version %s build %s: %w", r.plan.ShortVersion, r.plan.BuildVersion, err)
	}
	r.res.BuildUploadID = up.ID
	r.res.UploadState = string(asc.BuildUploadStateAwaitingUpload)
	if a := up.Attributes; a != nil && a.State != nil && a.State.State != "" {
		r.res.UploadState = string(a.State.State)
	}
	r.logf("created build upload %s for version %s build %s", up.ID, r.plan.ShortVersion, r.plan.BuildVersion)

	file, err := retry429(ctx, r, "creating the build upload file", func() (*asc.BuildUploadFile, error) {
		return r.c.CreateBuildUploadFile(ctx, up.ID, r.src.Name, r.src.Size, r.plan.UTI, asc.AssetTypeAsset)
	})
	if err != nil {
		return r.abandon(ctx, fmt.Errorf("upload: declaring the file of build upload %s: %w", up.ID, err))
	}
	r.res.BuildUploadFileID = file.ID
	var ops []asc.DeliveryFileUploadOperation
	if file.Attributes != nil {
		ops = file.Attributes.UploadOperations
	}
	parts, err := planParts(ops, r.src.Size)
	if err != nil {
		return r.abandon(ctx, fmt.Errorf("upload: the upload operations of build upload file %s: %w", file.ID, err))
	}
	r.res.Parts = len(parts)
	r.logf("sending %d bytes in %d parts of up to %d bytes, %d at a time", r.src.Size, len(parts), largest(parts), min(r.o.Concurrency, len(parts)))

	sendStart := r.o.Now()
	err = r.sendParts(ctx, parts)
	r.res.UploadDuration = r.o.Now().Sub(sendStart)
	if err != nil {
		cancelHash()
		return r.abandon(ctx, err)
	}
	if hashed != nil {
		if err := r.collectHash(hashed); err != nil {
			return r.abandon(ctx, err)
		}
	}
	r.logf("sent %d bytes in %s", r.src.Size, r.res.UploadDuration.Round(time.Millisecond))

	if err := r.commit(ctx); err != nil {
		return err
	}
	return r.wait(ctx, r.o.Now())
}

// collectHash waits for the MD5 pass and records its result.
func (r *run) collectHash(hashed <-chan hashResult) error {
	h := <-hashed
	if h.err != nil {
		return h.err
	}
	r.res.MD5 = h.sum
	r.logf("MD5 of %s: %s", r.src.Name, h.sum)
	return nil
}

type hashResult struct {
	sum string
	err error
}

// md5Pass hashes the whole of src in one sequential pass with a 256 KiB
// buffer, checking ctx between reads. A panic in the file's ReadAt becomes
// its error: it runs on a goroutine of its own.
func md5Pass(ctx context.Context, src Source) (res hashResult) {
	defer func() {
		if v := recover(); v != nil {
			res = hashResult{err: fmt.Errorf("upload: hashing %s: panic: %v", src.Name, v)}
		}
	}()
	h := md5.New()
	n, err := io.CopyBuffer(h, httpx.ContextReader(ctx, io.NewSectionReader(src.File, 0, src.Size)), make([]byte, 256<<10))
	switch {
	case err != nil:
		return hashResult{err: fmt.Errorf("upload: hashing %s: %w", src.Name, err)}
	case n != src.Size:
		return hashResult{err: fmt.Errorf("upload: hashing %s: the file has %d bytes, not %d: was it changed during the upload?", src.Name, n, src.Size)}
	}
	return hashResult{sum: hex.EncodeToString(h.Sum(nil))}
}

// abandon deletes the build upload, which was never committed, so that its
// build number is free again, and returns err.
// It runs even if ctx is cancelled, within cleanupTimeout.
func (r *run) abandon(ctx context.Context, err error) error {
	id := r.res.BuildUploadID
	if id == "" {
		return err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if derr := r.c.DeleteBuildUpload(dctx, id); derr != nil {
		r.logf("could not delete the uncommitted build upload %s: %v; it keeps build number %s taken until App Store Connect drops it", id, derr, r.plan.BuildVersion)
		return err
	}
	r.logf("deleted the uncommitted build upload %s: build number %s is free again", id, r.plan.BuildVersion)
	r.res.UploadState = ""
	return err
}

// retry429 calls call, which sends one POST or PATCH, again after a 429
// (Apple did not process the request), waiting as Retry-After says or
// backing off, up to createAttempts sends. Other errors are returned as
// they are.
func retry429[T any](ctx context.Context, r *run, what string, call func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := call()
		if err == nil || !errors.Is(err, asc.ErrRateLimited) || attempt >= createAttempts {
			return v, err
		}
		d := httpx.Backoff(attempt, createBackoffBase, createBackoffMax, r.o.Rand)
		if ra, ok := errors.AsType[*asc.RetryAfterError](err); ok {
			if ra.RetryAfter > httpx.MaxRetryAfter {
				return v, fmt.Errorf("upload: App Store Connect asks to wait %s before the next request, longer than %s: %w", ra.RetryAfter, httpx.MaxRetryAfter, err)
			}
			d = ra.RetryAfter
		}
		r.logf("%s: App Store Connect answered 429 (rate limit); sending it again in %s", what, d.Round(time.Millisecond))
		if serr := r.o.Sleep(ctx, d); serr != nil {
			return v, fmt.Errorf("%w (then: %w)", err, serr)
		}
	}
}
