package ascsim

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The enums of Apple's document the simulator's state uses.
var (
	platforms        = []string{"IOS", "MAC_OS", "TV_OS", "VISION_OS"}
	processingStates = []string{"PROCESSING", "FAILED", "INVALID", "VALID"}
	uploadStates     = []string{"AWAITING_UPLOAD", "PROCESSING", "FAILED", "COMPLETE"}
)

// buildLifetime is how long TestFlight keeps a build before it expires.
const buildLifetime = 90 * 24 * time.Hour

// firstAppID is the first app's Apple ID; apps get consecutive numbers, the
// shape (a numeric string) of real ones.
const firstAppID = 6440000001

// StateDetail is one entry of a build upload's state errors, warnings or
// infos.
type StateDetail struct {
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
}

// UploadState is a build upload's state attribute.
type UploadState struct {
	State    string // AWAITING_UPLOAD, PROCESSING, FAILED or COMPLETE
	Errors   []StateDetail
	Warnings []StateDetail
	Infos    []StateDetail
}

type app struct {
	seq                               int
	id, bundleID, name, sku, language string
}

type preReleaseVersion struct {
	seq               int
	id                string
	app               *app
	version, platform string
}

type build struct {
	seq      int
	id       string
	app      *app
	prv      *preReleaseVersion
	number   string // CFBundleVersion
	uploaded time.Time
	state    string // processingState
	expired  bool   // expired by hand, before its expiration date
}

type buildUpload struct {
	seq                  int
	id                   string
	app                  *app
	platform             string
	shortVersion, number string // CFBundleShortVersionString, CFBundleVersion
	created, uploaded    time.Time
	state                UploadState
}

// buildKey identifies a build: Apple allows one build number per app,
// platform and marketing version.
type buildKey struct{ appID, platform, version, number string }

type prvKey struct{ appID, platform, version string }

// store is the simulator's data, guarded by Server.mu.
type store struct {
	seq      int
	apps     []*app
	prvs     []*preReleaseVersion
	builds   []*build
	uploads  []*buildUpload
	appByID  map[string]*app
	prvByID  map[string]*preReleaseVersion
	prvByKey map[prvKey]*preReleaseVersion
	byID     map[string]*build
	byKey    map[buildKey]*build
	upByID   map[string]*buildUpload
	upByKey  map[buildKey]*buildUpload // the latest upload of each build
}

func newStore() store {
	return store{
		appByID:  make(map[string]*app),
		prvByID:  make(map[string]*preReleaseVersion),
		prvByKey: make(map[prvKey]*preReleaseVersion),
		byID:     make(map[string]*build),
		byKey:    make(map[buildKey]*build),
		upByID:   make(map[string]*buildUpload),
		upByKey:  make(map[buildKey]*buildUpload),
	}
}

// next returns the next sequence number and a UUID derived from it, so a
// server seeded the same way always has the same IDs.
func (d *store) next(kind string) (int, string) {
	d.seq++
	h := sha256.Sum256([]byte(kind + "/" + strconv.Itoa(d.seq)))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return d.seq, fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// The seeding methods below panic on input Apple would never hold (an
// unknown app, a platform or state outside the document's enums, a
// duplicate build): such a call is a bug in the test that makes it.

// AddApp adds an app and returns its Apple ID, a numeric string. Its SKU
// is the bundle ID and its primary locale en-US.
func (s *Server) AddApp(bundleID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.data
	seq, _ := d.next("apps")
	a := &app{seq: seq, id: strconv.Itoa(firstAppID + len(d.apps)), bundleID: bundleID, name: name, sku: bundleID, language: "en-US"}
	d.apps = append(d.apps, a)
	d.appByID[a.id] = a
	return a.id
}

// AddPreReleaseVersion returns the ID of the app's pre-release version
// (marketing version) on platform, adding it if it is new.
func (s *Server) AddPreReleaseVersion(appID, platform, version string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.prv(mustApp(&s.data, appID), platform, version).id
}

func (d *store) prv(a *app, platform, version string) *preReleaseVersion {
	mustEnum("platform", platform, platforms)
	k := prvKey{a.id, platform, version}
	if p, ok := d.prvByKey[k]; ok {
		return p
	}
	seq, id := d.next("preReleaseVersions")
	p := &preReleaseVersion{seq: seq, id: id, app: a, version: version, platform: platform}
	d.prvs = append(d.prvs, p)
	d.prvByID[id] = p
	d.prvByKey[k] = p
	return p
}

// AddBuild adds a build of the app and returns its ID. marketingVersion
// is CFBundleShortVersionString (the pre-release version, added if new),
// buildNumber is CFBundleVersion, state a processingState (PROCESSING,
// FAILED, INVALID or VALID). The build expires 90 days after uploaded.
func (s *Server) AddBuild(appID, platform, marketingVersion, buildNumber, state string, uploaded time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.addBuild(mustApp(&s.data, appID), platform, marketingVersion, buildNumber, state, uploaded).id
}

func (d *store) addBuild(a *app, platform, version, number, state string, uploaded time.Time) *build {
	mustEnum("processingState", state, processingStates)
	p := d.prv(a, platform, version)
	k := buildKey{a.id, platform, version, number}
	if _, dup := d.byKey[k]; dup {
		panic(fmt.Sprintf("ascsim: app %s already has build %s of %s on %s", a.id, number, version, platform))
	}
	seq, id := d.next("builds")
	b := &build{seq: seq, id: id, app: a, prv: p, number: number, uploaded: uploaded, state: state}
	d.builds = append(d.builds, b)
	d.byID[id] = b
	d.byKey[k] = b
	return b
}

// SeedBuilds adds n VALID builds of the app's marketingVersion on
// platform, numbered "1" to n, uploaded a minute apart up to the server's
// clock: realistic volume for benchmarks and paging tests.
func (s *Server) SeedBuilds(appID, platform, marketingVersion string, n int) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := mustApp(&s.data, appID)
	for i := 1; i <= n; i++ {
		s.data.addBuild(a, platform, marketingVersion, strconv.Itoa(i), "VALID", now.Add(time.Duration(i-n)*time.Minute))
	}
}

// SetBuildProcessingState changes a build's processingState, as Apple's
// processing does.
func (s *Server) SetBuildProcessingState(buildID, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mustEnum("processingState", state, processingStates)
	mustBuild(&s.data, buildID).state = state
}

// ExpireBuild marks a build expired before its expiration date, as
// expiring it by hand in App Store Connect does.
func (s *Server) ExpireBuild(buildID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mustBuild(&s.data, buildID).expired = true
}

// AddBuildUpload adds an upload of a build to the app and returns its ID.
// Its createdDate is the server's clock, as is its uploadedDate unless
// state is AWAITING_UPLOAD. An upload COMPLETE gets its build (VALID),
// created if the app does not have it yet.
func (s *Server) AddBuildUpload(appID, platform, marketingVersion, buildNumber, state string) string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.data
	a := mustApp(d, appID)
	mustEnum("platform", platform, platforms)
	seq, id := d.next("buildUploads")
	u := &buildUpload{seq: seq, id: id, app: a, platform: platform, shortVersion: marketingVersion, number: buildNumber, created: now}
	d.uploads = append(d.uploads, u)
	d.upByID[id] = u
	d.upByKey[u.key()] = u
	d.setUploadState(u, UploadState{State: state}, now)
	return id
}

// SetBuildUploadState changes a build upload's state, as Apple's
// processing does; see AddBuildUpload for what COMPLETE brings.
func (s *Server) SetBuildUploadState(uploadID string, st UploadState) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.data.upByID[uploadID]
	if !ok {
		panic(fmt.Sprintf("ascsim: no build upload %q", uploadID))
	}
	s.data.setUploadState(u, st, now)
}

func (d *store) setUploadState(u *buildUpload, st UploadState, now time.Time) {
	mustEnum("build upload state", st.State, uploadStates)
	st.Errors, st.Warnings, st.Infos = slices.Clone(st.Errors), slices.Clone(st.Warnings), slices.Clone(st.Infos)
	u.state = st
	if st.State != "AWAITING_UPLOAD" && u.uploaded.IsZero() {
		u.uploaded = now
	}
	if _, ok := d.byKey[u.key()]; st.State == "COMPLETE" && !ok {
		d.addBuild(u.app, u.platform, u.shortVersion, u.number, "VALID", u.uploaded)
	}
}

func (u *buildUpload) key() buildKey {
	return buildKey{u.app.id, u.platform, u.shortVersion, u.number}
}

func (b *build) key() buildKey {
	return buildKey{b.app.id, b.prv.platform, b.prv.version, b.number}
}

func (b *build) expirationDate() time.Time { return b.uploaded.Add(buildLifetime) }

func (b *build) isExpired(now time.Time) bool {
	return b.expired || !now.Before(b.expirationDate())
}

func mustApp(d *store, id string) *app {
	a, ok := d.appByID[id]
	if !ok {
		panic(fmt.Sprintf("ascsim: no app %q", id))
	}
	return a
}

func mustBuild(d *store, id string) *build {
	b, ok := d.byID[id]
	if !ok {
		panic(fmt.Sprintf("ascsim: no build %q", id))
	}
	return b
}

func mustEnum(what, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		panic(fmt.Sprintf("ascsim: %s %q is not one of %q", what, v, allowed))
	}
}
