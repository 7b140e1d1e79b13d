package staple

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/httpx"
)

// DefaultLookupURL is Apple's public ticket lookup (CloudKit), which
// needs no credentials.
const DefaultLookupURL = "https://api.apple-cloudkit.com"

const lookupPath = "/database/1/com.apple.gk.ticket-delivery/production/public/records/lookup"

// ErrNotFound is a ticket the lookup does not have (yet: tickets appear
// a little after acceptance).
var ErrNotFound = errors.New("staple: the ticket is not published yet (Record not found)")

// Lookup fetches the ticket for record, retrying while it is not found
// or the service fails for now (no answer, 429, 5xx), attempts times in
// all, interval apart; any other answer ends the lookup at once. log, if not
// nil, receives a line before each wait, so that a wait for a ticket is
// not silent.
func Lookup(ctx context.Context, hc *http.Client, base, record string, attempts int, interval time.Duration, sleep func(context.Context, time.Duration) error, log func(string)) ([]byte, error) {
	var last error
	for n := 1; n <= attempts; n++ {
		t, err := lookupOnce(ctx, hc, base, record)
		if err == nil {
			return t, nil
		}
		last = err
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !mayPass(err) {
			return nil, fmt.Errorf("staple: looking up the ticket for %s: %w", record, err)
		}
		if n < attempts {
			if log != nil {
				log(fmt.Sprintf("Ticket %s: %s (lookup %d of %d); looking again in %s.", record, strings.TrimPrefix(err.Error(), "staple: "), n, attempts, interval))
			}
			if err := sleep(ctx, interval); err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("staple: no ticket for %s after %d lookups: %w", record, attempts, last)
}

func lookupOnce(ctx context.Context, hc *http.Client, base, record string) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"records": []any{map[string]string{"recordName": record}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+lookupPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, httpx.UnwrapURLError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{code: resp.StatusCode, status: resp.Status}
	}
	var doc struct {
		Records []struct {
			RecordName      string `json:"recordName"`
			ServerErrorCode string `json:"serverErrorCode"`
			Reason          string `json:"reason"`
			Fields          struct {
				SignedTicket struct {
					Value string `json:"value"`
				} `json:"signedTicket"`
			} `json:"fields"`
		} `json:"records"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Records) == 0 {
		return nil, errors.New("staple: the ticket lookup's answer is not a CloudKit record list")
	}
	rec := doc.Records[0]
	if rec.ServerErrorCode != "" || rec.Fields.SignedTicket.Value == "" {
		return nil, ErrNotFound
	}
	t, err := base64.StdEncoding.DecodeString(rec.Fields.SignedTicket.Value)
	if err != nil || len(t) == 0 {
		return nil, errors.New("staple: the ticket is not base64")
	}
	return t, nil
}

// statusError is a ticket lookup answered with a status other than 200.
type statusError struct {
	code   int
	status string
}

func (e *statusError) Error() string { return "staple: the ticket lookup answered " + e.status }

// mayPass reports whether a failed lookup is worth repeating: the ticket
// is not published yet, the service is busy or failing, or no answer came.
func mayPass(err error) bool {
	var se *statusError
	switch {
	case errors.Is(err, ErrNotFound):
		return true
	case errors.As(err, &se):
		return se.code >= 500 || se.code == http.StatusTooManyRequests
	}
	return httpx.Temporary(err)
}
