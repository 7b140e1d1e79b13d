package asc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// buildPages serves the three builds_page*.json fixtures by cursor.
func buildPages(t *testing.T, h *harness) *script {
	s := &script{}
	h.mux.HandleFunc("/v1/builds", func(w http.ResponseWriter, r *http.Request) {
		page := map[string]string{"": "1", "Mg.ANd2Jw": "2", "NA.AMVjSA": "3"}[r.URL.Query().Get("cursor")]
		if page == "" {
			t.Errorf("unexpected cursor %q", r.URL.Query().Get("cursor"))
			w.WriteHeader(400)
			return
		}
		s.mu.Lock()
		s.replies = []reply{{status: 200, body: fixture(t, "builds_page"+page+".json", h.srv.URL)}}
		s.mu.Unlock()
		s.ServeHTTP(w, r)
	})
	return s
}

func TestGetAllThreePages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := buildPages(t, h)
	var pages []int
	err := h.client.GetAll(t.Context(), "/v1/builds", map[string][]string{
		"filter[app]": {"1500000000"}, "fields[builds]": {"version"}, "limit": {"2"},
	}, func(raw json.RawMessage) error {
		var doc BuildsResponse
		if err := json.Unmarshal(raw, &doc); err != nil {
			return err
		}
		pages = append(pages, len(doc.Data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(pages) != "[2 2 1]" {
		t.Errorf("page sizes = %v", pages)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || h.client.Requests() != 3 {
		t.Fatalf("%d requests (Requests() = %d), want 3", len(reqs), h.client.Requests())
	}
	for i, r := range reqs {
		if r.Method != "GET" || r.Path != "/v1/builds" || r.Query["filter[app]"][0] != "1500000000" || r.Query["limit"][0] != "2" {
			t.Errorf("request %d = %s %s %v", i, r.Method, r.Path, r.Query)
		}
		if r.Header.Get("Authorization") != "Bearer tok-1" || r.Header.Get("User-Agent") != "asc-auth/1.2.3" {
			t.Errorf("request %d headers = %v", i, r.Header)
		}
	}
	var cursors []string
	for _, r := range reqs {
		cursors = append(cursors, r.Query.Get("cursor"))
	}
	if strings.Join(cursors, ",") != ",Mg.ANd2Jw,NA.AMVjSA" {
		t.Errorf("cursors = %q", cursors)
	}
}

func TestListAll(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	buildPages(t, h)
	builds, err := ListAll[Build](t.Context(), h.client, "/v1/builds", nil)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, b := range builds {
		versions = append(versions, b.Attributes.Version)
	}
	if strings.Join(versions, " ") != "41 42 43 44 45" {
		t.Errorf("versions = %v", versions)
	}
}

func TestGetAllRefusesForeignNextLink(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"data":[]}`))
	}))
	t.Cleanup(evil.Close)

	tests := []struct{ name, next string }{
		{"other port", evil.URL + "/v1/builds?cursor=secret-cursor"},
		{"other host", "https://evil.example.com/v1/builds?cursor=secret-cursor"},
		{"other scheme", "https" + strings.TrimPrefix(evil.URL, "http") + "/v1/builds?cursor=secret-cursor"},
		{"scheme-relative", "//evil.example.com/v1/builds?cursor=secret-cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: []reply{{status: 200, body: `{"data":[],"links":{"self":"x","next":"` + tt.next + `"}}`}}}
			h.mux.Handle("/v1/builds", s)
			err := h.client.GetAll(t.Context(), "/v1/builds", nil, func(json.RawMessage) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "refusing to follow the next link") {
				t.Fatalf("GetAll error = %v, want a refusal", err)
			}
			if strings.Contains(err.Error(), "secret-cursor") {
				t.Errorf("error leaks the query: %v", err)
			}
			if len(s.Requests()) != 1 {
				t.Errorf("%d requests to the API", len(s.Requests()))
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the other server was called %d times", hits.Load())
	}
}

func TestGetAllRelativeNextLinkAndLoop(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{
		{status: 200, body: `{"data":[1],"links":{"self":"x","next":"/v1/builds?cursor=2"}}`},
		{status: 200, body: `{"data":[2],"links":{"self":"x","next":"?cursor=2"}}`},
	}}
	h.mux.Handle("/v1/builds", s)
	_, err := ListAll[int](t.Context(), h.client, "/v1/builds", nil)
	if err == nil || !strings.Contains(err.Error(), "points back at the same page") {
		t.Fatalf("ListAll error = %v", err)
	}
	if reqs := s.Requests(); len(reqs) != 2 || reqs[1].Query["cursor"][0] != "2" {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestGetAllStopsOnPageError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	buildPages(t, h)
	stop := fmt.Errorf("enough")
	err := h.client.GetAll(t.Context(), "/v1/builds", nil, func(json.RawMessage) error { return stop })
	if err != stop || h.client.Requests() != 1 {
		t.Fatalf("GetAll = %v after %d requests", err, h.client.Requests())
	}
}

// TestGetAllRefusesRepeatedPage: a page whose every resource was listed
// already stops the listing before it reaches the caller, whatever its
// URL; empty pages, and pages that repeat some resources, do not.
func TestGetAllRefusesRepeatedPage(t *testing.T) {
	t.Parallel()
	const (
		b1, b2, b3 = `{"type":"builds","id":"1"}`, `{"type":"builds","id":"2"}`, `{"type":"builds","id":"3"}`
		app1       = `{"type":"apps","id":"1"}`
	)
	page := func(next string, data ...string) reply {
		links := `"self":"x"`
		if next != "" {
			links += `,"next":"` + next + `"`
		}
		return reply{status: 200, body: `{"data":[` + strings.Join(data, ",") + `],"links":{` + links + `}}`}
	}
	tests := []struct {
		name    string
		replies []reply
		pages   int // passed to the caller
		wantErr *PagingLoopError
	}{
		{"a page of repeats", []reply{page("?cursor=2", b1, b2), page("?cursor=3", b2, b1)}, 1,
			&PagingLoopError{Path: "/v1/builds", Page: 2}},
		{"repeats after an empty page", []reply{page("?cursor=2", b1), page("?cursor=3"), page("?cursor=4", b1)}, 2,
			&PagingLoopError{Path: "/v1/builds", Page: 3}},
		{"an empty last page", []reply{page("?cursor=2", b1, b2), page("")}, 2, nil},
		{"an empty page in the middle", []reply{page("?cursor=2", b1), page("?cursor=3"), page("", b2)}, 3, nil},
		{"some repeats", []reply{page("?cursor=2", b1, b2), page("", b2, b3)}, 2, nil},
		{"the same ID of another type", []reply{page("?cursor=2", b1), page("", app1)}, 2, nil},
		{"entries without IDs", []reply{page("?cursor=2", "1", "2"), page("", "1", "2")}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := &script{replies: tc.replies}
			h.mux.Handle("/v1/builds", s)
			pages := 0
			err := h.client.GetAll(t.Context(), "/v1/builds", nil, func(json.RawMessage) error { pages++; return nil })
			var loop *PagingLoopError
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("GetAll = %v", err)
			case tc.wantErr != nil && (!errors.As(err, &loop) || *loop != *tc.wantErr):
				t.Fatalf("GetAll = %v, want %+v", err, tc.wantErr)
			}
			if pages != tc.pages || len(s.Requests()) != len(tc.replies) {
				t.Errorf("%d pages passed on after %d requests; want %d after %d", pages, len(s.Requests()), tc.pages, len(tc.replies))
			}
		})
	}
}

// TestGetAllRefusesRevisit: a next link back to any page fetched in the
// listing, however it is spelled, stops the listing before it is sent.
func TestGetAllRefusesRevisit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := &script{replies: []reply{
		{status: 200, body: `{"data":[{"type":"builds","id":"1"}],"links":{"self":"x","next":"/v1/builds?limit=1&cursor=2"}}`},
		{status: 200, body: `{"data":[{"type":"builds","id":"2"}],"links":{"self":"x","next":"/v1/builds?cursor=3&limit=1"}}`},
		{status: 200, body: `{"data":[{"type":"builds","id":"3"}],"links":{"self":"x","next":"` +
			strings.ToUpper(h.srv.URL[:4]) + h.srv.URL[4:] + `/v1/builds?cursor=%32&limit=1#again"}}`},
	}}
	h.mux.Handle("/v1/builds", s)
	err := h.client.GetAll(t.Context(), "/v1/builds", url.Values{"limit": {"1"}}, func(json.RawMessage) error { return nil })
	want := PagingLoopError{Path: "/v1/builds", Page: 3, Revisits: 2}
	var loop *PagingLoopError
	if !errors.As(err, &loop) || *loop != want {
		t.Fatalf("GetAll = %v, want %+v", err, want)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if !strings.Contains(err.Error(), "points back at page 2") {
		t.Errorf("error %q", err)
	}
}

func TestPageKey(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"https://api.example.com/v1/builds?a=1&b=2", "HTTPS://API.Example.COM/v1/builds?b=2&a=1", "https://api.example.com:443/v1/builds?a=1&b=2#frag"},
		{"http://127.0.0.1:8080/v1/builds?filter%5Bapp%5D=1&cursor=x", "http://127.0.0.1:8080/v1/builds?cursor=x&filter[app]=1"},
		{"https://h/v1/%62uilds?q=a+b", "https://h/v1/builds?q=a%20b&"},
		{"https://h?a", "https://h/?a=", "https://h/?a#", "https://user@h?a"},
		{"https://[::1]:8443/x", "https://[::1]:8443/x#y"},
	}
	different := [][2]string{
		{"https://h/v1/builds", "http://h/v1/builds"},
		{"https://h/v1/builds", "https://h:8443/v1/builds"},
		{"https://h/v1/builds", "https://h/v1/Builds"},
		{"https://h/v1/builds?a=1", "https://h/v1/builds?a=2"},
		{"https://h/v1/builds?a=1&a=2", "https://h/v1/builds?a=1"},
		{"https://h/v1/builds?a=1", "https://h/v1/builds?A=1"},
	}
	key := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return pageKey(u)
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if key(s) != key(group[0]) {
				t.Errorf("pageKey(%q) = %q, pageKey(%q) = %q; want them equal", s, key(s), group[0], key(group[0]))
			}
		}
	}
	for _, pair := range different {
		if key(pair[0]) == key(pair[1]) {
			t.Errorf("pageKey(%q) = pageKey(%q) = %q", pair[0], pair[1], key(pair[0]))
		}
	}
}

// FuzzPageKey checks that pageKey is idempotent (a key parsed as a URL
// has itself as key) and ignores what does not make another page: the
// fragment, the order of query parameters, and the case of scheme and
// host.
func FuzzPageKey(f *testing.F) {
	for _, s := range []string{
		"https://api.appstoreconnect.apple.com/v1/builds?filter%5Bapp%5D=1&limit=200&cursor=Mg.ANd2Jw",
		"http://127.0.0.1:41234/v1/apps/1/buildUploads?limit=2&cursor=eyJvZmZzZXQiOiIyIn0#x",
		"https://h/v1/%62uilds?q=a+b&&q=%zz;x",
		"HTTPS://[::1]:443/a%2Fb?=&a",
	} {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, s string, seed uint64) {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
			return // GetAll compares only absolute URLs on its own host
		}
		key := pageKey(u)
		k, err := url.Parse(key)
		if err != nil {
			t.Fatalf("pageKey(%q) = %q, which does not parse: %v", s, key, err)
		}
		if again := pageKey(k); again != key {
			t.Fatalf("pageKey(%q) = %q, but pageKey of that is %q", s, key, again)
		}
		v := *u
		v.Fragment, v.RawFragment = "frag#ment", ""
		v.Scheme, v.Host = upperASCII(v.Scheme), upperASCII(v.Host)
		params := strings.Split(v.RawQuery, "&")
		rand.New(rand.NewPCG(seed, seed)).Shuffle(len(params), func(i, j int) { params[i], params[j] = params[j], params[i] })
		v.RawQuery = strings.Join(params, "&")
		if other := pageKey(&v); other != key {
			t.Fatalf("pageKey(%q) = %q, but pageKey(%q) = %q", s, key, v.String(), other)
		}
	})
}

// upperASCII upper-cases ASCII letters only, as DNS folds case.
func upperASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

func TestIsUUID(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"d3e490c9-b536-4e0a-bb87-fc6e2b2e2077": true, "D3E490C9-B536-4E0A-BB87-FC6E2B2E2077": true,
		"d3e490c9b5364e0abb87fc6e2b2e2077": false, "d3e490c9-b536-4e0a-bb87-fc6e2b2e207g": false, "../x": false, "": false} {
		if got := IsUUID(s); got != want {
			t.Errorf("IsUUID(%q) = %t", s, got)
		}
	}
}
