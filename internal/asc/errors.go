package asc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinels that an *APIError matches with errors.Is, by HTTP status.
var (
	ErrUnauthorized = errors.New("asc: unauthorized") // 401: the token was refused
	ErrForbidden    = errors.New("asc: forbidden")    // 403: the key's role may not do this
	ErrNotFound     = errors.New("asc: not found")    // 404
	ErrConflict     = errors.New("asc: conflict")     // 409: e.g. ENTITY_ERROR on a duplicate
	ErrRateLimited  = errors.New("asc: rate limited") // 429: RATE_LIMIT_EXCEEDED
)

// APIError is a non-2xx response from App Store Connect.
type APIError struct {
	Method string
	// Path is the request URL's path only: never its query, which may hold
	// cursors or signatures, and never its host.
	Path       string
	StatusCode int
	// Errors is the ErrorResponse document's errors array; empty when the
	// body was not one (a proxy's HTML error page, for instance).
	Errors []ErrorItem
}

// ErrorResponse is Apple's error document.
type ErrorResponse struct {
	Errors []ErrorItem `json:"errors,omitempty"`
}

// ErrorItem is one entry of an ErrorResponse (the document's ResponseError).
type ErrorItem struct {
	ID     string       `json:"id,omitempty"`
	Status string       `json:"status"`
	Code   string       `json:"code"`
	Title  string       `json:"title"`
	Detail string       `json:"detail,omitempty"`
	Source *ErrorSource `json:"source,omitempty"`
}

// ErrorSource says which part of the request an error is about: a JSON
// pointer into the body (ErrorSourcePointer) or a query parameter
// (ErrorSourceParameter).
type ErrorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

// Error returns one line:
//
//	asc: GET /v1/apps: 404 NOT_FOUND: The specified resource does not exist: <detail>
//
// with several errors joined by "; ", or the status text when the body held
// none.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "asc: %s %s: %d ", e.Method, e.Path, e.StatusCode)
	if len(e.Errors) == 0 {
		text := http.StatusText(e.StatusCode)
		if text == "" {
			text = "unexpected status"
		}
		b.WriteString(text)
		return b.String()
	}
	for i, item := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(item.summary())
	}
	return b.String()
}

// summary is "CODE: Title: detail", leaving out empty parts, on one line.
func (item ErrorItem) summary() string {
	var parts []string
	for _, s := range []string{item.Code, item.Title, item.Detail} {
		if s = oneLine(s); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "(empty error)"
	}
	return strings.Join(parts, ": ")
}

// Is matches the sentinel for e's status code, so that
// errors.Is(err, asc.ErrNotFound) works through any wrapping.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// newAPIError builds the error for a non-2xx response, keeping whatever of
// body is a well-formed ErrorResponse.
func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status}
	var doc ErrorResponse
	if json.Unmarshal(body, &doc) == nil {
		e.Errors = doc.Errors
	}
	// The Notary API documents another shape, {name, description, labels}
	// ("A required agreement is missing or has expired", say).
	var notary struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if len(e.Errors) == 0 && json.Unmarshal(body, &notary) == nil && (notary.Name != "" || notary.Description != "") {
		e.Errors = []ErrorItem{{Status: fmt.Sprint(status), Code: notary.Name, Title: notary.Description}}
	}
	return e
}

// oneLine collapses runs of white space, line breaks included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// MayPass reports whether a failed request may pass if made again later,
// and so whether a failed write may or may not have been applied: no
// answer at all (the client has already retried what it safely could), a
// 429 or a 5xx. A caller waiting on a state polls again; a caller whose
// POST failed so reads the state before deciding anything.
func MayPass(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return true
	}
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}
