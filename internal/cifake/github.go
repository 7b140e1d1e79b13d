// Package cifake is a set of local fakes of the CI services' REST APIs
// that asc-auth writes secrets to: GitHub (Actions secrets of
// repositories, environments and organisations, repository lookup, and
// the issues API the session watch uses), GitLab CI/CD variables, CircleCI
// environment variables and contexts, and Bitrise app secrets. Tests run
// against them on loopback; nothing here is linked into the product.
//
// Like the App Store Connect simulator, each fake is strict: it checks the
// token and what that token may write, decodes bodies strictly, and keeps
// every request (method, path, query, headers, body) for assertions. The
// GitHub fake holds a real X25519 key pair per scope, opens every sealed
// value it receives with box.OpenAnonymous and keeps the plaintext; its
// key IDs can be rotated to make a client's key stale.
package cifake

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// Request is one request a fake received.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	Status                 int
}

// Line is the request line and headers as text, for leak checks.
func (r Request) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s?%s\n", r.Method, r.Path, r.RawQuery)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

// recorder keeps requests; every fake embeds one.
type recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Requests returns every request so far.
func (r *recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// Writes counts the requests that could have changed something (any
// method but GET), answered or refused.
func (r *recorder) Writes() int {
	n := 0
	for _, q := range r.Requests() {
		if q.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// record wraps a handler to keep each request with its answer's status.
func (r *recorder) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		req.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, req)
		r.mu.Lock()
		r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
			Header: req.Header.Clone(), Body: body, Status: sw.status})
		r.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ghError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

// decodeStrict decodes a JSON body, refusing unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Scope names, as GitHub's scopes go: "repo:OWNER/NAME",
// "env:OWNER/NAME/ENV", "org:ORG", and for the issues API
// "issues:OWNER/NAME".
func RepoScope(repo string) string        { return "repo:" + repo }
func EnvScope(repo, env string) string    { return "env:" + repo + "/" + env }
func OrgScope(org string) string          { return "org:" + org }
func IssuesScope(repo string) string      { return "issues:" + repo }
func secretKey(scope, name string) string { return scope + "#" + strings.ToUpper(name) }

// keyPair is one scope's sealing key.
type keyPair struct {
	id        string
	pub, priv *[32]byte
	short     bool // serve a public key cut to 31 bytes
}

// Secret is a secret as the fake holds it: decrypted.
type Secret struct {
	Plaintext  []byte
	Sealed     []byte // the sealed box as received
	Visibility string
	RepoIDs    []int64
	Updates    int
}

// Issue is an issue in the fake's issues API.
type Issue struct {
	Number   int      `json:"number"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	State    string   `json:"state"`
	Labels   []string `json:"-"`
	Comments []string `json:"-"`
}

// GitHub is a fake of GitHub's REST API: Actions secrets, repository
// lookup and issues. It serves the same handlers at "/" (github.com) and
// under "/api/v3" (GitHub Enterprise Server).
type GitHub struct {
	recorder
	srv *httptest.Server

	mu          sync.Mutex
	keys        map[string]*keyPair
	repos       map[string]int64 // OWNER/NAME -> ID
	envs        map[string]bool  // OWNER/NAME/ENV
	orgs        map[string]bool
	tokens      map[string]map[string]bool // token -> scopes it may write
	secrets     map[string]*Secret
	issues      map[string][]*Issue // OWNER/NAME -> issues
	rotateOnGet int                 // rotate a scope's key after this many more key fetches (0: never)
	nextKeyID   int
}

// NewGitHub starts a fake on a loopback port; Close stops it.
func NewGitHub() *GitHub {
	g := &GitHub{keys: map[string]*keyPair{}, repos: map[string]int64{}, envs: map[string]bool{}, orgs: map[string]bool{},
		tokens: map[string]map[string]bool{}, secrets: map[string]*Secret{}, issues: map[string][]*Issue{}, nextKeyID: 1}
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/api/v3"} {
		mux.HandleFunc("GET "+prefix+"/repos/{owner}/{repo}", g.getRepo)
		mux.HandleFunc("GET "+prefix+"/repos/{owner}/{repo}/actions/secrets/public-key", g.getKey)
		mux.HandleFunc("PUT "+prefix+"/repos/{owner}/{repo}/actions/secrets/{name}", g.putSecret)
		mux.HandleFunc("GET "+prefix+"/repos/{owner}/{repo}/environments/{env}/secrets/public-key", g.getKey)
		mux.HandleFunc("PUT "+prefix+"/repos/{owner}/{repo}/environments/{env}/secrets/{name}", g.putSecret)
		mux.HandleFunc("GET "+prefix+"/orgs/{org}/actions/secrets/public-key", g.getKey)
		mux.HandleFunc("PUT "+prefix+"/orgs/{org}/actions/secrets/{name}", g.putSecret)
		mux.HandleFunc("GET "+prefix+"/repos/{owner}/{repo}/issues", g.listIssues)
		mux.HandleFunc("POST "+prefix+"/repos/{owner}/{repo}/issues", g.createIssue)
		mux.HandleFunc("POST "+prefix+"/repos/{owner}/{repo}/issues/{number}/comments", g.comment)
		mux.HandleFunc("PATCH "+prefix+"/repos/{owner}/{repo}/issues/{number}", g.patchIssue)
	}
	g.srv = httptest.NewServer(g.record(mux))
	return g
}

// URL is the base URL as for github.com; URL()+"/api/v3" serves the same.
func (g *GitHub) URL() string { return g.srv.URL }

// Close stops the server.
func (g *GitHub) Close() { g.srv.Close() }

// AddRepo adds a repository with its ID, and a key pair for its secrets.
func (g *GitHub) AddRepo(full string, id int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.repos[full] = id
	g.newKey(RepoScope(full))
}

// AddEnv adds an environment to a repository added before.
func (g *GitHub) AddEnv(repo, env string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.envs[repo+"/"+env] = true
	g.newKey(EnvScope(repo, env))
}

// AddOrg adds an organisation.
func (g *GitHub) AddOrg(org string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.orgs[org] = true
	g.newKey(OrgScope(org))
}

// Grant lets token write in the scopes named (see RepoScope etc.). Any
// other token is refused with 401; a known token outside its scopes gets
// 403, as GitHub answers a token without the permission.
func (g *GitHub) Grant(token string, scopes ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tokens[token] == nil {
		g.tokens[token] = map[string]bool{}
	}
	for _, s := range scopes {
		g.tokens[token][s] = true
	}
}

// RotateKey gives scope a new key pair and key ID.
func (g *GitHub) RotateKey(scope string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.newKey(scope)
}

// RotateAfterNextKeyFetch rotates the key of whichever scope's public key
// is fetched next, right after serving it: the client's key is then stale
// by the time it puts the secret.
func (g *GitHub) RotateAfterNextKeyFetch() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rotateOnGet = 1
}

// ShortKey makes scope's public key 31 bytes long.
func (g *GitHub) ShortKey(scope string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys[scope].short = true
}

// PrivateKey returns scope's current private key, for an independent
// decryption of Secret.Sealed.
func (g *GitHub) PrivateKey(scope string) [32]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return *g.keys[scope].priv
}

// Secret returns a stored secret.
func (g *GitHub) Secret(scope, name string) (Secret, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.secrets[secretKey(scope, name)]
	if !ok {
		return Secret{}, false
	}
	return *s, true
}

// Issues returns a repository's issues.
func (g *GitHub) Issues(repo string) []Issue {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Issue
	for _, i := range g.issues[repo] {
		c := *i
		c.Comments = slices.Clone(i.Comments)
		out = append(out, c)
	}
	return out
}

func (g *GitHub) newKey(scope string) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	g.keys[scope] = &keyPair{id: strconv.Itoa(g.nextKeyID) + "568250167242549743", pub: pub, priv: priv}
	g.nextKeyID++
}

// scopeOf finds the scope a secrets request addresses, answering 404 if it
// does not exist.
func (g *GitHub) scopeOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	owner, repo, env, org := r.PathValue("owner"), r.PathValue("repo"), r.PathValue("env"), r.PathValue("org")
	var scope string
	var ok bool
	switch {
	case org != "":
		scope, ok = OrgScope(org), g.orgs[org]
	case env != "":
		scope, ok = EnvScope(owner+"/"+repo, env), g.envs[owner+"/"+repo+"/"+env]
	default:
		_, ok = g.repos[owner+"/"+repo]
		scope = RepoScope(owner + "/" + repo)
	}
	if !ok {
		ghError(w, http.StatusNotFound, "Not Found")
	}
	return scope, ok
}

// authorize checks the bearer token and its scope; it answers and returns
// false on a refusal.
func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request, scope string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	scopes, known := g.tokens[tok]
	switch {
	case !ok || !known:
		ghError(w, http.StatusUnauthorized, "Bad credentials")
		return false
	case !scopes[scope]:
		ghError(w, http.StatusForbidden, "Resource not accessible by personal access token")
		return false
	}
	return true
}

func (g *GitHub) getRepo(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if _, known := g.tokens[tok]; !known {
		ghError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	id, ok := g.repos[full]
	if !ok {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "full_name": full})
}

func (g *GitHub) getKey(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	scope, ok := g.scopeOf(w, r)
	if !ok || !g.authorize(w, r, scope) {
		return
	}
	k := g.keys[scope]
	pub := k.pub[:]
	if k.short {
		pub = pub[:31]
	}
	writeJSON(w, http.StatusOK, map[string]string{"key_id": k.id, "key": base64.StdEncoding.EncodeToString(pub)})
	if g.rotateOnGet > 0 {
		g.rotateOnGet--
		if g.rotateOnGet == 0 {
			g.newKey(scope)
		}
	}
}

// secretName is GitHub's rule for secret names.
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// putSecret answers as GitHub does: 201 when it creates the secret, 204
// when it replaces it. A key_id that is not the scope's current one gets
// 422: GitHub's own answer is not documented; this is the fake's choice,
// and the client's handling of it is described in cisecret.
func (g *GitHub) putSecret(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	scope, ok := g.scopeOf(w, r)
	if !ok || !g.authorize(w, r, scope) {
		return
	}
	name := r.PathValue("name")
	if !secretName.MatchString(name) || strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nSecret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_).")
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in struct {
		EncryptedValue *string  `json:"encrypted_value"`
		KeyID          *string  `json:"key_id"`
		Visibility     string   `json:"visibility"`
		Selected       *[]int64 `json:"selected_repository_ids"`
	}
	if err := decodeStrict(body, &in); err != nil || in.EncryptedValue == nil || in.KeyID == nil {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"encrypted_value\" and \"key_id\" are required.")
		return
	}
	isOrg := strings.HasPrefix(scope, "org:")
	switch {
	case isOrg && !slices.Contains([]string{"all", "private", "selected"}, in.Visibility):
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"visibility\" must be all, private or selected.")
		return
	case !isOrg && (in.Visibility != "" || in.Selected != nil):
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nNo subschema matched: visibility is for organisation secrets.")
		return
	case in.Selected != nil && in.Visibility != "selected":
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nselected_repository_ids is only for visibility selected.")
		return
	}
	k := g.keys[scope]
	if *in.KeyID != k.id {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nThe key_id is not the current key of this scope.")
		return
	}
	sealed, err := base64.StdEncoding.DecodeString(*in.EncryptedValue)
	if err != nil {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nencrypted_value is not base64.")
		return
	}
	plain, ok := box.OpenAnonymous(nil, sealed, k.pub, k.priv)
	if !ok {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nencrypted_value does not open with the key.")
		return
	}
	if len(plain) > 48*1024 {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nThe secret is larger than 48 KB.")
		return
	}
	key := secretKey(scope, name)
	s, exists := g.secrets[key]
	if !exists {
		s = &Secret{}
		g.secrets[key] = s
	} else {
		s.Updates++
	}
	s.Plaintext, s.Sealed, s.Visibility = plain, sealed, in.Visibility
	if in.Selected != nil {
		s.RepoIDs = *in.Selected
	}
	if exists {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{})
}

// issuesAuth checks a token for the issues API of the request's
// repository.
func (g *GitHub) issuesAuth(w http.ResponseWriter, r *http.Request) (string, bool) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if _, ok := g.repos[repo]; !ok {
		ghError(w, http.StatusNotFound, "Not Found")
		return "", false
	}
	return repo, g.authorize(w, r, IssuesScope(repo))
}

func (g *GitHub) issueJSON(repo string, i *Issue) map[string]any {
	var labels []map[string]string
	for _, l := range i.Labels {
		labels = append(labels, map[string]string{"name": l})
	}
	return map[string]any{"number": i.Number, "title": i.Title, "body": i.Body, "state": i.State, "labels": labels,
		"html_url": g.srv.URL + "/" + repo + "/issues/" + strconv.Itoa(i.Number), "comments": len(i.Comments),
		"updated_at": time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
}

// listIssues serves open issues newest first, filtered by state and by
// labels (every label named), with per_page and page.
func (g *GitHub) listIssues(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	repo, ok := g.issuesAuth(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 || perPage > 100 {
		perPage = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	var all []map[string]any
	list := g.issues[repo]
	for idx := len(list) - 1; idx >= 0; idx-- {
		i := list[idx]
		if state != "all" && i.State != state {
			continue
		}
		match := true
		for _, l := range want {
			match = match && slices.Contains(i.Labels, l)
		}
		if match {
			all = append(all, g.issueJSON(repo, i))
		}
	}
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	if end < len(all) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?state=%s&per_page=%d&page=%d>; rel="next"`, g.srv.URL, r.URL.Path, state, perPage, page+1))
	}
	writeJSON(w, http.StatusOK, append([]map[string]any{}, all[start:end]...))
}

func (g *GitHub) createIssue(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	repo, ok := g.issuesAuth(w, r)
	if !ok {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Title  string   `json:"title"`
		Body   string   `json:"body"`
		Labels []string `json:"labels"`
	}
	if err := decodeStrict(body, &in); err != nil || in.Title == "" {
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed")
		return
	}
	n := 1
	for _, list := range g.issues {
		n += len(list)
	}
	i := &Issue{Number: n, Title: in.Title, Body: in.Body, State: "open", Labels: in.Labels}
	g.issues[repo] = append(g.issues[repo], i)
	writeJSON(w, http.StatusCreated, g.issueJSON(repo, i))
}

func (g *GitHub) issue(w http.ResponseWriter, r *http.Request, repo string) *Issue {
	n, _ := strconv.Atoi(r.PathValue("number"))
	for _, i := range g.issues[repo] {
		if i.Number == n {
			return i
		}
	}
	ghError(w, http.StatusNotFound, "Not Found")
	return nil
}

// issueRequest checks the token, finds the issue the path names and
// decodes the body strictly into in, which valid must then accept; it
// answers the error itself and reports false when any of these fails.
// g.mu must be held.
func (g *GitHub) issueRequest(w http.ResponseWriter, r *http.Request, in any, valid func() bool) (string, *Issue, bool) {
	repo, ok := g.issuesAuth(w, r)
	if !ok {
		return "", nil, false
	}
	i := g.issue(w, r, repo)
	if i == nil {
		return "", nil, false
	}
	body, _ := io.ReadAll(r.Body)
	if err := decodeStrict(body, in); err != nil || !valid() {
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed")
		return "", nil, false
	}
	return repo, i, true
}

func (g *GitHub) comment(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var in struct {
		Body string `json:"body"`
	}
	_, i, ok := g.issueRequest(w, r, &in, func() bool { return in.Body != "" })
	if !ok {
		return
	}
	i.Comments = append(i.Comments, in.Body)
	writeJSON(w, http.StatusCreated, map[string]any{"id": len(i.Comments), "body": in.Body})
}

func (g *GitHub) patchIssue(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var in struct {
		State       string `json:"state"`
		StateReason string `json:"state_reason"`
	}
	repo, i, ok := g.issueRequest(w, r, &in, func() bool { return in.State == "open" || in.State == "closed" })
	if !ok {
		return
	}
	i.State = in.State
	writeJSON(w, http.StatusOK, g.issueJSON(repo, i))
}
