package buildnum

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/asc-auth/action/internal/asc"
)

// inFlight are the build upload states whose build number is taken even
// though no build shows it yet: a parallel pipeline's upload in progress,
// or one that finished but is still becoming a build. FAILED uploads free
// their number.
var inFlight = []asc.BuildUploadState{asc.BuildUploadStateAwaitingUpload, asc.BuildUploadStateProcessing, asc.BuildUploadStateComplete}

// Query is what the build-number step looks for.
type Query struct {
	App      string       // a bundle ID, or a numeric App Store Connect app ID
	Platform asc.Platform // IOS, MAC_OS, TV_OS or VISION_OS
	Version  string       // optional marketing version (CFBundleShortVersionString)
	Initial  Number       // the build number to use when there is none
}

// Result is the highest build number in use and the next one.
type Result struct {
	AppID, BundleID string
	Latest          Number // zero when the app has no build or upload yet
	LatestSource    string // where Latest was found, e.g. "build 1234"
	Next            Number
	Builds, Uploads int      // how many of each were read
	Ignored         []string // build numbers that are not numbers, left out
}

// Find reads every build and in-flight build upload of the app on the
// platform (and version) and returns the highest build number among them.
//
// Why every page: App Store Connect offers sort=version on builds but does
// not document it as numeric, and the build number is a string attribute
// ("1.2.10"), so a server-side sort cannot be trusted to put 10 above 9 or
// 1.2.10 above 1.2.9. The first page of a descending sort therefore proves
// nothing about the maximum, and Find reads all pages of 200 (the largest
// page Apple serves) with only the version field: 1 request for the app, then
// ceil(builds/200) and ceil(uploads/200).
func Find(ctx context.Context, c *asc.Client, q Query) (Result, error) {
	if err := CheckQuery(q); err != nil {
		return Result{}, err
	}
	app, err := FindApp(ctx, c, q.App)
	if err != nil {
		return Result{}, err
	}
	res := Result{AppID: app.ID}
	if app.Attributes != nil {
		res.BundleID = app.Attributes.BundleID
	}
	uses, builds, uploads, err := Uses(ctx, c, app.ID, q.Platform, q.Version)
	if err != nil {
		return Result{}, err
	}
	res.Builds, res.Uploads = builds, uploads
	for _, u := range uses {
		n, err := Parse(u.Number)
		if err != nil {
			res.Ignored = append(res.Ignored, u.Number)
			continue
		}
		if res.Latest.IsZero() || Compare(n, res.Latest) > 0 {
			res.Latest, res.LatestSource = n, u.Source
		}
	}
	if res.Latest.IsZero() {
		res.Next = q.Initial
		return res, nil
	}
	if res.Next, err = res.Latest.Next(); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Use is one build number in use.
type Use struct {
	Number string // as App Store Connect has it, not necessarily a number
	Source string // what holds it: "build 1234" or "build upload 7d2b… (PROCESSING)"
}

// Uses reads every build number in use for an app on a platform (and a
// marketing version, if not empty): its builds, expired and processing ones
// included, and its build uploads in flight. builds and uploads count what
// was read.
func Uses(ctx context.Context, c *asc.Client, appID string, platform asc.Platform, version string) (uses []Use, builds, uploads int, err error) {
	bs, err := c.Builds(ctx, asc.BuildsQuery{AppID: appID, Platform: platform, Version: version})
	if err != nil {
		return nil, 0, 0, explain(err, "read the app's builds")
	}
	us, err := c.BuildUploads(ctx, asc.BuildUploadsQuery{AppID: appID, Platform: platform, Version: version, States: inFlight})
	if err != nil {
		return nil, 0, 0, explain(err, "read the app's build uploads")
	}
	for _, b := range bs {
		if b.Attributes != nil {
			uses = append(uses, Use{b.Attributes.Version, "build " + b.ID})
		}
	}
	for _, u := range us {
		if a := u.Attributes; a != nil && a.State != nil && slices.Contains(inFlight, a.State.State) {
			uses = append(uses, Use{a.CFBundleVersion, fmt.Sprintf("build upload %s (%s)", u.ID, a.State.State)})
		}
	}
	return uses, len(bs), len(us), nil
}

// CheckQuery refuses a query that App Store Connect would refuse, before
// any request is sent.
func CheckQuery(q Query) error {
	errs := []error{CheckApp(q.App)}
	if !q.Platform.Valid() {
		errs = append(errs, fmt.Errorf("buildnum: platform %q is not one of %s", string(q.Platform), platformList()))
	}
	if q.Version != "" {
		if _, err := Parse(q.Version); err != nil {
			errs = append(errs, errors.New("buildnum: the version is not a marketing version such as 1.2 or 1.2.3"))
		}
	}
	if q.Initial.IsZero() {
		errs = append(errs, errors.New("buildnum: no initial build number"))
	}
	return errors.Join(errs...)
}

// CheckApp reports whether app can be a bundle ID or a numeric app ID.
func CheckApp(app string) error {
	switch {
	case app == "":
		return errors.New("buildnum: no app: give a bundle ID or a numeric app ID")
	case strings.ContainsAny(app, ", \t\r\n/?#%&"):
		return errors.New("buildnum: the app is neither a bundle ID nor a numeric app ID")
	}
	return nil
}

func platformList() string {
	var s []string
	for _, p := range asc.Platforms() {
		s = append(s, string(p))
	}
	return strings.Join(s, ", ")
}

// IsAppID reports whether app is a numeric App Store Connect app ID rather
// than a bundle ID (which always has a letter or a dot).
func IsAppID(app string) bool {
	return app != "" && strings.Trim(app, "0123456789") == ""
}

// FindApp looks an app up by bundle ID or numeric app ID; an app the key
// cannot see is an error that says what to check and errors.Is
// asc.ErrNotFound.
func FindApp(ctx context.Context, c *asc.Client, app string) (*asc.App, error) {
	if IsAppID(app) {
		a, err := c.App(ctx, app)
		if errors.Is(err, asc.ErrNotFound) {
			return nil, noApp{"buildnum: no app with ID " + app + " is visible to this key; " + hintAccess}
		}
		return a, explain(err, "look up the app")
	}
	a, err := c.AppByBundleID(ctx, app)
	if errors.Is(err, asc.ErrNotFound) {
		return nil, noApp{"buildnum: no app with bundle ID " + app + " is visible to this key; " + hintAccess}
	}
	return a, explain(err, "look up the app")
}

// noApp says no app matched, in words for the user; errors.Is finds
// asc.ErrNotFound behind it.
type noApp struct{ msg string }

func (e noApp) Error() string { return e.msg }
func (e noApp) Unwrap() error { return asc.ErrNotFound }

const hintAccess = "check the bundle ID and the platform, that the key belongs to the team that owns the app, " +
	"and, for an individual key or a key limited to some apps, that it has access to this app"

// explain adds what the key's role must allow to Apple's refusals.
func explain(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, asc.ErrUnauthorized):
		return fmt.Errorf("buildnum: could not %s: App Store Connect refused the token (401): check that key-id and issuer-id belong to this key and that the key is not revoked: %w", what, err)
	case errors.Is(err, asc.ErrForbidden):
		return fmt.Errorf("buildnum: could not %s: the key's role does not allow it (403): use a key with the Developer, App Manager or Admin role: %w", what, err)
	}
	return fmt.Errorf("buildnum: could not %s: %w", what, err)
}
