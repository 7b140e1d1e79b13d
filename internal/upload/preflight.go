package upload

import (
	"context"
	"errors"
	"fmt"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/buildnum"
)

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

	uses, builds, uploads, err := buildnum.Uses(ctx, c, app.ID, plan.Platform, plan.ShortVersion)
	if err != nil {
		return res, fmt.Errorf("upload: checking build number %s of version %s: %w", plan.BuildVersion, plan.ShortVersion, err)
	}
	res.Builds, res.Uploads = builds, uploads

	want, _ := buildnum.Parse(plan.BuildVersion) // checked by plan.check
	// highest is taken from what exists, as the build-number step does, so
	// both name the same next number.
	var (
		takenBy string
		highest buildnum.Number
	)
	for _, u := range uses {
		n, err := buildnum.Parse(u.Number)
		switch {
		case err != nil:
			if u.Number == plan.BuildVersion && takenBy == "" {
				takenBy = u.Source
			}
			continue
		case buildnum.Compare(n, want) == 0 && takenBy == "":
			takenBy = u.Source
		}
		highest = buildnum.Max(highest, n)
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
