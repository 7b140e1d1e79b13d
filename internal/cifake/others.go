package cifake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Variables is the plain store the GitLab, CircleCI and Bitrise fakes
// share: scope -> name -> value, with per-token scopes.
type variables struct {
	vmu    sync.Mutex
	tokens map[string]map[string]bool
	scopes map[string]bool
	values map[string]map[string]string
}

func newVariables() variables {
	return variables{tokens: map[string]map[string]bool{}, scopes: map[string]bool{}, values: map[string]map[string]string{}}
}

// AddScope adds a project, group, context or app (by the name its URL
// uses).
func (v *variables) AddScope(scope string) {
	v.vmu.Lock()
	defer v.vmu.Unlock()
	v.scopes[scope] = true
	v.values[scope] = map[string]string{}
}

// Grant lets token write in scopes.
func (v *variables) Grant(token string, scopes ...string) {
	v.vmu.Lock()
	defer v.vmu.Unlock()
	if v.tokens[token] == nil {
		v.tokens[token] = map[string]bool{}
	}
	for _, s := range scopes {
		v.tokens[token][s] = true
	}
}

// Value returns a stored value.
func (v *variables) Value(scope, name string) (string, bool) {
	v.vmu.Lock()
	defer v.vmu.Unlock()
	s, ok := v.values[scope][name]
	return s, ok
}

// check answers a refusal and returns false, or returns true.
func (v *variables) check(w http.ResponseWriter, token, scope string) bool {
	switch scopes, known := v.tokens[token]; {
	case token == "" || !known:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return false
	case !v.scopes[scope]:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not Found"})
		return false
	case !scopes[scope]:
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
		return false
	}
	return true
}

// GitLab fakes GitLab's project and group variables API under /api/v4.
// Scopes are "projects/ID" and "groups/ID", with ID as the URL has it
// (a number or a path, URL-decoded). It refuses to mask a value that has
// white space or is shorter than 8 characters, as GitLab does.
type GitLab struct {
	recorder
	variables
	srv *httptest.Server
	// Flags records masked and raw per scope/name.
	flags map[string][2]bool
}

// NewGitLab starts the fake.
func NewGitLab() *GitLab {
	g := &GitLab{variables: newVariables(), flags: map[string][2]bool{}}
	mux := http.NewServeMux()
	for _, kind := range []string{"projects", "groups"} {
		mux.HandleFunc("POST /api/v4/"+kind+"/{id}/variables", g.handle(kind))
		mux.HandleFunc("PUT /api/v4/"+kind+"/{id}/variables/{key}", g.handle(kind))
	}
	g.srv = httptest.NewServer(g.record(mux))
	return g
}

// URL is the instance's base URL.
func (g *GitLab) URL() string { return g.srv.URL }

// Close stops the server.
func (g *GitLab) Close() { g.srv.Close() }

// Flags returns whether a variable was stored masked and raw.
func (g *GitLab) Flags(scope, name string) (masked, raw bool) {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	f := g.flags[scope+"#"+name]
	return f[0], f[1]
}

func (g *GitLab) handle(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g.vmu.Lock()
		defer g.vmu.Unlock()
		scope := kind + "/" + r.PathValue("id")
		if !g.check(w, r.Header.Get("PRIVATE-TOKEN"), scope) {
			return
		}
		body, _ := io.ReadAll(r.Body)
		var in struct {
			Key          string `json:"key"`
			Value        string `json:"value"`
			Masked       bool   `json:"masked"`
			Raw          bool   `json:"raw"`
			VariableType string `json:"variable_type"`
		}
		if err := decodeStrict(body, &in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON"})
			return
		}
		key := r.PathValue("key")
		_, exists := g.values[scope][key]
		if r.Method == http.MethodPut && !exists {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Variable Not Found"})
			return
		}
		if r.Method == http.MethodPost {
			key = in.Key
			if _, dup := g.values[scope][key]; dup {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"key": {"(" + key + ") has already been taken"}}})
				return
			}
		}
		if in.Masked && (len(in.Value) < 8 || strings.ContainsAny(in.Value, " \t\r\n")) {
			// Quoting the value back is hostile, not GitLab's habit: it
			// lets tests check that a client never prints an echo.
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"value": {"is invalid: " + in.Value}}})
			return
		}
		g.values[scope][key] = in.Value
		g.flags[scope+"#"+key] = [2]bool{in.Masked, in.Raw}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			status = http.StatusCreated
		}
		writeJSON(w, status, map[string]any{"key": key, "masked": in.Masked, "raw": in.Raw, "variable_type": "env_var"})
	}
}

// CircleCI fakes CircleCI's v2 project environment variables and context
// variables. Scopes are "project/VCS/ORG/REPO" and "context/ID".
type CircleCI struct {
	recorder
	variables
	srv *httptest.Server
}

// NewCircleCI starts the fake.
func NewCircleCI() *CircleCI {
	c := &CircleCI{variables: newVariables()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/project/{vcs}/{org}/{repo}/envvar", func(w http.ResponseWriter, r *http.Request) {
		c.store(w, r, "project/"+r.PathValue("vcs")+"/"+r.PathValue("org")+"/"+r.PathValue("repo"), true)
	})
	mux.HandleFunc("PUT /api/v2/context/{id}/environment-variable/{name}", func(w http.ResponseWriter, r *http.Request) {
		c.store(w, r, "context/"+r.PathValue("id"), false)
	})
	c.srv = httptest.NewServer(c.record(mux))
	return c
}

// URL is the API's base URL.
func (c *CircleCI) URL() string { return c.srv.URL }

// Close stops the server.
func (c *CircleCI) Close() { c.srv.Close() }

func (c *CircleCI) store(w http.ResponseWriter, r *http.Request, scope string, project bool) {
	c.vmu.Lock()
	defer c.vmu.Unlock()
	if !c.check(w, r.Header.Get("Circle-Token"), scope) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if err := decodeStrict(body, &in); err != nil || (project && in.Name == "") || (!project && in.Name != "") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "invalid body"})
		return
	}
	name := in.Name
	if !project {
		name = r.PathValue("name")
	}
	c.values[scope][name] = in.Value
	status := http.StatusOK
	if project {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]string{"name": name, "value": "xxxx" + lastFour(in.Value)})
}

// lastFour is what CircleCI shows of a value: its last four characters.
func lastFour(s string) string { return s[max(0, len(s)-4):] }

// Bitrise fakes Bitrise's app secrets upsert. Scopes are "apps/SLUG".
type Bitrise struct {
	recorder
	variables
	srv *httptest.Server
}

// NewBitrise starts the fake.
func NewBitrise() *Bitrise {
	b := &Bitrise{variables: newVariables()}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v0.1/apps/{app}/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		b.vmu.Lock()
		defer b.vmu.Unlock()
		scope := "apps/" + r.PathValue("app")
		if !b.check(w, r.Header.Get("Authorization"), scope) {
			return
		}
		body, _ := io.ReadAll(r.Body)
		var in struct {
			Value         *string `json:"value"`
			Expand        *bool   `json:"expand_in_step_inputs"`
			ExposedForPRs *bool   `json:"is_exposed_for_pull_requests"`
			Protected     *bool   `json:"is_protected"`
		}
		if err := decodeStrict(body, &in); err != nil || in.Value == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "invalid body"})
			return
		}
		name := r.PathValue("name")
		_, exists := b.values[scope][name]
		b.values[scope][name] = *in.Value
		if exists {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	b.srv = httptest.NewServer(b.record(mux))
	return b
}

// URL is the API's base URL.
func (b *Bitrise) URL() string { return b.srv.URL }

// Close stops the server.
func (b *Bitrise) Close() { b.srv.Close() }
