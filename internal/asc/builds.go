package asc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// BuildsQuery selects builds for Builds. AppID is required; the other
// filters apply when set.
type BuildsQuery struct {
	AppID    string   // filter[app]
	Platform Platform // filter[preReleaseVersion.platform]
	Version  string   // filter[preReleaseVersion.version], the marketing version
	// Fields are the attributes to return (fields[builds]); default
	// ["version"], the build number.
	Fields []string
	// Limit is the page size, 1 to 200 (default 200). Every page is read
	// whatever it is.
	Limit int
}

// Builds returns every build that q selects, following all pages of
// GET /v1/builds.
func (c *Client) Builds(ctx context.Context, q BuildsQuery) ([]Build, error) {
	fields := q.Fields
	if len(fields) == 0 {
		fields = []string{"version"}
	}
	limit := q.Limit
	if limit == 0 {
		limit = maxLimit
	}
	errs := []error{
		checkID("app ID", q.AppID),
		checkPlatform(q.Platform),
		checkVersion("version", q.Version),
	}
	if limit < 1 || limit > maxLimit {
		errs = append(errs, fmt.Errorf("asc: limit %d is not between 1 and %d", limit, maxLimit))
	}
	for _, f := range fields {
		if f == "" || strings.ContainsAny(f, ", ") {
			errs = append(errs, fmt.Errorf("asc: field %q is not a single attribute name", f))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	v := url.Values{
		"filter[app]":    {q.AppID},
		"fields[builds]": {strings.Join(fields, ",")},
		"limit":          {strconv.Itoa(limit)},
	}
	if q.Platform != "" {
		v.Set("filter[preReleaseVersion.platform]", string(q.Platform))
	}
	if q.Version != "" {
		v.Set("filter[preReleaseVersion.version]", q.Version)
	}
	return ListAll[Build](ctx, c, "/v1/builds", v)
}

// BuildUploadsQuery selects build uploads for BuildUploads. AppID is
// required; the other filters apply when set.
type BuildUploadsQuery struct {
	AppID    string             // the {id} in the path
	Platform Platform           // filter[platform]
	Version  string             // filter[cfBundleShortVersionString]
	States   []BuildUploadState // filter[state], any of these
}

// buildUploadFields are the attributes BuildUploads asks for.
const buildUploadFields = "cfBundleShortVersionString,cfBundleVersion,platform,state"

// BuildUploads returns every build upload of an app that q selects,
// following all pages of GET /v1/apps/{id}/buildUploads. Uploads that
// have not finished processing are here before they appear as builds.
func (c *Client) BuildUploads(ctx context.Context, q BuildUploadsQuery) ([]BuildUpload, error) {
	errs := []error{
		checkID("app ID", q.AppID),
		checkPlatform(q.Platform),
		checkVersion("version", q.Version),
	}
	states := make([]string, 0, len(q.States))
	for _, s := range q.States {
		if !s.Valid() {
			errs = append(errs, fmt.Errorf("asc: build upload state %q is not one of AWAITING_UPLOAD, PROCESSING, FAILED, COMPLETE", string(s)))
		}
		states = append(states, string(s))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	v := url.Values{
		"fields[buildUploads]": {buildUploadFields},
		"limit":                {strconv.Itoa(maxLimit)},
	}
	if q.Platform != "" {
		v.Set("filter[platform]", string(q.Platform))
	}
	if q.Version != "" {
		v.Set("filter[cfBundleShortVersionString]", q.Version)
	}
	if len(states) > 0 {
		v.Set("filter[state]", strings.Join(states, ","))
	}
	return ListAll[BuildUpload](ctx, c, "/v1/apps/"+url.PathEscape(q.AppID)+"/buildUploads", v)
}
