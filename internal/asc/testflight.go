package asc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file holds the TestFlight API: beta groups, a build's beta detail
// and "What to Test" notes (betaBuildLocalizations), beta app review
// submissions, tester notifications, the app's test information and export
// compliance. Paths and query parameters are those Apple's OpenAPI
// document (4.4.1) defines for each operation, and no others: Apple
// refuses a parameter an operation does not name (filter[locale] on
// /v1/builds/{id}/betaBuildLocalizations, for instance).

// InternalBetaState is the document's InternalBetaState enum.
type InternalBetaState string

// ExternalBetaState is the document's ExternalBetaState enum: the internal
// states plus the beta review ones and NOT_APPLICABLE.
type ExternalBetaState string

// Beta states. The document gives no meanings; see the testflight package
// for how each is treated.
const (
	BetaStateProcessing               = "PROCESSING"
	BetaStateProcessingException      = "PROCESSING_EXCEPTION"
	BetaStateMissingExportCompliance  = "MISSING_EXPORT_COMPLIANCE"
	BetaStateReadyForBetaTesting      = "READY_FOR_BETA_TESTING"
	BetaStateInBetaTesting            = "IN_BETA_TESTING"
	BetaStateExpired                  = "EXPIRED"
	BetaStateInExportComplianceReview = "IN_EXPORT_COMPLIANCE_REVIEW"
	// External only.
	BetaStateReadyForBetaSubmission = "READY_FOR_BETA_SUBMISSION"
	BetaStateWaitingForBetaReview   = "WAITING_FOR_BETA_REVIEW"
	BetaStateInBetaReview           = "IN_BETA_REVIEW"
	BetaStateBetaRejected           = "BETA_REJECTED"
	BetaStateBetaApproved           = "BETA_APPROVED"
	BetaStateNotApplicable          = "NOT_APPLICABLE"
)

// BetaReviewState is the document's BetaReviewState enum, a beta app review
// submission's state.
type BetaReviewState string

// Beta review states.
const (
	BetaReviewWaitingForReview BetaReviewState = "WAITING_FOR_REVIEW"
	BetaReviewInReview         BetaReviewState = "IN_REVIEW"
	BetaReviewRejected         BetaReviewState = "REJECTED"
	BetaReviewApproved         BetaReviewState = "APPROVED"
)

// AppEncryptionDeclarationState is the document's enum of that name.
type AppEncryptionDeclarationState string

// AppEncryptionDeclarationApproved is the only state in which a declaration
// can be linked to a build to answer export compliance.
const AppEncryptionDeclarationApproved AppEncryptionDeclarationState = "APPROVED"

// BetaGroup is a "betaGroups" resource.
type BetaGroup struct {
	Type       string               `json:"type"` // "betaGroups"
	ID         string               `json:"id"`
	Attributes *BetaGroupAttributes `json:"attributes,omitempty"`
}

// BetaGroupAttributes are BetaGroup's attributes this project reads.
// HasAccessToAllBuilds on an internal group means every build reaches it
// by itself, and Apple refuses to add a build to it (422).
type BetaGroupAttributes struct {
	Name                 string `json:"name,omitempty"`
	IsInternalGroup      bool   `json:"isInternalGroup,omitempty"`
	HasAccessToAllBuilds bool   `json:"hasAccessToAllBuilds,omitempty"`
	PublicLinkEnabled    bool   `json:"publicLinkEnabled,omitempty"`
}

// BuildBetaDetail is a "buildBetaDetails" resource: a build's TestFlight
// states and whether testers are notified automatically.
type BuildBetaDetail struct {
	Type       string                     `json:"type"` // "buildBetaDetails"
	ID         string                     `json:"id"`
	Attributes *BuildBetaDetailAttributes `json:"attributes,omitempty"`
}

// BuildBetaDetailAttributes are BuildBetaDetail's attributes.
type BuildBetaDetailAttributes struct {
	AutoNotifyEnabled  *bool             `json:"autoNotifyEnabled,omitempty"`
	InternalBuildState InternalBetaState `json:"internalBuildState,omitempty"`
	ExternalBuildState ExternalBetaState `json:"externalBuildState,omitempty"`
}

// BetaBuildLocalization is a "betaBuildLocalizations" resource: a build's
// "What to Test" text in one locale.
type BetaBuildLocalization struct {
	Type       string                           `json:"type"` // "betaBuildLocalizations"
	ID         string                           `json:"id"`
	Attributes *BetaBuildLocalizationAttributes `json:"attributes,omitempty"`
}

// BetaBuildLocalizationAttributes are BetaBuildLocalization's attributes.
type BetaBuildLocalizationAttributes struct {
	WhatsNew string `json:"whatsNew,omitempty"`
	Locale   string `json:"locale,omitempty"`
}

// BetaAppLocalization is a "betaAppLocalizations" resource: the app's
// TestFlight test information in one locale.
type BetaAppLocalization struct {
	Type       string                         `json:"type"` // "betaAppLocalizations"
	ID         string                         `json:"id"`
	Attributes *BetaAppLocalizationAttributes `json:"attributes,omitempty"`
}

// BetaAppLocalizationAttributes are BetaAppLocalization's attributes this
// project reads.
type BetaAppLocalizationAttributes struct {
	FeedbackEmail string `json:"feedbackEmail,omitempty"`
	Description   string `json:"description,omitempty"`
	Locale        string `json:"locale,omitempty"`
}

// BetaAppReviewDetail is a "betaAppReviewDetails" resource: who Beta App
// Review contacts about the app.
type BetaAppReviewDetail struct {
	Type       string                         `json:"type"` // "betaAppReviewDetails"
	ID         string                         `json:"id"`
	Attributes *BetaAppReviewDetailAttributes `json:"attributes,omitempty"`
}

// BetaAppReviewDetailAttributes are BetaAppReviewDetail's attributes. The
// demo account password is deliberately not declared: it is never read.
type BetaAppReviewDetailAttributes struct {
	ContactFirstName    string `json:"contactFirstName,omitempty"`
	ContactLastName     string `json:"contactLastName,omitempty"`
	ContactPhone        string `json:"contactPhone,omitempty"`
	ContactEmail        string `json:"contactEmail,omitempty"`
	DemoAccountName     string `json:"demoAccountName,omitempty"`
	DemoAccountRequired bool   `json:"demoAccountRequired,omitempty"`
}

// BetaAppReviewSubmission is a "betaAppReviewSubmissions" resource.
type BetaAppReviewSubmission struct {
	Type       string                             `json:"type"` // "betaAppReviewSubmissions"
	ID         string                             `json:"id"`
	Attributes *BetaAppReviewSubmissionAttributes `json:"attributes,omitempty"`
}

// BetaAppReviewSubmissionAttributes are BetaAppReviewSubmission's
// attributes.
type BetaAppReviewSubmissionAttributes struct {
	BetaReviewState BetaReviewState `json:"betaReviewState,omitempty"`
	SubmittedDate   *time.Time      `json:"submittedDate,omitempty"`
}

// AppEncryptionDeclaration is an "appEncryptionDeclarations" resource.
type AppEncryptionDeclaration struct {
	Type       string                              `json:"type"` // "appEncryptionDeclarations"
	ID         string                              `json:"id"`
	Attributes *AppEncryptionDeclarationAttributes `json:"attributes,omitempty"`
}

// AppEncryptionDeclarationAttributes are the attributes this project reads.
type AppEncryptionDeclarationAttributes struct {
	AppEncryptionDeclarationState AppEncryptionDeclarationState `json:"appEncryptionDeclarationState,omitempty"`
	AppDescription                string                        `json:"appDescription,omitempty"`
}

// buildTestFlightIncludes is what BuildTestFlight includes, and
// buildTestFlightLimit the most to-many entries the document lets one
// GET /v1/builds/{id} include (limit[betaGroups] and
// limit[betaBuildLocalizations] have maximum 50).
const (
	buildTestFlightIncludes = "preReleaseVersion,buildBetaDetail,betaGroups,betaBuildLocalizations,betaAppReviewSubmission"
	buildTestFlightLimit    = 50
)

// BuildTestFlight is what one GET /v1/builds/{id} with includes says about
// a build's TestFlight distribution. A relationship with more entries than
// one request can include is marked incomplete; read it separately then.
type BuildTestFlight struct {
	Build Build
	// PreReleaseVersion is the build's marketing version, nil if absent.
	PreReleaseVersion *PrereleaseVersion
	// BetaDetail is nil while App Store Connect has not made it yet, which
	// happens for a while after processing.
	BetaDetail *BuildBetaDetail
	// Submission is nil if the build was never submitted for beta review.
	Submission    *BetaAppReviewSubmission
	BetaGroupIDs  []string
	Localizations []BetaBuildLocalization
	// GroupsComplete and LocalizationsComplete say whether BetaGroupIDs and
	// Localizations hold every entry.
	GroupsComplete, LocalizationsComplete bool
}

// BuildTestFlight reads a build with its pre-release version, beta detail,
// groups, "What to Test" localizations and beta review submission in one
// request: GET /v1/builds/{id}?include=….
func (c *Client) BuildTestFlight(ctx context.Context, buildID string) (*BuildTestFlight, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, err
	}
	lim := strconv.Itoa(buildTestFlightLimit)
	q := url.Values{
		"include":                          {buildTestFlightIncludes},
		"fields[builds]":                   {"version,processingState,expired,usesNonExemptEncryption,preReleaseVersion,buildBetaDetail,betaGroups,betaBuildLocalizations,betaAppReviewSubmission"},
		"fields[preReleaseVersions]":       {"version,platform"},
		"fields[buildBetaDetails]":         {"autoNotifyEnabled,internalBuildState,externalBuildState"},
		"fields[betaGroups]":               {"name,isInternalGroup,hasAccessToAllBuilds"},
		"fields[betaBuildLocalizations]":   {"locale,whatsNew"},
		"fields[betaAppReviewSubmissions]": {"betaReviewState,submittedDate"},
		"limit[betaGroups]":                {lim},
		"limit[betaBuildLocalizations]":    {lim},
	}
	var doc struct {
		Data struct {
			Build
			Relationships map[string]struct {
				Data json.RawMessage `json:"data"`
				Meta *struct {
					Paging Paging `json:"paging"`
				} `json:"meta"`
			} `json:"relationships"`
		} `json:"data"`
		Included []json.RawMessage `json:"included"`
	}
	if err := c.send1(ctx, http.MethodGet, "/v1/builds/"+url.PathEscape(buildID), q, nil, &doc); err != nil {
		return nil, err
	}
	out := &BuildTestFlight{Build: doc.Data.Build, GroupsComplete: true, LocalizationsComplete: true}
	byKey := map[ResourceLinkage]json.RawMessage{}
	for _, raw := range doc.Included {
		var k ResourceLinkage
		if json.Unmarshal(raw, &k) == nil {
			byKey[k] = raw
		}
	}
	// one decodes the included resource a to-one relationship names.
	one := func(name string, v any) (bool, error) {
		var l *ResourceLinkage
		if rel, ok := doc.Data.Relationships[name]; ok && len(rel.Data) > 0 {
			if err := json.Unmarshal(rel.Data, &l); err != nil {
				return false, fmt.Errorf("asc: GET /v1/builds/%s: decoding relationship %s: %w", buildID, name, err)
			}
		}
		if l == nil {
			return false, nil
		}
		raw, ok := byKey[*l]
		if !ok {
			return false, nil
		}
		return true, json.Unmarshal(raw, v)
	}
	// many lists a to-many relationship's linkages and whether they are all.
	many := func(name string) ([]ResourceLinkage, bool, error) {
		rel, ok := doc.Data.Relationships[name]
		if !ok || len(rel.Data) == 0 {
			return nil, false, nil // not given: unknown, not empty
		}
		var ls []ResourceLinkage
		if err := json.Unmarshal(rel.Data, &ls); err != nil {
			return nil, false, fmt.Errorf("asc: GET /v1/builds/%s: decoding relationship %s: %w", buildID, name, err)
		}
		complete := rel.Meta == nil || rel.Meta.Paging.Total <= len(ls)
		return ls, complete, nil
	}
	var errs []error
	var prv PrereleaseVersion
	if ok, err := one("preReleaseVersion", &prv); ok && err == nil {
		out.PreReleaseVersion = &prv
	} else if err != nil {
		errs = append(errs, err)
	}
	var bd BuildBetaDetail
	if ok, err := one("buildBetaDetail", &bd); ok && err == nil {
		out.BetaDetail = &bd
	} else if err != nil {
		errs = append(errs, err)
	}
	var sub BetaAppReviewSubmission
	if ok, err := one("betaAppReviewSubmission", &sub); ok && err == nil {
		out.Submission = &sub
	} else if err != nil {
		errs = append(errs, err)
	}
	groups, complete, err := many("betaGroups")
	errs = append(errs, err)
	out.GroupsComplete = complete
	for _, l := range groups {
		out.BetaGroupIDs = append(out.BetaGroupIDs, l.ID)
	}
	locs, complete, err := many("betaBuildLocalizations")
	errs = append(errs, err)
	out.LocalizationsComplete = complete
	for _, l := range locs {
		var loc BetaBuildLocalization
		raw, ok := byKey[l]
		if !ok {
			out.LocalizationsComplete = false
			continue
		}
		if err := json.Unmarshal(raw, &loc); err != nil {
			errs = append(errs, err)
			continue
		}
		out.Localizations = append(out.Localizations, loc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("asc: GET /v1/builds/%s: decoding the included resources: %w", buildID, err)
	}
	return out, nil
}

// BuildWithApp reads a build with its app and pre-release version: GET
// /v1/builds/{id}?include=app,preReleaseVersion. It returns the build,
// the app (with its primaryLocale) and the version, either of the last
// two nil if the response did not include it.
func (c *Client) BuildWithApp(ctx context.Context, buildID string) (*Build, *App, *PrereleaseVersion, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, nil, nil, err
	}
	q := url.Values{
		"include":                    {"app,preReleaseVersion"},
		"fields[builds]":             {"version,processingState,expired,usesNonExemptEncryption,app,preReleaseVersion"},
		"fields[apps]":               {"bundleId,name,primaryLocale"},
		"fields[preReleaseVersions]": {"version,platform"},
	}
	var doc struct {
		Data     Build             `json:"data"`
		Included []json.RawMessage `json:"included"`
	}
	if err := c.send1(ctx, http.MethodGet, "/v1/builds/"+url.PathEscape(buildID), q, nil, &doc); err != nil {
		return nil, nil, nil, err
	}
	app, prv, err := appAndVersion(doc.Included)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("asc: GET /v1/builds/%s: %w", buildID, err)
	}
	return &doc.Data, app, prv, nil
}

// FindBuild returns the app's build of version (the marketing version) and
// number on platform (any if ""), with the app and the pre-release
// version, from GET /v1/builds?filter[…]&include=app,preReleaseVersion. No
// such build is an error that errors.Is(err, ErrNotFound).
func (c *Client) FindBuild(ctx context.Context, appID string, platform Platform, version, number string) (*Build, *App, *PrereleaseVersion, error) {
	errs := []error{checkID("app ID", appID), checkPlatform(platform), checkVersionValue("version", version), checkVersionValue("build number", number)}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, err
	}
	q := url.Values{
		"filter[app]":                       {appID},
		"filter[version]":                   {number},
		"filter[preReleaseVersion.version]": {version},
		"include":                           {"app,preReleaseVersion"},
		"fields[builds]":                    {"version,processingState,expired,usesNonExemptEncryption,app,preReleaseVersion"},
		"fields[apps]":                      {"bundleId,name,primaryLocale"},
		"fields[preReleaseVersions]":        {"version,platform"},
		"limit":                             {strconv.Itoa(maxLimit)},
	}
	if platform != "" {
		q.Set("filter[preReleaseVersion.platform]", string(platform))
	}
	var doc struct {
		Data     []Build           `json:"data"`
		Included []json.RawMessage `json:"included"`
	}
	if err := c.send1(ctx, http.MethodGet, "/v1/builds", q, nil, &doc); err != nil {
		return nil, nil, nil, err
	}
	switch len(doc.Data) {
	case 0:
		return nil, nil, nil, fmt.Errorf("asc: app %s has no build %s of version %s: %w", appID, number, version, ErrNotFound)
	case 1:
	default:
		return nil, nil, nil, fmt.Errorf("asc: app %s has %d builds %s of version %s (one per platform): name the platform", appID, len(doc.Data), number, version)
	}
	app, prv, err := appAndVersion(doc.Included)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("asc: GET /v1/builds: %w", err)
	}
	return &doc.Data[0], app, prv, nil
}

// appAndVersion picks the app and the pre-release version out of an
// included array.
func appAndVersion(included []json.RawMessage) (*App, *PrereleaseVersion, error) {
	var app *App
	var prv *PrereleaseVersion
	for _, raw := range included {
		var k ResourceLinkage
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, nil, fmt.Errorf("decoding an included resource: %w", err)
		}
		switch k.Type {
		case "apps":
			app = new(App)
			if err := json.Unmarshal(raw, app); err != nil {
				return nil, nil, fmt.Errorf("decoding the included app: %w", err)
			}
		case "preReleaseVersions":
			prv = new(PrereleaseVersion)
			if err := json.Unmarshal(raw, prv); err != nil {
				return nil, nil, fmt.Errorf("decoding the included pre-release version: %w", err)
			}
		}
	}
	return app, prv, nil
}

// AppBetaGroups returns every beta group of the app, following all pages of
// GET /v1/apps/{id}/betaGroups (which takes only limit and fields).
func (c *Client) AppBetaGroups(ctx context.Context, appID string) ([]BetaGroup, error) {
	if err := checkID("app ID", appID); err != nil {
		return nil, err
	}
	q := url.Values{
		"fields[betaGroups]": {"name,isInternalGroup,hasAccessToAllBuilds,publicLinkEnabled"},
		"limit":              {strconv.Itoa(maxLimit)},
	}
	return ListAll[BetaGroup](ctx, c, "/v1/apps/"+url.PathEscape(appID)+"/betaGroups", q)
}

// BuildBetaGroups returns the app's beta groups that the build is in,
// following all pages of GET /v1/betaGroups?filter[app]=…&filter[builds]=….
// The document has no GET /v1/builds/{id}/betaGroups.
func (c *Client) BuildBetaGroups(ctx context.Context, appID, buildID string) ([]BetaGroup, error) {
	if err := errors.Join(checkID("app ID", appID), checkID("build ID", buildID)); err != nil {
		return nil, err
	}
	q := url.Values{
		"filter[app]":        {appID},
		"filter[builds]":     {buildID},
		"fields[betaGroups]": {"name,isInternalGroup,hasAccessToAllBuilds"},
		"limit":              {strconv.Itoa(maxLimit)},
	}
	return ListAll[BetaGroup](ctx, c, "/v1/betaGroups", q)
}

// AddBuildBetaGroups adds the build to the groups in one request: POST
// /v1/builds/{id}/relationships/betaGroups, answered 204. It is sent once:
// after a failure without Apple's answer, read the build's groups before
// deciding anything.
func (c *Client) AddBuildBetaGroups(ctx context.Context, buildID string, groupIDs []string) error {
	errs := []error{checkID("build ID", buildID)}
	if len(groupIDs) == 0 {
		errs = append(errs, errors.New("asc: no beta groups to add"))
	}
	data := make([]ResourceLinkage, len(groupIDs))
	for i, id := range groupIDs {
		errs = append(errs, checkID("beta group ID", id))
		data[i] = ResourceLinkage{Type: "betaGroups", ID: id}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	body := struct {
		Data []ResourceLinkage `json:"data"`
	}{data}
	return c.send1(ctx, http.MethodPost, "/v1/builds/"+url.PathEscape(buildID)+"/relationships/betaGroups", nil, body, nil)
}

// BuildBetaDetailOf reads a build's beta detail: GET
// /v1/builds/{id}/buildBetaDetail. Right after processing Apple answers
// 404 for a while (errors.Is(err, ErrNotFound)): keep polling.
func (c *Client) BuildBetaDetailOf(ctx context.Context, buildID string) (*BuildBetaDetail, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, err
	}
	q := url.Values{"fields[buildBetaDetails]": {"autoNotifyEnabled,internalBuildState,externalBuildState"}}
	return sendData[BuildBetaDetail](ctx, c, http.MethodGet, "/v1/builds/"+url.PathEscape(buildID)+"/buildBetaDetail", q, nil)
}

// SetAutoNotify sets a beta detail's autoNotifyEnabled: PATCH
// /v1/buildBetaDetails/{id}. Setting the same value twice changes nothing,
// so the request is retried like a GET.
func (c *Client) SetAutoNotify(ctx context.Context, detailID string, enabled bool) (*BuildBetaDetail, error) {
	if err := checkID("build beta detail ID", detailID); err != nil {
		return nil, err
	}
	return patchAttributes[BuildBetaDetail](ctx, c, "buildBetaDetails", detailID, map[string]any{"autoNotifyEnabled": enabled})
}

// BetaBuildLocalizations lists a build's "What to Test" localizations:
// GET /v1/builds/{id}/betaBuildLocalizations, every page. The operation
// takes no filter: match the locale in the result.
func (c *Client) BetaBuildLocalizations(ctx context.Context, buildID string) ([]BetaBuildLocalization, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, err
	}
	q := url.Values{
		"fields[betaBuildLocalizations]": {"locale,whatsNew"},
		"limit":                          {strconv.Itoa(maxLimit)},
	}
	return ListAll[BetaBuildLocalization](ctx, c, "/v1/builds/"+url.PathEscape(buildID)+"/betaBuildLocalizations", q)
}

// CreateBetaBuildLocalization creates the build's notes in a locale: POST
// /v1/betaBuildLocalizations. Apple answers 409 if the locale exists; it
// is sent once.
func (c *Client) CreateBetaBuildLocalization(ctx context.Context, buildID, locale, whatsNew string) (*BetaBuildLocalization, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, err
	}
	if locale == "" {
		return nil, errors.New("asc: the locale is empty")
	}
	body := map[string]any{"data": map[string]any{
		"type":          "betaBuildLocalizations",
		"attributes":    map[string]any{"locale": locale, "whatsNew": whatsNew},
		"relationships": buildRelationship(buildID),
	}}
	return sendData[BetaBuildLocalization](ctx, c, http.MethodPost, "/v1/betaBuildLocalizations", nil, body)
}

// UpdateBetaBuildLocalization sets a localization's whatsNew (the only
// attribute the update takes): PATCH /v1/betaBuildLocalizations/{id},
// retried like a GET since it sets a value.
func (c *Client) UpdateBetaBuildLocalization(ctx context.Context, id, whatsNew string) (*BetaBuildLocalization, error) {
	if err := checkID("beta build localization ID", id); err != nil {
		return nil, err
	}
	return patchAttributes[BetaBuildLocalization](ctx, c, "betaBuildLocalizations", id, map[string]any{"whatsNew": whatsNew})
}

// BuildBetaAppReviewSubmission reads the build's beta review submission:
// GET /v1/builds/{id}/betaAppReviewSubmission. It returns nil and no error
// when Apple answers 404 (the document's data is not nullable, so "none"
// is a 404).
func (c *Client) BuildBetaAppReviewSubmission(ctx context.Context, buildID string) (*BetaAppReviewSubmission, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, err
	}
	q := url.Values{"fields[betaAppReviewSubmissions]": {"betaReviewState,submittedDate"}}
	var doc struct {
		Data *BetaAppReviewSubmission `json:"data"`
	}
	err := c.send1(ctx, http.MethodGet, "/v1/builds/"+url.PathEscape(buildID)+"/betaAppReviewSubmission", q, nil, &doc)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return doc.Data, nil
}

// SubmitForBetaReview submits the build to Beta App Review: POST
// /v1/betaAppReviewSubmissions, sent once.
func (c *Client) SubmitForBetaReview(ctx context.Context, buildID string) (*BetaAppReviewSubmission, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, err
	}
	body := map[string]any{"data": map[string]any{
		"type":          "betaAppReviewSubmissions",
		"relationships": buildRelationship(buildID),
	}}
	return sendData[BetaAppReviewSubmission](ctx, c, http.MethodPost, "/v1/betaAppReviewSubmissions", nil, body)
}

// BuildsInBetaReview returns the unexpired builds of a pre-release version
// (a marketing version on one platform) whose beta review submission is
// WAITING_FOR_REVIEW or IN_REVIEW: GET /v1/builds with filter[app],
// filter[preReleaseVersion], filter[expired]=false and
// filter[betaAppReviewSubmission.betaReviewState].
func (c *Client) BuildsInBetaReview(ctx context.Context, appID, preReleaseVersionID string) ([]Build, error) {
	if err := errors.Join(checkID("app ID", appID), checkID("pre-release version ID", preReleaseVersionID)); err != nil {
		return nil, err
	}
	q := url.Values{
		"filter[app]":               {appID},
		"filter[preReleaseVersion]": {preReleaseVersionID},
		"filter[expired]":           {"false"},
		"filter[betaAppReviewSubmission.betaReviewState]": {string(BetaReviewWaitingForReview) + "," + string(BetaReviewInReview)},
		"fields[builds]": {"version,expired,processingState"},
		"limit":          {strconv.Itoa(maxLimit)},
	}
	return ListAll[Build](ctx, c, "/v1/builds", q)
}

// NotifyBetaTesters tells the build's testers it is available: POST
// /v1/buildBetaNotifications, sent once (it sends e-mails and pushes).
// With auto-notify on, Apple answers 409; see IsAutoNotifyEnabled.
func (c *Client) NotifyBetaTesters(ctx context.Context, buildID string) error {
	if err := checkID("build ID", buildID); err != nil {
		return err
	}
	body := map[string]any{"data": map[string]any{
		"type":          "buildBetaNotifications",
		"relationships": buildRelationship(buildID),
	}}
	return c.send1(ctx, http.MethodPost, "/v1/buildBetaNotifications", nil, body, nil)
}

// IsAutoNotifyEnabled reports whether err is Apple's 409 to a manual
// notification of a build whose testers are notified automatically
// ("Auto-notify already enabled").
func IsAutoNotifyEnabled(err error) bool {
	var e *APIError
	if !errors.As(err, &e) || e.StatusCode != http.StatusConflict {
		return false
	}
	return e.mentions("auto-notify")
}

// IsAnotherBuildInReview reports whether err is Apple's refusal of a beta
// review submission because another build of the same version is waiting
// for or in review ("Another build is in review."). The status Apple uses
// is not documented, so the text decides.
func IsAnotherBuildInReview(err error) bool {
	var e *APIError
	if !errors.As(err, &e) || (e.StatusCode != http.StatusConflict && e.StatusCode != http.StatusUnprocessableEntity) {
		return false
	}
	return e.mentions("another build is in review")
}

// mentions reports whether any of e's items says s, ignoring case.
func (e *APIError) mentions(s string) bool {
	for _, item := range e.Errors {
		for _, t := range []string{item.Code, item.Title, item.Detail} {
			if strings.Contains(strings.ToLower(t), s) {
				return true
			}
		}
	}
	return false
}

// AppBetaLocalizations lists the app's TestFlight test information by
// locale: GET /v1/apps/{id}/betaAppLocalizations, every page.
func (c *Client) AppBetaLocalizations(ctx context.Context, appID string) ([]BetaAppLocalization, error) {
	if err := checkID("app ID", appID); err != nil {
		return nil, err
	}
	q := url.Values{
		"fields[betaAppLocalizations]": {"locale,description,feedbackEmail"},
		"limit":                        {strconv.Itoa(maxLimit)},
	}
	return ListAll[BetaAppLocalization](ctx, c, "/v1/apps/"+url.PathEscape(appID)+"/betaAppLocalizations", q)
}

// AppBetaReviewDetail reads the app's Beta App Review contact: GET
// /v1/apps/{id}/betaAppReviewDetail (without the demo password).
func (c *Client) AppBetaReviewDetail(ctx context.Context, appID string) (*BetaAppReviewDetail, error) {
	if err := checkID("app ID", appID); err != nil {
		return nil, err
	}
	q := url.Values{"fields[betaAppReviewDetails]": {"contactFirstName,contactLastName,contactPhone,contactEmail,demoAccountName,demoAccountRequired"}}
	return sendData[BetaAppReviewDetail](ctx, c, http.MethodGet, "/v1/apps/"+url.PathEscape(appID)+"/betaAppReviewDetail", q, nil)
}

// AppEncryptionDeclarationByID reads an export compliance declaration's
// state: GET /v1/appEncryptionDeclarations/{id}.
func (c *Client) AppEncryptionDeclarationByID(ctx context.Context, id string) (*AppEncryptionDeclaration, error) {
	if err := checkID("app encryption declaration ID", id); err != nil {
		return nil, err
	}
	q := url.Values{"fields[appEncryptionDeclarations]": {"appEncryptionDeclarationState,appDescription"}}
	return sendData[AppEncryptionDeclaration](ctx, c, http.MethodGet, "/v1/appEncryptionDeclarations/"+url.PathEscape(id), q, nil)
}

// BuildUpdate is what UpdateBuild changes; nil and "" fields are left out.
type BuildUpdate struct {
	UsesNonExemptEncryption *bool
	Expired                 *bool
	// AppEncryptionDeclarationID links an approved declaration
	// (relationships.appEncryptionDeclaration of BuildUpdateRequest).
	AppEncryptionDeclarationID string
}

// UpdateBuild changes a build: PATCH /v1/builds/{id}. It sets values, so
// it is retried like a GET. Expiring a build cannot be undone.
func (c *Client) UpdateBuild(ctx context.Context, buildID string, u BuildUpdate) (*Build, error) {
	if err := checkID("build ID", buildID); err != nil {
		return nil, err
	}
	attrs := map[string]any{}
	if u.UsesNonExemptEncryption != nil {
		attrs["usesNonExemptEncryption"] = *u.UsesNonExemptEncryption
	}
	if u.Expired != nil {
		attrs["expired"] = *u.Expired
	}
	data := map[string]any{"type": "builds", "id": buildID}
	if len(attrs) > 0 {
		data["attributes"] = attrs
	}
	if u.AppEncryptionDeclarationID != "" {
		if err := checkID("app encryption declaration ID", u.AppEncryptionDeclarationID); err != nil {
			return nil, err
		}
		data["relationships"] = map[string]any{"appEncryptionDeclaration": ToOneRelationship{
			Data: &ResourceLinkage{Type: "appEncryptionDeclarations", ID: u.AppEncryptionDeclarationID},
		}}
	}
	var doc BuildResponse
	if err := c.send1(idempotent(ctx), http.MethodPatch, "/v1/builds/"+url.PathEscape(buildID), nil, map[string]any{"data": data}, &doc); err != nil {
		return nil, err
	}
	return &doc.Data, nil
}

// sendData sends a request (send1) and returns its document's data,
// decoded as T.
func sendData[T any](ctx context.Context, c *Client, method, path string, q url.Values, body any) (*T, error) {
	var doc struct {
		Data T `json:"data"`
	}
	if err := c.send1(ctx, method, path, q, body, &doc); err != nil {
		return nil, err
	}
	return &doc.Data, nil
}

// patchAttributes sets attributes of the typ resource id: PATCH
// /v1/{typ}/{id}, retried like a GET since it sets values. It returns the
// resource as Apple answers it.
func patchAttributes[T any](ctx context.Context, c *Client, typ, id string, attrs map[string]any) (*T, error) {
	body := map[string]any{"data": map[string]any{"type": typ, "id": id, "attributes": attrs}}
	return sendData[T](idempotent(ctx), c, http.MethodPatch, "/v1/"+typ+"/"+url.PathEscape(id), nil, body)
}

// buildRelationship is the relationships object of a new resource that
// belongs to the build (relationships.build of the create request).
func buildRelationship(buildID string) map[string]any {
	return map[string]any{"build": ToOneRelationship{Data: &ResourceLinkage{Type: "builds", ID: buildID}}}
}

// idempotentKey marks a request context whose POST or PATCH may be
// retried like a GET: a PATCH that sets values, sent again, leaves the
// same state.
type idempotentKey struct{}

func idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func markedIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}
