package cisecret

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/nacl/box"

	"github.com/asc-auth/action/internal/ciapi"
)

// DefaultGitHubAPI is github.com's REST API. GitHub Enterprise Server's is
// https://HOST/api/v3, GHE.com's https://api.SUBDOMAIN.ghe.com.
const DefaultGitHubAPI = "https://api.github.com"

// MaxGitHubSecret is GitHub's limit on a secret's size: 48 KB. It applies
// to the value before encryption.
const MaxGitHubSecret = 48 * 1024

// Visibilities an organisation secret may have.
const (
	VisibilityAll      = "all"
	VisibilityPrivate  = "private"
	VisibilitySelected = "selected"
)

// GitHubTarget is where a GitHub Actions secret goes: a repository
// (Repo), one of its environments (Repo and Env), or an organisation (Org,
// Visibility, and Repos when the visibility is "selected").
type GitHubTarget struct {
	Repo       string // OWNER/NAME
	Env        string
	Org        string
	Visibility string
	Repos      []string // NAME (in Org) or OWNER/NAME
}

// Level names the target's kind: "repository", "environment" or
// "organisation".
func (t GitHubTarget) Level() string {
	switch {
	case t.Org != "":
		return "organisation"
	case t.Env != "":
		return "environment"
	}
	return "repository"
}

// Permission says what a token needs to write a secret at the target's
// level.
func (t GitHubTarget) Permission() string {
	switch t.Level() {
	case "organisation":
		return "a fine-grained token with the organisation permission \"Secrets: read and write\" (and repository access to the selected repositories), or a classic token with admin:org"
	case "environment":
		return "a fine-grained token on the repository with \"Secrets: read and write\" (GitHub's documents also list \"Environments: read and write\"), or a classic token with repo"
	}
	return "a fine-grained token on the repository with \"Secrets: read and write\", or a classic token with repo"
}

// CheckGitHubName refuses a name GitHub refuses.
func CheckGitHubName(name string) error {
	switch {
	case !envName().MatchString(name): // GitHub's rule too
		return fmt.Errorf("cisecret: secret name %q is invalid: GitHub takes letters, digits and underscores, not starting with a digit", name)
	case strings.HasPrefix(strings.ToUpper(name), "GITHUB_"):
		return fmt.Errorf("cisecret: secret name %q is invalid: GitHub reserves names starting with GITHUB_", name)
	}
	return nil
}

// GitHub stores GitHub Actions secrets.
type GitHub struct {
	api    *ciapi.Client
	target GitHubTarget
	rand   io.Reader
}

// NewGitHub returns a destination for target on the API at base
// (DefaultGitHubAPI if ""), authenticated with token.
func NewGitHub(base, token string, target GitHubTarget, opts ...ciapi.Option) *GitHub {
	if base == "" {
		base = DefaultGitHubAPI
	}
	return &GitHub{api: ciapi.NewGitHub(base, token, opts...), target: target, rand: rand.Reader}
}

// Describe names the target.
func (g *GitHub) Describe() string {
	t := g.target
	switch t.Level() {
	case "organisation":
		s := fmt.Sprintf("GitHub organisation %s (visibility %s", t.Org, t.Visibility)
		if t.Visibility == VisibilitySelected {
			s += ": " + strings.Join(t.Repos, ", ")
		}
		return s + ")"
	case "environment":
		return fmt.Sprintf("GitHub environment %s of %s", t.Env, t.Repo)
	}
	return "GitHub repository " + t.Repo
}

// Requests reports the HTTP requests sent.
func (g *GitHub) Requests() int { return g.api.Requests() }

// Check refuses an invalid name and a value over 48 KB.
func (g *GitHub) Check(name string, value []byte) error {
	if err := CheckGitHubName(name); err != nil {
		return err
	}
	if len(value) == 0 {
		return errors.New("cisecret: the value is empty")
	}
	if len(value) > MaxGitHubSecret {
		return fmt.Errorf("cisecret: the value is %d bytes; GitHub takes at most %d (48 KB) in a secret", len(value), MaxGitHubSecret)
	}
	return nil
}

// scopePath is the secrets collection of the target.
func (g *GitHub) scopePath() string {
	t := g.target
	switch t.Level() {
	case "organisation":
		return "/orgs/" + url.PathEscape(t.Org) + "/actions/secrets"
	case "environment":
		return "/repos/" + repoPath(t.Repo) + "/environments/" + url.PathEscape(t.Env) + "/secrets"
	}
	return "/repos/" + repoPath(t.Repo) + "/actions/secrets"
}

func repoPath(full string) string {
	owner, name, _ := strings.Cut(full, "/")
	return url.PathEscape(owner) + "/" + url.PathEscape(name)
}

type publicKey struct {
	KeyID string `json:"key_id"`
	Key   string `json:"key"`
}

type secretBody struct {
	EncryptedValue string  `json:"encrypted_value"`
	KeyID          string  `json:"key_id"`
	Visibility     string  `json:"visibility,omitempty"`
	Repositories   []int64 `json:"selected_repository_ids,omitempty"`
}

// Store seals value with the scope's public key and puts it. For a
// "selected" organisation secret it first looks up the repositories' IDs.
//
// A stale key ID: GitHub's answer to a PUT sealed with a key that has
// since been rotated is not documented. Store takes a 400 or 422 answer
// to the PUT as possibly that: it fetches the public key again, and only
// if the key ID has changed does it seal and put once more. Any other
// answer, or the same key ID, is the error it is.
func (g *GitHub) Store(ctx context.Context, name string, value []byte) (Result, error) {
	if err := g.Check(name, value); err != nil {
		return Result{}, err
	}
	var ids []int64
	if g.target.Level() == "organisation" && g.target.Visibility == VisibilitySelected {
		var err error
		if ids, err = g.repoIDs(ctx); err != nil {
			return Result{}, err
		}
	}
	key, err := g.publicKey(ctx)
	if err != nil {
		return Result{}, err
	}
	res, err := g.put(ctx, name, value, key, ids)
	if s := ciapi.StatusOf(err); s == http.StatusUnprocessableEntity || s == http.StatusBadRequest {
		fresh, ferr := g.publicKey(ctx)
		if ferr != nil {
			return Result{}, ferr
		}
		if fresh.id == key.id {
			return Result{}, g.explain(err)
		}
		res, err = g.put(ctx, name, value, fresh, ids)
	}
	return res, g.explain(err)
}

type sealKey struct {
	id  string
	key [32]byte
}

func (g *GitHub) publicKey(ctx context.Context) (sealKey, error) {
	var pk publicKey
	if _, err := g.api.Do(ctx, http.MethodGet, g.scopePath()+"/public-key", nil, &pk); err != nil {
		return sealKey{}, g.explain(err)
	}
	raw, err := base64.StdEncoding.DecodeString(pk.Key)
	switch {
	case err != nil:
		return sealKey{}, errors.New("cisecret: GitHub's public key is not base64")
	case len(raw) != 32:
		return sealKey{}, fmt.Errorf("cisecret: GitHub's public key is %d bytes, not the 32 of a Curve25519 key; nothing was stored", len(raw))
	case pk.KeyID == "":
		return sealKey{}, errors.New("cisecret: GitHub's public key has no key_id")
	}
	k := sealKey{id: pk.KeyID}
	copy(k.key[:], raw)
	return k, nil
}

func (g *GitHub) put(ctx context.Context, name string, value []byte, k sealKey, ids []int64) (Result, error) {
	sealed, err := box.SealAnonymous(nil, value, &k.key, g.rand)
	if err != nil {
		return Result{}, fmt.Errorf("cisecret: sealing the value: %w", err)
	}
	body := secretBody{EncryptedValue: base64.StdEncoding.EncodeToString(sealed), KeyID: k.id}
	if g.target.Level() == "organisation" {
		body.Visibility = g.target.Visibility
		body.Repositories = ids
	}
	status, err := g.api.Do(ctx, http.MethodPut, g.scopePath()+"/"+url.PathEscape(name), body, nil)
	if err != nil {
		return Result{}, err
	}
	return Result{Created: status == http.StatusCreated}, nil
}

// repoIDs maps the selected repositories' names to their IDs.
func (g *GitHub) repoIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	for _, r := range g.target.Repos {
		full := r
		if !strings.Contains(r, "/") {
			full = g.target.Org + "/" + r
		}
		var repo struct {
			ID int64 `json:"id"`
		}
		if _, err := g.api.Do(ctx, http.MethodGet, "/repos/"+repoPath(full), nil, &repo); err != nil {
			if ciapi.StatusOf(err) == http.StatusNotFound {
				return nil, fmt.Errorf("cisecret: repository %s not found, or the token cannot see it", full)
			}
			return nil, g.explain(err)
		}
		if repo.ID == 0 {
			return nil, fmt.Errorf("cisecret: GitHub gave no ID for repository %s", full)
		}
		ids = append(ids, repo.ID)
	}
	return ids, nil
}

// explain adds what the user can do to GitHub's refusals.
func (g *GitHub) explain(err error) error {
	switch ciapi.StatusOf(err) {
	case 0:
		if err == nil || strings.HasPrefix(err.Error(), "cisecret:") {
			return err
		}
	case http.StatusUnauthorized:
		return fmt.Errorf("cisecret: GitHub refused the token (401): it is invalid or expired: %w", err)
	case http.StatusForbidden:
		return fmt.Errorf("cisecret: GitHub refused to let the token write secrets in %s (403); it needs %s. "+
			"A workflow's own GITHUB_TOKEN can never write secrets: use a personal access token or a GitHub App token: %w",
			strings.TrimPrefix(g.Describe(), "GitHub "), g.target.Permission(), err)
	case http.StatusNotFound:
		return fmt.Errorf("cisecret: %s was not found (404), or the token cannot see it: %w", g.Describe(), err)
	}
	return fmt.Errorf("cisecret: %w", err)
}

// SplitRepo checks OWNER/NAME and returns its parts.
func SplitRepo(full string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || strings.ContainsAny(full, " \t?#%") {
		return "", "", fmt.Errorf("%q is not OWNER/NAME", full)
	}
	return owner, name, nil
}
