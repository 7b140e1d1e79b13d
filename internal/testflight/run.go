package testflight

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/httpx"
)

// run is one Run call.
type run struct {
	c        *asc.Client
	r        Resolved
	o        Options
	res      Result
	deadline time.Time
	snap     *asc.BuildTestFlight
}

// Run carries out a resolved plan on its build once processed (see the
// package comment for the steps). It returns what it did even when it
// fails part way; the error says what failed, in Apple's words when Apple
// refused.
func Run(ctx context.Context, c *asc.Client, r Resolved, opts Options) (Result, error) {
	if c == nil {
		return Result{}, errors.New("testflight: no App Store Connect client")
	}
	if r.AppID == "" {
		return Result{}, errors.New("testflight: the plan is not resolved: call Preflight first")
	}
	o := opts.withDefaults()
	timeout := r.Plan.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	x := &run{c: c, r: r, o: o, deadline: o.Now().Add(timeout)}
	x.res.BuildID = r.BuildID
	start := c.Requests()
	err := x.run(ctx)
	x.res.Requests = c.Requests() - start
	return x.res, err
}

func (x *run) run(ctx context.Context) error {
	if x.res.BuildID == "" {
		if err := x.findBuild(ctx); err != nil {
			return err
		}
	}
	if err := x.waitReady(ctx, "processing"); err != nil {
		return err
	}
	if err := x.compliance(ctx); err != nil {
		return err
	}
	if err := x.notes(ctx); err != nil {
		return err
	}
	if x.r.Plan.NotifyTesters == NotifyOff {
		if err := x.autoNotifyOff(ctx); err != nil {
			return err
		}
	}
	if err := x.groups(ctx); err != nil {
		return err
	}
	if err := x.review(ctx); err != nil {
		return err
	}
	if err := x.notify(ctx); err != nil {
		return err
	}
	snap, err := x.c.BuildTestFlight(ctx, x.res.BuildID)
	if err != nil {
		return fmt.Errorf("testflight: reading build %s's final state: %w", x.res.BuildID, err)
	}
	x.observe(snap)
	x.o.Log(fmt.Sprintf("build %s: internal %s, external %s", x.res.BuildID, x.res.InternalState, x.res.ExternalState))
	return nil
}

// message records Apple's words about something Run carried on past.
func (x *run) message(err error) {
	x.res.Messages = append(x.res.Messages, err.Error())
}

// poll calls step until it is done, on the polling schedule, until the
// deadline. Reads that fail but may pass are tolerated maxPollFailures
// times in a row; a Retry-After is honoured.
func (x *run) poll(ctx context.Context, what string, step func() (bool, error)) error {
	sched := httpx.Poll{Fixed: x.o.PollInterval}
	start := x.o.Now()
	failures := 0
	for {
		done, err := step()
		var retryAfter time.Duration
		switch {
		case done && err == nil:
			return nil
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("testflight: waiting for %s: %w", what, ctx.Err())
		case err != nil:
			var ra *asc.RetryAfterError
			if errors.As(err, &ra) {
				retryAfter = ra.RetryAfter
			}
			failures++
			if !asc.MayPass(err) || failures >= maxPollFailures {
				return fmt.Errorf("testflight: waiting for %s: %w", what, err)
			}
			x.o.Log(fmt.Sprintf("reading the build failed (%v); trying again", err))
		default:
			failures = 0
		}
		now := x.o.Now()
		if !now.Before(x.deadline) {
			return fmt.Errorf("testflight: build %s: %s did not finish within %s (processing %s, internal %s, external %s); run again later to carry on",
				x.res.BuildID, what, now.Sub(start).Round(time.Second), orUnknown(x.res.ProcessingState), orUnknown(x.res.InternalState), orUnknown(x.res.ExternalState))
		}
		if err := x.o.Sleep(ctx, min(sched.Next(retryAfter), x.deadline.Sub(now))); err != nil {
			return fmt.Errorf("testflight: waiting for %s: %w", what, err)
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// findBuild waits for the plan's build to appear (it was being uploaded
// at preflight).
func (x *run) findBuild(ctx context.Context) error {
	p := x.r.Plan
	x.o.Log(fmt.Sprintf("waiting for build %s of version %s to appear", p.BuildNumber, p.Version))
	return x.poll(ctx, "the build to appear", func() (bool, error) {
		b, _, _, err := x.c.FindBuild(ctx, x.r.AppID, p.Platform, p.Version, p.BuildNumber)
		if errors.Is(err, asc.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		x.res.BuildID = b.ID
		return true, nil
	})
}

// observe records a snapshot's states.
func (x *run) observe(s *asc.BuildTestFlight) {
	x.snap = s
	if a := s.Build.Attributes; a != nil {
		x.res.ProcessingState = string(a.ProcessingState)
		x.res.UsesNonExemptEncryption = a.UsesNonExemptEncryption
	}
	if d := s.BetaDetail; d != nil && d.Attributes != nil {
		x.res.InternalState = string(d.Attributes.InternalBuildState)
		x.res.ExternalState = string(d.Attributes.ExternalBuildState)
	}
	if sub := s.Submission; sub != nil {
		x.res.BetaReviewSubmissionID = sub.ID
		if sub.Attributes != nil {
			x.res.BetaReviewState = string(sub.Attributes.BetaReviewState)
		}
	}
}

// waitReady polls the build until it is processed: processingState not
// PROCESSING, its beta detail made, and neither beta state PROCESSING (or
// IN_EXPORT_COMPLIANCE_REVIEW, Apple's own step). A failed or expired
// build is an error.
func (x *run) waitReady(ctx context.Context, what string) error {
	id := x.res.BuildID
	logged := ""
	return x.poll(ctx, what, func() (bool, error) {
		s, err := x.c.BuildTestFlight(ctx, id)
		if err != nil {
			return false, err
		}
		x.observe(s)
		state := fmt.Sprintf("processing %s, internal %s, external %s", orUnknown(x.res.ProcessingState), orUnknown(x.res.InternalState), orUnknown(x.res.ExternalState))
		if state != logged {
			x.o.Log(fmt.Sprintf("build %s: %s", id, state))
			logged = state
		}
		switch x.res.ProcessingState {
		case string(asc.BuildProcessingStateFailed), string(asc.BuildProcessingStateInvalid):
			return true, fmt.Errorf("testflight: build %s is %s: App Store Connect could not process it", id, x.res.ProcessingState)
		case string(asc.BuildProcessingStateProcessing):
			return false, nil
		}
		if s.BetaDetail == nil {
			return false, nil // made a little after processing
		}
		for _, st := range []string{x.res.InternalState, x.res.ExternalState} {
			switch st {
			case asc.BetaStateProcessing, asc.BetaStateInExportComplianceReview:
				return false, nil
			case asc.BetaStateProcessingException:
				return true, fmt.Errorf("testflight: build %s's TestFlight processing failed (%s)", id, st)
			case asc.BetaStateExpired:
				return true, fmt.Errorf("testflight: build %s has expired", id)
			}
		}
		return true, nil
	})
}

// compliance answers export compliance if the build has no answer, then
// waits for the re-processing that follows.
func (x *run) compliance(ctx context.Context) error {
	p := x.r.Plan
	id := x.res.BuildID
	if have := x.res.UsesNonExemptEncryption; have != nil {
		if p.UsesNonExemptEncryption != nil && *p.UsesNonExemptEncryption != *have {
			x.o.Warn(fmt.Sprintf("build %s already answers export compliance with usesNonExemptEncryption %t; uses-non-exempt-encryption %t is not applied", id, *have, *p.UsesNonExemptEncryption))
		}
		if x.res.InternalState == asc.BetaStateMissingExportCompliance || x.res.ExternalState == asc.BetaStateMissingExportCompliance {
			return fmt.Errorf("testflight: build %s is MISSING_EXPORT_COMPLIANCE although usesNonExemptEncryption is %t: link an approved app encryption declaration to it in App Store Connect", id, *have)
		}
		return nil
	}
	if p.UsesNonExemptEncryption == nil {
		return fmt.Errorf("testflight: build %s has no export compliance answer, so no tester can have it: set the input uses-non-exempt-encryption "+
			"(true needs an approved encryption declaration), or add ITSAppUsesNonExemptEncryption to the app's Info.plist for later builds", id)
	}
	u := asc.BuildUpdate{UsesNonExemptEncryption: p.UsesNonExemptEncryption, AppEncryptionDeclarationID: p.EncryptionDeclarationID}
	if _, err := x.c.UpdateBuild(ctx, id, u); err != nil {
		return fmt.Errorf("testflight: answering build %s's export compliance: %w", id, err)
	}
	x.res.ComplianceAnswered = true
	x.res.UsesNonExemptEncryption = p.UsesNonExemptEncryption
	x.o.Log(fmt.Sprintf("build %s: usesNonExemptEncryption set to %t; waiting for App Store Connect to process it again", id, *p.UsesNonExemptEncryption))
	if err := x.waitReady(ctx, "processing after export compliance"); err != nil {
		return err
	}
	if x.res.InternalState == asc.BetaStateMissingExportCompliance || x.res.ExternalState == asc.BetaStateMissingExportCompliance {
		return fmt.Errorf("testflight: build %s is still MISSING_EXPORT_COMPLIANCE after usesNonExemptEncryption was set", id)
	}
	return nil
}

// localizations returns the build's notes, from the snapshot when it holds
// them all.
func (x *run) localizations(ctx context.Context, fresh bool) ([]asc.BetaBuildLocalization, error) {
	if !fresh && x.snap != nil && x.snap.LocalizationsComplete {
		return x.snap.Localizations, nil
	}
	return x.c.BetaBuildLocalizations(ctx, x.res.BuildID)
}

func findLocale(locs []asc.BetaBuildLocalization, locale string) *asc.BetaBuildLocalization {
	for i := range locs {
		if a := locs[i].Attributes; a != nil && strings.EqualFold(a.Locale, locale) {
			return &locs[i]
		}
	}
	return nil
}

func whatsNew(l *asc.BetaBuildLocalization) string {
	if l.Attributes == nil {
		return ""
	}
	return l.Attributes.WhatsNew
}

// notes writes each locale's text: an update where the locale exists, a
// creation where it does not. A creation refused with 409 (Apple made the
// locale meanwhile) or left without a clear answer is followed by a read,
// then an update if needed.
func (x *run) notes(ctx context.Context) error {
	if len(x.r.Notes) == 0 {
		return nil
	}
	id := x.res.BuildID
	locs, err := x.localizations(ctx, false)
	if err != nil {
		return fmt.Errorf("testflight: reading build %s's notes: %w", id, err)
	}
	for _, locale := range slices.Sorted(maps.Keys(x.r.Notes)) {
		text := x.r.Notes[locale]
		l := findLocale(locs, locale)
		if l == nil {
			_, err := x.c.CreateBetaBuildLocalization(ctx, id, locale, text)
			switch {
			case err == nil:
				x.o.Log(fmt.Sprintf("build %s: notes for %s created", id, locale))
				x.res.Locales = append(x.res.Locales, locale)
				continue
			case errors.Is(err, asc.ErrConflict) || asc.MayPass(err):
				x.message(err)
				x.o.Log(fmt.Sprintf("creating the notes for %s did not succeed plainly (%v); reading them again", locale, err))
				if locs, err = x.localizations(ctx, true); err != nil {
					return fmt.Errorf("testflight: reading build %s's notes: %w", id, err)
				}
				if l = findLocale(locs, locale); l == nil {
					return fmt.Errorf("testflight: build %s: creating the notes for %s failed and they do not exist: %w", id, locale, err)
				}
			default:
				return fmt.Errorf("testflight: build %s: creating the notes for %s: %w", id, locale, err)
			}
		}
		if whatsNew(l) != text {
			if _, err := x.c.UpdateBetaBuildLocalization(ctx, l.ID, text); err != nil {
				return fmt.Errorf("testflight: build %s: updating the notes for %s: %w", id, locale, err)
			}
			x.o.Log(fmt.Sprintf("build %s: notes for %s updated", id, locale))
		}
		x.res.Locales = append(x.res.Locales, locale)
	}
	return nil
}

// autoNotifyOff turns the build's auto-notify off.
func (x *run) autoNotifyOff(ctx context.Context) error {
	d := x.snap.BetaDetail
	if d.Attributes != nil && d.Attributes.AutoNotifyEnabled != nil && !*d.Attributes.AutoNotifyEnabled {
		return nil
	}
	nd, err := x.c.SetAutoNotify(ctx, d.ID, false)
	if err != nil {
		return fmt.Errorf("testflight: turning build %s's auto-notify off: %w", x.res.BuildID, err)
	}
	x.snap.BetaDetail = nd
	x.o.Log(fmt.Sprintf("build %s: auto-notify off", x.res.BuildID))
	return nil
}

// members returns the IDs of the groups the build is in.
func (x *run) members(ctx context.Context, fresh bool) (map[string]bool, error) {
	ids := x.snap.BetaGroupIDs
	if fresh || !x.snap.GroupsComplete {
		gs, err := x.c.BuildBetaGroups(ctx, x.r.AppID, x.res.BuildID)
		if err != nil {
			return nil, fmt.Errorf("testflight: reading build %s's beta groups: %w", x.res.BuildID, err)
		}
		ids = nil
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m, nil
}

// groups adds the build to every group it is not in, in one request,
// leaving out automatic groups.
func (x *run) groups(ctx context.Context) error {
	if len(x.r.Groups) == 0 {
		return nil
	}
	id := x.res.BuildID
	in, err := x.members(ctx, false)
	if err != nil {
		return err
	}
	results := make([]GroupResult, len(x.r.Groups))
	var add []string
	for i, g := range x.r.Groups {
		results[i] = GroupResult{ID: g.ID, Name: g.Name, Internal: g.Internal, Automatic: g.Automatic}
		switch {
		case g.Automatic:
			results[i].Result = GroupSkippedAutomatic
		case in[g.ID]:
			results[i].Result = GroupAlready
		default:
			add = append(add, g.ID)
		}
	}
	record := func(added []string) {
		for i := range results {
			if slices.Contains(added, results[i].ID) {
				results[i].Result = GroupAdded
			}
		}
	}
	if len(add) > 0 {
		err := x.c.AddBuildBetaGroups(ctx, id, add)
		if err != nil && asc.MayPass(err) {
			// Read what happened; add only what is still missing.
			x.message(err)
			x.o.Warn(fmt.Sprintf("adding build %s to its beta groups got no clear answer (%v); reading its groups before going on", id, err))
			now, rerr := x.members(ctx, true)
			if rerr != nil {
				return fmt.Errorf("testflight: adding build %s to beta groups: %w; and then %w", id, err, rerr)
			}
			var still, done []string
			for _, g := range add {
				if now[g] {
					done = append(done, g)
				} else {
					still = append(still, g)
				}
			}
			record(done)
			add, err = still, nil
			if len(still) > 0 {
				err = x.c.AddBuildBetaGroups(ctx, id, still)
			}
		}
		if err != nil {
			x.res.Groups = pending(results)
			return fmt.Errorf("testflight: adding build %s to beta groups %s: %w", id, strings.Join(add, ", "), err)
		}
		record(add)
	}
	x.res.Groups = results
	for _, r := range results {
		x.o.Log(fmt.Sprintf("beta group %q (%s): %s", r.Name, r.ID, r.Result))
	}
	return nil
}

// pending keeps the groups whose outcome is known.
func pending(rs []GroupResult) []GroupResult {
	return slices.DeleteFunc(rs, func(r GroupResult) bool { return r.Result == "" })
}

// review submits the build to Beta App Review when due.
func (x *run) review(ctx context.Context) error {
	mode := x.r.Plan.SubmitBetaReview
	if mode == "" {
		mode = ReviewAuto
	}
	if mode == ReviewNever {
		return nil
	}
	id := x.res.BuildID
	if x.snap.Submission != nil {
		x.o.Log(fmt.Sprintf("build %s: already submitted for beta review (%s)", id, x.res.BetaReviewState))
		return nil
	}
	ready := x.res.ExternalState == asc.BetaStateReadyForBetaSubmission
	external := slices.ContainsFunc(x.r.Groups, func(g Group) bool { return !g.Internal })
	switch {
	case mode == ReviewAuto && !(external && ready):
		return nil
	case mode == ReviewAlways && !ready:
		return fmt.Errorf("testflight: build %s cannot be submitted for beta review: its external state is %s, not READY_FOR_BETA_SUBMISSION", id, orUnknown(x.res.ExternalState))
	}
	sub, err := x.submit(ctx)
	if err != nil && asc.IsAnotherBuildInReview(err) {
		x.message(err)
		if !x.r.Plan.ExpireBuildInReview {
			return fmt.Errorf("%w; another build of version %s is waiting for or in beta review: let its review end, "+
				"or set expire-build-in-review to expire it (this cannot be undone)", err, x.version())
		}
		if err := x.expireInReview(ctx); err != nil {
			return err
		}
		sub, err = x.submit(ctx)
	}
	if err != nil {
		return err
	}
	x.res.Submitted = true
	x.res.BetaReviewSubmissionID = sub.ID
	if sub.Attributes != nil {
		x.res.BetaReviewState = string(sub.Attributes.BetaReviewState)
	}
	x.o.Log(fmt.Sprintf("build %s: submitted for beta review (%s)", id, x.res.BetaReviewState))
	return nil
}

func (x *run) version() string {
	if p := x.snap.PreReleaseVersion; p != nil && p.Attributes != nil {
		return p.Attributes.Version
	}
	return x.r.Plan.Version
}

// submit sends the submission once; without a clear answer it reads the
// build's submission and sends again only if there is none.
func (x *run) submit(ctx context.Context) (*asc.BetaAppReviewSubmission, error) {
	id := x.res.BuildID
	sub, err := x.c.SubmitForBetaReview(ctx, id)
	if err == nil || !asc.MayPass(err) {
		if err != nil {
			return nil, fmt.Errorf("testflight: submitting build %s for beta review: %w", id, err)
		}
		return sub, nil
	}
	x.message(err)
	x.o.Warn(fmt.Sprintf("submitting build %s for beta review got no clear answer (%v); reading its submission", id, err))
	got, rerr := x.c.BuildBetaAppReviewSubmission(ctx, id)
	switch {
	case rerr != nil:
		return nil, fmt.Errorf("testflight: submitting build %s for beta review: %w; and reading its submission: %w", id, err, rerr)
	case got != nil:
		return got, nil
	}
	sub, err = x.c.SubmitForBetaReview(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("testflight: submitting build %s for beta review: %w", id, err)
	}
	return sub, nil
}

// expireInReview expires the builds of the same pre-release version (the
// same marketing version on the same platform) waiting for or in review;
// builds of other versions are never touched.
func (x *run) expireInReview(ctx context.Context) error {
	id := x.res.BuildID
	prv := x.snap.PreReleaseVersion
	if prv == nil {
		return fmt.Errorf("testflight: build %s: App Store Connect did not give its version, so no build in review is expired", id)
	}
	builds, err := x.c.BuildsInBetaReview(ctx, x.r.AppID, prv.ID)
	if err != nil {
		return fmt.Errorf("testflight: listing version %s's builds in beta review: %w", x.version(), err)
	}
	builds = slices.DeleteFunc(builds, func(b asc.Build) bool { return b.ID == id })
	if len(builds) == 0 {
		return fmt.Errorf("testflight: Apple says another build is in review, but no other build of version %s is: nothing was expired", x.version())
	}
	expired := true
	for _, b := range builds {
		if _, err := x.c.UpdateBuild(ctx, b.ID, asc.BuildUpdate{Expired: &expired}); err != nil {
			return fmt.Errorf("testflight: expiring build %s, in beta review: %w", b.ID, err)
		}
		x.res.ExpiredBuilds = append(x.res.ExpiredBuilds, b.ID)
		num := ""
		if b.Attributes != nil {
			num = " (" + b.Attributes.Version + ")"
		}
		x.o.Warn(fmt.Sprintf("expired build %s%s of version %s, which was in beta review, to submit build %s", b.ID, num, x.version(), id))
	}
	return nil
}

// notify tells testers, as the plan asks.
func (x *run) notify(ctx context.Context) error {
	auto := false
	if d := x.snap.BetaDetail; d != nil && d.Attributes != nil && d.Attributes.AutoNotifyEnabled != nil {
		auto = *d.Attributes.AutoNotifyEnabled
	}
	switch {
	case x.r.Plan.NotifyTesters != NotifyOn && auto:
		x.res.Notification = NotificationAuto
		return nil
	case x.r.Plan.NotifyTesters != NotifyOn:
		x.res.Notification = NotificationNone
		return nil
	case auto:
		x.res.Notification = NotificationAuto
		x.o.Log("testers are notified by App Store Connect (auto-notify is on)")
		return nil
	}
	err := x.c.NotifyBetaTesters(ctx, x.res.BuildID)
	switch {
	case err == nil:
		x.res.Notification = NotificationSent
		x.o.Log(fmt.Sprintf("build %s: testers notified", x.res.BuildID))
	case asc.IsAutoNotifyEnabled(err):
		x.message(err)
		x.res.Notification = NotificationAuto
		x.o.Log("testers are notified by App Store Connect (auto-notify is on)")
	case asc.MayPass(err):
		// A notification cannot be read back, and sending it twice would
		// notify testers twice.
		x.message(err)
		x.res.Notification = NotificationUnknown
		x.o.Warn(fmt.Sprintf("notifying build %s's testers got no clear answer (%v); it is not sent again, so testers may or may not have been notified", x.res.BuildID, err))
	default:
		return fmt.Errorf("testflight: notifying build %s's testers: %w", x.res.BuildID, err)
	}
	return nil
}
