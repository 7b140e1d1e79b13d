// Package sessionwatch keeps one GitHub issue about a repository's stored
// FASTLANE_SESSION: it opens the issue when the session is dead, missing,
// expired or within a few days of expiring, comments on that same issue on
// later runs, and closes it once a fresh session is stored. The issue
// gives the one command that renews the session.
//
// The issue is found again by a marker in its body, among the repository's
// open issues, so that it needs no label (creating a label needs more than
// the issues permission a scheduled workflow's token has).
package sessionwatch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/ciapi"
)

// Marker is in the body of the issue this package keeps, and nowhere else.
const Marker = "<!-- asc-auth:session-watch -->"

// maxPages bounds the search for the open issue: 1,000 open issues.
const maxPages = 10

// RenewCommand is the command that renews the session stored under name
// (default FASTLANE_SESSION) in repo: log in with spaceauth on a Mac and
// pipe its output into asc-auth. The Apple ID is left for the person to
// fill in; it is never known here.
func RenewCommand(repo, name string) string {
	if repo == "" {
		repo = "OWNER/NAME"
	}
	cmd := "fastlane spaceauth -u <your Apple ID> | asc-auth session store --repo " + repo
	if name != "" && name != "FASTLANE_SESSION" {
		cmd += " --name " + name
	}
	return cmd
}

// State is the health of the stored session.
type State int

// The states.
const (
	Healthy  State = iota // far enough from expiry, and not refused live
	Unknown               // not refused, but the live check got no answer; its expiry is far enough
	Expiring              // fewer than the warning's days left
	Expired               // its cookies have expired
	Dead                  // App Store Connect refused it
	Missing               // no session is stored, or it does not parse
)

// Status is what a check found.
type Status struct {
	State     State
	ExpiresAt time.Time // zero if unknown
	DaysLeft  int
	Detail    string // one line, never a cookie
}

// bad reports whether the status calls for an issue.
func (s Status) bad() bool { return s.State >= Expiring }

// Action is what Apply did.
type Action struct {
	Verb   string // "opened", "commented", "closed" or "none"
	Number int
	URL    string
}

func (a Action) String() string {
	if a.Verb == "none" {
		return "no issue to open or close"
	}
	return fmt.Sprintf("%s issue #%d %s", a.Verb, a.Number, a.URL)
}

// Watcher talks to the issues API of one repository.
type Watcher struct {
	api  *ciapi.Client
	repo string
	name string // the secret's name
}

// New returns a Watcher for repo (OWNER/NAME) on the GitHub API at base,
// with a token that may write issues. name is the secret's name.
func New(base, token, repo, name string, opts ...ciapi.Option) *Watcher {
	if name == "" {
		name = "FASTLANE_SESSION"
	}
	return &Watcher{api: ciapi.NewGitHub(base, token, opts...), repo: repo, name: name}
}

// Requests reports the HTTP requests sent.
func (w *Watcher) Requests() int { return w.api.Requests() }

type issue struct {
	Number      int            `json:"number"`
	Body        string         `json:"body"`
	HTMLURL     string         `json:"html_url"`
	PullRequest map[string]any `json:"pull_request"`
}

// Apply brings the issue in line with st: opens it, comments on it, closes
// it, or leaves things as they are (a healthy session and no issue, or a
// session whose live check got no answer).
func (w *Watcher) Apply(ctx context.Context, st Status) (Action, error) {
	open, err := w.find(ctx)
	if err != nil {
		return Action{}, err
	}
	switch {
	case st.bad() && open == nil:
		var created issue
		body := map[string]any{"title": w.title(st), "body": Marker + "\n" + w.text(st)}
		if _, err := w.api.Do(ctx, http.MethodPost, w.path("/issues"), body, &created); err != nil {
			return Action{}, w.explain(err)
		}
		return Action{Verb: "opened", Number: created.Number, URL: created.HTMLURL}, nil
	case st.bad():
		if err := w.comment(ctx, open.Number, w.text(st)); err != nil {
			return Action{}, err
		}
		return Action{Verb: "commented", Number: open.Number, URL: open.HTMLURL}, nil
	case st.State == Healthy && open != nil:
		msg := fmt.Sprintf("A fresh session is stored in `%s`: it expires %s (%d days left). Closing.", w.name, st.ExpiresAt.UTC().Format(time.RFC3339), st.DaysLeft)
		if st.ExpiresAt.IsZero() {
			msg = fmt.Sprintf("The session in `%s` works again. Closing.", w.name)
		}
		if err := w.comment(ctx, open.Number, msg); err != nil {
			return Action{}, err
		}
		body := map[string]string{"state": "closed", "state_reason": "completed"}
		if _, err := w.api.Do(ctx, http.MethodPatch, w.path(fmt.Sprintf("/issues/%d", open.Number)), body, nil); err != nil {
			return Action{}, w.explain(err)
		}
		return Action{Verb: "closed", Number: open.Number, URL: open.HTMLURL}, nil
	}
	return Action{Verb: "none"}, nil
}

func (w *Watcher) path(rest string) string {
	owner, name, _ := strings.Cut(w.repo, "/")
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + rest
}

// find returns the open issue that carries the marker, or nil.
func (w *Watcher) find(ctx context.Context) (*issue, error) {
	for page := 1; page <= maxPages; page++ {
		var list []issue
		if _, err := w.api.Do(ctx, http.MethodGet, w.path(fmt.Sprintf("/issues?state=open&per_page=100&page=%d", page)), nil, &list); err != nil {
			return nil, w.explain(err)
		}
		for i := range list {
			if list[i].PullRequest == nil && strings.Contains(list[i].Body, Marker) {
				return &list[i], nil
			}
		}
		if len(list) < 100 {
			break
		}
	}
	return nil, nil
}

func (w *Watcher) comment(ctx context.Context, number int, body string) error {
	_, err := w.api.Do(ctx, http.MethodPost, w.path(fmt.Sprintf("/issues/%d/comments", number)), map[string]string{"body": body}, nil)
	return w.explain(err)
}

func (w *Watcher) title(st Status) string {
	switch st.State {
	case Expiring:
		return fmt.Sprintf("%s expires in %d day(s): renew it", w.name, st.DaysLeft)
	case Expired:
		return w.name + " has expired: renew it"
	case Dead:
		return w.name + " no longer works: renew it"
	}
	return w.name + " is missing or unreadable: store one"
}

// text is the issue's body and each later comment: what is wrong, and the
// command that fixes it.
func (w *Watcher) text(st Status) string {
	var b strings.Builder
	switch st.State {
	case Expiring:
		fmt.Fprintf(&b, "The Apple ID session in the `%s` secret expires **%s**, in %d day(s).", w.name, st.ExpiresAt.UTC().Format(time.RFC3339), st.DaysLeft)
	case Expired:
		fmt.Fprintf(&b, "The Apple ID session in the `%s` secret expired on **%s**.", w.name, st.ExpiresAt.UTC().Format(time.RFC3339))
	case Dead:
		fmt.Fprintf(&b, "App Store Connect refuses the Apple ID session in the `%s` secret, whatever its cookies' dates say.", w.name)
	default:
		fmt.Fprintf(&b, "The `%s` secret holds no usable Apple ID session.", w.name)
	}
	if st.Detail != "" {
		fmt.Fprintf(&b, " (%s)", st.Detail)
	}
	fmt.Fprintf(&b, "\n\nRenew it on a Mac, with your Apple ID and a token that may write this repository's secrets in `GH_TOKEN`:\n\n```sh\n%s\n```\n\n"+
		"This issue closes itself on the first scheduled check after a fresh session is stored.\n", RenewCommand(w.repo, w.name))
	return b.String()
}

func (w *Watcher) explain(err error) error {
	switch ciapi.StatusOf(err) {
	case 0:
		if err == nil {
			return nil
		}
	case http.StatusUnauthorized:
		return fmt.Errorf("sessionwatch: GitHub refused the token (401): %w", err)
	case http.StatusForbidden, http.StatusNotFound:
		return fmt.Errorf("sessionwatch: GitHub refused to read or write the issues of %s: the workflow needs `permissions: issues: write`: %w", w.repo, err)
	}
	return fmt.Errorf("sessionwatch: %w", err)
}
