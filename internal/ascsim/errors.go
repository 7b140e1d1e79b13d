package ascsim

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is one entry of Apple's error body, {"errors":[...]}.
type apiError struct {
	ID     string       `json:"id"`
	Status string       `json:"status"`
	Code   string       `json:"code"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Source *errorSource `json:"source,omitempty"`

	status int // the HTTP status, Status as a number
}

// errorSource names what a 400 or 409 error is about: a query parameter
// or a JSON pointer into the request body.
type errorSource struct {
	Parameter string `json:"parameter,omitempty"`
	Pointer   string `json:"pointer,omitempty"`
}

func newError(status int, code, title, detail string) apiError {
	return apiError{ID: newUUID(), Status: strconv.Itoa(status), Code: code, Title: title, Detail: detail, status: status}
}

// The bodies Apple returns, word for word where Apple's wording is known.
func errNotAuthorized() apiError {
	return newError(http.StatusUnauthorized, "NOT_AUTHORIZED",
		"Authentication credentials are missing or invalid.",
		"Provide a properly configured and signed bearer token, and make sure that it has not expired. "+
			"Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens")
}

func errForbidden() apiError {
	return newError(http.StatusForbidden, "FORBIDDEN_ERROR",
		"This request is forbidden for security reasons",
		"The API key in use does not allow this request")
}

func errRateLimit() apiError {
	return newError(http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED",
		"The request rate limit has been reached.",
		"We've received too many requests for this API. Please wait and try again or slow down your request rate.")
}

func errUnexpected() apiError {
	return newError(http.StatusInternalServerError, "UNEXPECTED_ERROR",
		"An unexpected error occurred.",
		"An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/.")
}

func errUnavailable() apiError {
	return newError(http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE",
		"The service is temporarily unavailable.",
		"The App Store Connect API is temporarily unavailable. Please try again later.")
}

func errPathNotFound() apiError {
	return newError(http.StatusNotFound, "NOT_FOUND",
		"The specified resource does not exist",
		"The path provided does not match a defined resource type.")
}

func errNoResource(typ, id string) apiError {
	return newError(http.StatusNotFound, "NOT_FOUND",
		"The specified resource does not exist",
		fmt.Sprintf("There is no resource of type '%s' with id '%s'", typ, id))
}

func errMethodNotAllowed(method string) apiError {
	return newError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		"The request method is not valid for the resource path.",
		fmt.Sprintf("The request method '%s' is not allowed for the resource path.", method))
}

func errIllegalParameter(name string) apiError {
	e := newError(http.StatusBadRequest, "PARAMETER_ERROR.ILLEGAL",
		"A parameter provided is not allowed for this request",
		fmt.Sprintf("The parameter '%s' can not be used with this request", name))
	e.Source = &errorSource{Parameter: name}
	return e
}

func errInvalidParameter(name, detail string) apiError {
	e := newError(http.StatusBadRequest, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", detail)
	e.Source = &errorSource{Parameter: name}
	return e
}

// errNotSimulated answers a request Apple's document allows but the
// simulator does not model, so a test learns at once why it got nothing.
func errNotSimulated(what string) apiError {
	return newError(http.StatusNotImplemented, "NOT_IMPLEMENTED",
		"The simulator does not implement this request.",
		"ascsim does not simulate "+what+".")
}

// writeErrors writes Apple's error body with the status of the first error.
func writeErrors(w http.ResponseWriter, errs ...apiError) {
	writeJSON(w, errs[0].status, struct {
		Errors []apiError `json:"errors"`
	}{errs})
}

// newUUID returns a random version 4 UUID, the form of Apple's error ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
