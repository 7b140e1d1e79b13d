package asc

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
