package upload

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/buildnum"
)

// inFlight are the build upload states that hold their build number, as
// the build-number step counts them: FAILED uploads free theirs.
var inFlight = []asc.BuildUploadState{asc.BuildUploadStateAwaitingUpload, asc.BuildUploadStateProcessing, asc.BuildUploadStateComplete}

// PreflightResult is what Preflight found.
type PreflightResult struct {
	AppID, BundleID, AppName string
	Builds, Uploads          int // how many of the version's builds and in-flight uploads were read
}

// Preflight checks, sending only GET requests, that the app exists and that
// no build and no build upload in flight of the version on the platform
// already has the build number (compared as numbers: 1.2 is 1.2.0). If one
// has, the error is a *BuildNumberTakenError naming the next free build
// number: the highest of the version's, plus one.
//
// App Store Connect requires build numbers to be unique within a version;
// macOS apps also need them to grow across versions, which this does not
// check.
func Preflight(ctx context.Context, c *asc.Client, plan Plan) (PreflightResult, error) {
	errs := []error{plan.check(false)}
	if c == nil {
		errs = append(errs, errors.New("upload: no App Store Connect client"))
	}
	if err := errors.Join(errs...); err != nil {
		return PreflightResult{}, err
	}
	app, err := c.App(ctx, plan.AppID)
	if errors.Is(err, asc.ErrNotFound) {
		return PreflightResult{}, fmt.Errorf("upload: no app with ID %s is visible to this key: check the app ID, "+
			"that the key belongs to the team that owns the app and, for a key limited to some apps, that it includes this one: %w", plan.AppID, err)
	}
	if err != nil {
		return PreflightResult{}, fmt.Errorf("upload: looking up app %s: %w", plan.AppID, err)
	}
	res := PreflightResult{AppID: app.ID}
	if a := app.Attributes; a != nil {
		res.BundleID, res.AppName = a.BundleID, a.Name
	}

	builds, err := c.Builds(ctx, asc.BuildsQuery{AppID: app.ID, Platform: plan.Platform, Version: plan.ShortVersion})
	if err != nil {
		return res, fmt.Errorf("upload: reading the builds of version %s: %w", plan.ShortVersion, err)
	}
	uploads, err := c.BuildUploads(ctx, asc.BuildUploadsQuery{AppID: app.ID, Platform: plan.Platform, Version: plan.ShortVersion, States: inFlight})
	if err != nil {
		return res, fmt.Errorf("upload: reading the build uploads of version %s: %w", plan.ShortVersion, err)
	}
	res.Builds, res.Uploads = len(builds), len(uploads)

	want, _ := buildnum.Parse(plan.BuildVersion) // checked by plan.check
	// highest is taken from what exists, as the build-number step does, so
	// both name the same next number.
	var (
		takenBy string
		highest buildnum.Number
	)
	consider := func(v, source string) {
		n, err := buildnum.Parse(v)
		if err != nil {
			if v == plan.BuildVersion && takenBy == "" {
				takenBy = source
			}
			return
		}
		if buildnum.Compare(n, want) == 0 && takenBy == "" {
			takenBy = source
		}
		highest = buildnum.Max(highest, n)
	}
	for _, b := range builds {
		if b.Attributes != nil {
			consider(b.Attributes.Version, "build "+b.ID)
		}
	}
	for _, u := range uploads {
		if a := u.Attributes; a != nil && a.State != nil && slices.Contains(inFlight, a.State.State) {
			consider(a.CFBundleVersion, fmt.Sprintf("build upload %s (%s)", u.ID, a.State.State))
		}
	}
	if takenBy == "" {
		return res, nil
	}
	if highest.IsZero() { // only unparseable numbers exist; want was checked
		highest = want
	}
	next, err := highest.Next()
	if err != nil {
		return res, fmt.Errorf("upload: build number %s of version %s is already used by %s, and %s cannot be incremented", plan.BuildVersion, plan.ShortVersion, takenBy, highest)
	}
	return res, &BuildNumberTakenError{Version: plan.ShortVersion, BuildNumber: plan.BuildVersion, TakenBy: takenBy, Next: next.String()}
}
