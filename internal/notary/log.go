package notary

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/asc-auth/action/internal/httpx"
)

// maxLog caps the developer log: a log lists an issue per binary, a few
// hundred kB for the largest bundles.
const maxLog = 16 << 20

// Log is the developer log's JSON, as far as asc-auth reads it.
// issues and ticketContents may be null.
type Log struct {
	LogFormatVersion int      `json:"logFormatVersion"`
	JobID            string   `json:"jobId"`
	Status           string   `json:"status"`
	StatusSummary    string   `json:"statusSummary"`
	StatusCode       int      `json:"statusCode"`
	ArchiveFilename  string   `json:"archiveFilename"`
	SHA256           string   `json:"sha256"`
	TicketContents   []Ticket `json:"ticketContents"`
	Issues           []Issue  `json:"issues"`
}

// Issue is one problem the notary service found.
type Issue struct {
	Severity     string `json:"severity"` // "error", or a warning
	Path         string `json:"path"`     // inside the submitted archive
	Message      string `json:"message"`
	DocURL       string `json:"docUrl"`
	Architecture string `json:"architecture"`
}

// Ticket is one code directory the ticket covers.
type Ticket struct {
	Path            string `json:"path"`
	DigestAlgorithm string `json:"digestAlgorithm"`
	CDHash          string `json:"cdhash"`
	Arch            string `json:"arch"`
}

// FetchLog asks for the log's URL and fetches it, without the API's
// Authorization header: the URL is presigned, and the token must not go
// to another host. It returns the raw JSON and what it says.
func (c *Client) FetchLog(ctx context.Context, id string) ([]byte, Log, error) {
	raw, err := c.LogURL(ctx, id)
	if err != nil {
		return nil, Log{}, err
	}
	u, _ := url.Parse(raw) // checked by LogURL
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	var last error
	for n := 1; n <= 3; n++ {
		b, status, err := get(ctx, hc, u)
		if err == nil && status == http.StatusOK {
			var l Log
			if err := json.Unmarshal(b, &l); err != nil {
				return b, Log{}, fmt.Errorf("notary: the developer log of %s is not JSON: %v", id, err)
			}
			return b, l, nil
		}
		if err != nil {
			last = fmt.Errorf("notary: fetching the developer log from %s: %w", httpx.RedactURL(u), err)
			if !httpx.Temporary(err) {
				return nil, Log{}, last
			}
		} else {
			last = fmt.Errorf("notary: fetching the developer log from %s: HTTP %d", httpx.RedactURL(u), status)
			if status < 500 {
				return nil, Log{}, last
			}
		}
		if err := c.sleep(ctx, time.Duration(n)*time.Second); err != nil {
			return nil, Log{}, err
		}
	}
	return nil, Log{}, last
}

func get(ctx context.Context, hc *http.Client, u *url.URL) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		// Without net/http's wrapper, which quotes the presigned URL.
		return nil, 0, httpx.UnwrapURLError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLog+1))
	if err != nil {
		return nil, 0, err
	}
	if len(b) > maxLog {
		return nil, 0, fmt.Errorf("the log is larger than %d MiB", maxLog>>20)
	}
	return b, resp.StatusCode, nil
}
