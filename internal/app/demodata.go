package app

// The demo's account: the bundled throwaway key testdata/AuthKey_DEMOKEY001.p8,
// the issuer ID it pretends to belong to, and its sample app.
const (
	demoKeyID    = "DEMOKEY001"
	demoIssuerID = "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1"
	demoBundleID = "com.example.asc-auth-demo"
)
