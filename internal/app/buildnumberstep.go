package app

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
)

// buildNumberStep finds the latest build number in use, in-flight uploads
// included, and reports it and the next one.
type buildNumberStep struct{ q buildnum.Query }

func (buildNumberStep) Name() string { return config.StepBuildNumber }

func (buildNumberStep) Check(context.Context, report.Report, *State) error { return nil }

func (b buildNumberStep) Run(ctx context.Context, rt report.Report, s *State) error {
	q := b.q
	c := s.Client(rt)
	start := c.Requests() // the client is shared: count this step's own
	res, err := buildnum.Find(ctx, c, q)
	if err != nil {
		return err
	}
	s.AppID = res.AppID
	if len(res.Ignored) > 0 {
		rt.Warningf("Build number", "left out %d build number(s) that are not numbers: %s", len(res.Ignored), strings.Join(res.Ignored, ", "))
	}
	if err := setOutputs(rt, [][2]string{
		{"latest-build-number", numberOrEmpty(res.Latest)},
		{"next-build-number", res.Next.String()},
		{"app-id", res.AppID},
	}); err != nil {
		return err
	}
	requests := c.Requests() - start
	rt.Infof("%s", buildNumberLine(q, res, requests))
	summary(rt, buildNumberSummary(q, res, requests))
	return nil
}

func numberOrEmpty(n buildnum.Number) string {
	if n.IsZero() {
		return ""
	}
	return n.String()
}

// buildNumberLine is the step's one log line.
func buildNumberLine(q buildnum.Query, res buildnum.Result, requests int) string {
	latest := "no build yet"
	if !res.Latest.IsZero() {
		latest = fmt.Sprintf("latest %s (%s)", res.Latest, res.LatestSource)
	}
	return fmt.Sprintf("Build number for %s on %s%s: %s; next %s. Read %d builds and %d in-flight uploads in %d requests.",
		cmp.Or(res.BundleID, res.AppID), q.Platform, versionSuffix(q.Version), latest, res.Next, res.Builds, res.Uploads, requests)
}

func buildNumberSummary(q buildnum.Query, res buildnum.Result, requests int) string {
	latest := "none yet"
	if !res.Latest.IsZero() {
		latest = fmt.Sprintf("`%s` (%s)", res.Latest, res.LatestSource)
	}
	return table("Build number", [][2]string{
		{"App", fmt.Sprintf("`%s` (app ID %s), %s%s", cmp.Or(res.BundleID, "?"), res.AppID, q.Platform, versionSuffix(q.Version))},
		{"Latest", latest},
		{"Next", "`" + res.Next.String() + "`"},
		{"Read", fmt.Sprintf("%d builds and %d in-flight uploads, in %d requests", res.Builds, res.Uploads, requests)},
	})
}

func versionSuffix(v string) string {
	if v == "" {
		return ""
	}
	return " version " + v
}
