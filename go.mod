module github.com/asc-auth/action

go 1.26.8

require (
	github.com/golang-jwt/jwt/v5 v5.3.0
	github.com/sethvargo/go-githubactions v1.4.0
	go.yaml.in/yaml/v3 v3.0.4
	golang.org/x/crypto v0.45.0
	howett.net/plist v1.0.1
)

// Sealed boxes for GitHub secrets: x/crypto's blake2b (the box's nonce)
// detects CPU features with x/sys.
require golang.org/x/sys v0.38.0 // indirect

// Tests and simulator only: an independent SigV4 signer, to check
// internal/sigv4 and to verify signatures in internal/notarysim's S3
// stand-in. internal/containertest fails if the product links it.
require github.com/aws/smithy-go/aws-http-auth v1.2.2 // tests and simulator only

// Simulator only: internal/ascsim checks requests against Apple's OpenAPI
// document with kin-openapi, which brings the modules below. None of them
// is linked into the action's image, built with -tags nosimulator.
require (
	github.com/getkin/kin-openapi v0.152.0 // simulator only: OpenAPI request validation
	github.com/go-openapi/jsonpointer v0.22.5 // indirect; simulator only: kin-openapi
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect; simulator only: kin-openapi
	github.com/gorilla/mux v1.8.0 // indirect; simulator only: kin-openapi's router
	github.com/oasdiff/yaml v0.1.1 // indirect; simulator only: kin-openapi
	github.com/oasdiff/yaml3 v0.0.14 // indirect; simulator only: kin-openapi
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect; simulator only: kin-openapi's schema checks
	golang.org/x/text v0.31.0 // indirect; simulator only: jsonschema's messages
)

// Tests only: go.yaml.in/yaml/v3's own tests use it; listed for module
// graph pruning.
require github.com/kr/pretty v0.3.1 // indirect
