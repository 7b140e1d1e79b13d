package asc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/httpx"
)

// This file holds the Build Uploads API: a build upload (POST
// /v1/buildUploads) reserves a version and build number, a build upload file
// (POST /v1/buildUploadFiles) answers with the presigned upload operations
// the binary is sent through, and a PATCH of the file with uploaded:true
// commits it. App Store Connect then processes the upload into a build.
//
// The client never sends an upload operation itself: the operations go to
// presigned URLs on other hosts, which must never see the token.

// AssetType values of a BuildUploadFile (inline enum in the document).
const (
	AssetTypeAsset            = "ASSET"
	AssetTypeAssetDescription = "ASSET_DESCRIPTION"
	AssetTypeAssetSPI         = "ASSET_SPI"
)

// UTI values of a BuildUploadFile (inline enum in the document).
const (
	UTIBinaryPropertyList = "com.apple.binary-property-list"
	UTIIPA                = "com.apple.ipa"
	UTIPKG                = "com.apple.pkg"
	UTIXMLPropertyList    = "com.apple.xml-property-list"
	UTIZipArchive         = "com.pkware.zip-archive"
)

// ValidUTI reports whether uti is one of the document's values.
func ValidUTI(uti string) bool {
	switch uti {
	case UTIBinaryPropertyList, UTIIPA, UTIPKG, UTIXMLPropertyList, UTIZipArchive:
		return true
	}
	return false
}

// ValidAssetType reports whether t is one of the document's values.
func ValidAssetType(t string) bool {
	switch t {
	case AssetTypeAsset, AssetTypeAssetDescription, AssetTypeAssetSPI:
		return true
	}
	return false
}

// ChecksumAlgorithm is the document's ChecksumAlgorithm enum.
type ChecksumAlgorithm string

// Checksum algorithms.
const (
	ChecksumAlgorithmMD5    ChecksumAlgorithm = "MD5"
	ChecksumAlgorithmSHA256 ChecksumAlgorithm = "SHA_256"
)

// Checksums is the document's Checksums: the whole file's hash and,
// optionally, a composite of the parts' hashes (MD5 only).
type Checksums struct {
	File      *Checksum `json:"file,omitempty"`
	Composite *Checksum `json:"composite,omitempty"`
}

// Checksum is one of Checksums' objects (inline and unnamed in the
// document).
type Checksum struct {
	Hash      string            `json:"hash,omitempty"`
	Algorithm ChecksumAlgorithm `json:"algorithm,omitempty"`
}

// AssetDeliveryState is the state enum of AppMediaAssetState (inline in the
// document).
type AssetDeliveryState string

// Asset delivery states.
const (
	AssetDeliveryStateAwaitingUpload AssetDeliveryState = "AWAITING_UPLOAD"
	AssetDeliveryStateUploadComplete AssetDeliveryState = "UPLOAD_COMPLETE"
	AssetDeliveryStateComplete       AssetDeliveryState = "COMPLETE"
	AssetDeliveryStateFailed         AssetDeliveryState = "FAILED"
)

// AppMediaAssetState is the document's AppMediaAssetState, a build upload
// file's assetDeliveryState.
type AppMediaAssetState struct {
	Errors   []AppMediaStateError `json:"errors,omitempty"`
	Warnings []AppMediaStateError `json:"warnings,omitempty"`
	State    AssetDeliveryState   `json:"state,omitempty"`
}

// AppMediaStateError is the document's AppMediaStateError.
type AppMediaStateError struct {
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
}

// HTTPHeader is the document's HttpHeader: one header an upload operation
// must carry.
type HTTPHeader struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// DeliveryFileUploadOperation is the document's DeliveryFileUploadOperation:
// send Length bytes of the file from Offset with Method to URL, carrying
// RequestHeaders. URL is presigned: it is a secret until Expiration, so
// String and GoString leave its query out, and so must every log line.
type DeliveryFileUploadOperation struct {
	Method         string       `json:"method,omitempty"`
	URL            string       `json:"url,omitempty"`
	Length         int64        `json:"length,omitempty"`
	Offset         int64        `json:"offset"`
	RequestHeaders []HTTPHeader `json:"requestHeaders,omitempty"`
	Expiration     *time.Time   `json:"expiration,omitempty"`
	PartNumber     int64        `json:"partNumber,omitempty"`
	EntityTag      string       `json:"entityTag,omitempty"`
}

// String describes op without the URL's query.
func (op DeliveryFileUploadOperation) String() string {
	return fmt.Sprintf("%s %s (part %d, offset %d, length %d)", op.Method, redactURLString(op.URL), op.PartNumber, op.Offset, op.Length)
}

// GoString is String, so that %#v does not print the presigned URL either.
func (op DeliveryFileUploadOperation) GoString() string { return op.String() }

// BuildUploadFile is a "buildUploadFiles" resource: one file of a build
// upload, with the operations to send it.
type BuildUploadFile struct {
	Type       string                     `json:"type"` // "buildUploadFiles"
	ID         string                     `json:"id"`
	Attributes *BuildUploadFileAttributes `json:"attributes,omitempty"`
	Links      *ResourceLinks             `json:"links,omitempty"`
}

// BuildUploadFileAttributes are BuildUploadFile's attributes.
type BuildUploadFileAttributes struct {
	AssetDeliveryState  *AppMediaAssetState           `json:"assetDeliveryState,omitempty"`
	AssetToken          string                        `json:"assetToken,omitempty"`
	AssetType           string                        `json:"assetType,omitempty"`
	FileName            string                        `json:"fileName,omitempty"`
	FileSize            int64                         `json:"fileSize,omitempty"`
	SourceFileChecksums *Checksums                    `json:"sourceFileChecksums,omitempty"`
	UploadOperations    []DeliveryFileUploadOperation `json:"uploadOperations,omitempty"`
	UTI                 string                        `json:"uti,omitempty"`
}

// BuildUploadFileResponse is the document POST /v1/buildUploadFiles, GET
// and PATCH /v1/buildUploadFiles/{id} return.
type BuildUploadFileResponse struct {
	Data  BuildUploadFile `json:"data"`
	Links DocumentLinks   `json:"links"`
}

// ResourceLinkage identifies one resource in a relationship (JSON:API's
// resource identifier object; inline in the document).
type ResourceLinkage struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ToOneRelationship is a relationship to at most one resource.
type ToOneRelationship struct {
	Data *ResourceLinkage `json:"data,omitempty"`
}

// BuildUploadCreateRequest is the document's BuildUploadCreateRequest.
type BuildUploadCreateRequest struct {
	Data BuildUploadCreateRequestData `json:"data"`
}

// BuildUploadCreateRequestData is BuildUploadCreateRequest's data.
type BuildUploadCreateRequestData struct {
	Type          string                                `json:"type"` // "buildUploads"
	Attributes    BuildUploadCreateRequestAttributes    `json:"attributes"`
	Relationships BuildUploadCreateRequestRelationships `json:"relationships"`
}

// BuildUploadCreateRequestAttributes are the new build upload's attributes,
// all required.
type BuildUploadCreateRequestAttributes struct {
	CFBundleShortVersionString string   `json:"cfBundleShortVersionString"`
	CFBundleVersion            string   `json:"cfBundleVersion"`
	Platform                   Platform `json:"platform"`
}

// BuildUploadCreateRequestRelationships names the app the upload is for.
type BuildUploadCreateRequestRelationships struct {
	App ToOneRelationship `json:"app"`
}

// BuildUploadFileCreateRequest is the document's
// BuildUploadFileCreateRequest.
type BuildUploadFileCreateRequest struct {
	Data BuildUploadFileCreateRequestData `json:"data"`
}

// BuildUploadFileCreateRequestData is BuildUploadFileCreateRequest's data.
type BuildUploadFileCreateRequestData struct {
	Type          string                                    `json:"type"` // "buildUploadFiles"
	Attributes    BuildUploadFileCreateRequestAttributes    `json:"attributes"`
	Relationships BuildUploadFileCreateRequestRelationships `json:"relationships"`
}

// BuildUploadFileCreateRequestAttributes describe the file, all required.
type BuildUploadFileCreateRequestAttributes struct {
	AssetType string `json:"assetType"`
	FileName  string `json:"fileName"`
	FileSize  int64  `json:"fileSize"`
	UTI       string `json:"uti"`
}

// BuildUploadFileCreateRequestRelationships names the build upload the file
// belongs to.
type BuildUploadFileCreateRequestRelationships struct {
	BuildUpload ToOneRelationship `json:"buildUpload"`
}

// BuildUploadFileUpdateRequest is the document's
// BuildUploadFileUpdateRequest.
type BuildUploadFileUpdateRequest struct {
	Data BuildUploadFileUpdateRequestData `json:"data"`
}

// BuildUploadFileUpdateRequestData is BuildUploadFileUpdateRequest's data.
type BuildUploadFileUpdateRequestData struct {
	Type       string                                  `json:"type"` // "buildUploadFiles"
	ID         string                                  `json:"id"`
	Attributes *BuildUploadFileUpdateRequestAttributes `json:"attributes,omitempty"`
}

// BuildUploadFileUpdateRequestAttributes are the attributes a PATCH may
// set; nil ones are left out.
type BuildUploadFileUpdateRequestAttributes struct {
	SourceFileChecksums *Checksums `json:"sourceFileChecksums,omitempty"`
	Uploaded            *bool      `json:"uploaded,omitempty"`
}

// BuildUploadResponse is the document POST /v1/buildUploads and GET
// /v1/buildUploads/{id} return.
type BuildUploadResponse struct {
	Data BuildUpload `json:"data"`
	// Relationships is data.relationships, which BuildUpload leaves out;
	// only the build relationship is read.
	Relationships *BuildUploadRelationships `json:"-"`
	// Included holds the included resources. BuildUpload asks for
	// include=build only, so entries are decoded as builds; check Type.
	Included []Build       `json:"included,omitempty"`
	Links    DocumentLinks `json:"links"`
}

// BuildUploadRelationships are the BuildUpload relationships this project
// reads.
type BuildUploadRelationships struct {
	Build *ToOneRelationship `json:"build,omitempty"`
}

// UnmarshalJSON decodes the document and data.relationships.
func (r *BuildUploadResponse) UnmarshalJSON(b []byte) error {
	type plain BuildUploadResponse
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	var rel struct {
		Data struct {
			Relationships *BuildUploadRelationships `json:"relationships"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &rel); err != nil {
		return err
	}
	r.Relationships = rel.Data.Relationships
	return nil
}

// Build returns the ID of the build the upload became, "" while there is
// none, and that build as included in the document, nil if it was not.
func (r *BuildUploadResponse) Build() (id string, b *Build) {
	if r.Relationships != nil && r.Relationships.Build != nil && r.Relationships.Build.Data != nil {
		id = r.Relationships.Build.Data.ID
	}
	for i := range r.Included {
		inc := &r.Included[i]
		if inc.Type == "builds" && (id == "" || inc.ID == id) {
			return inc.ID, inc
		}
	}
	return id, nil
}

// BuildResponse is the document GET /v1/builds/{id} returns.
type BuildResponse struct {
	Data  Build         `json:"data"`
	Links DocumentLinks `json:"links"`
}

// RetryAfterError is a 429 answer to a request the client does not retry by
// itself (POST, PATCH) that carried a Retry-After header: Apple did not
// process the request and asks for this long a wait before the next one.
// It unwraps to the *APIError, so errors.Is(err, ErrRateLimited) holds.
type RetryAfterError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (Retry-After: %s)", e.Err, e.RetryAfter)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// buildUploadGetFields are the attributes and relationships BuildUpload asks
// for, and buildGetFields the build attributes it and Build ask for.
const (
	buildUploadGetFields     = "cfBundleShortVersionString,cfBundleVersion,createdDate,state,platform,uploadedDate,build"
	buildGetFields           = "version,processingState,uploadedDate,expirationDate,expired,minOsVersion"
	buildUploadFileGetFields = "assetDeliveryState,assetType,fileName,fileSize,sourceFileChecksums,uti"
)

// CreateBuildUpload reserves shortVersion (CFBundleShortVersionString) and
// buildVersion (CFBundleVersion) of the app on platform: POST
// /v1/buildUploads. Like every POST it is sent once (and again only after a
// 401); a 429 with Retry-After comes back as a *RetryAfterError.
func (c *Client) CreateBuildUpload(ctx context.Context, appID string, platform Platform, shortVersion, buildVersion string) (*BuildUpload, error) {
	errs := []error{checkID("app ID", appID), checkVersionValue("version", shortVersion), checkVersionValue("build number", buildVersion)}
	if !platform.Valid() {
		errs = append(errs, fmt.Errorf("asc: platform %q is not one of IOS, MAC_OS, TV_OS, VISION_OS", string(platform)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	body := BuildUploadCreateRequest{Data: BuildUploadCreateRequestData{
		Type: "buildUploads",
		Attributes: BuildUploadCreateRequestAttributes{
			CFBundleShortVersionString: shortVersion,
			CFBundleVersion:            buildVersion,
			Platform:                   platform,
		},
		Relationships: BuildUploadCreateRequestRelationships{
			App: ToOneRelationship{Data: &ResourceLinkage{Type: "apps", ID: appID}},
		},
	}}
	var doc BuildUploadResponse
	if err := c.send1(ctx, http.MethodPost, "/v1/buildUploads", nil, body, &doc); err != nil {
		return nil, err
	}
	if doc.Data.ID == "" {
		return nil, errors.New("asc: POST /v1/buildUploads: the response has no build upload ID")
	}
	return &doc.Data, nil
}

// CreateBuildUploadFile declares the file of a build upload: POST
// /v1/buildUploadFiles. The answer's attributes carry the upload operations.
// Sent once, like CreateBuildUpload.
func (c *Client) CreateBuildUploadFile(ctx context.Context, uploadID, fileName string, size int64, uti, assetType string) (*BuildUploadFile, error) {
	errs := []error{checkID("build upload ID", uploadID)}
	if fileName == "" || strings.ContainsAny(fileName, "/\\\x00\r\n") {
		errs = append(errs, fmt.Errorf("asc: file name %q is empty or not a base name", fileName))
	}
	if size < 1 {
		errs = append(errs, fmt.Errorf("asc: file size %d is not positive", size))
	}
	if !ValidUTI(uti) {
		errs = append(errs, fmt.Errorf("asc: UTI %q is not one of %s, %s, %s, %s, %s", uti, UTIIPA, UTIPKG, UTIZipArchive, UTIBinaryPropertyList, UTIXMLPropertyList))
	}
	if !ValidAssetType(assetType) {
		errs = append(errs, fmt.Errorf("asc: asset type %q is not one of ASSET, ASSET_DESCRIPTION, ASSET_SPI", assetType))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	body := BuildUploadFileCreateRequest{Data: BuildUploadFileCreateRequestData{
		Type:       "buildUploadFiles",
		Attributes: BuildUploadFileCreateRequestAttributes{AssetType: assetType, FileName: fileName, FileSize: size, UTI: uti},
		Relationships: BuildUploadFileCreateRequestRelationships{
			BuildUpload: ToOneRelationship{Data: &ResourceLinkage{Type: "buildUploads", ID: uploadID}},
		},
	}}
	var doc BuildUploadFileResponse
	if err := c.send1(ctx, http.MethodPost, "/v1/buildUploadFiles", nil, body, &doc); err != nil {
		return nil, err
	}
	if doc.Data.ID == "" {
		return nil, errors.New("asc: POST /v1/buildUploadFiles: the response has no build upload file ID")
	}
	return &doc.Data, nil
}

// CommitBuildUploadFile tells App Store Connect that every upload operation
// of the file succeeded: PATCH /v1/buildUploadFiles/{id} with uploaded:true
// and, when checksums is not nil, sourceFileChecksums. It is sent once: if
// its answer is lost, read the build upload's state rather than send it
// again.
func (c *Client) CommitBuildUploadFile(ctx context.Context, fileID string, checksums *Checksums) (*BuildUploadFile, error) {
	if err := checkID("build upload file ID", fileID); err != nil {
		return nil, err
	}
	uploaded := true
	body := BuildUploadFileUpdateRequest{Data: BuildUploadFileUpdateRequestData{
		Type:       "buildUploadFiles",
		ID:         fileID,
		Attributes: &BuildUploadFileUpdateRequestAttributes{SourceFileChecksums: checksums, Uploaded: &uploaded},
	}}
	var doc BuildUploadFileResponse
	if err := c.send1(ctx, http.MethodPatch, "/v1/buildUploadFiles/"+url.PathEscape(fileID), nil, body, &doc); err != nil {
		return nil, err
	}
	return &doc.Data, nil
}

// BuildUpload reads a build upload with its state and, once App Store
// Connect has made one, its build (include=build, with the build's version
// and processingState): GET /v1/buildUploads/{id}.
func (c *Client) BuildUpload(ctx context.Context, id string) (*BuildUploadResponse, error) {
	if err := checkID("build upload ID", id); err != nil {
		return nil, err
	}
	q := url.Values{
		"fields[buildUploads]": {buildUploadGetFields},
		"fields[builds]":       {buildGetFields},
		"include":              {"build"},
	}
	var doc BuildUploadResponse
	if err := c.send1(ctx, http.MethodGet, "/v1/buildUploads/"+url.PathEscape(id), q, nil, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// BuildUploadFile reads a build upload file's state, name, size, UTI and
// checksums (not its upload operations): GET /v1/buildUploadFiles/{id}.
func (c *Client) BuildUploadFile(ctx context.Context, id string) (*BuildUploadFile, error) {
	if err := checkID("build upload file ID", id); err != nil {
		return nil, err
	}
	q := url.Values{"fields[buildUploadFiles]": {buildUploadFileGetFields}}
	var doc BuildUploadFileResponse
	if err := c.send1(ctx, http.MethodGet, "/v1/buildUploadFiles/"+url.PathEscape(id), q, nil, &doc); err != nil {
		return nil, err
	}
	return &doc.Data, nil
}

// Build reads a build's version, processingState and dates: GET
// /v1/builds/{id}.
func (c *Client) Build(ctx context.Context, id string) (*Build, error) {
	if err := checkID("build ID", id); err != nil {
		return nil, err
	}
	q := url.Values{"fields[builds]": {buildGetFields}}
	var doc BuildResponse
	if err := c.send1(ctx, http.MethodGet, "/v1/builds/"+url.PathEscape(id), q, nil, &doc); err != nil {
		return nil, err
	}
	return &doc.Data, nil
}

// DeleteBuildUpload deletes a build upload, freeing its build number: DELETE
// /v1/buildUploads/{id}. Meant for an upload that was never committed.
func (c *Client) DeleteBuildUpload(ctx context.Context, id string) error {
	if err := checkID("build upload ID", id); err != nil {
		return err
	}
	return c.send1(ctx, http.MethodDelete, "/v1/buildUploads/"+url.PathEscape(id), nil, nil, nil)
}

// send1 is NewRequest then Do, turning a 429 with Retry-After into a
// *RetryAfterError for the methods Do does not retry.
func (c *Client) send1(ctx context.Context, method, path string, q url.Values, body, v any) error {
	req, err := c.NewRequest(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	resp, err := c.Do(req, v)
	if err != nil && resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		if d, ok := httpx.RetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			return &RetryAfterError{Err: err, RetryAfter: d}
		}
	}
	return err
}

// checkVersionValue requires a version or build number: not empty, at most
// 255 bytes, without white space or commas.
func checkVersionValue(what, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("asc: the %s is empty", what)
	case len(v) > 255 || strings.ContainsAny(v, ", \t\r\n"):
		return fmt.Errorf("asc: the %s %q is not a version string", what, v)
	}
	return nil
}
