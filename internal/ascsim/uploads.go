package ascsim

// The Build Uploads API: a build upload (POST /v1/buildUploads) gets a file
// (POST /v1/buildUploadFiles) whose uploadOperations the client carries out
// against the simulator's presigned part URLs (uploadparts.go); committing
// the file (PATCH /v1/buildUploadFiles/{id}, uploaded: true) starts
// processing, which ends COMPLETE with a build, or FAILED, by the server's
// clock. Processing is evaluated lazily, on each API request, so a test's
// fake clock drives it.

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/httpx"
)

const (
	// DefaultPartSize is the length of each upload operation but the last:
	// 10 MiB, within the range Apple's operations commonly have (about
	// 5 MiB to tens of MiB). Clients must follow each operation's offset
	// and length, never assume a part size.
	DefaultPartSize = 10 << 20
	// DefaultUploadURLTTL is how long a part's presigned URL stays valid.
	DefaultUploadURLTTL = time.Hour
	// maxParts caps the operations of one file, as S3 caps a multipart
	// upload at 10,000 parts; a larger file needs a larger part size.
	maxParts = 10000
)

// The values of an upload file's assetDeliveryState.state.
const (
	assetAwaiting = "AWAITING_UPLOAD"
	assetUploaded = "UPLOAD_COMPLETE"
	assetComplete = "COMPLETE"
	assetFailed   = "FAILED"
)

// WithPartSize sets the length of each upload operation but the last
// (default DefaultPartSize); n <= 0 keeps the default.
func WithPartSize(n int64) Option { return func(s *Server) { s.up.partSize = n } }

// WithUploadURLTTL sets how long the presigned part URLs of a new upload
// file stay valid (default DefaultUploadURLTTL, by the server's clock);
// d <= 0 keeps the default. A PUT after that gets 403 AccessDenied
// "Request has expired", as S3 answers.
func WithUploadURLTTL(d time.Duration) Option { return func(s *Server) { s.up.urlTTL = d } }

// WithProcessing sets how long Apple's processing takes, by the server's
// clock: a committed build upload is PROCESSING for uploadDelay, then
// COMPLETE (or FAILED, see FailNextUpload); its build appears then,
// processingState PROCESSING, and becomes VALID buildDelay later. The
// default is no delay: the first request after the commit sees the upload
// COMPLETE and its build VALID.
func WithProcessing(uploadDelay, buildDelay time.Duration) Option {
	return func(s *Server) {
		s.up.uploadDelay, s.up.buildDelay = max(uploadDelay, 0), max(buildDelay, 0)
	}
}

// WithUploadDir sets the directory of the temporary files that hold the
// parts uploaded (default os.TempDir()). Close removes them.
func WithUploadDir(dir string) Option { return func(s *Server) { s.up.dir = dir } }

// uploadStore is what the Build Uploads API adds to the store: files,
// their parts, processing under way. It is guarded by Server.mu.
type uploadStore struct {
	partSize    int64
	urlTTL      time.Duration
	uploadDelay time.Duration
	buildDelay  time.Duration
	dir         string

	files      []*uploadFile
	fileByID   map[string]*uploadFile
	processing []*processingRun // in commit order
	buildsDue  []*buildDue      // builds PROCESSING until a time
	outcomes   []outcomeRule
	partFaults []*PartFault
	closed     bool
}

func (u *uploadStore) size() int64 {
	if u.partSize > 0 {
		return u.partSize
	}
	return DefaultPartSize
}

func (u *uploadStore) ttl() time.Duration {
	if u.urlTTL > 0 {
		return u.urlTTL
	}
	return DefaultUploadURLTTL
}

// uploadFile is a BuildUploadFile and the parts received for it.
type uploadFile struct {
	id                         string
	upload                     *buildUpload
	name, uti, assetType       string
	size                       int64
	state                      string // assetDeliveryState.state
	stateErrors, stateWarnings []StateDetail
	checksums                  *checksums // as the client sent them
	parts                      []*uploadPart
	tmp                        *os.File // the parts' bytes, from the first PUT to the commit
	committing                 bool     // a commit is hashing the file
	gone                       bool     // deleted with its upload, or the server closed
}

// uploadPart is one upload operation and what was received for it.
type uploadPart struct {
	number         int // partNumber, 1 for the first
	offset, length int64
	signature      string // X-Amz-Signature
	header         string // the x-asc-part header's value
	expires        time.Time
	url            string
	busy           chan struct{} // held by the PUT storing the part: one at a time
	received       int64         // bytes the latest attempt stored
	complete       bool          // the latest attempt stored the part whole
	etag           string
	attempts       int
}

// processingRun is a committed upload being processed.
type processingRun struct {
	upload  *buildUpload
	file    *uploadFile
	due     time.Time
	outcome UploadState
}

type buildDue struct {
	build *build
	due   time.Time
}

// outcomeRule is how the processing of the next upload of a bundle
// version (any, if version is "") ends.
type outcomeRule struct {
	version string
	st      UploadState
}

// checksums is the Checksums schema.
type checksums struct {
	File      *checksum `json:"file,omitempty"`
	Composite *checksum `json:"composite,omitempty"`
}

type checksum struct {
	Hash      string `json:"hash,omitempty"`
	Algorithm string `json:"algorithm,omitempty"`
}

// FailNextUpload makes the processing of the next build upload committed
// end FAILED with errs as its state.errors. No build is made.
func (s *Server) FailNextUpload(errs []StateDetail) {
	s.SetProcessingOutcome("", UploadState{State: "FAILED", Errors: errs})
}

// SetProcessingOutcome sets how the processing of the next build upload
// of cfBundleVersion ("" for the next one of any version) committed ends:
// st.State FAILED with st.Errors, or COMPLETE; either may carry Warnings
// and Infos. Outcomes are used once, in the order they were set, by the
// uploads committed after; uploads without one end COMPLETE.
func (s *Server) SetProcessingOutcome(cfBundleVersion string, st UploadState) {
	if st.State != "FAILED" && st.State != "COMPLETE" {
		panic(fmt.Sprintf("ascsim: a processing outcome is FAILED or COMPLETE, not %q", st.State))
	}
	st.Errors, st.Warnings, st.Infos = slices.Clone(st.Errors), slices.Clone(st.Warnings), slices.Clone(st.Infos)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up.outcomes = append(s.up.outcomes, outcomeRule{cfBundleVersion, st})
}

// takeOutcome returns how processing of u ends, using up its rule.
func (s *Server) takeOutcome(u *buildUpload) UploadState {
	for i, r := range s.up.outcomes {
		if r.version == "" || r.version == u.number {
			s.up.outcomes = slices.Delete(s.up.outcomes, i, i+1)
			return r.st
		}
	}
	return UploadState{State: "COMPLETE"}
}

// PartStatus is what the simulator received for one upload operation.
type PartStatus struct {
	Number   int   // partNumber, 1 for the first
	Offset   int64 // where the part starts in the file
	Length   int64
	Received int64 // bytes the latest attempt stored
	Complete bool  // the latest attempt stored the whole part
	Attempts int   // PUTs that got as far as storing bytes
}

// UploadedParts returns the parts of the build upload file fileID, in
// order, or nil if there is no such file.
func (s *Server) UploadedParts(fileID string) []PartStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.up.fileByID[fileID]
	if !ok {
		return nil
	}
	out := make([]PartStatus, len(f.parts))
	for i, p := range f.parts {
		out[i] = PartStatus{Number: p.number, Offset: p.offset, Length: p.length, Received: p.received, Complete: p.complete, Attempts: p.attempts}
	}
	return out
}

// settleUploads carries processing forward to now: uploads whose delay
// has passed end, and builds whose delay has passed become VALID. A state
// a test set by hand (SetBuildUploadState, SetBuildProcessingState) stops
// the simulated processing of that upload or build.
func (s *Server) settleUploads(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, up := &s.data, &s.up
	up.processing = slices.DeleteFunc(up.processing, func(run *processingRun) bool {
		u := run.upload
		if u.state.State != "PROCESSING" {
			return true
		}
		if now.Before(run.due) {
			return false
		}
		st := run.outcome
		if st.State == "COMPLETE" {
			if _, ok := d.byKey[u.key()]; !ok {
				b := d.addBuild(u.app, u.platform, u.shortVersion, u.number, "PROCESSING", u.uploaded)
				up.buildsDue = append(up.buildsDue, &buildDue{b, run.due.Add(up.buildDelay)})
			}
			run.file.state = assetComplete
		} else {
			run.file.state = assetFailed
			run.file.stateErrors = slices.Clone(st.Errors)
			run.file.stateWarnings = slices.Clone(st.Warnings)
		}
		d.setUploadState(u, st, run.due)
		return true
	})
	up.buildsDue = slices.DeleteFunc(up.buildsDue, func(bd *buildDue) bool {
		if bd.build.state != "PROCESSING" {
			return true
		}
		if now.Before(bd.due) {
			return false
		}
		bd.build.state = "VALID"
		return true
	})
}

// uploadEndpointFor returns the Build Uploads API operations the
// simulator answers beyond endpointFor's reads.
func uploadEndpointFor(method, path string) (endpoint, bool) {
	switch method + " " + path {
	case "POST /v1/buildUploads":
		return endpoint{serve: (*call).createBuildUpload}, true
	case "DELETE /v1/buildUploads/{id}":
		return endpoint{serve: (*call).deleteBuildUpload}, true
	case "GET /v1/buildUploads/{id}/buildUploadFiles":
		return endpoint{serve: (*call).listBuildUploadFiles}, true
	case "POST /v1/buildUploadFiles":
		return endpoint{serve: (*call).createBuildUploadFile}, true
	case "GET /v1/buildUploadFiles/{id}":
		return endpoint{serve: (*call).getBuildUploadFile}, true
	case "PATCH /v1/buildUploadFiles/{id}":
		return endpoint{serve: (*call).updateBuildUploadFile}, true
	}
	return endpoint{}, false
}

// buildUploadIncludes are the includes of the build upload reads.
func buildUploadIncludes() []string {
	return []string{"build", "assetFile", "assetDescriptionFile", "assetSpiFile"}
}

// versionPattern is the form Apple requires of CFBundleVersion and
// CFBundleShortVersionString: one to three period-separated integers.
var versionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}$`)

// The 409 bodies of the Build Uploads API.

func errAttribute(pointer, detail string) apiError {
	e := newError(http.StatusConflict, "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is invalid.", detail)
	e.Source = &errorSource{Pointer: pointer}
	return e
}

func errRelationship(pointer, id string) apiError {
	e := newError(http.StatusConflict, "ENTITY_ERROR.RELATIONSHIP.INVALID",
		"The provided entity includes a relationship with an invalid value",
		fmt.Sprintf("'%s' is not a valid ID for this relationship.", id))
	e.Source = &errorSource{Pointer: pointer}
	return e
}

func errState(detail string) apiError {
	return newError(http.StatusConflict, "STATE_ERROR", "The request cannot be fulfilled in the resource's current state.", detail)
}

// decodeBody reads the JSON body, which validation has already checked
// against the operation's schema.
func (c *call) decodeBody(v any) bool {
	if err := json.NewDecoder(c.r.Body).Decode(v); err != nil {
		writeErrors(c.w, newError(http.StatusUnprocessableEntity, "ENTITY_UNPROCESSABLE",
			"The request entity is not valid.", "The request body could not be read: "+err.Error()))
		return false
	}
	return true
}

// writeResource writes one resource with the given status; links.self is
// the resource's own URL.
func (c *call) writeResource(status int, res resource, in *included) {
	d := document{Data: res, Links: docLinks{Self: res.Links.Self}}
	if in != nil {
		d.Included = in.list
	}
	writeJSON(c.w, status, d)
}

// POST /v1/buildUploads.

func (c *call) createBuildUpload() {
	var body struct {
		Data struct {
			Attributes struct {
				ShortVersion string `json:"cfBundleShortVersionString"`
				Version      string `json:"cfBundleVersion"`
				Platform     string `json:"platform"`
			} `json:"attributes"`
			Relationships struct {
				App struct{ Data linkage } `json:"app"`
			} `json:"relationships"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) {
		return
	}
	at := body.Data.Attributes
	var errs []apiError
	if !versionPattern.MatchString(at.ShortVersion) {
		errs = append(errs, errAttribute("/data/attributes/cfBundleShortVersionString",
			fmt.Sprintf("'%s' is not a valid CFBundleShortVersionString: use one to three period-separated integers, such as 1.2.3.", at.ShortVersion)))
	}
	if !versionPattern.MatchString(at.Version) {
		errs = append(errs, errAttribute("/data/attributes/cfBundleVersion",
			fmt.Sprintf("'%s' is not a valid CFBundleVersion: use one to three period-separated integers, such as 42 or 1.2.3.", at.Version)))
	}
	appID := body.Data.Relationships.App.Data.ID

	c.s.mu.Lock()
	d := &c.s.data
	a, ok := d.appByID[appID]
	if !ok {
		errs = append(errs, errRelationship("/data/relationships/app", appID))
	}
	if len(errs) > 0 {
		c.s.mu.Unlock()
		writeErrors(c.w, errs...)
		return
	}
	k := buildKey{a.id, at.Platform, at.ShortVersion, at.Version}
	if d.versionUsed(k) {
		c.s.mu.Unlock()
		e := newError(http.StatusConflict, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
			"The provided entity includes an attribute with a value that has already been used",
			fmt.Sprintf("The bundle version %s is already used by a build or an upload of version %s on %s. "+
				"Increase CFBundleVersion and upload again.", at.Version, at.ShortVersion, at.Platform))
		e.Source = &errorSource{Pointer: "/data/attributes/cfBundleVersion"}
		writeErrors(c.w, e)
		return
	}
	seq, id := d.next("buildUploads")
	u := &buildUpload{seq: seq, id: id, app: a, platform: at.Platform, shortVersion: at.ShortVersion, number: at.Version,
		created: c.now, state: UploadState{State: "AWAITING_UPLOAD"}}
	d.uploads = append(d.uploads, u)
	d.upByID[id] = u
	d.upByKey[k] = u
	res := c.buildUploadResource(u, nil)
	c.s.mu.Unlock()
	c.writeResource(http.StatusCreated, res, nil)
}

// versionUsed reports whether the app has the build k, or an upload of it
// that has not FAILED.
func (d *store) versionUsed(k buildKey) bool {
	if _, ok := d.byKey[k]; ok {
		return true
	}
	return slices.ContainsFunc(d.uploads, func(u *buildUpload) bool {
		return u.key() == k && u.state.State != "FAILED"
	})
}

// DELETE /v1/buildUploads/{id}: the upload goes, in any state, with its
// files and any processing under way; a build it made stays.

func (c *call) deleteBuildUpload() {
	c.s.mu.Lock()
	d := &c.s.data
	u, ok := d.upByID[c.id]
	if !ok {
		c.s.mu.Unlock()
		writeErrors(c.w, errNoResource("buildUploads", c.id))
		return
	}
	d.uploads = slices.DeleteFunc(d.uploads, func(x *buildUpload) bool { return x == u })
	delete(d.upByID, u.id)
	delete(d.upByKey, u.key())
	for _, x := range d.uploads {
		if x.key() == u.key() {
			d.upByKey[x.key()] = x // the latest remaining
		}
	}
	up := &c.s.up
	up.processing = slices.DeleteFunc(up.processing, func(r *processingRun) bool { return r.upload == u })
	var tmps []*os.File
	up.files = slices.DeleteFunc(up.files, func(f *uploadFile) bool {
		if f.upload != u {
			return false
		}
		delete(up.fileByID, f.id)
		f.gone = true
		if f.tmp != nil {
			tmps = append(tmps, f.tmp)
			f.tmp = nil
		}
		return true
	})
	c.s.mu.Unlock()
	removeTemps(tmps)
	c.w.WriteHeader(http.StatusNoContent)
}

// POST /v1/buildUploadFiles.

func (c *call) createBuildUploadFile() {
	var body struct {
		Data struct {
			Attributes struct {
				FileName  string `json:"fileName"`
				FileSize  int64  `json:"fileSize"`
				UTI       string `json:"uti"`
				AssetType string `json:"assetType"`
			} `json:"attributes"`
			Relationships struct {
				BuildUpload struct{ Data linkage } `json:"buildUpload"`
			} `json:"relationships"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) {
		return
	}
	at := body.Data.Attributes
	var errs []apiError
	if at.FileName == "" || strings.ContainsAny(at.FileName, `/\`) {
		errs = append(errs, errAttribute("/data/attributes/fileName",
			fmt.Sprintf("'%s' is not a valid file name: give the file's base name, such as App.ipa.", at.FileName)))
	}
	if at.AssetType == "ASSET" && at.UTI != "com.apple.ipa" && at.UTI != "com.apple.pkg" {
		errs = append(errs, errAttribute("/data/attributes/uti",
			fmt.Sprintf("An ASSET file is an app archive: its uti is com.apple.ipa or com.apple.pkg, not %s.", at.UTI)))
	}
	partSize := c.s.upPartSize()
	if n := (at.FileSize + partSize - 1) / partSize; n > maxParts {
		errs = append(errs, errAttribute("/data/attributes/fileSize",
			fmt.Sprintf("A file of %d bytes needs %d parts of %d bytes, more than %d.", at.FileSize, n, partSize, maxParts)))
	}
	uploadID := body.Data.Relationships.BuildUpload.Data.ID

	c.s.mu.Lock()
	d, up := &c.s.data, &c.s.up
	u, ok := d.upByID[uploadID]
	switch {
	case !ok:
		errs = append(errs, errRelationship("/data/relationships/buildUpload", uploadID))
	case u.state.State != "AWAITING_UPLOAD":
		errs = append(errs, errState(fmt.Sprintf("The build upload is %s: files can be added only while it is AWAITING_UPLOAD.", u.state.State)))
	case slices.ContainsFunc(up.files, func(f *uploadFile) bool { return f.upload == u && f.assetType == at.AssetType }):
		errs = append(errs, errState(fmt.Sprintf("The build upload already has an %s file. "+
			"To start over, DELETE the build upload and create another.", at.AssetType)))
	}
	if len(errs) > 0 {
		c.s.mu.Unlock()
		slices.SortStableFunc(errs, func(a, b apiError) int { return a.status - b.status })
		writeErrors(c.w, errs...)
		return
	}
	_, id := d.next("buildUploadFiles")
	f := &uploadFile{id: id, upload: u, name: at.FileName, uti: at.UTI, assetType: at.AssetType, size: at.FileSize, state: assetAwaiting}
	expires := c.now.Add(up.ttl())
	for off, n := int64(0), 1; off < f.size; off, n = off+partSize, n+1 {
		p := &uploadPart{number: n, offset: off, length: min(partSize, f.size-off), signature: randomHex(32),
			header: randomHex(12), expires: expires, busy: make(chan struct{}, 1)}
		q := url.Values{
			"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
			"X-Amz-Date":          {c.now.UTC().Format("20060102T150405Z")},
			"X-Amz-Expires":       {strconv.Itoa(int(up.ttl() / time.Second))},
			"X-Amz-SignedHeaders": {"content-type;host;" + partHeader},
			"X-Amz-Signature":     {p.signature},
		}
		p.url = c.base + uploadPathPrefix + f.id + "/" + strconv.Itoa(n) + "?" + q.Encode()
		f.parts = append(f.parts, p)
	}
	if up.fileByID == nil {
		up.fileByID = make(map[string]*uploadFile)
	}
	up.files = append(up.files, f)
	up.fileByID[id] = f
	res := c.uploadFileResource(f)
	c.s.mu.Unlock()
	c.writeResource(http.StatusCreated, res, nil)
}

func (s *Server) upPartSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up.size()
}

// GET /v1/buildUploadFiles/{id}.

func (c *call) getBuildUploadFile() {
	getOne(c, "buildUploadFiles", func() map[string]*uploadFile { return c.s.up.fileByID }, func(f *uploadFile, _ *included) resource { return c.uploadFileResource(f) })
}

// GET /v1/buildUploads/{id}/buildUploadFiles.

func (c *call) listBuildUploadFiles() {
	u, ok := lockPath(c, "buildUploads", func() map[string]*buildUpload { return c.s.data.upByID })
	if !ok {
		return
	}
	var files []*uploadFile
	for _, f := range c.s.up.files {
		if f.upload == u {
			files = append(files, f)
		}
	}
	writePage(c, files, func(f *uploadFile, _ *included) resource { return c.uploadFileResource(f) })
}

// PATCH /v1/buildUploadFiles/{id}: store sourceFileChecksums and, with
// uploaded true, commit the file: every part whole, the checksum right.

func (c *call) updateBuildUploadFile() {
	var body struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				Checksums *checksums `json:"sourceFileChecksums"`
				Uploaded  *bool      `json:"uploaded"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) {
		return
	}
	sums := body.Data.Attributes.Checksums
	commit := body.Data.Attributes.Uploaded != nil && *body.Data.Attributes.Uploaded

	c.s.mu.Lock()
	f, ok := c.s.up.fileByID[c.id]
	if !ok {
		c.s.mu.Unlock()
		writeErrors(c.w, errNoResource("buildUploadFiles", c.id))
		return
	}
	var errs []apiError
	switch {
	case body.Data.ID != c.id:
		e := newError(http.StatusConflict, "ENTITY_ERROR.ID.INVALID", "The provided entity has an invalid ID.",
			fmt.Sprintf("The ID '%s' in the body does not match the ID '%s' in the URL.", body.Data.ID, c.id))
		e.Source = &errorSource{Pointer: "/data/id"}
		errs = append(errs, e)
	case f.state != assetAwaiting:
		errs = append(errs, errState(fmt.Sprintf("The file is already uploaded (%s). "+
			"Do not commit it again: GET /v1/buildUploads/%s for the build upload's state.", f.state, f.upload.id)))
	case f.committing:
		errs = append(errs, errState("A commit of this file is in progress."))
	case commit && f.assetType == "ASSET" && f.upload.state.State != "AWAITING_UPLOAD":
		errs = append(errs, errState(fmt.Sprintf("The build upload is %s, not AWAITING_UPLOAD.", f.upload.state.State)))
	}
	if sums != nil && len(errs) == 0 {
		errs = append(errs, checkChecksums(sums)...)
	}
	if len(errs) == 0 && commit {
		if missing := f.missingParts(); len(missing) > 0 {
			errs = append(errs, errAttribute("/data/attributes/uploaded", fmt.Sprintf(
				"The upload is incomplete: %s of %d %s not been received whole. PUT %s again, then commit.",
				describeParts(missing), len(f.parts), pluralize(len(missing), "has", "have"), pluralize(len(missing), "it", "them"))))
		}
	}
	if len(errs) > 0 {
		c.s.mu.Unlock()
		writeErrors(c.w, errs...)
		return
	}
	if sums != nil {
		f.checksums = sums
	}
	if !commit {
		res := c.uploadFileResource(f)
		c.s.mu.Unlock()
		c.writeResource(http.StatusOK, res, nil)
		return
	}
	f.committing = true
	tmp := f.tmp
	c.s.mu.Unlock()

	// Hash outside the lock: the file may be large.
	md5Hex, shaHex, hashErr := hashFile(c.r.Context(), tmp, f.size)

	c.s.mu.Lock()
	f.committing = false
	if f.gone {
		c.s.mu.Unlock()
		writeErrors(c.w, errNoResource("buildUploadFiles", c.id))
		return
	}
	if hashErr != nil {
		c.s.mu.Unlock()
		writeErrors(c.w, errUnexpected())
		return
	}
	if e, bad := mismatch(f.checksums, md5Hex, shaHex, len(f.parts)); bad {
		c.s.mu.Unlock()
		writeErrors(c.w, e)
		return
	}
	now := c.s.now()
	f.state = assetUploaded
	f.tmp = nil
	if f.assetType == "ASSET" {
		u := f.upload
		c.s.data.setUploadState(u, UploadState{State: "PROCESSING"}, now)
		c.s.up.processing = append(c.s.up.processing, &processingRun{upload: u, file: f, due: now.Add(c.s.up.uploadDelay), outcome: c.s.takeOutcome(u)})
	}
	res := c.uploadFileResource(f)
	c.s.mu.Unlock()
	removeTemps([]*os.File{tmp})
	c.writeResource(http.StatusOK, res, nil)
}

// missingParts lists the parts not received whole.
func (f *uploadFile) missingParts() []int {
	var out []int
	for _, p := range f.parts {
		if !p.complete {
			out = append(out, p.number)
		}
	}
	return out
}

func describeParts(numbers []int) string {
	s := make([]string, len(numbers))
	for i, n := range numbers {
		s[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return "part " + s[0]
	}
	return "parts " + strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkChecksums checks the form of sourceFileChecksums.file: an
// algorithm with each hash, and a hash of the algorithm's length in hex,
// either case. The composite checksum is kept but not checked.
func checkChecksums(c *checksums) []apiError {
	if c.File == nil || (c.File.Hash == "" && c.File.Algorithm == "") {
		return nil
	}
	const ptr = "/data/attributes/sourceFileChecksums/file"
	want := map[string]int{"MD5": md5.Size * 2, "SHA_256": sha256.Size * 2}[c.File.Algorithm]
	switch {
	case c.File.Algorithm == "":
		return []apiError{errAttribute(ptr+"/algorithm", "A checksum needs its algorithm, MD5 or SHA_256.")}
	case c.File.Hash == "":
		return []apiError{errAttribute(ptr+"/hash", "A checksum needs its hash.")}
	}
	if _, err := hex.DecodeString(c.File.Hash); err != nil || len(c.File.Hash) != want {
		return []apiError{errAttribute(ptr+"/hash", fmt.Sprintf("'%s' is not a valid %s hash: give %d hex digits.", c.File.Hash, c.File.Algorithm, want))}
	}
	return nil
}

// mismatch compares the file's checksum, if the client gave one, with the
// hashes of the bytes received.
func mismatch(c *checksums, md5Hex, shaHex string, parts int) (apiError, bool) {
	if c == nil || c.File == nil || c.File.Hash == "" {
		return apiError{}, false
	}
	got := md5Hex
	if c.File.Algorithm == "SHA_256" {
		got = shaHex
	}
	if strings.EqualFold(got, c.File.Hash) {
		return apiError{}, false
	}
	return errAttribute("/data/attributes/sourceFileChecksums/file/hash", fmt.Sprintf(
		"checksum mismatch: the %s of the %d %s received is %s, not %s. Upload the parts again, then commit.",
		c.File.Algorithm, parts, pluralize(parts, "part", "parts"), got, strings.ToLower(c.File.Hash))), true
}

// hashFile returns the MD5 and SHA-256, in hex, of the first size bytes
// of f; f is nil when nothing was ever written (an empty file cannot be:
// fileSize is at least 1).
func hashFile(ctx context.Context, f *os.File, size int64) (string, string, error) {
	if f == nil {
		return "", "", errors.New("no parts stored")
	}
	m, sh := md5.New(), sha256.New()
	r := io.NewSectionReader(f, 0, size)
	n, err := io.Copy(io.MultiWriter(m, sh), httpx.ContextReader(ctx, r))
	if err != nil {
		return "", "", err
	}
	if n != size {
		return "", "", fmt.Errorf("read %d of %d bytes", n, size)
	}
	return hexSum(m), hexSum(sh), nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// removeTemps closes and removes temporary part files.
func removeTemps(files []*os.File) {
	for _, f := range files {
		if f == nil {
			continue
		}
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
}

// closeUploads removes every temporary part file; Close calls it.
func (s *Server) closeUploads() {
	s.mu.Lock()
	s.up.closed = true
	var tmps []*os.File
	for _, f := range s.up.files {
		if f.tmp != nil {
			tmps = append(tmps, f.tmp)
			f.tmp = nil
		}
		f.gone = f.gone || f.state == assetAwaiting
	}
	s.mu.Unlock()
	removeTemps(tmps)
}

// Rendering.

// uploadOperation is the DeliveryFileUploadOperation schema.
type uploadOperation struct {
	Method         string       `json:"method"`
	URL            string       `json:"url"`
	Length         int64        `json:"length"`
	Offset         int64        `json:"offset"`
	RequestHeaders []httpHeader `json:"requestHeaders"`
	Expiration     string       `json:"expiration"`
	PartNumber     int          `json:"partNumber"`
	EntityTag      string       `json:"entityTag,omitempty"`
}

type httpHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// assetState is the AppMediaAssetState schema.
type assetState struct {
	State    string        `json:"state"`
	Errors   []StateDetail `json:"errors"`
	Warnings []StateDetail `json:"warnings"`
}

// uploadFileResource renders f. Its uploadOperations are listed while it
// awaits its upload, each with the entity tag of the part once received.
func (c *call) uploadFileResource(f *uploadFile) resource {
	res := c.newResource("buildUploadFiles", f.id)
	res.Attributes["fileName"] = f.name
	res.Attributes["fileSize"] = f.size
	res.Attributes["uti"] = f.uti
	res.Attributes["assetType"] = f.assetType
	res.Attributes["assetDeliveryState"] = assetState{State: f.state, Errors: nonNil(f.stateErrors), Warnings: nonNil(f.stateWarnings)}
	if f.checksums != nil {
		res.Attributes["sourceFileChecksums"] = f.checksums
	}
	if f.state == assetAwaiting {
		ops := make([]uploadOperation, len(f.parts))
		for i, p := range f.parts {
			ops[i] = uploadOperation{
				Method: http.MethodPut, URL: p.url, Length: p.length, Offset: p.offset,
				RequestHeaders: []httpHeader{{"Content-Type", partContentType}, {partHeader, p.header}},
				Expiration:     formatTime(p.expires), PartNumber: p.number,
			}
			if p.complete {
				ops[i].EntityTag = p.etag
			}
		}
		res.Attributes["uploadOperations"] = ops
	}
	return c.sparse(res)
}

// relateUploadFiles adds a build upload's file relationships: the link to
// its buildUploadFiles, and assetFile, assetDescriptionFile and
// assetSpiFile by the files' asset types; in is nil when u is itself
// included.
func (c *call) relateUploadFiles(res *resource, u *buildUpload, in *included) {
	c.relate(res, "buildUploadFiles", nil, false)
	for _, f := range c.s.up.files {
		if f.upload != u {
			continue
		}
		name := map[string]string{"ASSET": "assetFile", "ASSET_DESCRIPTION": "assetDescriptionFile", "ASSET_SPI": "assetSpiFile"}[f.assetType]
		c.relate(res, name, &linkage{"buildUploadFiles", f.id}, true)
		if in != nil && c.q.include[name] {
			in.add(c.uploadFileResource(f))
		}
	}
}
