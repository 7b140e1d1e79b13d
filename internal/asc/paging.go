package asc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// maxPages stops GetAll on a server that keeps returning next links: at
// 200 resources a page that is 200,000 resources, far beyond any app.
const maxPages = 1000

// GetAll fetches path with query and every following page, calling page
// with each whole page document in turn. It follows links.next, which may
// be absolute or relative to the page, only on the client's own scheme and
// host: the token is never sent anywhere else. An error from page stops the
// walk and is returned as is.
func (c *Client) GetAll(ctx context.Context, path string, query url.Values, page func(raw json.RawMessage) error) error {
	req, err := c.NewRequest(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	for n := 1; ; n++ {
		var raw json.RawMessage
		if _, err := c.Do(req, &raw); err != nil {
			return err
		}
		if err := page(raw); err != nil {
			return err
		}
		var doc struct {
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("asc: GET %s: decoding the page's links: %w", req.URL.Path, err)
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
		if next.String() == req.URL.String() {
			return fmt.Errorf("asc: GET %s: the next link points back at the same page", req.URL.Path)
		}
		if n >= maxPages {
			return fmt.Errorf("asc: GET %s: more than %d pages", req.URL.Path, maxPages)
		}
		if req, err = c.NewRequest(ctx, http.MethodGet, next.String(), nil, nil); err != nil {
			return err
		}
	}
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
