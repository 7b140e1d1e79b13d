package ascsim

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

const (
	// defaultLimit is the page size Apple uses when a request names none.
	defaultLimit = 50
	// defaultMaxLimit applies where the document gives limit no maximum.
	defaultMaxLimit = 200
)

// endpoint is an operation the simulator answers, with the filters and
// includes it implements. Other filters and includes the document allows
// get 501, so a test never trusts an answer that ignored them.
type endpoint struct {
	filters  []string // names inside filter[...]
	includes []string
	serve    func(*call)
}

// call is one request being answered.
type call struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	id   string // the path's {id}, if any
	q    query
	base string // scheme and host the client used, for links
	now  time.Time
}

// query is a request's JSON:API parameters, checked.
type query struct {
	filter   map[string][]string        // filter[name] → values
	relLimit map[string]int             // limit[rel] → the most included linkages of rel
	fields   map[string]map[string]bool // fields[type] → field names
	include  map[string]bool
	sort     []string
	limit    int
	offset   int
}

// parseQuery reads the parameters the schema has already checked and
// checks what it cannot: limit at least 1, a cursor the simulator made,
// boolean and enum filter values the document types as plain strings, and
// filters and includes the simulator implements.
func parseQuery(r *http.Request, ep endpoint, op *openapi3.Operation) (query, []apiError) {
	q := query{
		filter:   make(map[string][]string),
		fields:   make(map[string]map[string]bool),
		include:  make(map[string]bool),
		limit:    defaultLimit,
		relLimit: make(map[string]int),
	}
	var errs []apiError
	values := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(values)) {
		list := splitValues(values[name])
		switch inner, kind := bracketed(name); kind {
		case "limit":
			n, err := strconv.Atoi(values.Get(name))
			maxLimit := maxOf(op, name)
			if err != nil || n < 1 || n > maxLimit {
				errs = append(errs, errInvalidParameter(name, fmt.Sprintf("'%s' is not a valid value for the parameter '%s'. It must be from 1 to %d.", values.Get(name), name, maxLimit)))
				continue
			}
			if inner != "" {
				q.relLimit[inner] = n // caps an included to-many relationship
				continue
			}
			q.limit = n
		case "cursor":
			off, ok := decodeCursor(values.Get(name))
			if !ok {
				errs = append(errs, errInvalidParameter(name, fmt.Sprintf("'%s' is not a valid value for the parameter 'cursor'.", values.Get(name))))
				continue
			}
			q.offset = off
		case "sort":
			q.sort = list
		case "include":
			for _, v := range list {
				if !slices.Contains(ep.includes, v) {
					errs = append(errs, errNotSimulated(fmt.Sprintf("include=%s on %s %s", v, r.Method, r.URL.Path)))
				}
				q.include[v] = true
			}
		case "fields":
			set := make(map[string]bool)
			for _, v := range list {
				set[v] = true
			}
			q.fields[inner] = set
		case "filter":
			if !slices.Contains(ep.filters, inner) {
				errs = append(errs, errNotSimulated(fmt.Sprintf("the parameter '%s' on %s %s", name, r.Method, r.URL.Path)))
				continue
			}
			errs = append(errs, checkFilter(name, inner, list)...)
			q.filter[inner] = list
		default:
			errs = append(errs, errNotSimulated(fmt.Sprintf("the parameter '%s' on %s %s", name, r.Method, r.URL.Path)))
		}
	}
	slices.SortStableFunc(errs, func(a, b apiError) int { return a.status - b.status })
	return q, errs
}

// checkFilter checks filter values the document types as plain strings but
// Apple reads as booleans or enums.
func checkFilter(param, name string, values []string) []apiError {
	var allowed []string
	switch name {
	case "expired":
		allowed = []string{"true", "false"}
	case "state":
		allowed = uploadStates
	default:
		return nil
	}
	var errs []apiError
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			errs = append(errs, errInvalidParameter(param, fmt.Sprintf("'%s' is not a valid value for the parameter '%s'. Allowed values: %s", v, param, strings.Join(allowed, ", "))))
		}
	}
	return errs
}

// maxOf returns the maximum the operation's schema gives the named integer
// parameter.
func maxOf(op *openapi3.Operation, name string) int {
	if p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, name); p != nil && p.Schema != nil && p.Schema.Value.Max != nil {
		return int(*p.Schema.Value.Max)
	}
	return defaultMaxLimit
}

// bracketed splits "filter[app]" into "app" and "filter"; a name without
// brackets comes back as its own kind.
func bracketed(name string) (inner, kind string) {
	kind, rest, ok := strings.Cut(name, "[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", name
	}
	return strings.TrimSuffix(rest, "]"), kind
}

// splitValues reads comma-separated values (style form, explode false),
// the way every list parameter of Apple's document is written.
func splitValues(raw []string) []string {
	var out []string
	for _, v := range raw {
		for part := range strings.SplitSeq(v, ",") {
			if part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// cursor is what an opaque cursor encodes: like Apple's, base64 of a small
// JSON object holding the offset of the next page.
type cursor struct {
	Offset string `json:"offset"`
}

func encodeCursor(offset int) string {
	b, _ := json.Marshal(cursor{Offset: strconv.Itoa(offset)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return 0, false
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(c.Offset)
	return n, err == nil && n >= 0
}

// matches reports whether v passes filter[name], if the request has it.
func (q *query) matches(name, v string) bool {
	want, ok := q.filter[name]
	return !ok || slices.Contains(want, v)
}

// sortKey compares two items by one sort key, ascending or descending.
type sortKey[T any] func(a, b T, desc bool) int

// sortBy orders items by the request's sort keys, each "key" or "-key".
// Items keep their order (creation order) where the keys tie, so paging
// is stable.
func sortBy[T any](items []T, sorts []string, keys map[string]sortKey[T]) {
	if len(sorts) == 0 {
		return
	}
	slices.SortStableFunc(items, func(a, b T) int {
		for _, s := range sorts {
			name, desc := strings.CutPrefix(s, "-")
			if c := keys[name](a, b, desc); c != 0 {
				return c
			}
		}
		return 0
	})
}

// byString sorts by a string attribute as a string, byte by byte.
func byString[T any](get func(T) string) sortKey[T] {
	return func(a, b T, desc bool) int {
		c := strings.Compare(get(a), get(b))
		if desc {
			return -c
		}
		return c
	}
}

// byTime sorts by a date, putting items without one (the zero time) last
// in either direction.
func byTime[T any](get func(T) time.Time) sortKey[T] {
	return func(a, b T, desc bool) int {
		ta, tb := get(a), get(b)
		switch {
		case ta.IsZero() || tb.IsZero():
			return cmp.Compare(boolInt(ta.IsZero()), boolInt(tb.IsZero()))
		case desc:
			return tb.Compare(ta)
		}
		return ta.Compare(tb)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// page returns the items of the request's page and its paging meta, and
// the links.next URL ("" on the last page).
func page[T any](c *call, items []T) ([]T, *pagingMeta, string) {
	total := len(items)
	start := min(c.q.offset, total)
	end := min(start+c.q.limit, total)
	meta := &pagingMeta{Paging: paging{Total: total, Limit: c.q.limit}}
	next := ""
	if end < total {
		meta.Paging.NextCursor = encodeCursor(end)
		v := c.r.URL.Query()
		v.Set("cursor", meta.Paging.NextCursor)
		v.Set("limit", strconv.Itoa(c.q.limit))
		next = c.base + c.r.URL.Path + "?" + v.Encode()
	}
	return items[start:end], meta, faultNext(c, next)
}

func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
