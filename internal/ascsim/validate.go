package ascsim

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// maxBodyBytes caps a request body; App Store Connect's JSON bodies are a
// few kilobytes.
const maxBodyBytes = 1 << 20

// serveAPI routes an authenticated request, validates it against Apple's
// document and answers it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, entry *Request) {
	route, pathParams, err := s.spec.router.FindRoute(r)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		entry.Note = "the document has no " + r.Method + " operation on this path"
		writeErrors(w, errMethodNotAllowed(r.Method))
		return
	case err != nil:
		entry.Note = "the document has no such path"
		writeErrors(w, errPathNotFound())
		return
	}
	if errs := s.validate(w, r, route, pathParams); len(errs) > 0 {
		entry.Note = errs[0].Detail
		writeErrors(w, errs...)
		return
	}
	ep, ok := endpointFor(r.Method, route.Path)
	if !ok {
		entry.Note = "not simulated"
		writeErrors(w, errNotSimulated(r.Method+" "+route.Path))
		return
	}
	q, errs := parseQuery(r, ep, route.Operation)
	if len(errs) > 0 {
		entry.Note = errs[0].Detail
		writeErrors(w, errs...)
		return
	}
	c := &call{s: s, w: w, r: r, id: pathParams["id"], q: q, base: baseURL(r), now: s.now()}
	s.settleUploads(c.now)
	s.settleTestFlight(c.now)
	ep.serve(c)
}

// validate checks r against the operation route found: query parameters
// the operation does not name (Apple refuses them; kin-openapi does not
// look), then parameter values and the JSON body with
// openapi3filter.ValidateRequest. It returns every problem at once, as
// Apple does.
func (s *Server) validate(w http.ResponseWriter, r *http.Request, route *routers.Route, pathParams map[string]string) []apiError {
	var errs []apiError
	allowed := queryParameters(route)
	query := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if !allowed[name] {
			errs = append(errs, errIllegalParameter(name))
		}
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:          true,
			SkipSettingDefaults: true,
			// The simulator checks the JWT itself, as Apple does, before
			// it looks at the request; the document's scheme is only
			// "bearer".
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	})
	errs = append(errs, translate(err)...)
	slices.SortStableFunc(errs, func(a, b apiError) int { return a.status - b.status })
	return errs
}

// queryParameters returns the names of the query parameters an operation
// takes. Apple's paged collections also take cursor, which the document
// leaves out: it only ever appears in links.next.
func queryParameters(route *routers.Route) map[string]bool {
	names := make(map[string]bool)
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				names[p.Value.Name] = true
			}
		}
	}
	if names["limit"] {
		names["cursor"] = true
	}
	return names
}

// translate turns kin-openapi's validation errors into Apple's: 400
// PARAMETER_ERROR.INVALID for a query parameter, 409 ENTITY_ERROR for a
// body that breaks its schema, and 422 ENTITY_UNPROCESSABLE for one that
// is not JSON at all (the statuses the document gives each operation).
func translate(err error) []apiError {
	switch e := err.(type) {
	case nil:
		return nil
	case openapi3.MultiError:
		var out []apiError
		for _, e := range e {
			out = append(out, translate(e)...)
		}
		return out
	case *openapi3filter.SecurityRequirementsError:
		return nil // the JWT was checked already
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			return parameterErrors(e.Parameter.Name, e.Err)
		case e.RequestBody != nil:
			return bodyErrors(e)
		}
	}
	return []apiError{newError(http.StatusBadRequest, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", err.Error())}
}

// parameterErrors describes what is wrong with a query parameter, one
// error for each bad value, in words close to Apple's.
func parameterErrors(name string, err error) []apiError {
	var out []apiError
	for _, e := range flatten(err) {
		var detail string
		switch e := e.(type) {
		case *openapi3.SchemaError:
			switch {
			case e.SchemaField == "enum":
				detail = fmt.Sprintf("'%v' is not a valid value for the parameter '%s'. Allowed values: %s", e.Value, name, joinAny(e.Schema.Enum))
			case e.SchemaField == "maximum" && e.Schema.Max != nil:
				detail = fmt.Sprintf("'%v' is not a valid value for the parameter '%s'. The maximum is %v.", e.Value, name, *e.Schema.Max)
			default:
				detail = fmt.Sprintf("'%v' is not a valid value for the parameter '%s': %s", e.Value, name, e.Reason)
			}
		case *openapi3filter.ParseError:
			detail = fmt.Sprintf("'%v' is not a valid value for the parameter '%s': %s", e.Value, name, e.Reason)
		default:
			detail = fmt.Sprintf("The parameter '%s' is invalid: %v", name, e)
		}
		out = append(out, errInvalidParameter(name, detail))
	}
	return out
}

// bodyErrors describes what is wrong with a JSON body: 409 with a JSON
// pointer for each schema violation, or 422 if the body is not JSON of
// the right content type at all.
func bodyErrors(re *openapi3filter.RequestError) []apiError {
	var out []apiError
	for _, e := range flatten(re.Err) {
		se, ok := e.(*openapi3.SchemaError)
		if !ok {
			continue
		}
		pointer := "/" + strings.Join(se.JSONPointer(), "/")
		code, title := "ENTITY_ERROR", "The provided entity is invalid."
		switch {
		case strings.HasPrefix(pointer, "/data/attributes"):
			code, title = "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is invalid."
		case strings.HasPrefix(pointer, "/data/relationships"):
			code, title = "ENTITY_ERROR.RELATIONSHIP.INVALID", "A relationship value is invalid."
		}
		e := newError(http.StatusConflict, code, title, fmt.Sprintf("The value at '%s' is invalid: %s", pointer, se.Reason))
		e.Source = &errorSource{Pointer: pointer}
		out = append(out, e)
	}
	if len(out) == 0 {
		out = append(out, newError(http.StatusUnprocessableEntity, "ENTITY_UNPROCESSABLE",
			"The request entity is not valid.", "The request body could not be read: "+re.Error()))
	}
	return out
}

// flatten lists the errors inside nested openapi3.MultiErrors.
func flatten(err error) []error {
	me, ok := err.(openapi3.MultiError)
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range me {
		out = append(out, flatten(e)...)
	}
	return out
}

func joinAny(values []any) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}
