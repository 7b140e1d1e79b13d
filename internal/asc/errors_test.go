package asc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAPIErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"Apple 404", 404, fixture(t, "error_404.json", ""),
			"asc: GET /v1/apps/999: 404 NOT_FOUND: The specified resource does not exist: There is no resource of type 'apps' with id '999'"},
		{"several errors on one line", 409, fixture(t, "error_409_multi.json", ""),
			"asc: GET /v1/apps/999: 409 ENTITY_ERROR.ATTRIBUTE.INVALID: An attribute value is invalid.: The version number has been previously used.; " +
				"ENTITY_ERROR.ATTRIBUTE.REQUIRED: The provided entity is missing a required attribute: You must provide a value for the attribute 'platform' with this request"},
		{"no detail", 403, `{"errors":[{"status":"403","code":"FORBIDDEN_ERROR","title":"This request is forbidden for security reasons"}]}`,
			"asc: GET /v1/apps/999: 403 FORBIDDEN_ERROR: This request is forbidden for security reasons"},
		{"HTML body", 502, "<html><body>Bad Gateway</body></html>", "asc: GET /v1/apps/999: 502 Bad Gateway"},
		{"empty body", 500, "", "asc: GET /v1/apps/999: 500 Internal Server Error"},
		{"unknown status", 599, "", "asc: GET /v1/apps/999: 599 unexpected status"},
		{"empty item", 400, `{"errors":[{}]}`, "asc: GET /v1/apps/999: 400 (empty error)"},
		{"the Notary API's shape", 403, `{"name":"Forbidden","description":"A required agreement is missing or has expired.","labels":[]}`,
			"asc: GET /v1/apps/999: 403 Forbidden: A required agreement is missing or has expired."},
		{"the Notary API's shape, name only", 401, `{"name":"Unauthenticated"}`, "asc: GET /v1/apps/999: 401 Unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := newAPIError("GET", "/v1/apps/999", tt.status, []byte(tt.body))
			if got := err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Error("Error() is not one line")
			}
		})
	}
}

func TestAPIErrorSource(t *testing.T) {
	t.Parallel()
	err := newAPIError("POST", "/v1/buildUploads", 409, []byte(fixture(t, "error_409_multi.json", "")))
	if len(err.Errors) != 2 || err.Errors[0].Source == nil || err.Errors[0].Source.Pointer != "/data/attributes/cfBundleVersion" {
		t.Fatalf("Errors = %+v", err.Errors)
	}
	if err.Errors[0].ID == "" || err.Errors[0].Status != "409" {
		t.Errorf("first error = %+v", err.Errors[0])
	}
}

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrRateLimited}
	tests := []struct {
		status int
		want   error // nil: matches none
	}{
		{401, ErrUnauthorized},
		{403, ErrForbidden},
		{404, ErrNotFound},
		{409, ErrConflict},
		{429, ErrRateLimited},
		{400, nil},
		{500, nil},
	}
	for _, tt := range tests {
		// Wrapped, as callers will see it.
		err := fmt.Errorf("build number: %w", &APIError{Method: "GET", Path: "/v1/apps", StatusCode: tt.status})
		for _, s := range sentinels {
			if got := errors.Is(err, s); got != (s == tt.want) {
				t.Errorf("status %d: errors.Is(err, %v) = %v", tt.status, s, got)
			}
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
			t.Errorf("status %d: errors.As failed", tt.status)
		}
	}
}
