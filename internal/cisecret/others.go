package cisecret

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/asc-auth/action/internal/ciapi"
)

// Default API bases.
const (
	DefaultGitLab   = "https://gitlab.com"
	DefaultCircleCI = "https://circleci.com"
	DefaultBitrise  = "https://api.bitrise.io"
)

// GitLab stores a CI/CD variable of a project or a group.
type GitLab struct {
	api    *ciapi.Client
	group  bool
	id     string // numeric ID or full path
	masked bool
}

// NewGitLab returns a destination for the project (or, with group, the
// group) id, a numeric ID or a path such as "group/project", on the
// GitLab at base (DefaultGitLab if ""). The variable is stored raw, so
// that GitLab never expands a "$" in it. With masked, GitLab is asked to
// mask it in job logs; GitLab refuses to mask a value with spaces, which a
// session has.
func NewGitLab(base, token, id string, group, masked bool, opts ...ciapi.Option) *GitLab {
	if base == "" {
		base = DefaultGitLab
	}
	auth := func(h http.Header) { h.Set("PRIVATE-TOKEN", token) }
	return &GitLab{api: ciapi.New(strings.TrimSuffix(base, "/")+"/api/v4", auth, opts...), group: group, id: id, masked: masked}
}

// Describe names the project or group.
func (g *GitLab) Describe() string {
	if g.group {
		return "GitLab group " + g.id
	}
	return "GitLab project " + g.id
}

// Requests reports the HTTP requests sent.
func (g *GitLab) Requests() int { return g.api.Requests() }

// Check refuses an invalid name or an oversized value.
func (g *GitLab) Check(name string, value []byte) error { return checkEnv("GitLab", name, value) }

type gitLabVariable struct {
	Key          string `json:"key,omitempty"`
	Value        string `json:"value"`
	Masked       bool   `json:"masked"`
	Raw          bool   `json:"raw"`
	VariableType string `json:"variable_type"`
}

// Store updates the variable (PUT), or creates it (POST) if GitLab
// answers 404.
func (g *GitLab) Store(ctx context.Context, name string, value []byte) (Result, error) {
	if err := g.Check(name, value); err != nil {
		return Result{}, err
	}
	kind := "projects"
	if g.group {
		kind = "groups"
	}
	base := "/" + kind + "/" + url.PathEscape(g.id) + "/variables"
	v := gitLabVariable{Value: string(value), Masked: g.masked, Raw: true, VariableType: "env_var"}
	_, err := g.api.Do(ctx, http.MethodPut, base+"/"+url.PathEscape(name), v, nil)
	if ciapi.StatusOf(err) == http.StatusNotFound {
		v.Key = name
		if _, err = g.api.Do(ctx, http.MethodPost, base, v, nil); err == nil {
			return Result{Created: true}, nil
		}
	}
	return Result{}, g.explain(err)
}

func (g *GitLab) explain(err error) error {
	switch ciapi.StatusOf(err) {
	case 0:
		if err == nil {
			return nil
		}
	case http.StatusUnauthorized:
		return fmt.Errorf("cisecret: GitLab refused the token (401): it is invalid or expired: %w", err)
	case http.StatusForbidden:
		return fmt.Errorf("cisecret: GitLab refused (403): the token needs the api scope and the Maintainer role on %s (Owner on a group): %w", g.Describe(), err)
	case http.StatusNotFound:
		return fmt.Errorf("cisecret: %s was not found (404), or the token cannot see it: %w", g.Describe(), err)
	case http.StatusBadRequest:
		if g.masked {
			return fmt.Errorf("cisecret: GitLab refused the variable (400); GitLab cannot mask a value with spaces, which a session has: run again without --gitlab-masked: %w", err)
		}
	}
	return fmt.Errorf("cisecret: %w", err)
}

// CircleCI stores a project environment variable or a context variable.
type CircleCI struct {
	api     *ciapi.Client
	project string // vcs/org/repo, e.g. gh/acme/app
	context string // a context ID
}

// NewCircleCI returns a destination for a project (slug vcs/org/repo) or,
// if contextID is set, a context, on the API at base (DefaultCircleCI if
// "").
func NewCircleCI(base, token, project, contextID string, opts ...ciapi.Option) *CircleCI {
	if base == "" {
		base = DefaultCircleCI
	}
	auth := func(h http.Header) { h.Set("Circle-Token", token) }
	return &CircleCI{api: ciapi.New(strings.TrimSuffix(base, "/")+"/api/v2", auth, opts...), project: project, context: contextID}
}

// Describe names the project or context.
func (c *CircleCI) Describe() string {
	if c.context != "" {
		return "CircleCI context " + c.context
	}
	return "CircleCI project " + c.project
}

// Requests reports the HTTP requests sent.
func (c *CircleCI) Requests() int { return c.api.Requests() }

// Check refuses an invalid name or an oversized value.
func (c *CircleCI) Check(name string, value []byte) error {
	return checkEnv("CircleCI", name, value)
}

// Store puts a context variable (PUT, which creates or replaces), or posts
// a project variable (POST, which CircleCI answers 201 whether it created
// or replaced it; that it replaces an existing one is not documented
// clearly, so Result.Created is true for a project variable).
func (c *CircleCI) Store(ctx context.Context, name string, value []byte) (Result, error) {
	if err := c.Check(name, value); err != nil {
		return Result{}, err
	}
	var err error
	if c.context != "" {
		_, err = c.api.Do(ctx, http.MethodPut, "/context/"+url.PathEscape(c.context)+"/environment-variable/"+url.PathEscape(name),
			map[string]string{"value": string(value)}, nil)
		if err == nil {
			return Result{}, nil // CircleCI does not say which
		}
	} else {
		var slug []string
		for _, p := range strings.Split(c.project, "/") {
			slug = append(slug, url.PathEscape(p))
		}
		_, err = c.api.Do(ctx, http.MethodPost, "/project/"+strings.Join(slug, "/")+"/envvar",
			map[string]string{"name": name, "value": string(value)}, nil)
		if err == nil {
			return Result{Created: true}, nil
		}
	}
	switch ciapi.StatusOf(err) {
	case http.StatusUnauthorized:
		return Result{}, fmt.Errorf("cisecret: CircleCI refused the token (401): use a personal API token: %w", err)
	case http.StatusForbidden:
		return Result{}, fmt.Errorf("cisecret: CircleCI refused (403): the token's user cannot change %s: %w", c.Describe(), err)
	case http.StatusNotFound:
		return Result{}, fmt.Errorf("cisecret: %s was not found (404), or the token cannot see it: %w", c.Describe(), err)
	}
	return Result{}, fmt.Errorf("cisecret: %w", err)
}

// Bitrise stores an app secret.
type Bitrise struct {
	api *ciapi.Client
	app string
}

// NewBitrise returns a destination for the app with this slug on the API
// at base (DefaultBitrise if "").
func NewBitrise(base, token, app string, opts ...ciapi.Option) *Bitrise {
	if base == "" {
		base = DefaultBitrise
	}
	auth := func(h http.Header) { h.Set("Authorization", token) }
	return &Bitrise{api: ciapi.New(strings.TrimSuffix(base, "/")+"/v0.1", auth, opts...), app: app}
}

// Describe names the app.
func (b *Bitrise) Describe() string { return "Bitrise app " + b.app }

// Requests reports the HTTP requests sent.
func (b *Bitrise) Requests() int { return b.api.Requests() }

// Check refuses an invalid name or an oversized value.
func (b *Bitrise) Check(name string, value []byte) error { return checkEnv("Bitrise", name, value) }

// Store upserts the secret: PUT, answered 201 (created) or 204 (updated).
// The value is not expanded in step inputs, so a "$" stays a "$"; the
// secret is not exposed to pull requests.
func (b *Bitrise) Store(ctx context.Context, name string, value []byte) (Result, error) {
	if err := b.Check(name, value); err != nil {
		return Result{}, err
	}
	body := map[string]any{"value": string(value), "expand_in_step_inputs": false, "is_exposed_for_pull_requests": false}
	status, err := b.api.Do(ctx, http.MethodPut, "/apps/"+url.PathEscape(b.app)+"/secrets/"+url.PathEscape(name), body, nil)
	switch ciapi.StatusOf(err) {
	case 0:
		if err == nil {
			return Result{Created: status == http.StatusCreated}, nil
		}
	case http.StatusUnauthorized:
		return Result{}, fmt.Errorf("cisecret: Bitrise refused the token (401): use a personal access token: %w", err)
	case http.StatusForbidden:
		return Result{}, fmt.Errorf("cisecret: Bitrise refused (403): the token's user needs the Owner or Admin role on %s: %w", b.Describe(), err)
	case http.StatusNotFound:
		return Result{}, fmt.Errorf("cisecret: %s was not found (404), or the token cannot see it: %w", b.Describe(), err)
	}
	return Result{}, fmt.Errorf("cisecret: %w", err)
}
