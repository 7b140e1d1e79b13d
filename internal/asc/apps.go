package asc

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxLimit is the largest page size the collection endpoints accept.
const maxLimit = 200

// AppByBundleID returns the app whose bundle ID is exactly bundleID, from
// GET /v1/apps?filter[bundleId]=…. Apple's filter is not an exact match
// (com.example.app also finds com.example.app.staging), so every page is
// read and the exact match picked. No match is an error that
// errors.Is(err, ErrNotFound).
func (c *Client) AppByBundleID(ctx context.Context, bundleID string) (*App, error) {
	if bundleID == "" || strings.ContainsAny(bundleID, ", \t\r\n") {
		return nil, fmt.Errorf("asc: bundle ID %q is empty or contains a comma or white space", bundleID)
	}
	q := url.Values{
		"filter[bundleId]": {bundleID},
		"fields[apps]":     {"bundleId,name"},
		"limit":            {strconv.Itoa(maxLimit)},
	}
	apps, err := ListAll[App](ctx, c, "/v1/apps", q)
	if err != nil {
		return nil, err
	}
	var found []App
	for _, a := range apps {
		if a.Attributes != nil && a.Attributes.BundleID == bundleID {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("asc: no app has bundle ID %q (%d similar found): %w; check the bundle ID and that the API key belongs to the app's team", bundleID, len(apps), ErrNotFound)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("asc: %d apps have bundle ID %q", len(found), bundleID)
}

// App returns the app with App Store Connect ID id (GET /v1/apps/{id}).
func (c *Client) App(ctx context.Context, id string) (*App, error) {
	if err := checkID("app ID", id); err != nil {
		return nil, err
	}
	req, err := c.NewRequest(ctx, http.MethodGet, "/v1/apps/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return nil, err
	}
	var doc AppResponse
	if _, err := c.Do(req, &doc); err != nil {
		return nil, err
	}
	return &doc.Data, nil
}

// checkID rejects an empty resource ID or one that could not be a path
// segment. Apple's IDs are digits or UUIDs.
func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("asc: the %s is empty", what)
	}
	if strings.ContainsAny(id, "/?#,%") || strings.TrimSpace(id) != id {
		return fmt.Errorf("asc: the %s %q is not a valid ID", what, id)
	}
	return nil
}

// checkPlatform accepts "" (no filter) or one of the document's platforms.
func checkPlatform(p Platform) error {
	if p == "" || p.Valid() {
		return nil
	}
	return fmt.Errorf("asc: platform %q is not one of IOS, MAC_OS, TV_OS, VISION_OS", string(p))
}

// checkVersion accepts "" (no filter) or a value that is a single filter
// item: a comma would split it in two.
func checkVersion(what, v string) error {
	if strings.ContainsAny(v, ", \t\r\n") {
		return fmt.Errorf("asc: %s %q contains a comma or white space", what, v)
	}
	return nil
}
