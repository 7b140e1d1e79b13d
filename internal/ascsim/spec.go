package ascsim

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
	"io"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecVersion is the version of Apple's OpenAPI document the simulator
// embeds and validates against.
const SpecVersion = "4.4.1"

// specGzip is Apple's App Store Connect OpenAPI document, gzipped (gzip -9 -n)
// so that the simulator validates on any machine. TestEmbeddedSpecMatches
// keeps it equal to the copy in ../shared.
//
//go:embed openapi/app_store_connect_api.json.gz
var specGzip []byte

// spec is the parsed document and its router. Both are immutable once built
// and safe for concurrent use.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadSpec parses the embedded document once per process: parsing 3.4 MB
// of JSON takes about a second, and building the router another 50 ms, far
// too slow to repeat for every Server a test starts. The cached value is
// never modified after the sync.OnceValues function returns.
var loadSpec = sync.OnceValues(func() (*spec, error) {
	zr, err := gzip.NewReader(bytes.NewReader(specGzip))
	if err != nil {
		return nil, fmt.Errorf("ascsim: read the embedded OpenAPI document: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("ascsim: read the embedded OpenAPI document: %w", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("ascsim: parse the OpenAPI document: %w", err)
	}
	// Apple's document has an example that breaks its own enum
	// (betaTesterUsages' period), so examples are not validated.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("ascsim: the OpenAPI document is invalid: %w", err)
	}
	if doc.Info == nil || doc.Info.Version != SpecVersion {
		return nil, fmt.Errorf("ascsim: the embedded OpenAPI document is not version %s", SpecVersion)
	}
	// The document's only server is https://api.appstoreconnect.apple.com/;
	// without servers the router matches on the path alone, whatever host
	// and port the simulator listens on.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("ascsim: build the OpenAPI router: %w", err)
	}
	return &spec{doc: doc, router: router}, nil
})
