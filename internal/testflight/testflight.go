// Package testflight gets a processed build to its testers through App
// Store Connect's API, with no one acting in App Store Connect: it answers
// export compliance, writes the "What to Test" notes, adds the build to
// beta groups, submits it to Beta App Review and notifies testers. It
// knows nothing of GitHub.
//
// Preflight reads only: it resolves the build, every group and the notes'
// locales, and checks the app's test information when a review may be
// submitted, so that a typo fails before anything changes. Run then waits
// until the build is processed and carries out the plan:
//
//  1. wait until processingState is not PROCESSING and neither beta state
//     is (the build's beta detail does not exist for a while after
//     processing: that is waiting too);
//  2. answer export compliance if the build has no answer (and wait for the
//     re-processing that follows);
//  3. write the notes, creating or updating each locale;
//  4. turn auto-notify off, if asked;
//  5. add the build to the groups it is not in, in one request;
//  6. submit it to Beta App Review when due, expiring the same version's
//     build in review first if allowed;
//  7. notify testers, if asked;
//  8. read the final states.
//
// Only reads and PATCHes that set a value are retried by the client. After
// a POST fails without a clear answer from Apple (no response, 5xx, 429),
// Run reads the state and acts on what it finds; it never sends a POST
// again blindly. Every outcome is recorded in the Result, and Apple's own
// words are kept in errors and messages.
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

// ReviewMode says when Run submits the build to Beta App Review.
type ReviewMode string

const (
	// ReviewAuto submits when the build is in an external group (added now
	// or before) and awaits submission (READY_FOR_BETA_SUBMISSION).
	ReviewAuto ReviewMode = "auto"
	// ReviewAlways submits, and fails if the build cannot be submitted; a
	// build already submitted is fine.
	ReviewAlways ReviewMode = "true"
	// ReviewNever never submits.
	ReviewNever ReviewMode = "false"
)

// Notify says what Run does about telling testers.
type Notify string

const (
	// NotifyUnset leaves App Store Connect's auto-notify setting as it is.
	NotifyUnset Notify = ""
	// NotifyOff turns the build's auto-notify off.
	NotifyOff Notify = "false"
	// NotifyOn notifies testers: by auto-notify if it is on, else with a
	// manual notification.
	NotifyOn Notify = "true"
)

// DefaultTimeout bounds Run's waits for processing when Plan.Timeout is 0.
const DefaultTimeout = 15 * time.Minute

// TestInfoURL is the App Store Connect page of an app's TestFlight test
// information, where a missing description, feedback e-mail or review
// contact is filled in.
func TestInfoURL(appID string) string {
	return "https://appstoreconnect.apple.com/apps/" + appID + "/testflight/test-info"
}

// Plan is what to do with a build.
type Plan struct {
	// BuildID selects the build; otherwise AppID, Version (the marketing
	// version, CFBundleShortVersionString) and BuildNumber
	// (CFBundleVersion) do, with Platform if the app has several.
	BuildID     string
	AppID       string
	Platform    asc.Platform
	Version     string
	BuildNumber string

	// Groups are beta groups, each matched first as an exact group ID,
	// then as a name, ignoring case (see ParseGroups).
	Groups []string
	// Notes are the "What to Test" texts by locale; the key "" is the
	// app's primary locale.
	Notes map[string]string

	// UsesNonExemptEncryption answers export compliance when the build
	// has no answer yet; nil gives none. True needs EncryptionDeclarationID,
	// an APPROVED app encryption declaration, linked to the build.
	UsesNonExemptEncryption *bool
	EncryptionDeclarationID string

	SubmitBetaReview ReviewMode // "" is ReviewAuto
	NotifyTesters    Notify
	// ExpireBuildInReview allows Run, when Apple refuses the submission
	// because another build is in review, to expire the build of the same
	// version that is waiting for or in review, and submit again.
	// Expiring cannot be undone.
	ExpireBuildInReview bool

	// Timeout bounds the waits for processing (0: DefaultTimeout).
	Timeout time.Duration
}

// Group is a beta group a plan's entry resolved to.
type Group struct {
	Entry    string // the plan's entry
	ID, Name string
	Internal bool
	// Automatic is an internal group with access to all builds: every
	// build reaches it by itself, and Apple refuses to add one by hand.
	Automatic bool
}

// Resolved is a plan checked by Preflight, with what it learned.
type Resolved struct {
	Plan  Plan
	AppID string
	// BuildID is "" when the build did not exist yet (it is being
	// uploaded); Run then waits for it to appear.
	BuildID       string
	PrimaryLocale string
	Groups        []Group
	// Notes are the plan's notes with "" replaced by the primary locale.
	Notes map[string]string
	// Requests is how many requests Preflight sent.
	Requests int
}

// Results of a group in GroupResult.
const (
	GroupAdded            = "added"
	GroupAlready          = "already"
	GroupSkippedAutomatic = "skipped-automatic"
)

// Notifications in Result.
const (
	NotificationAuto    = "auto"    // App Store Connect notifies testers itself
	NotificationSent    = "sent"    // a manual notification was sent
	NotificationNone    = "none"    // testers are not notified
	NotificationUnknown = "unknown" // the notification's request got no clear answer
)

// GroupResult is what happened with one group.
type GroupResult struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Internal  bool   `json:"internal"`
	Automatic bool   `json:"automatic"`
	Result    string `json:"result"` // GroupAdded, GroupAlready or GroupSkippedAutomatic
}

// Result is what Run did and found. Fields stay empty for what it did not
// reach.
type Result struct {
	BuildID         string
	ProcessingState string
	InternalState   string // internalBuildState, as last read
	ExternalState   string // externalBuildState, as last read
	// ComplianceAnswered is set when Run answered export compliance.
	ComplianceAnswered      bool
	UsesNonExemptEncryption *bool
	Groups                  []GroupResult
	BetaReviewState         string
	BetaReviewSubmissionID  string
	// Submitted is set when Run submitted the build for review.
	Submitted bool
	// ExpiredBuilds are the builds Run expired to submit this one.
	ExpiredBuilds []string
	// Locales are the locales whose notes now hold the plan's text.
	Locales      []string
	Notification string
	// Requests is how many requests Run sent, retries included.
	Requests int
	// Messages are Apple's words about what it refused or could not
	// confirm, when Run carried on.
	Messages []string
}

// Options tune Run.
type Options struct {
	Log  func(string) // progress (default: dropped)
	Warn func(string) // what the user should know (default: dropped)
	Now  func() time.Time
	// Sleep waits d or until ctx ends (default httpx.Sleep); tests pass a
	// fake clock's.
	Sleep func(ctx context.Context, d time.Duration) error
	// PollInterval, if set, is the one interval between reads while
	// waiting, instead of the shared schedule (httpx.Poll).
	PollInterval time.Duration
}

// maxPollFailures is how many reads in a row may fail (after the client's
// own retries) before a wait gives up.
const maxPollFailures = 3

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = func(string) {}
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = httpx.Sleep
	}
	return o
}

// check reports every problem of p that needs no request.
func (p Plan) check() error {
	var errs []error
	switch {
	case p.BuildID != "":
	case p.AppID == "" || p.Version == "" || p.BuildNumber == "":
		errs = append(errs, errors.New("testflight: name the build: its ID, or the app ID, version and build number"))
	}
	if p.Platform != "" && !p.Platform.Valid() {
		errs = append(errs, fmt.Errorf("testflight: platform %q is not one of IOS, MAC_OS, TV_OS, VISION_OS", p.Platform))
	}
	for _, g := range p.Groups {
		if strings.TrimSpace(g) == "" {
			errs = append(errs, errors.New("testflight: a beta group entry is empty"))
		}
	}
	for _, locale := range slices.Sorted(maps.Keys(p.Notes)) {
		if err := checkLocale(locale); err != nil {
			errs = append(errs, err)
		}
		if err := CheckNotes(p.Notes[locale]); err != nil {
			errs = append(errs, fmt.Errorf("notes for %s: %w", orPrimary(locale), err))
		}
	}
	switch v := p.UsesNonExemptEncryption; {
	case v != nil && *v && p.EncryptionDeclarationID == "":
		errs = append(errs, errors.New("testflight: uses-non-exempt-encryption true needs the ID of an approved app encryption declaration"))
	case (v == nil || !*v) && p.EncryptionDeclarationID != "":
		errs = append(errs, errors.New("testflight: an app encryption declaration is only linked with uses-non-exempt-encryption true"))
	}
	switch p.SubmitBetaReview {
	case "", ReviewAuto, ReviewAlways, ReviewNever:
	default:
		errs = append(errs, fmt.Errorf("testflight: submit-beta-review %q is not auto, true or false", p.SubmitBetaReview))
	}
	switch p.NotifyTesters {
	case NotifyUnset, NotifyOff, NotifyOn:
	default:
		errs = append(errs, fmt.Errorf("testflight: notify-testers %q is not true, false or empty", p.NotifyTesters))
	}
	if p.Timeout < 0 {
		errs = append(errs, fmt.Errorf("testflight: the timeout %s is negative", p.Timeout))
	}
	return errors.Join(errs...)
}

func orPrimary(locale string) string {
	if locale == "" {
		return "the primary locale"
	}
	return locale
}

// Preflight checks p and resolves what it names, reading only: the build
// (if it exists yet), the app's primary locale, every group against the
// app's whole group list, the encryption declaration, and, when an
// external group is named and a review may be submitted, the app's test
// information. Every problem found is reported at once.
func Preflight(ctx context.Context, c *asc.Client, p Plan) (r Resolved, err error) {
	if c == nil {
		return Resolved{}, errors.New("testflight: no App Store Connect client")
	}
	if err := p.check(); err != nil {
		return Resolved{}, err
	}
	start := c.Requests()
	r = Resolved{Plan: p, AppID: p.AppID}
	defer func() { r.Requests = c.Requests() - start }()

	var app *asc.App
	if p.BuildID != "" {
		b, a, _, err := c.BuildWithApp(ctx, p.BuildID)
		if err != nil {
			return r, fmt.Errorf("testflight: reading build %s: %w", p.BuildID, err)
		}
		r.BuildID, app = b.ID, a
		if app != nil {
			if p.AppID != "" && p.AppID != app.ID {
				return r, fmt.Errorf("testflight: build %s belongs to app %s, not %s", p.BuildID, app.ID, p.AppID)
			}
			r.AppID = app.ID
		}
	} else {
		b, a, _, err := c.FindBuild(ctx, p.AppID, p.Platform, p.Version, p.BuildNumber)
		switch {
		case errors.Is(err, asc.ErrNotFound):
			// Not uploaded yet: Run waits for it.
		case err != nil:
			return r, fmt.Errorf("testflight: looking up build %s of version %s: %w", p.BuildNumber, p.Version, err)
		default:
			r.BuildID, app = b.ID, a
		}
	}
	if r.AppID == "" {
		return r, fmt.Errorf("testflight: App Store Connect did not say which app build %s belongs to", p.BuildID)
	}
	if _, ok := p.Notes[""]; ok && (app == nil || app.Attributes == nil || app.Attributes.PrimaryLocale == "") {
		a, err := c.App(ctx, r.AppID)
		if err != nil {
			return r, fmt.Errorf("testflight: reading app %s's primary locale: %w", r.AppID, err)
		}
		app = a
	}
	if app != nil && app.Attributes != nil {
		r.PrimaryLocale = app.Attributes.PrimaryLocale
	}

	var errs []error
	r.Notes = make(map[string]string, len(p.Notes))
	for locale, text := range p.Notes {
		if locale == "" {
			locale = r.PrimaryLocale
		}
		if _, dup := r.Notes[locale]; dup && locale != "" {
			errs = append(errs, fmt.Errorf("testflight: notes are given twice for %s, the app's primary locale", locale))
		}
		r.Notes[locale] = text
	}
	if len(p.Groups) > 0 {
		groups, err := resolveGroups(ctx, c, r.AppID, p.Groups)
		errs = append(errs, err)
		r.Groups = groups
	}
	if p.UsesNonExemptEncryption != nil && *p.UsesNonExemptEncryption {
		errs = append(errs, checkDeclaration(ctx, c, r.AppID, p.EncryptionDeclarationID))
	}
	external := slices.ContainsFunc(r.Groups, func(g Group) bool { return !g.Internal })
	if p.SubmitBetaReview == ReviewAlways || (external && p.SubmitBetaReview != ReviewNever) {
		errs = append(errs, checkTestInfo(ctx, c, r.AppID))
	}
	if err := errors.Join(errs...); err != nil {
		return r, err
	}
	return r, nil
}

// resolveGroups matches every entry against the app's groups: an exact ID
// first, then a name ignoring case. Unknown and ambiguous entries are
// errors naming them.
func resolveGroups(ctx context.Context, c *asc.Client, appID string, entries []string) ([]Group, error) {
	all, err := c.AppBetaGroups(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("testflight: listing app %s's beta groups: %w", appID, err)
	}
	var out []Group
	var errs []error
	seen := map[string]bool{}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		var match []asc.BetaGroup
		for _, g := range all {
			if g.ID == e {
				match = []asc.BetaGroup{g}
				break
			}
			if g.Attributes != nil && strings.EqualFold(g.Attributes.Name, e) {
				match = append(match, g)
			}
		}
		switch len(match) {
		case 0:
			errs = append(errs, fmt.Errorf("testflight: app %s has no beta group with ID or name %q (it has %s)", appID, e, groupNames(all)))
			continue
		case 1:
		default:
			ids := make([]string, len(match))
			for i, g := range match {
				ids[i] = g.ID
			}
			errs = append(errs, fmt.Errorf("testflight: %d beta groups of app %s are named %q: give the ID of the one meant (%s)", len(match), appID, e, strings.Join(ids, ", ")))
			continue
		}
		g := match[0]
		if seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		a := g.Attributes
		if a == nil {
			a = &asc.BetaGroupAttributes{}
		}
		out = append(out, Group{Entry: e, ID: g.ID, Name: a.Name, Internal: a.IsInternalGroup, Automatic: a.IsInternalGroup && a.HasAccessToAllBuilds})
	}
	return out, errors.Join(errs...)
}

func groupNames(all []asc.BetaGroup) string {
	if len(all) == 0 {
		return "none"
	}
	var names []string
	for _, g := range all {
		if g.Attributes != nil {
			names = append(names, fmt.Sprintf("%q", g.Attributes.Name))
		}
	}
	if len(names) > 10 {
		names = append(names[:10], fmt.Sprintf("and %d more", len(names)-10))
	}
	return strings.Join(names, ", ")
}

// checkDeclaration requires an APPROVED declaration of the app.
func checkDeclaration(ctx context.Context, c *asc.Client, appID, id string) error {
	d, err := c.AppEncryptionDeclarationByID(ctx, id)
	if err != nil {
		return fmt.Errorf("testflight: reading app encryption declaration %s: %w", id, err)
	}
	if d.Attributes == nil || d.Attributes.AppEncryptionDeclarationState != asc.AppEncryptionDeclarationApproved {
		state := "unknown"
		if d.Attributes != nil && d.Attributes.AppEncryptionDeclarationState != "" {
			state = string(d.Attributes.AppEncryptionDeclarationState)
		}
		return fmt.Errorf("testflight: app encryption declaration %s is %s, not APPROVED: only an approved declaration answers export compliance; see https://appstoreconnect.apple.com/apps/%s/distribution/info", id, state, appID)
	}
	return nil
}

// checkTestInfo requires what Beta App Review needs of the app: test
// information (a beta app localization with a description, and a feedback
// e-mail) and a review contact (first and last name, phone, e-mail).
func checkTestInfo(ctx context.Context, c *asc.Client, appID string) error {
	locs, err := c.AppBetaLocalizations(ctx, appID)
	if err != nil {
		return fmt.Errorf("testflight: reading app %s's test information: %w", appID, err)
	}
	detail, err := c.AppBetaReviewDetail(ctx, appID)
	if err != nil {
		return fmt.Errorf("testflight: reading app %s's beta review contact: %w", appID, err)
	}
	var missing []string
	if len(locs) == 0 {
		missing = append(missing, "test information (a beta app description and feedback e-mail) in any language")
	}
	hasFeedback := false
	for _, l := range locs {
		a := l.Attributes
		if a == nil {
			a = &asc.BetaAppLocalizationAttributes{}
		}
		if strings.TrimSpace(a.Description) == "" {
			missing = append(missing, "the beta app description for "+a.Locale)
		}
		hasFeedback = hasFeedback || strings.TrimSpace(a.FeedbackEmail) != ""
	}
	if len(locs) > 0 && !hasFeedback {
		missing = append(missing, "the feedback e-mail")
	}
	a := detail.Attributes
	if a == nil {
		a = &asc.BetaAppReviewDetailAttributes{}
	}
	for _, f := range []struct{ name, v string }{
		{"the review contact's first name", a.ContactFirstName}, {"the review contact's last name", a.ContactLastName},
		{"the review contact's phone", a.ContactPhone}, {"the review contact's e-mail", a.ContactEmail},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if a.DemoAccountRequired && a.DemoAccountName == "" {
		missing = append(missing, "the demo account (review requires one)")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("testflight: Beta App Review needs test information app %s lacks: %s; fill it in at %s, or set submit-beta-review to false",
		appID, strings.Join(missing, ", "), TestInfoURL(appID))
}
