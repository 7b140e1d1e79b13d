package ascsim

import (
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// SpecGzip is the embedded document, for TestEmbeddedSpecMatches.
var SpecGzip = specGzip

// Spec returns the parsed document and its router, for response validation.
func Spec() (*openapi3.T, routers.Router, error) {
	sp, err := loadSpec()
	if err != nil {
		return nil, nil, err
	}
	return sp.doc, sp.router, nil
}
