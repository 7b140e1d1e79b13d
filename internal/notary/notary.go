// Package notary notarizes macOS software through Apple's Notary REST API
// (notary/v2): it submits a file's SHA-256, puts the file into the S3
// bucket the answer names with the temporary credentials it carries
// (SigV4-signed by package sigv4, multipart above a threshold), polls the
// submission until Apple decides, and fetches the developer log. It knows
// nothing of GitHub.
//
// API calls go through an *asc.Client whose base URL is the notary
// service's and whose tokens carry no scope: the client re-mints tokens
// before they expire, however long the wait.
package notary

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/httpx"
	"github.com/asc-auth/action/internal/sigv4"
)

// DefaultBaseURL is where the Notary API lives.
const DefaultBaseURL = "https://appstoreconnect.apple.com"

// Region is the region the submissions bucket is signed for. Apple does
// not document it; every known client signs for us-west-2.
const Region = "us-west-2"

// Submission statuses, exactly as Apple writes them.
const (
	StatusInProgress = "In Progress"
	StatusAccepted   = "Accepted"
	StatusInvalid    = "Invalid"
	StatusRejected   = "Rejected"
)

// Client talks to the notary service and to the S3 bucket it names.
type Client struct {
	// API sends the Notary API's requests (base URL: DefaultBaseURL or a
	// stand-in), with unscoped tokens.
	API *asc.Client
	// HTTP fetches the developer log and uploads to S3; it adds no
	// credentials of its own (default: a client with a 60 s timeout for
	// the log, the transfer engine's for uploads).
	HTTP *http.Client
	// S3Endpoint, if set, replaces the bucket's regional endpoint and
	// addresses the bucket path-style: ENDPOINT/BUCKET/KEY.
	S3Endpoint string
	// Mask receives every secret the service hands out (the temporary
	// AWS secret key and session token) as soon as it is known.
	Mask func(...string)
	// Log receives progress lines.
	Log func(string)

	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return httpx.Sleep(ctx, d)
}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(fmt.Sprintf(format, args...))
	}
}

func (c *Client) mask(v ...string) {
	if c.Mask != nil {
		c.Mask(v...)
	}
}

// Submission is a submission's state as the status and list calls give it.
type Submission struct {
	ID          string
	Name        string
	Status      string
	CreatedDate time.Time
}

// Terminal reports whether Apple has decided.
func (s Submission) Terminal() bool {
	switch s.Status {
	case StatusAccepted, StatusInvalid, StatusRejected:
		return true
	}
	return false
}

// NewSubmission is what the submit call hands back: where to put the file
// and the credentials to do it with (valid for 12 hours).
type NewSubmission struct {
	ID          string
	Bucket      string
	Object      string
	Credentials sigv4.Credentials
}

type submissionDoc struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes struct {
		Name        string `json:"name"`
		Status      string `json:"status"`
		CreatedDate string `json:"createdDate"`
	} `json:"attributes"`
}

func (d submissionDoc) submission() Submission {
	s := Submission{ID: d.ID, Name: d.Attributes.Name, Status: d.Attributes.Status}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700"} {
		if t, err := time.Parse(layout, d.Attributes.CreatedDate); err == nil {
			s.CreatedDate = t
			break
		}
	}
	return s
}

// CheckID reports whether id looks like a submission ID.
func CheckID(id string) error {
	if !asc.IsUUID(id) {
		return errors.New("notary: a submission ID is a UUID (8-4-4-4-12 hex digits)")
	}
	return nil
}

// submit sends the submission request once.
func (c *Client) submit(ctx context.Context, name, sha256Hex string) (NewSubmission, error) {
	body := map[string]any{"submissionName": name, "sha256": sha256Hex}
	req, err := c.API.NewRequest(ctx, http.MethodPost, "/notary/v2/submissions", nil, body)
	if err != nil {
		return NewSubmission{}, err
	}
	var doc struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				AccessKeyID  string `json:"awsAccessKeyId"`
				SecretKey    string `json:"awsSecretAccessKey"`
				SessionToken string `json:"awsSessionToken"`
				Bucket       string `json:"bucket"`
				Object       string `json:"object"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if _, err := c.API.Do(req, &doc); err != nil {
		return NewSubmission{}, err
	}
	a := doc.Data.Attributes
	c.mask(a.SecretKey, a.SessionToken)
	s := NewSubmission{ID: doc.Data.ID, Bucket: a.Bucket, Object: a.Object,
		Credentials: sigv4.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: a.SecretKey, SessionToken: a.SessionToken}}
	if CheckID(s.ID) != nil || s.Bucket == "" || s.Object == "" || a.AccessKeyID == "" || a.SecretKey == "" {
		return NewSubmission{}, errors.New("notary: the submission answer lacks an ID, a bucket, an object or credentials")
	}
	return s, nil
}

// Status returns a submission's state.
func (c *Client) Status(ctx context.Context, id string) (Submission, error) {
	if err := CheckID(id); err != nil {
		return Submission{}, err
	}
	req, err := c.API.NewRequest(ctx, http.MethodGet, "/notary/v2/submissions/"+id, nil, nil)
	if err != nil {
		return Submission{}, err
	}
	var doc struct {
		Data submissionDoc `json:"data"`
	}
	if _, err := c.API.Do(req, &doc); err != nil {
		return Submission{}, err
	}
	s := doc.Data.submission()
	if s.ID == "" {
		s.ID = id
	}
	return s, nil
}

// List returns the team's most recent submissions (Apple keeps the last
// 100 in the list).
func (c *Client) List(ctx context.Context) ([]Submission, error) {
	req, err := c.API.NewRequest(ctx, http.MethodGet, "/notary/v2/submissions", nil, nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data []submissionDoc `json:"data"`
	}
	if _, err := c.API.Do(req, &doc); err != nil {
		return nil, err
	}
	out := make([]Submission, 0, len(doc.Data))
	for _, d := range doc.Data {
		out = append(out, d.submission())
	}
	return out, nil
}

// LogURL returns the submission's developer log URL, a presigned URL
// that expires after a few hours.
func (c *Client) LogURL(ctx context.Context, id string) (string, error) {
	if err := CheckID(id); err != nil {
		return "", err
	}
	req, err := c.API.NewRequest(ctx, http.MethodGet, "/notary/v2/submissions/"+id+"/logs", nil, nil)
	if err != nil {
		return "", err
	}
	var doc struct {
		Data struct {
			Attributes struct {
				DeveloperLogURL string `json:"developerLogUrl"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if _, err := c.API.Do(req, &doc); err != nil {
		return "", err
	}
	u := doc.Data.Attributes.DeveloperLogURL
	if err := checkFetchURL(u); err != nil {
		return "", err
	}
	return u, nil
}

// checkFetchURL accepts an https URL, or plain http to this machine (the
// simulator).
func checkFetchURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return errors.New("notary: the developer log URL is not a URL")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && httpx.IsLoopback(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("notary: refusing to fetch the developer log from %s: not https", httpx.RedactURL(u))
}
