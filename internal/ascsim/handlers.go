package ascsim

import (
	"strconv"
	"strings"
	"time"
)

// endpointFor returns the simulated operation for a method and a path
// template of Apple's document.
func endpointFor(method, path string) (endpoint, bool) {
	if ep, ok := uploadEndpointFor(method, path); ok {
		return ep, true
	}
	if ep, ok := testFlightEndpointFor(method, path); ok {
		return ep, true
	}
	if method != "GET" {
		return endpoint{}, false
	}
	switch path {
	case "/v1/apps":
		return endpoint{filters: []string{"bundleId", "id", "name", "sku"}, serve: (*call).listApps}, true
	case "/v1/apps/{id}":
		return endpoint{serve: (*call).getApp}, true
	case "/v1/builds":
		return endpoint{
			filters: []string{"app", "id", "version", "expired", "processingState",
				"preReleaseVersion", "preReleaseVersion.version", "preReleaseVersion.platform",
				"betaAppReviewSubmission.betaReviewState"},
			includes: buildIncludes(),
			serve:    (*call).listBuilds,
		}, true
	case "/v1/builds/{id}":
		return endpoint{includes: append(buildIncludes(), tfBuildIncludes...), serve: (*call).getBuild}, true
	case "/v1/preReleaseVersions":
		return endpoint{filters: []string{"app", "platform", "version"}, includes: []string{"app"}, serve: (*call).listPreReleaseVersions}, true
	case "/v1/preReleaseVersions/{id}":
		return endpoint{includes: []string{"app"}, serve: (*call).getPreReleaseVersion}, true
	case "/v1/apps/{id}/buildUploads":
		return endpoint{
			filters:  []string{"cfBundleShortVersionString", "cfBundleVersion", "platform", "state"},
			includes: buildUploadIncludes(),
			serve:    (*call).listBuildUploads,
		}, true
	case "/v1/buildUploads/{id}":
		return endpoint{includes: buildUploadIncludes(), serve: (*call).getBuildUpload}, true
	}
	return endpoint{}, false
}

func buildIncludes() []string { return []string{"app", "preReleaseVersion", "buildUpload"} }

// Apps.

func (c *call) listApps() {
	c.s.mu.Lock()
	var apps []*app
	for _, a := range c.s.data.apps {
		if c.q.matches("id", a.id) && c.q.matches("name", a.name) && c.q.matches("sku", a.sku) && bundleIDMatches(c.q.filter["bundleId"], a.bundleID) {
			apps = append(apps, a)
		}
	}
	sortBy(apps, c.q.sort, map[string]sortKey[*app]{
		"name":     byString(func(x *app) string { return x.name }),
		"bundleId": byString(func(x *app) string { return x.bundleID }),
		"sku":      byString(func(x *app) string { return x.sku }),
	})
	writePage(c, apps, func(a *app, _ *included) resource { return c.appResource(a) })
}

// bundleIDMatches is filter[bundleId] as Apple applies it: not an exact
// match but a prefix one, so "com.example.app" also finds
// "com.example.app.widget". Clients must compare the bundle ID themselves.
func bundleIDMatches(want []string, bundleID string) bool {
	if want == nil {
		return true
	}
	for _, w := range want {
		if strings.HasPrefix(bundleID, w) {
			return true
		}
	}
	return false
}

// getOne answers GET of one resource of type typ: what render makes of
// index()[c.id], with what it includes, or 404 when no resource has that
// ID. The index is fetched, read and rendered under the server's lock
// (some indexes are made lazily).
func getOne[T any](c *call, typ string, index func() map[string]T, render func(T, *included) resource) {
	v, ok := lockPath(c, typ, index)
	if !ok {
		return
	}
	var in included
	res := render(v, &in)
	c.s.mu.Unlock()
	c.writeDocument(res, &in, nil, "")
}

// lockPath takes the lock and returns index()[c.id], the resource of type
// typ the path names. When there is none it answers 404 and returns false
// without the lock; otherwise the caller holds c.s.mu and must release it.
func lockPath[T any](c *call, typ string, index func() map[string]T) (T, bool) {
	c.s.mu.Lock()
	v, ok := index()[c.id]
	if !ok {
		c.s.mu.Unlock()
		writeErrors(c.w, errNoResource(typ, c.id))
	}
	return v, ok
}

// lockApp is lockPath for the path's app: nil, without the lock, when
// there is none.
func (c *call) lockApp() *app {
	a, _ := lockPath(c, "apps", func() map[string]*app { return c.s.data.appByID })
	return a
}

// writePage writes the page of items the query asks for, each as render
// makes it, with what they include, and releases the lock, which the
// caller holds.
func writePage[T any](c *call, items []T, render func(T, *included) resource) {
	items, meta, next := page(c, items)
	var in included
	data := make([]resource, len(items))
	for i, v := range items {
		data[i] = render(v, &in)
	}
	c.s.mu.Unlock()
	c.writeDocument(data, &in, meta, next)
}

func (c *call) getApp() {
	getOne(c, "apps", func() map[string]*app { return c.s.data.appByID }, func(a *app, _ *included) resource { return c.appResource(a) })
}

func (c *call) appResource(a *app) resource {
	res := c.newResource("apps", a.id)
	res.Attributes["bundleId"] = a.bundleID
	res.Attributes["name"] = a.name
	res.Attributes["sku"] = a.sku
	res.Attributes["primaryLocale"] = a.language
	for _, rel := range []string{"builds", "preReleaseVersions", "buildUploads"} {
		c.relate(&res, rel, nil, false)
	}
	return c.sparse(res)
}

// Builds.

func (c *call) listBuilds() {
	c.s.mu.Lock()
	var builds []*build
	for _, b := range c.s.data.builds {
		if c.q.matches("app", b.app.id) && c.q.matches("id", b.id) && c.q.matches("version", b.number) &&
			c.q.matches("expired", strconv.FormatBool(b.isExpired(c.now))) && c.q.matches("processingState", b.state) &&
			c.q.matches("preReleaseVersion", b.prv.id) && c.q.matches("preReleaseVersion.version", b.prv.version) &&
			c.q.matches("preReleaseVersion.platform", b.prv.platform) &&
			c.q.matches("betaAppReviewSubmission.betaReviewState", c.s.reviewStateOf(b)) {
			builds = append(builds, b)
		}
	}
	// version is a string attribute, and the simulator sorts it as one,
	// byte by byte: "10" comes before "9". Apple's document promises no
	// numeric order, so a client wanting the highest build number must
	// compare the numbers itself. preReleaseVersion sorts the same way by
	// the marketing version's string.
	sortBy(builds, c.q.sort, map[string]sortKey[*build]{
		"version":           byString(func(x *build) string { return x.number }),
		"uploadedDate":      byTime(func(x *build) time.Time { return x.uploaded }),
		"preReleaseVersion": byString(func(x *build) string { return x.prv.version }),
	})
	writePage(c, builds, c.buildResource)
}

func (c *call) getBuild() {
	getOne(c, "builds", func() map[string]*build { return c.s.data.byID }, c.buildResource)
}

// buildResource renders b; in is nil when b is itself an included
// resource, whose relationships include nothing further.
func (c *call) buildResource(b *build, in *included) resource {
	res := c.newResource("builds", b.id)
	res.Attributes["version"] = b.number
	res.Attributes["uploadedDate"] = formatTime(b.uploaded)
	res.Attributes["expirationDate"] = formatTime(b.expirationDate())
	res.Attributes["expired"] = b.isExpired(c.now)
	res.Attributes["processingState"] = b.state
	res.Attributes["buildAudienceType"] = "APP_STORE_ELIGIBLE"

	withApp := in != nil && c.q.include["app"]
	c.relate(&res, "app", &linkage{"apps", b.app.id}, withApp)
	if withApp {
		in.add(c.appResource(b.app))
	}
	withPRV := in != nil && c.q.include["preReleaseVersion"]
	c.relate(&res, "preReleaseVersion", &linkage{"preReleaseVersions", b.prv.id}, withPRV)
	if withPRV {
		in.add(c.preReleaseVersionResource(b.prv, nil))
	}
	if u, ok := c.s.data.upByKey[b.key()]; ok {
		withUpload := in != nil && c.q.include["buildUpload"]
		c.relate(&res, "buildUpload", &linkage{"buildUploads", u.id}, withUpload)
		if withUpload {
			in.add(c.buildUploadResource(u, nil))
		}
	}
	c.relateBuildTestFlight(&res, b, in) // testflight.go
	return c.sparse(res)
}

// Pre-release versions.

func (c *call) listPreReleaseVersions() {
	c.s.mu.Lock()
	var prvs []*preReleaseVersion
	for _, p := range c.s.data.prvs {
		if c.q.matches("app", p.app.id) && c.q.matches("platform", p.platform) && c.q.matches("version", p.version) {
			prvs = append(prvs, p)
		}
	}
	// version is a string, sorted as one, like builds' version.
	sortBy(prvs, c.q.sort, map[string]sortKey[*preReleaseVersion]{
		"version": byString(func(x *preReleaseVersion) string { return x.version }),
	})
	writePage(c, prvs, c.preReleaseVersionResource)
}

func (c *call) getPreReleaseVersion() {
	getOne(c, "preReleaseVersions", func() map[string]*preReleaseVersion { return c.s.data.prvByID }, c.preReleaseVersionResource)
}

// preReleaseVersionResource renders p; in is nil when p is itself an
// included resource, whose relationships include nothing further.
func (c *call) preReleaseVersionResource(p *preReleaseVersion, in *included) resource {
	res := c.newResource("preReleaseVersions", p.id)
	res.Attributes["version"] = p.version
	res.Attributes["platform"] = p.platform
	withApp := in != nil && c.q.include["app"]
	c.relate(&res, "app", &linkage{"apps", p.app.id}, withApp)
	if withApp {
		in.add(c.appResource(p.app))
	}
	c.relate(&res, "builds", nil, false)
	return c.sparse(res)
}

// Build uploads.

func (c *call) listBuildUploads() {
	a := c.lockApp()
	if a == nil {
		return
	}
	var uploads []*buildUpload
	for _, u := range c.s.data.uploads {
		if u.app == a && c.q.matches("cfBundleShortVersionString", u.shortVersion) && c.q.matches("cfBundleVersion", u.number) &&
			c.q.matches("platform", u.platform) && c.q.matches("state", u.state.State) {
			uploads = append(uploads, u)
		}
	}
	// cfBundleVersion is a string and sorts as one (see listBuilds).
	sortBy(uploads, c.q.sort, map[string]sortKey[*buildUpload]{
		"cfBundleVersion": byString(func(x *buildUpload) string { return x.number }),
		"uploadedDate":    byTime(func(x *buildUpload) time.Time { return x.uploaded }),
	})
	writePage(c, uploads, c.buildUploadResource)
}

func (c *call) getBuildUpload() {
	getOne(c, "buildUploads", func() map[string]*buildUpload { return c.s.data.upByID }, c.buildUploadResource)
}

// buildUploadState is the state attribute as Apple writes it.
type buildUploadState struct {
	State    string        `json:"state"`
	Errors   []StateDetail `json:"errors"`
	Warnings []StateDetail `json:"warnings"`
	Infos    []StateDetail `json:"infos"`
}

// buildUploadResource renders u; in is nil when u is itself included.
func (c *call) buildUploadResource(u *buildUpload, in *included) resource {
	res := c.newResource("buildUploads", u.id)
	res.Attributes["cfBundleShortVersionString"] = u.shortVersion
	res.Attributes["cfBundleVersion"] = u.number
	res.Attributes["platform"] = u.platform
	res.Attributes["createdDate"] = formatTime(u.created)
	if !u.uploaded.IsZero() {
		res.Attributes["uploadedDate"] = formatTime(u.uploaded)
	}
	res.Attributes["state"] = buildUploadState{
		State:    u.state.State,
		Errors:   nonNil(u.state.Errors),
		Warnings: nonNil(u.state.Warnings),
		Infos:    nonNil(u.state.Infos),
	}
	// The document gives this relationship data and no links.
	if b, ok := c.s.data.byKey[u.key()]; ok {
		c.relate(&res, "build", &linkage{"builds", b.id}, true)
		if in != nil && c.q.include["build"] {
			in.add(c.buildResource(b, nil))
		}
	}
	c.relateUploadFiles(&res, u, in)
	return c.sparse(res)
}

func nonNil(d []StateDetail) []StateDetail {
	if d == nil {
		return []StateDetail{}
	}
	return d
}
