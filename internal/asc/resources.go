package asc

import "time"

// The JSON:API types below follow Apple's OpenAPI document (4.4.1): type
// names are the schemas' names, JSON names are the properties'. Only the
// attributes this project reads are declared; relationships and included
// resources are left out. Attributes are omitted from a response unless
// they are asked for with fields[...], so most are optional.

// Platform is the document's Platform enum.
type Platform string

// Platforms.
const (
	PlatformIOS      Platform = "IOS"
	PlatformMacOS    Platform = "MAC_OS"
	PlatformTVOS     Platform = "TV_OS"
	PlatformVisionOS Platform = "VISION_OS"
)

// Platforms lists every Platform, in the document's order.
func Platforms() []Platform {
	return []Platform{PlatformIOS, PlatformMacOS, PlatformTVOS, PlatformVisionOS}
}

// Valid reports whether p is one of the document's platforms.
func (p Platform) Valid() bool {
	switch p {
	case PlatformIOS, PlatformMacOS, PlatformTVOS, PlatformVisionOS:
		return true
	}
	return false
}

// BuildUploadState is the document's BuildUploadState enum.
type BuildUploadState string

// Build upload states.
const (
	BuildUploadStateAwaitingUpload BuildUploadState = "AWAITING_UPLOAD"
	BuildUploadStateProcessing     BuildUploadState = "PROCESSING"
	BuildUploadStateFailed         BuildUploadState = "FAILED"
	BuildUploadStateComplete       BuildUploadState = "COMPLETE"
)

// Valid reports whether s is one of the document's build upload states.
func (s BuildUploadState) Valid() bool {
	switch s {
	case BuildUploadStateAwaitingUpload, BuildUploadStateProcessing, BuildUploadStateFailed, BuildUploadStateComplete:
		return true
	}
	return false
}

// BuildProcessingState is the enum of Build's processingState attribute
// (inline in the document).
type BuildProcessingState string

// Build processing states.
const (
	BuildProcessingStateProcessing BuildProcessingState = "PROCESSING"
	BuildProcessingStateFailed     BuildProcessingState = "FAILED"
	BuildProcessingStateInvalid    BuildProcessingState = "INVALID"
	BuildProcessingStateValid      BuildProcessingState = "VALID"
)

// ResourceLinks is a resource's links object.
type ResourceLinks struct {
	Self string `json:"self,omitempty"`
}

// DocumentLinks is a single-resource document's links object.
type DocumentLinks struct {
	Self string `json:"self"`
}

// PagedDocumentLinks is a collection document's links object. Next, when
// present, is the URL of the following page.
type PagedDocumentLinks struct {
	Self  string `json:"self"`
	First string `json:"first,omitempty"`
	Next  string `json:"next,omitempty"`
}

// PagingInformation is a collection document's meta object.
type PagingInformation struct {
	Paging Paging `json:"paging"`
}

// Paging is PagingInformation's paging object (inline in the document).
type Paging struct {
	Total      int    `json:"total,omitempty"`
	Limit      int    `json:"limit"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// App is an "apps" resource.
type App struct {
	Type       string         `json:"type"` // "apps"
	ID         string         `json:"id"`
	Attributes *AppAttributes `json:"attributes,omitempty"`
	Links      *ResourceLinks `json:"links,omitempty"`
}

// AppAttributes are App's attributes (those this project uses).
type AppAttributes struct {
	Name          string `json:"name,omitempty"`
	BundleID      string `json:"bundleId,omitempty"`
	SKU           string `json:"sku,omitempty"`
	PrimaryLocale string `json:"primaryLocale,omitempty"`
}

// AppResponse is the document GET /v1/apps/{id} returns.
type AppResponse struct {
	Data  App           `json:"data"`
	Links DocumentLinks `json:"links"`
}

// AppsResponse is the document GET /v1/apps returns.
type AppsResponse struct {
	Data  []App              `json:"data"`
	Links PagedDocumentLinks `json:"links"`
	Meta  *PagingInformation `json:"meta,omitempty"`
}

// Build is a "builds" resource.
type Build struct {
	Type       string           `json:"type"` // "builds"
	ID         string           `json:"id"`
	Attributes *BuildAttributes `json:"attributes,omitempty"`
	Links      *ResourceLinks   `json:"links,omitempty"`
}

// BuildAttributes are Build's attributes. Version is the build number
// (CFBundleVersion); the marketing version belongs to the build's
// PrereleaseVersion.
type BuildAttributes struct {
	Version                    string               `json:"version,omitempty"`
	UploadedDate               *time.Time           `json:"uploadedDate,omitempty"`
	ExpirationDate             *time.Time           `json:"expirationDate,omitempty"`
	Expired                    *bool                `json:"expired,omitempty"`
	MinOSVersion               string               `json:"minOsVersion,omitempty"`
	LSMinimumSystemVersion     string               `json:"lsMinimumSystemVersion,omitempty"`
	ComputedMinMacOSVersion    string               `json:"computedMinMacOsVersion,omitempty"`
	ComputedMinVisionOSVersion string               `json:"computedMinVisionOsVersion,omitempty"`
	ProcessingState            BuildProcessingState `json:"processingState,omitempty"`
	BuildAudienceType          string               `json:"buildAudienceType,omitempty"`
	UsesNonExemptEncryption    *bool                `json:"usesNonExemptEncryption,omitempty"`
}

// BuildsResponse is the document GET /v1/builds returns.
type BuildsResponse struct {
	Data  []Build            `json:"data"`
	Links PagedDocumentLinks `json:"links"`
	Meta  *PagingInformation `json:"meta,omitempty"`
}

// PrereleaseVersion is a "preReleaseVersions" resource: a marketing version
// (CFBundleShortVersionString) on one platform, which builds belong to. The
// document spells the schema PrereleaseVersion and the type
// preReleaseVersions.
type PrereleaseVersion struct {
	Type       string                       `json:"type"` // "preReleaseVersions"
	ID         string                       `json:"id"`
	Attributes *PrereleaseVersionAttributes `json:"attributes,omitempty"`
	Links      *ResourceLinks               `json:"links,omitempty"`
}

// PrereleaseVersionAttributes are PrereleaseVersion's attributes.
type PrereleaseVersionAttributes struct {
	Version  string   `json:"version,omitempty"`
	Platform Platform `json:"platform,omitempty"`
}

// BuildUpload is a "buildUploads" resource: one upload of a binary, which
// becomes a Build once processed.
type BuildUpload struct {
	Type       string                 `json:"type"` // "buildUploads"
	ID         string                 `json:"id"`
	Attributes *BuildUploadAttributes `json:"attributes,omitempty"`
	Links      *ResourceLinks         `json:"links,omitempty"`
}

// BuildUploadAttributes are BuildUpload's attributes.
type BuildUploadAttributes struct {
	CFBundleShortVersionString string                  `json:"cfBundleShortVersionString,omitempty"`
	CFBundleVersion            string                  `json:"cfBundleVersion,omitempty"`
	CreatedDate                *time.Time              `json:"createdDate,omitempty"`
	State                      *BuildUploadStateDetail `json:"state,omitempty"`
	Platform                   Platform                `json:"platform,omitempty"`
	UploadedDate               *time.Time              `json:"uploadedDate,omitempty"`
}

// BuildUploadStateDetail is BuildUploadAttributes' state object (inline and
// unnamed in the document): the state itself and Apple's messages about it.
type BuildUploadStateDetail struct {
	Errors   []StateDetail    `json:"errors,omitempty"`
	Warnings []StateDetail    `json:"warnings,omitempty"`
	Infos    []StateDetail    `json:"infos,omitempty"`
	State    BuildUploadState `json:"state,omitempty"`
}

// StateDetail is one message about a state.
type StateDetail struct {
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
}

// BuildUploadsResponse is the document GET /v1/apps/{id}/buildUploads
// returns.
type BuildUploadsResponse struct {
	Data  []BuildUpload      `json:"data"`
	Links PagedDocumentLinks `json:"links"`
	Meta  *PagingInformation `json:"meta,omitempty"`
}
