package ascsim

// TestFlight: beta groups, a build's beta detail and states, "What to
// Test" notes (betaBuildLocalizations), the app's test information
// (betaAppLocalizations, betaAppReviewDetail), export compliance and
// encryption declarations, beta app review submissions and tester
// notifications. Like processing, time-driven behaviour is evaluated
// lazily by the server's clock on each request (settleTestFlight):
//
//   - a build's beta detail does not exist (GET …/buildBetaDetail answers
//     404) until betaDetailLag after the simulator first sees it VALID;
//   - the app's primary locale gets an empty betaBuildLocalization
//     defaultLocaleDelay after that, unless the client made it first, so a
//     client that lists, then creates, can meet a 409;
//   - answering export compliance (PATCH /v1/builds/{id}) sends the build
//     back to PROCESSING for complianceReprocessing.
//
// Where Apple's behaviour is not documented the choices are marked
// "unverified" and follow what users of the API have reported.

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The TestFlight delays' defaults, by the server's clock.
const (
	DefaultBetaDetailLag          = 30 * time.Second
	DefaultDefaultLocaleDelay     = 2 * time.Minute
	DefaultComplianceReprocessing = time.Minute
)

// WithTestFlight sets the TestFlight delays described in testflight.go;
// a negative value keeps the default, zero means none.
func WithTestFlight(betaDetailLag, defaultLocaleDelay, complianceReprocessing time.Duration) Option {
	return func(s *Server) {
		t := &s.tf
		if betaDetailLag >= 0 {
			t.betaLag, t.betaLagSet = betaDetailLag, true
		}
		if defaultLocaleDelay >= 0 {
			t.localeDelay, t.localeDelaySet = defaultLocaleDelay, true
		}
		if complianceReprocessing >= 0 {
			t.reprocess, t.reprocessSet = complianceReprocessing, true
		}
	}
}

// tfStore is the TestFlight state, guarded by Server.mu.
type tfStore struct {
	betaLag, localeDelay, reprocess          time.Duration
	betaLagSet, localeDelaySet, reprocessSet bool
	seq                                      int

	groups        []*betaGroup
	groupByID     map[string]*betaGroup
	builds        map[*build]*tfBuild
	detailByID    map[string]*tfBuild
	locs          []*buildLoc
	locByID       map[string]*buildLoc
	appLocs       []*appLoc
	reviewDetails map[*app]*reviewDetail
	subs          map[string]*submission // by ID
	decls         map[string]*encDecl
	afterFaults   []*Fault
}

type betaGroup struct {
	id, name            string
	app                 *app
	internal, allBuilds bool
}

// tfBuild is what TestFlight adds to a build.
type tfBuild struct {
	b              *build
	detailID       string
	validSince     time.Time // when the simulator first saw the build VALID
	usesNonExempt  *bool
	decl           *encDecl
	reprocessUntil time.Time
	autoNotify     bool
	groups         []*betaGroup // in the order added
	adds           []string     // every group ID a request added, repeats included
	sub            *submission
	notifications  int
}

type buildLoc struct {
	id, locale, whatsNew string
	build                *build
}

type appLoc struct {
	id, locale, description, feedbackEmail string
	app                                    *app
}

type reviewDetail struct {
	id string
	BetaReviewContact
}

// BetaReviewContact is an app's Beta App Review contact.
type BetaReviewContact struct {
	FirstName, LastName, Phone, Email string
}

type submission struct {
	id        string
	build     *build
	state     string // BetaReviewState
	submitted time.Time
}

type encDecl struct {
	id, state string
	app       *app
}

var betaReviewStates = []string{"WAITING_FOR_REVIEW", "IN_REVIEW", "REJECTED", "APPROVED"}

func (t *tfStore) init() {
	if t.groupByID != nil {
		return
	}
	t.groupByID = make(map[string]*betaGroup)
	t.builds = make(map[*build]*tfBuild)
	t.detailByID = make(map[string]*tfBuild)
	t.locByID = make(map[string]*buildLoc)
	t.reviewDetails = make(map[*app]*reviewDetail)
	t.subs = make(map[string]*submission)
	t.decls = make(map[string]*encDecl)
	if !t.betaLagSet {
		t.betaLag = DefaultBetaDetailLag
	}
	if !t.localeDelaySet {
		t.localeDelay = DefaultDefaultLocaleDelay
	}
	if !t.reprocessSet {
		t.reprocess = DefaultComplianceReprocessing
	}
}

// next returns a new ID, a UUID like store.next's but from TestFlight's
// own sequence, so that TestFlight never changes the IDs of the rest.
func (t *tfStore) next(kind string) string {
	t.seq++
	h := sha256.Sum256([]byte("testflight/" + kind + "/" + strconv.Itoa(t.seq)))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// tfOf returns b's TestFlight state, made on first use: auto-notify on
// (Apple's default) and export compliance unanswered.
func (s *Server) tfOf(b *build) *tfBuild {
	t := &s.tf
	t.init()
	if x, ok := t.builds[b]; ok {
		return x
	}
	id := t.next("buildBetaDetails")
	x := &tfBuild{b: b, detailID: id, autoNotify: true}
	t.builds[b] = x
	t.detailByID[id] = x
	return x
}

// settleTestFlight carries TestFlight's own processing forward to now.
func (s *Server) settleTestFlight(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tf.init()
	for b, x := range s.tf.builds { // only builds TestFlight has seen
		if b.state != "VALID" {
			continue
		}
		if x.validSince.IsZero() {
			x.validSince = now
		}
		if now.Before(x.validSince.Add(s.tf.localeDelay)) {
			continue
		}
		if !slices.ContainsFunc(s.tf.locs, func(l *buildLoc) bool { return l.build == b && strings.EqualFold(l.locale, b.app.language) }) {
			s.addLoc(b, b.app.language, "")
		}
	}
}

func (s *Server) addLoc(b *build, locale, whatsNew string) *buildLoc {
	id := s.tf.next("betaBuildLocalizations")
	l := &buildLoc{id: id, locale: locale, whatsNew: whatsNew, build: b}
	s.tf.locs = append(s.tf.locs, l)
	s.tf.locByID[id] = l
	return l
}

// detailReady reports whether b's beta detail exists yet.
func (s *Server) detailReady(x *tfBuild, now time.Time) bool {
	return x.b.state == "VALID" && !x.validSince.IsZero() && !now.Before(x.validSince.Add(s.tf.betaLag))
}

// betaStates computes b's internal and external beta states.
func (s *Server) betaStates(x *tfBuild, now time.Time) (internal, external string) {
	b := x.b
	switch {
	case b.state == "FAILED" || b.state == "INVALID":
		return "PROCESSING_EXCEPTION", "PROCESSING_EXCEPTION"
	case b.isExpired(now):
		return "EXPIRED", "EXPIRED"
	case b.state == "PROCESSING" || !s.detailReady(x, now) || now.Before(x.reprocessUntil):
		return "PROCESSING", "PROCESSING"
	case x.usesNonExempt == nil:
		return "MISSING_EXPORT_COMPLIANCE", "MISSING_EXPORT_COMPLIANCE"
	case *x.usesNonExempt && x.decl == nil:
		return "MISSING_EXPORT_COMPLIANCE", "MISSING_EXPORT_COMPLIANCE" // unverified
	case *x.usesNonExempt && x.decl.state != "APPROVED":
		return "IN_EXPORT_COMPLIANCE_REVIEW", "IN_EXPORT_COMPLIANCE_REVIEW" // unverified
	}
	internal = "READY_FOR_BETA_TESTING"
	inExternal := false
	for _, g := range x.groups {
		if g.internal {
			internal = "IN_BETA_TESTING"
		} else {
			inExternal = true
		}
	}
	if slices.ContainsFunc(s.tf.groups, func(g *betaGroup) bool { return g.app == b.app && g.internal && g.allBuilds }) {
		internal = "IN_BETA_TESTING"
	}
	external = "READY_FOR_BETA_SUBMISSION"
	if x.sub != nil {
		switch x.sub.state {
		case "WAITING_FOR_REVIEW":
			external = "WAITING_FOR_BETA_REVIEW"
		case "IN_REVIEW":
			external = "IN_BETA_REVIEW"
		case "REJECTED":
			external = "BETA_REJECTED"
		case "APPROVED":
			external = "BETA_APPROVED"
			if inExternal {
				external = "IN_BETA_TESTING"
			}
		}
	}
	return internal, external
}

// Seeding and inspection. Like the other seeding methods these panic on
// an unknown app or build.

// AddBetaGroup adds a beta group to the app and returns its ID. An
// internal group with allBuilds (hasAccessToAllBuilds) gets every build by
// itself; Apple refuses to add a build to it by hand.
func (s *Server) AddBetaGroup(appID, name string, internal, allBuilds bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tf.init()
	a := mustApp(&s.data, appID)
	id := s.tf.next("betaGroups")
	g := &betaGroup{id: id, name: name, app: a, internal: internal, allBuilds: allBuilds && internal}
	s.tf.groups = append(s.tf.groups, g)
	s.tf.groupByID[id] = g
	return id
}

// AddBuildToBetaGroup makes a build a member of a group, as an earlier
// distribution would have.
func (s *Server) AddBuildToBetaGroup(buildID, groupID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tf.init()
	x := s.tfOf(mustBuild(&s.data, buildID))
	g, ok := s.tf.groupByID[groupID]
	if !ok {
		panic(fmt.Sprintf("ascsim: no beta group %q", groupID))
	}
	if !slices.Contains(x.groups, g) {
		x.groups = append(x.groups, g)
	}
}

// AddBetaAppLocalization adds the app's test information in a locale.
func (s *Server) AddBetaAppLocalization(appID, locale, description, feedbackEmail string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tf.init()
	a := mustApp(&s.data, appID)
	id := s.tf.next("betaAppLocalizations")
	s.tf.appLocs = append(s.tf.appLocs, &appLoc{id: id, locale: locale, description: description, feedbackEmail: feedbackEmail, app: a})
	return id
}

// SetBetaReviewContact sets the app's Beta App Review contact.
func (s *Server) SetBetaReviewContact(appID string, c BetaReviewContact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reviewDetail(mustApp(&s.data, appID)).BetaReviewContact = c
}

func (s *Server) reviewDetail(a *app) *reviewDetail {
	s.tf.init()
	d, ok := s.tf.reviewDetails[a]
	if !ok {
		d = &reviewDetail{id: a.id} // Apple's betaAppReviewDetails share the app's ID
		s.tf.reviewDetails[a] = d
	}
	return d
}

// AddAppEncryptionDeclaration adds an export compliance declaration of the
// app in state (CREATED, IN_REVIEW, APPROVED, REJECTED, INVALID, EXPIRED).
func (s *Server) AddAppEncryptionDeclaration(appID, state string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tf.init()
	mustEnum("appEncryptionDeclarationState", state, []string{"CREATED", "IN_REVIEW", "APPROVED", "REJECTED", "INVALID", "EXPIRED"})
	id := s.tf.next("appEncryptionDeclarations")
	s.tf.decls[id] = &encDecl{id: id, state: state, app: mustApp(&s.data, appID)}
	return id
}

// SetUsesNonExemptEncryption sets a build's export compliance answer, as
// ITSAppUsesNonExemptEncryption in its Info.plist would; nil is
// unanswered, the default.
func (s *Server) SetUsesNonExemptEncryption(buildID string, v *bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.tfOf(mustBuild(&s.data, buildID))
	if v != nil {
		v = new(*v)
	}
	x.usesNonExempt = v
}

// SetAutoNotify sets a build's autoNotifyEnabled (default true).
func (s *Server) SetAutoNotify(buildID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tfOf(mustBuild(&s.data, buildID)).autoNotify = on
}

// SetBetaReview gives a build a beta app review submission in state
// (WAITING_FOR_REVIEW, IN_REVIEW, REJECTED or APPROVED).
func (s *Server) SetBetaReview(buildID, state string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	mustEnum("betaReviewState", state, betaReviewStates)
	x := s.tfOf(mustBuild(&s.data, buildID))
	if x.sub == nil {
		id := s.tf.next("betaAppReviewSubmissions")
		x.sub = &submission{id: id, build: x.b, submitted: now}
		s.tf.subs[id] = x.sub
	}
	x.sub.state = state
}

// FailAfterApplying makes the next times (0: every) TestFlight requests
// matching method and pathPrefix do what they ask and then answer 500
// UNEXPECTED_ERROR: the ambiguous failure after which a client must read
// the state before it decides anything. It applies to the TestFlight
// operations of testflight.go.
func (s *Server) FailAfterApplying(method, pathPrefix string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tf.afterFaults = append(s.tf.afterFaults, &Fault{Kind: FaultServerError, Method: method, PathPrefix: pathPrefix, Times: times})
}

// TestFlightState is a build's TestFlight state, for test assertions.
type TestFlightState struct {
	Internal, External      string
	BetaDetailExists        bool
	Groups                  []string // member groups' IDs, in the order added
	GroupAdds               []string // every group ID a request added, repeats included
	Locales                 map[string]string
	UsesNonExemptEncryption *bool
	EncryptionDeclaration   string
	BetaReviewState         string // "" if never submitted
	AutoNotify              bool
	Notifications           int
	Expired                 bool
}

// TestFlight returns the build's TestFlight state by the server's clock.
func (s *Server) TestFlight(buildID string) TestFlightState {
	now := s.now()
	s.settleTestFlight(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.tfOf(mustBuild(&s.data, buildID))
	st := TestFlightState{
		BetaDetailExists: s.detailReady(x, now),
		GroupAdds:        slices.Clone(x.adds),
		Locales:          map[string]string{},
		AutoNotify:       x.autoNotify,
		Notifications:    x.notifications,
		Expired:          x.b.isExpired(now),
	}
	st.Internal, st.External = s.betaStates(x, now)
	for _, g := range x.groups {
		st.Groups = append(st.Groups, g.id)
	}
	for _, l := range s.tf.locs {
		if l.build == x.b {
			st.Locales[l.locale] = l.whatsNew
		}
	}
	if x.usesNonExempt != nil {
		st.UsesNonExemptEncryption = new(*x.usesNonExempt)
	}
	if x.decl != nil {
		st.EncryptionDeclaration = x.decl.id
	}
	if x.sub != nil {
		st.BetaReviewState = x.sub.state
	}
	return st
}

// Routing.

// testFlightEndpointFor returns the TestFlight operations, and the build
// reads with TestFlight's includes and filters.
func testFlightEndpointFor(method, path string) (endpoint, bool) {
	var ep endpoint
	switch method + " " + path {
	case "PATCH /v1/builds/{id}":
		ep.serve = (*call).updateBuild
	case "GET /v1/apps/{id}/betaGroups":
		ep.serve = (*call).listAppBetaGroups
	case "GET /v1/betaGroups":
		ep = endpoint{filters: []string{"app", "builds", "id", "name", "isInternalGroup"}, serve: (*call).listBetaGroups}
	case "POST /v1/builds/{id}/relationships/betaGroups":
		ep.serve = (*call).addBuildBetaGroups
	case "GET /v1/builds/{id}/buildBetaDetail":
		ep.serve = (*call).getBuildBetaDetail
	case "PATCH /v1/buildBetaDetails/{id}":
		ep.serve = (*call).updateBuildBetaDetail
	case "GET /v1/builds/{id}/betaBuildLocalizations":
		ep.serve = (*call).listBuildLocalizations
	case "POST /v1/betaBuildLocalizations":
		ep.serve = (*call).createBuildLocalization
	case "PATCH /v1/betaBuildLocalizations/{id}":
		ep.serve = (*call).updateBuildLocalization
	case "GET /v1/apps/{id}/betaAppLocalizations":
		ep.serve = (*call).listAppLocalizations
	case "GET /v1/apps/{id}/betaAppReviewDetail":
		ep.serve = (*call).getBetaAppReviewDetail
	case "GET /v1/builds/{id}/betaAppReviewSubmission":
		ep.serve = (*call).getBuildSubmission
	case "POST /v1/betaAppReviewSubmissions":
		ep.serve = (*call).createSubmission
	case "POST /v1/buildBetaNotifications":
		ep.serve = (*call).createNotification
	case "GET /v1/appEncryptionDeclarations/{id}":
		ep.serve = (*call).getEncryptionDeclaration
	default:
		return endpoint{}, false
	}
	inner := ep.serve
	ep.serve = func(c *call) { c.afterFault(inner) }
	return ep, true
}

// tfBuildIncludes are the includes GET /v1/builds/{id} adds for TestFlight.
var tfBuildIncludes = []string{"buildBetaDetail", "betaGroups", "betaBuildLocalizations", "betaAppReviewSubmission"}

// afterFault serves the call, and if a FailAfterApplying fault matches,
// throws the answer away and answers 500 instead.
func (c *call) afterFault(serve func(*call)) {
	c.s.mu.Lock()
	var apply []Fault
	apply, c.s.tf.afterFaults = take(c.s.tf.afterFaults,
		func(f *Fault) (match, delay bool) { return f.matches(c.r), false },
		func(f *Fault) *int { return &f.Times })
	c.s.mu.Unlock()
	if len(apply) == 0 {
		serve(c)
		return
	}
	w := c.w
	c.w = &discardWriter{h: http.Header{}}
	serve(c)
	writeErrors(w, errUnexpected())
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// relateBuildTestFlight adds a build's export compliance answer and its
// TestFlight relationships, with the
// included resources the request asks for; in is nil when b is itself
// included. Called with the lock held.
//
// Only a request that includes one of them gets them, so that the build
// reads of the other tests are answered as before.
func (c *call) relateBuildTestFlight(res *resource, b *build, in *included) {
	if x, ok := c.s.tf.builds[b]; ok && x.usesNonExempt != nil {
		res.Attributes["usesNonExemptEncryption"] = *x.usesNonExempt
	}
	want := func(name string) bool { return in != nil && c.q.include[name] }
	if !slices.ContainsFunc(tfBuildIncludes, want) {
		return
	}
	x := c.s.tfOf(b)

	var detail *linkage
	if c.s.detailReady(x, c.now) {
		detail = &linkage{"buildBetaDetails", x.detailID}
	}
	c.relate(res, "buildBetaDetail", detail, want("buildBetaDetail"))
	if detail != nil && want("buildBetaDetail") {
		in.add(c.betaDetailResource(x))
	}
	var sub *linkage
	if x.sub != nil {
		sub = &linkage{"betaAppReviewSubmissions", x.sub.id}
	}
	c.relate(res, "betaAppReviewSubmission", sub, want("betaAppReviewSubmission"))
	if sub != nil && want("betaAppReviewSubmission") {
		in.add(c.submissionResource(x.sub))
	}
	if want("betaGroups") {
		ids := make([]linkage, len(x.groups))
		for i, g := range x.groups {
			ids[i] = linkage{"betaGroups", g.id}
		}
		shown := c.relateMany(res, "betaGroups", ids)
		for _, g := range x.groups[:shown] {
			in.add(c.betaGroupResource(g))
		}
	}
	if want("betaBuildLocalizations") {
		var locs []*buildLoc
		for _, l := range c.s.tf.locs {
			if l.build == b {
				locs = append(locs, l)
			}
		}
		ids := make([]linkage, len(locs))
		for i, l := range locs {
			ids[i] = linkage{"betaBuildLocalizations", l.id}
		}
		shown := c.relateMany(res, "betaBuildLocalizations", ids)
		for _, l := range locs[:shown] {
			in.add(c.buildLocResource(l))
		}
	}
}

// relateMany sets an included to-many relationship: its first
// limit[name] linkages (default 50) and paging meta with the total. It
// returns how many it gave.
func (c *call) relateMany(res *resource, name string, ids []linkage) int {
	limit := defaultLimit
	if n, ok := c.q.relLimit[name]; ok {
		limit = n
	}
	n := min(limit, len(ids))
	rel := res.Relationships[name]
	rel.Many = append([]linkage{}, ids[:n]...)
	rel.Meta = &pagingMeta{Paging: paging{Total: len(ids), Limit: limit}}
	res.Relationships[name] = rel
	return n
}

// Rendering.

func (c *call) betaGroupResource(g *betaGroup) resource {
	res := c.newResource("betaGroups", g.id)
	res.Attributes["name"] = g.name
	res.Attributes["isInternalGroup"] = g.internal
	res.Attributes["hasAccessToAllBuilds"] = g.allBuilds
	res.Attributes["publicLinkEnabled"] = false
	res.Attributes["feedbackEnabled"] = true
	c.relate(&res, "app", &linkage{"apps", g.app.id}, false)
	return c.sparse(res)
}

func (c *call) betaDetailResource(x *tfBuild) resource {
	res := c.newResource("buildBetaDetails", x.detailID)
	internal, external := c.s.betaStates(x, c.now)
	res.Attributes["autoNotifyEnabled"] = x.autoNotify
	res.Attributes["internalBuildState"] = internal
	res.Attributes["externalBuildState"] = external
	c.relate(&res, "build", &linkage{"builds", x.b.id}, false)
	return c.sparse(res)
}

func (c *call) buildLocResource(l *buildLoc) resource {
	res := c.newResource("betaBuildLocalizations", l.id)
	res.Attributes["locale"] = l.locale
	if l.whatsNew != "" {
		res.Attributes["whatsNew"] = l.whatsNew
	}
	c.relate(&res, "build", &linkage{"builds", l.build.id}, false)
	return c.sparse(res)
}

func (c *call) submissionResource(sub *submission) resource {
	res := c.newResource("betaAppReviewSubmissions", sub.id)
	res.Attributes["betaReviewState"] = sub.state
	res.Attributes["submittedDate"] = formatTime(sub.submitted)
	c.relate(&res, "build", &linkage{"builds", sub.build.id}, false)
	return c.sparse(res)
}

// Reads.

func (c *call) listAppBetaGroups() {
	a := c.lockApp()
	if a == nil {
		return
	}
	var gs []*betaGroup
	for _, g := range c.s.tf.groups {
		if g.app == a {
			gs = append(gs, g)
		}
	}
	c.writeGroups(gs)
}

func (c *call) listBetaGroups() {
	c.s.mu.Lock()
	var gs []*betaGroup
	for _, g := range c.s.tf.groups {
		if c.q.matches("app", g.app.id) && c.q.matches("id", g.id) && c.q.matches("name", g.name) &&
			c.q.matches("isInternalGroup", fmt.Sprint(g.internal)) && c.inBuilds(g) {
			gs = append(gs, g)
		}
	}
	c.writeGroups(gs)
}

// inBuilds is filter[builds]: the group has one of the builds.
func (c *call) inBuilds(g *betaGroup) bool {
	want, ok := c.q.filter["builds"]
	if !ok {
		return true
	}
	for _, id := range want {
		if b, ok := c.s.data.byID[id]; ok && slices.Contains(c.s.tfOf(b).groups, g) {
			return true
		}
	}
	return false
}

// writeGroups writes a page of groups and releases the lock.
func (c *call) writeGroups(gs []*betaGroup) {
	writePage(c, gs, func(g *betaGroup, _ *included) resource { return c.betaGroupResource(g) })
}

// lockBuild takes the lock and returns the path's build, or answers 404
// and returns nil without the lock.
func (c *call) lockBuild() *tfBuild {
	return c.lockBuildID(c.id, func() apiError { return errNoResource("builds", c.id) })
}

// lockBodyBuild decodes a body whose data names a build in
// relationships.build (the POSTs of a submission and a notification),
// takes the lock and returns the build. On a body it cannot read or a
// build that does not exist it answers the error (409 for the
// relationship) and returns nil without the lock; otherwise the caller
// holds c.s.mu and must release it.
func (c *call) lockBodyBuild() *tfBuild {
	var body struct {
		Data struct {
			Relationships struct {
				Build struct{ Data linkage } `json:"build"`
			} `json:"relationships"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) {
		return nil
	}
	buildID := body.Data.Relationships.Build.Data.ID
	return c.lockBuildID(buildID, func() apiError { return errRelationship("/data/relationships/build", buildID) })
}

// lockBuildID takes the lock and returns the TestFlight state of the build
// with the ID, or answers notFound() and returns nil without the lock.
func (c *call) lockBuildID(id string, notFound func() apiError) *tfBuild {
	c.s.mu.Lock()
	b, ok := c.s.data.byID[id]
	if !ok {
		c.s.mu.Unlock()
		writeErrors(c.w, notFound())
		return nil
	}
	return c.s.tfOf(b)
}

func (c *call) getBuildBetaDetail() {
	x := c.lockBuild()
	if x == nil {
		return
	}
	if !c.s.detailReady(x, c.now) {
		c.s.mu.Unlock()
		writeErrors(c.w, errNoResource("buildBetaDetails", c.id))
		return
	}
	res := c.betaDetailResource(x)
	c.s.mu.Unlock()
	c.writeDocument(res, nil, nil, "")
}

func (c *call) listBuildLocalizations() {
	x := c.lockBuild()
	if x == nil {
		return
	}
	var locs []*buildLoc
	for _, l := range c.s.tf.locs {
		if l.build == x.b {
			locs = append(locs, l)
		}
	}
	writePage(c, locs, func(l *buildLoc, _ *included) resource { return c.buildLocResource(l) })
}

func (c *call) getBuildSubmission() {
	x := c.lockBuild()
	if x == nil {
		return
	}
	if x.sub == nil {
		c.s.mu.Unlock()
		writeErrors(c.w, errNoResource("betaAppReviewSubmissions", c.id))
		return
	}
	res := c.submissionResource(x.sub)
	c.s.mu.Unlock()
	c.writeDocument(res, nil, nil, "")
}

func (c *call) listAppLocalizations() {
	a := c.lockApp()
	if a == nil {
		return
	}
	var locs []*appLoc
	for _, l := range c.s.tf.appLocs {
		if l.app == a {
			locs = append(locs, l)
		}
	}
	writePage(c, locs, func(l *appLoc, _ *included) resource {
		res := c.newResource("betaAppLocalizations", l.id)
		res.Attributes["locale"] = l.locale
		if l.description != "" {
			res.Attributes["description"] = l.description
		}
		if l.feedbackEmail != "" {
			res.Attributes["feedbackEmail"] = l.feedbackEmail
		}
		c.relate(&res, "app", &linkage{"apps", a.id}, false)
		return c.sparse(res)
	})
}

func (c *call) getBetaAppReviewDetail() {
	a := c.lockApp()
	if a == nil {
		return
	}
	d := c.s.reviewDetail(a)
	res := c.newResource("betaAppReviewDetails", d.id)
	for k, v := range map[string]string{"contactFirstName": d.FirstName, "contactLastName": d.LastName, "contactPhone": d.Phone, "contactEmail": d.Email} {
		if v != "" {
			res.Attributes[k] = v
		}
	}
	res.Attributes["demoAccountRequired"] = false
	c.relate(&res, "app", &linkage{"apps", a.id}, false)
	res = c.sparse(res)
	c.s.mu.Unlock()
	c.writeDocument(res, nil, nil, "")
}

func (c *call) getEncryptionDeclaration() {
	getOne(c, "appEncryptionDeclarations", func() map[string]*encDecl { return c.s.tf.decls }, func(d *encDecl, _ *included) resource {
		res := c.newResource("appEncryptionDeclarations", d.id)
		res.Attributes["appEncryptionDeclarationState"] = d.state
		res.Attributes["appDescription"] = "Uses TLS"
		res.Attributes["exempt"] = false
		return c.sparse(res)
	})
}

// Writes. Each checks what Apple is reported to check; the bodies have
// been validated against the document already.

func errUnprocessable(title, detail string) apiError {
	return newError(http.StatusUnprocessableEntity, "ENTITY_UNPROCESSABLE", title, detail)
}

// idMismatch is the 409 for a PATCH whose body names another resource.
func (c *call) idMismatch(id string) bool {
	if id == c.id {
		return false
	}
	e := newError(http.StatusConflict, "ENTITY_ERROR.ID.INVALID", "The provided entity has an invalid ID.",
		fmt.Sprintf("The ID '%s' in the body does not match the ID '%s' in the URL.", id, c.id))
	e.Source = &errorSource{Pointer: "/data/id"}
	writeErrors(c.w, e)
	return true
}

// PATCH /v1/builds/{id}: expired, usesNonExemptEncryption and the
// encryption declaration.
func (c *call) updateBuild() {
	var body struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				Expired       *bool `json:"expired"`
				UsesNonExempt *bool `json:"usesNonExemptEncryption"`
			} `json:"attributes"`
			Relationships struct {
				Decl *struct{ Data *linkage } `json:"appEncryptionDeclaration"`
			} `json:"relationships"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) || c.idMismatch(body.Data.ID) {
		return
	}
	at := body.Data.Attributes
	x := c.lockBuild()
	if x == nil {
		return
	}
	var errs []apiError
	var decl *encDecl
	if r := body.Data.Relationships.Decl; r != nil && r.Data != nil {
		d, ok := c.s.tf.decls[r.Data.ID]
		if !ok || d.app != x.b.app {
			errs = append(errs, errRelationship("/data/relationships/appEncryptionDeclaration", r.Data.ID))
		}
		decl = d
	}
	if at.Expired != nil && !*at.Expired && x.b.isExpired(c.now) {
		errs = append(errs, errAttribute("/data/attributes/expired", "An expired build cannot be made unexpired."))
	}
	if v := at.UsesNonExempt; v != nil && x.usesNonExempt != nil && *x.usesNonExempt != *v {
		errs = append(errs, errState("The build's export compliance is already answered.")) // unverified wording
	}
	if len(errs) > 0 {
		c.s.mu.Unlock()
		writeErrors(c.w, errs...)
		return
	}
	if at.Expired != nil && *at.Expired {
		x.b.expired = true
	}
	if v := at.UsesNonExempt; v != nil && x.usesNonExempt == nil {
		x.usesNonExempt = new(*v)
		x.reprocessUntil = c.now.Add(c.s.tf.reprocess) // Apple processes the build again, about a minute
	}
	if decl != nil {
		x.decl = decl
	}
	var in included
	res := c.buildResource(x.b, &in)
	c.s.mu.Unlock()
	c.writeResource(http.StatusOK, res, nil)
}

// POST /v1/builds/{id}/relationships/betaGroups.
func (c *call) addBuildBetaGroups() {
	var body struct {
		Data []linkage `json:"data"`
	}
	if !c.decodeBody(&body) {
		return
	}
	x := c.lockBuild()
	if x == nil {
		return
	}
	var errs []apiError
	var add []*betaGroup
	internal, external := c.s.betaStates(x, c.now)
	for i, l := range body.Data {
		g, ok := c.s.tf.groupByID[l.ID]
		switch {
		case !ok || g.app != x.b.app:
			errs = append(errs, errRelationship(fmt.Sprintf("/data/%d", i), l.ID))
		case g.internal && g.allBuilds:
			errs = append(errs, errUnprocessable("Builds cannot be assigned to this internal group.", "Cannot add internal group to a build."))
		case g.internal && internal != "READY_FOR_BETA_TESTING" && internal != "IN_BETA_TESTING":
			errs = append(errs, errUnprocessable("The build is not in state for internal testing.", "Build is not in internal testing state."))
		case !g.internal && (external == "PROCESSING" || external == "MISSING_EXPORT_COMPLIANCE" || external == "EXPIRED" || external == "PROCESSING_EXCEPTION"):
			errs = append(errs, errUnprocessable("The build cannot be added to an external group.", "Build is not in an externally assignable state."))
		default:
			add = append(add, g)
		}
	}
	if len(errs) > 0 {
		c.s.mu.Unlock()
		writeErrors(c.w, errs...)
		return
	}
	for _, g := range add {
		x.adds = append(x.adds, g.id)
		if !slices.Contains(x.groups, g) { // re-adding a member: Apple's answer is unverified; accepted here
			x.groups = append(x.groups, g)
		}
	}
	c.s.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
}

// PATCH /v1/buildBetaDetails/{id}.
func (c *call) updateBuildBetaDetail() {
	var body struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				AutoNotify *bool `json:"autoNotifyEnabled"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) || c.idMismatch(body.Data.ID) {
		return
	}
	c.s.mu.Lock()
	x, ok := c.s.tf.detailByID[c.id]
	if !ok || !c.s.detailReady(x, c.now) {
		c.s.mu.Unlock()
		writeErrors(c.w, errNoResource("buildBetaDetails", c.id))
		return
	}
	if v := body.Data.Attributes.AutoNotify; v != nil {
		x.autoNotify = *v
	}
	res := c.betaDetailResource(x)
	c.s.mu.Unlock()
	c.writeResource(http.StatusOK, res, nil)
}

// whatsNewInvalid returns the characters Apple refuses in whatsNew: the
// simulator refuses the pictographs of U+1F000–U+1FAFF, as Apple refused
// "[🐤]".
func whatsNewInvalid(s string) []string {
	var bad []string
	for _, r := range s {
		if r >= 0x1F000 && r <= 0x1FAFF {
			bad = append(bad, string(r))
		}
	}
	return bad
}

func errWhatsNew(bad []string) apiError {
	return errAttribute("/data/attributes/whatsNew",
		fmt.Sprintf("Text for whatsNew contains invalid characters:'[%s]'.", strings.Join(bad, "")))
}

// POST /v1/betaBuildLocalizations.
func (c *call) createBuildLocalization() {
	var body struct {
		Data struct {
			Attributes struct {
				Locale   string  `json:"locale"`
				WhatsNew *string `json:"whatsNew"`
			} `json:"attributes"`
			Relationships struct {
				Build struct{ Data linkage } `json:"build"`
			} `json:"relationships"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) {
		return
	}
	at := body.Data.Attributes
	whatsNew := ""
	if at.WhatsNew != nil {
		whatsNew = *at.WhatsNew
	}
	buildID := body.Data.Relationships.Build.Data.ID
	c.s.mu.Lock()
	b, ok := c.s.data.byID[buildID]
	var errs []apiError
	switch {
	case !ok:
		errs = append(errs, errRelationship("/data/relationships/build", buildID))
	case slices.ContainsFunc(c.s.tf.locs, func(l *buildLoc) bool { return l.build == b && strings.EqualFold(l.locale, at.Locale) }):
		// The wording Apple uses for appStoreVersionLocalizations; for
		// betaBuildLocalizations it is unverified.
		e := newError(http.StatusConflict, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
			"The provided entity includes an attribute with a value that has already been used",
			fmt.Sprintf("Entity with locale: %s already exists. Try updating.", at.Locale))
		e.Source = &errorSource{Pointer: "/data/attributes/locale"}
		errs = append(errs, e)
	}
	if bad := whatsNewInvalid(whatsNew); len(bad) > 0 {
		errs = append(errs, errWhatsNew(bad))
	}
	if len(errs) > 0 {
		c.s.mu.Unlock()
		writeErrors(c.w, errs...)
		return
	}
	res := c.buildLocResource(c.s.addLoc(b, at.Locale, whatsNew))
	c.s.mu.Unlock()
	c.writeResource(http.StatusCreated, res, nil)
}

// PATCH /v1/betaBuildLocalizations/{id}.
func (c *call) updateBuildLocalization() {
	var body struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				WhatsNew *string `json:"whatsNew"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if !c.decodeBody(&body) || c.idMismatch(body.Data.ID) {
		return
	}
	l, ok := lockPath(c, "betaBuildLocalizations", func() map[string]*buildLoc { return c.s.tf.locByID })
	if !ok {
		return
	}
	if v := body.Data.Attributes.WhatsNew; v != nil {
		if bad := whatsNewInvalid(*v); len(bad) > 0 {
			c.s.mu.Unlock()
			writeErrors(c.w, errWhatsNew(bad))
			return
		}
		l.whatsNew = *v
	}
	res := c.buildLocResource(l)
	c.s.mu.Unlock()
	c.writeResource(http.StatusOK, res, nil)
}

// POST /v1/betaAppReviewSubmissions.
func (c *call) createSubmission() {
	x := c.lockBodyBuild()
	if x == nil {
		return
	}
	_, external := c.s.betaStates(x, c.now)
	var e *apiError
	fail := func(err apiError) { e = &err }
	switch {
	case x.sub != nil:
		fail(errState("The build has already been submitted for beta review.")) // unverified wording
	case external == "PROCESSING" || external == "PROCESSING_EXCEPTION" || external == "EXPIRED":
		fail(errUnprocessable("The build is not in a valid processing state for this operation.", "The build is not in a valid processing state for this operation."))
	case external == "MISSING_EXPORT_COMPLIANCE" || external == "IN_EXPORT_COMPLIANCE_REVIEW":
		fail(errUnprocessable("The build is missing export compliance.", "The build is missing export compliance."))
	case !slices.ContainsFunc(c.s.tf.appLocs, func(l *appLoc) bool { return l.app == x.b.app }):
		fail(errUnprocessable("betaAppLocalizations not found for this app.", "betaAppLocalization must exist for an app"))
	case slices.ContainsFunc(c.s.tf.appLocs, func(l *appLoc) bool { return l.app == x.b.app && l.description == "" }):
		fail(errUnprocessable("Beta App Description is missing.", "Beta App Description is required to submit a build for external testing."))
	case c.s.otherInReview(x, c.now):
		// Apple allows one build of a version in review; the status it
		// answers with is unverified, its text is "Another build is in review."
		fail(errUnprocessable("Another build is in review.", "Another build is in review."))
	}
	if e != nil {
		c.s.mu.Unlock()
		writeErrors(c.w, *e)
		return
	}
	id := c.s.tf.next("betaAppReviewSubmissions")
	x.sub = &submission{id: id, build: x.b, state: "WAITING_FOR_REVIEW", submitted: c.now}
	c.s.tf.subs[id] = x.sub
	res := c.submissionResource(x.sub)
	c.s.mu.Unlock()
	c.writeResource(http.StatusCreated, res, nil)
}

// otherInReview reports whether another unexpired build of x's
// pre-release version is waiting for or in beta review.
func (s *Server) otherInReview(x *tfBuild, now time.Time) bool {
	for b, y := range s.tf.builds {
		if b != x.b && b.prv == x.b.prv && !b.isExpired(now) && y.sub != nil &&
			(y.sub.state == "WAITING_FOR_REVIEW" || y.sub.state == "IN_REVIEW") {
			return true
		}
	}
	return false
}

// reviewStateOf is the build's betaAppReviewSubmission.betaReviewState for
// filtering, "" if it has none. Called with the lock held.
func (s *Server) reviewStateOf(b *build) string {
	if x, ok := s.tf.builds[b]; ok && x.sub != nil {
		return x.sub.state
	}
	return ""
}

// POST /v1/buildBetaNotifications.
func (c *call) createNotification() {
	x := c.lockBodyBuild()
	if x == nil {
		return
	}
	if x.autoNotify {
		c.s.mu.Unlock()
		writeErrors(c.w, newError(http.StatusConflict, "STATE_ERROR.ENTITY_STATE_INVALID",
			"The request cannot be fulfilled because of the state of another resource.", "Auto-notify already enabled"))
		return
	}
	x.notifications++
	id := c.s.tf.next("buildBetaNotifications")
	res := c.newResource("buildBetaNotifications", id)
	c.s.mu.Unlock()
	c.writeResource(http.StatusCreated, res, nil)
}
