package asc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxPages stops GetAll on a server that keeps returning next links: at
// 200 resources a page that is 200,000 resources, far beyond any app.
const maxPages = 1000

// PagingLoopError is GetAll's refusal of a listing whose server leads it in
// circles: a links.next naming a page this listing has already fetched
// (compared as pageKey normalises them), or a page that lists resources
// and only ones earlier pages listed. Either way, following on would fetch
// the same pages again and again, up to maxPages.
type PagingLoopError struct {
	Path string // the listing's path, such as /v1/builds
	Page int    // the page, counting from 1, whose next link or content repeats
	// Revisits is the earlier page, counting from 1, that Page's next link
	// names again (Page itself for a link to the same page); 0 when Page
	// lists only resources earlier pages listed.
	Revisits int
}

func (e *PagingLoopError) Error() string {
	switch {
	case e.Revisits == 0:
		return fmt.Sprintf("asc: GET %s: page %d lists only resources that earlier pages listed; the server's paging goes in circles", e.Path, e.Page)
	case e.Revisits == e.Page:
		return fmt.Sprintf("asc: GET %s: the next link of page %d points back at the same page", e.Path, e.Page)
	}
	return fmt.Sprintf("asc: GET %s: the next link of page %d points back at page %d; the server's paging goes in circles", e.Path, e.Page, e.Revisits)
}

// GetAll fetches path with query and every following page, calling page
// with each whole page document in turn. It follows links.next, which may
// be absolute or relative to the page, only on the client's own scheme and
// host: the token is never sent anywhere else. It stops with a
// *PagingLoopError before following a next link to a page it has already
// fetched, and before passing on a page of resources all listed already.
// An error from page stops the walk and is returned as is.
func (c *Client) GetAll(ctx context.Context, path string, query url.Values, page func(raw json.RawMessage) error) error {
	req, err := c.NewRequest(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	listing := req.URL.Path
	fetched := map[string]int{pageKey(req.URL): 1} // page number by pageKey
	listed := make(map[resourceID]bool)
	for n := 1; ; n++ {
		var raw json.RawMessage
		if _, err := c.Do(req, &raw); err != nil {
			return err
		}
		var doc struct {
			Data  json.RawMessage `json:"data"`
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("asc: GET %s: decoding the page's links: %w", req.URL.Path, err)
		}
		if onlyRepeats(doc.Data, listed) {
			return &PagingLoopError{Path: listing, Page: n}
		}
		if err := page(raw); err != nil {
			return err
		}
		if doc.Links.Next == "" {
			return nil
		}
		next, err := req.URL.Parse(doc.Links.Next)
		if err != nil {
			return fmt.Errorf("asc: GET %s: the next link %s is not a URL", req.URL.Path, redactURLString(doc.Links.Next))
		}
		if !sameOrigin(next, c.baseURL) {
			return fmt.Errorf("asc: GET %s: refusing to follow the next link to %s: it is not on %s", req.URL.Path, redactURL(next), redactURL(c.baseURL))
		}
		key := pageKey(next)
		if earlier, ok := fetched[key]; ok {
			return &PagingLoopError{Path: listing, Page: n, Revisits: earlier}
		}
		if n >= maxPages {
			return fmt.Errorf("asc: GET %s: more than %d pages", req.URL.Path, maxPages)
		}
		fetched[key] = n + 1
		if req, err = c.NewRequest(ctx, http.MethodGet, next.String(), nil, nil); err != nil {
			return err
		}
	}
}

// resourceID identifies a JSON:API resource: its type and ID.
type resourceID struct{ typ, id string }

// onlyRepeats records in listed the resources of a page's data array and
// reports whether it held at least one and every one was listed before. An
// entry with no ID (or data that is not an array of resources) counts as
// new: it cannot be told from others.
func onlyRepeats(data json.RawMessage, listed map[resourceID]bool) bool {
	var items []json.RawMessage
	if json.Unmarshal(data, &items) != nil || len(items) == 0 {
		return false
	}
	repeats := true
	for _, item := range items {
		var r struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if json.Unmarshal(item, &r) != nil || r.ID == "" {
			repeats = false
			continue
		}
		id := resourceID{r.Type, r.ID}
		if !listed[id] {
			listed[id] = true
			repeats = false
		}
	}
	return repeats
}

// pageKey normalises a page's URL so that two spellings of one page are
// equal: scheme and host lower-cased, a default port and user information
// dropped, an empty path made "/", the path's and the query's escapes made
// canonical, the fragment (never sent) dropped, and the query parameters
// sorted ("a" and "a=" are one parameter; repeated names keep all values).
func pageKey(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	if u.Opaque != "" {
		return scheme + ":" + u.Opaque + canonicalQuery(u.RawQuery)
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); port != "" && port == defaultPort(scheme) {
		host = strings.TrimSuffix(host, ":"+port)
	}
	k := url.URL{Scheme: scheme, Host: host, Path: u.Path}
	if k.Path == "" {
		k.Path = "/"
	}
	return k.String() + canonicalQuery(u.RawQuery)
}

// defaultPort is the port a URL of the scheme can leave out.
func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// canonicalQuery returns "?" and rawQuery's parameters decoded, encoded
// again and sorted, or "" when there are none. A name or value whose
// escapes do not decode is kept as sent.
func canonicalQuery(rawQuery string) string {
	var params []string
	for param := range strings.SplitSeq(rawQuery, "&") {
		if param == "" {
			continue
		}
		name, value, _ := strings.Cut(param, "=")
		params = append(params, canonicalEscape(name)+"="+canonicalEscape(value))
	}
	if len(params) == 0 {
		return ""
	}
	slices.Sort(params)
	return "?" + strings.Join(params, "&")
}

func canonicalEscape(s string) string {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return url.QueryEscape(d)
}

// ListAll fetches every page of a collection with GetAll and returns the
// concatenated data arrays decoded as T.
func ListAll[T any](ctx context.Context, c *Client, path string, query url.Values) ([]T, error) {
	var all []T
	err := c.GetAll(ctx, path, query, func(raw json.RawMessage) error {
		var doc struct {
			Data []T `json:"data"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("asc: GET %s: decoding the page's data: %w", redactURLString(path), err)
		}
		all = append(all, doc.Data...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}
