package app

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/upload"
)

// progressEvery is how often a progress line is logged: often enough to
// show life, rarely enough to keep the log readable.
const progressEvery = 3 * time.Second

// uploadStep checks the build number is free, sends the file through the
// Build Uploads API and waits as asked. Outputs are set as far as the
// upload got, also when it fails.
type uploadStep struct {
	cfg *config.Upload

	// found by Check
	plan upload.Plan
	pre  upload.PreflightResult
}

func (*uploadStep) Name() string { return config.StepUpload }

// Check finds the app and checks that the build number is free, before any
// step changes anything.
func (u *uploadStep) Check(ctx context.Context, rt report.Report, s *State) error {
	c := s.Client(rt)
	app, err := buildnum.FindApp(ctx, c, u.cfg.App)
	if err != nil {
		return err
	}
	s.AppID = app.ID // for the steps after, which check before the upload runs
	u.plan = upload.Plan{AppID: app.ID, Platform: u.cfg.Platform, ShortVersion: u.cfg.ShortVersion, BuildVersion: u.cfg.BuildVersion, UTI: u.cfg.Info.UTI}
	u.pre, err = upload.Preflight(ctx, c, u.plan)
	return err
}

func (u *uploadStep) Run(ctx context.Context, rt report.Report, s *State) error {
	cfg, c, now, plan, pre := u.cfg, s.Client(rt), s.Env.Now, u.plan, u.pre
	bundleID := pre.BundleID
	s.AppID, s.BundleID = plan.AppID, bundleID
	f, err := os.Open(cfg.File)
	if err != nil {
		return fmt.Errorf("input %s: %w", config.InputUploadFile, err)
	}
	defer f.Close()
	src, err := upload.FileSource(f)
	if err != nil {
		return err
	}
	rt.Infof("Uploading %s (%s, %s) as %s %s build %s for %s.", src.Name, humanBytes(src.Size), cfg.Info.Kind, bundleID, cfg.ShortVersion, cfg.BuildVersion, cfg.Platform)
	if cfg.DryRun {
		rt.Infof("Dry run: the app exists, build number %s of version %s is free (%d builds and %d uploads in flight read); nothing was sent.",
			cfg.BuildVersion, cfg.ShortVersion, pre.Builds, pre.Uploads)
		if err := setOutputs(rt, [][2]string{{"bundle-id", bundleID}, {"version", cfg.ShortVersion}, {"build-number", cfg.BuildVersion}}); err != nil {
			return err
		}
		return rt.AddStepSummary(table("Upload (dry run)", [][2]string{
			{"File", fmt.Sprintf("`%s`, %s", src.Name, humanBytes(src.Size))},
			{"Build", fmt.Sprintf("`%s` %s (%s) for %s", bundleID, cfg.ShortVersion, cfg.BuildVersion, cfg.Platform)},
			{"Check", "the build number is free; nothing was sent"},
		}))
	}

	rt.Group("Uploading " + src.Name)
	var groupOnce sync.Once
	endGroup := func() { groupOnce.Do(rt.EndGroup) }
	defer endGroup()
	res, err := upload.Run(ctx, c, src, plan, upload.Options{
		Concurrency:       cfg.Concurrency,
		Checksum:          cfg.Checksum,
		WaitForProcessing: cfg.WaitForProcessing,
		PollInterval:      s.Env.PollInterval,
		Progress:          throttledProgress(rt, now),
		Messages:          func(m upload.Message) { annotate(rt, m) },
		Log:               func(line string) { rt.Infof("%s", line) },
		Secrets:           rt.Mask,
	})
	endGroup()
	outErr := setOutputs(rt, [][2]string{
		{"build-upload-id", res.BuildUploadID},
		{"build-id", res.BuildID},
		{"upload-state", res.UploadState},
		{"processing-state", res.ProcessingState},
		{"bundle-id", bundleID},
		{"version", cfg.ShortVersion},
		{"build-number", cfg.BuildVersion},
	})
	summary(rt, uploadSummary(src, bundleID, cfg, res, err))
	if err != nil {
		return err
	}
	s.BuildID = res.BuildID
	rt.Infof("Uploaded %s in %s: build upload %s is %s%s.", src.Name, res.Duration.Round(time.Second), res.BuildUploadID, res.UploadState, processingSuffix(res))
	return outErr
}

// throttledProgress logs percent, MB/s and ETA every few seconds, not per
// part or per write.
func throttledProgress(rt report.Report, now func() time.Time) func(upload.Progress) {
	var last time.Time
	return func(p upload.Progress) {
		t := now()
		if t.Sub(last) < progressEvery && p.Sent < p.Total {
			return
		}
		last = t
		rate := float64(p.Sent) / max(p.Elapsed.Seconds(), 0.001)
		eta := "-"
		if rate > 0 && p.Sent < p.Total {
			eta = time.Duration(float64(p.Total-p.Sent) / rate * float64(time.Second)).Round(time.Second).String()
		}
		rt.Infof("%3.0f%%  %s of %s  %.1f MB/s  ETA %s", 100*float64(p.Sent)/float64(max(p.Total, 1)),
			humanBytes(p.Sent), humanBytes(p.Total), rate/1e6, eta)
	}
}

// annotate turns one of Apple's state messages into an annotation.
func annotate(rt report.Report, m upload.Message) {
	switch m.Level {
	case upload.LevelError:
		rt.Errorf("App Store Connect", "%s", m)
	case upload.LevelWarning:
		rt.Warningf("App Store Connect", "%s", m)
	default:
		rt.Noticef("App Store Connect", "%s", m)
	}
}

func processingSuffix(res upload.Result) string {
	if res.BuildID == "" {
		return ""
	}
	return fmt.Sprintf("; build %s is %s", res.BuildID, dash(res.ProcessingState))
}

func uploadSummary(src upload.Source, bundleID string, cfg *config.Upload, res upload.Result, err error) string {
	throughput := "-"
	if res.UploadDuration > 0 {
		throughput = fmt.Sprintf("%.1f MB/s", float64(res.Bytes)/res.UploadDuration.Seconds()/1e6)
	}
	rows := [][2]string{
		{"File", fmt.Sprintf("`%s`, %s", src.Name, humanBytes(src.Size))},
		{"App", fmt.Sprintf("`%s` %s (%s) for %s", bundleID, cfg.ShortVersion, cfg.BuildVersion, cfg.Platform)},
		{"Parts", fmt.Sprintf("%d (%d retried), %d at once", res.Parts, res.Retries, cfg.Concurrency)},
		{"Throughput", throughput},
		{"Duration", fmt.Sprintf("%s (sending %s)", res.Duration.Round(time.Second), res.UploadDuration.Round(time.Millisecond))},
		{"MD5", md5Cell(res.MD5)},
		{"Build upload", fmt.Sprintf("`%s`: %s", dash(res.BuildUploadID), dash(res.UploadState))},
		{"Build", fmt.Sprintf("`%s`: %s", dash(res.BuildID), dash(res.ProcessingState))},
	}
	for _, m := range res.Messages {
		rows = append(rows, [2]string{"Apple " + string(m.Level), m.String()})
	}
	if err != nil {
		rows = append(rows, [2]string{"Failed", strings.ReplaceAll(err.Error(), "|", `\|`)})
	}
	return table("Upload", rows)
}

// md5Cell shows the MD5, which is computed only when the commit carries it.
func md5Cell(sum string) string {
	if sum == "" {
		return "not computed (upload-checksum: none)"
	}
	return "`" + sum + "`"
}

// humanBytes writes a size in MB (10^6 bytes), as upload speeds are given.
func humanBytes(n int64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// dash stands in for a value not known (yet) in the summary.
func dash(s string) string { return cmp.Or(s, "-") }
