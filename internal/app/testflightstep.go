package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/testflight"
)

// testFlightStep gets a processed build to testers: groups, notes, export
// compliance, beta review, notification. Its Check resolves everything it
// names before any step changes anything, the upload included.
type testFlightStep struct {
	cfg      *config.TestFlight
	dryRun   bool                // the upload's dry run: check, change nothing
	resolved testflight.Resolved // by Check
}

func (*testFlightStep) Name() string { return config.StepTestFlight }

// Check resolves the app, the build if it exists, every group, the notes'
// locales, the encryption declaration and the test information, reading
// only.
func (t *testFlightStep) Check(ctx context.Context, r report.Report, s *State) error {
	c := s.Client(r)
	plan := t.cfg.Plan
	switch {
	case plan.BuildID != "":
	case s.AppID != "": // the upload step found it
		plan.AppID = s.AppID
	default:
		app, err := buildnum.FindApp(ctx, c, t.cfg.App)
		if err != nil {
			return err
		}
		plan.AppID = app.ID
	}
	res, err := testflight.Preflight(ctx, c, plan)
	if err != nil {
		return err
	}
	t.resolved = res
	s.AppID = res.AppID
	r.Infof("TestFlight preflight: %s; read in %d requests.", preflightLine(res), res.Requests)
	return nil
}

func preflightLine(res testflight.Resolved) string {
	var parts []string
	if res.BuildID != "" {
		parts = append(parts, "build "+res.BuildID)
	} else {
		parts = append(parts, "the build is not on App Store Connect yet")
	}
	for _, g := range res.Groups {
		parts = append(parts, fmt.Sprintf("group %q (%s)", g.Name, groupKind(g.Internal, g.Automatic)))
	}
	if len(res.Notes) > 0 {
		parts = append(parts, fmt.Sprintf("notes for %s", strings.Join(sortedKeys(res.Notes), ", ")))
	}
	return strings.Join(parts, ", ")
}

func (t *testFlightStep) Run(ctx context.Context, r report.Report, s *State) error {
	if t.dryRun {
		r.Infof("Dry run: the TestFlight plan checks out; nothing was changed.")
		return nil
	}
	resolved := t.resolved
	if s.BuildID != "" {
		resolved.BuildID = s.BuildID
	}
	r.Group("TestFlight")
	res, err := testflight.Run(ctx, s.Client(r), resolved, testflight.Options{
		Log:          func(line string) { r.Infof("%s", line) },
		Warn:         func(msg string) { r.Warningf("TestFlight", "%s", msg) },
		Now:          s.Env.Now,
		PollInterval: s.Env.PollInterval,
	})
	r.EndGroup()
	if res.BuildID != "" {
		s.BuildID = res.BuildID
	}
	list := res.Groups
	if list == nil {
		list = []testflight.GroupResult{} // [] rather than null
	}
	groups, jerr := json.Marshal(list)
	if jerr != nil {
		return jerr
	}
	outErr := setOutputs(r, [][2]string{
		{"build-id", res.BuildID},
		{"internal-build-state", res.InternalState},
		{"external-build-state", res.ExternalState},
		{"beta-groups", string(groups)},
		{"beta-review-state", res.BetaReviewState},
		{"beta-review-submission-id", res.BetaReviewSubmissionID},
		{"what-to-test-locales", strings.Join(res.Locales, ",")},
		{"notification", res.Notification},
	})
	summary(r, testFlightSummary(resolved, res, err))
	if err != nil {
		return err
	}
	r.Infof("TestFlight: build %s is %s internally and %s externally; %d group(s); notification %s; %d requests after processing.",
		res.BuildID, dash(res.InternalState), dash(res.ExternalState), len(res.Groups), dash(res.Notification), res.Requests)
	return outErr
}

func testFlightSummary(resolved testflight.Resolved, res testflight.Result, err error) string {
	rows := [][2]string{
		{"Build", fmt.Sprintf("`%s`: internal %s, external %s", dash(res.BuildID), dash(res.InternalState), dash(res.ExternalState))},
	}
	for _, g := range res.Groups {
		rows = append(rows, [2]string{"Group " + g.Name, fmt.Sprintf("%s (%s)", g.Result, groupKind(g.Internal, g.Automatic))})
	}
	if len(res.Locales) > 0 {
		rows = append(rows, [2]string{"What to Test", strings.Join(res.Locales, ", ")})
	}
	if res.ComplianceAnswered && res.UsesNonExemptEncryption != nil {
		rows = append(rows, [2]string{"Export compliance", fmt.Sprintf("answered: uses non-exempt encryption %t", *res.UsesNonExemptEncryption)})
	}
	review := dash(res.BetaReviewState)
	if res.Submitted {
		review += " (submitted now)"
	}
	if len(res.ExpiredBuilds) > 0 {
		review += "; expired " + strings.Join(res.ExpiredBuilds, ", ")
	}
	rows = append(rows, [2]string{"Beta review", review}, [2]string{"Notification", dash(res.Notification)})
	rows = append(rows, [2]string{"Requests", fmt.Sprintf("%d in preflight, %d after", resolved.Requests, res.Requests)})
	for _, m := range res.Messages {
		rows = append(rows, [2]string{"Apple", strings.ReplaceAll(m, "|", `\|`)})
	}
	if err != nil {
		rows = append(rows, [2]string{"Failed", strings.ReplaceAll(err.Error(), "|", `\|`)})
	}
	return table("TestFlight", rows)
}

// groupKind names a beta group's kind for people.
func groupKind(internal, automatic bool) string {
	switch {
	case automatic:
		return "internal, gets every build"
	case internal:
		return "internal"
	}
	return "external"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
