package ascsim

import (
	"encoding/json"
	"net/http"
	"time"
)

// The JSON:API shapes of Apple's responses.

type document struct {
	Data     any         `json:"data"`
	Included []resource  `json:"included,omitempty"`
	Links    docLinks    `json:"links"`
	Meta     *pagingMeta `json:"meta,omitempty"`
}

type docLinks struct {
	Self string `json:"self"`
	Next string `json:"next,omitempty"`
}

type pagingMeta struct {
	Paging paging `json:"paging"`
}

type paging struct {
	Total      int    `json:"total"`
	Limit      int    `json:"limit"`
	NextCursor string `json:"nextCursor,omitempty"`
}

type resource struct {
	Type          string                  `json:"type"`
	ID            string                  `json:"id"`
	Attributes    map[string]any          `json:"attributes,omitempty"`
	Relationships map[string]relationship `json:"relationships,omitempty"`
	Links         *resourceLinks          `json:"links,omitempty"`
}

type resourceLinks struct {
	Self string `json:"self"`
}

type relationship struct {
	Links *relationshipLinks `json:"links,omitempty"`
	Data  *linkage           `json:"-"`
	// Many is the data of an included to-many relationship, with Meta its
	// paging (testflight.go); nil otherwise.
	Many []linkage   `json:"-"`
	Meta *pagingMeta `json:"meta,omitempty"`
}

// MarshalJSON writes data as the to-one linkage or the to-many array,
// whichever the relationship has.
func (r relationship) MarshalJSON() ([]byte, error) {
	type plain struct {
		Links *relationshipLinks `json:"links,omitempty"`
		Data  any                `json:"data,omitempty"`
		Meta  *pagingMeta        `json:"meta,omitempty"`
	}
	p := plain{Links: r.Links, Meta: r.Meta}
	switch {
	case r.Many != nil:
		p.Data = r.Many
	case r.Data != nil:
		p.Data = r.Data
	}
	return json.Marshal(p)
}

type relationshipLinks struct {
	Self    string `json:"self,omitempty"`
	Related string `json:"related,omitempty"`
}

type linkage struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// appleTime is the zone of Apple's dates: App Store Connect writes them
// with a Pacific offset, never Z. A fixed -08:00 keeps output the same on
// every machine; clients must parse any RFC 3339 offset.
var appleTime = time.FixedZone("PST", -8*60*60)

func formatTime(t time.Time) string { return t.In(appleTime).Format(time.RFC3339) }

// newResource starts a resource with its self link.
func (c *call) newResource(typ, id string) resource {
	return resource{
		Type:          typ,
		ID:            id,
		Attributes:    make(map[string]any),
		Relationships: make(map[string]relationship),
		Links:         &resourceLinks{Self: c.base + "/v1/" + typ + "/" + id},
	}
}

// relate adds a relationship with the links Apple's document has paths
// for, and its data when the request includes it or the relationship has
// no links in the document (data is then all there is).
func (c *call) relate(res *resource, name string, to *linkage, withData bool) {
	var rel relationship
	doc := c.s.spec.doc
	prefix := "/v1/" + res.Type + "/{id}/"
	var links relationshipLinks
	if doc.Paths.Value(prefix+"relationships/"+name) != nil {
		links.Self = c.base + "/v1/" + res.Type + "/" + res.ID + "/relationships/" + name
	}
	if doc.Paths.Value(prefix+name) != nil {
		links.Related = c.base + "/v1/" + res.Type + "/" + res.ID + "/" + name
	}
	if links != (relationshipLinks{}) {
		rel.Links = &links
	}
	if to != nil && (withData || rel.Links == nil) {
		rel.Data = to
	}
	if rel.Links == nil && rel.Data == nil {
		return
	}
	res.Relationships[name] = rel
}

// sparse keeps only the fields fields[type] names, if the request has it.
func (c *call) sparse(res resource) resource {
	set, ok := c.q.fields[res.Type]
	if !ok {
		return res
	}
	for k := range res.Attributes {
		if !set[k] {
			delete(res.Attributes, k)
		}
	}
	for k := range res.Relationships {
		if !set[k] {
			delete(res.Relationships, k)
		}
	}
	return res
}

// included collects the included resources of a response, each once.
type included struct {
	seen map[linkage]bool
	list []resource
}

func (in *included) add(res resource) {
	k := linkage{res.Type, res.ID}
	if in.seen == nil {
		in.seen = make(map[linkage]bool)
	}
	if !in.seen[k] {
		in.seen[k] = true
		in.list = append(in.list, res)
	}
}

// writeDocument writes a 200 response whose links.self is the request.
func (c *call) writeDocument(data any, in *included, meta *pagingMeta, next string) {
	d := document{Data: data, Links: docLinks{Self: c.base + c.r.URL.RequestURI(), Next: next}, Meta: meta}
	if in != nil {
		d.Included = in.list
	}
	writeJSON(c.w, http.StatusOK, d)
}
