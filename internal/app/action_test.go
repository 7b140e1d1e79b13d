package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/demo"
	"github.com/asc-auth/action/internal/token"
)

var fixedNow = time.Date(2026, 11, 22, 9, 42, 18, 0, time.UTC)

const testIssuerID = "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// demoPublicKey is the public half of the bundled demo key.
func demoPublicKey(t testing.TB) *ecdsa.PublicKey {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, "AuthKey_DEMOKEY001.p8"))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return &k.(*ecdsa.PrivateKey).PublicKey
}

// runStep runs the action with the runner r and returns its exit code.
func runStep(t *testing.T, r *actionstest.Runner) int {
	t.Helper()
	return Main(t.Context(), Env{
		Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout,
		Now: func() time.Time { return fixedNow }, ReadFile: os.ReadFile,
	})
}

// logText is what the runner would show: stdout without add-mask lines.
func logText(r *actionstest.Runner) string {
	var b strings.Builder
	for line := range strings.Lines(r.Stdout.String()) {
		if !strings.HasPrefix(line, "::add-mask::") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestActionMintsToken(t *testing.T) {
	t.Parallel()
	pemKey := string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))
	r := actionstest.New(t)
	keyFile := filepath.Join(r.Getenv("RUNNER_TEMP"), "fastlane", "api_key.json")
	r.SetInput("key-id", "DEMOKEY001")
	r.SetInput("issuer-id", testIssuerID)
	r.SetInput("private-key", strings.ReplaceAll(pemKey, "\n", "\r\n"))
	r.SetInput("api-key-json-path", keyFile)
	r.SetInput("export-env", "true")
	r.SetInput("scope", "GET /v1/apps\n\nGET /v1/builds?filter[app]=1\n")
	if code := runStep(t, r); code != 0 {
		t.Fatalf("exit %d; log:\n%s", code, r.Stdout)
	}

	out := r.Outputs()
	tok := out["token"]
	claims, err := token.Verify(tok, func(kid string) (*ecdsa.PublicKey, error) { return demoPublicKey(t), nil }, fixedNow)
	if err != nil {
		t.Fatalf("output token does not verify: %v", err)
	}
	if claims.Issuer != testIssuerID || claims.KeyID != "DEMOKEY001" || claims.Lifetime() != token.DefaultLifetime ||
		!slices.Equal(claims.Scope, []string{"GET /v1/apps", "GET /v1/builds?filter[app]=1"}) {
		t.Errorf("claims = %+v", claims)
	}
	if want := claims.ExpiresAt.Format(time.RFC3339); out["token-expires-at"] != want || !strings.HasSuffix(want, "Z") {
		t.Errorf("token-expires-at = %q, want %q in UTC", out["token-expires-at"], want)
	}
	if out["api-key-json-path"] != keyFile {
		t.Errorf("api-key-json-path = %q, want %q", out["api-key-json-path"], keyFile)
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi)
	}
	var written map[string]any
	data, _ := os.ReadFile(keyFile)
	if err := json.Unmarshal(data, &written); err != nil || written["key_id"] != "DEMOKEY001" || written["issuer_id"] != testIssuerID {
		t.Errorf("key file = %s (%v)", data, err)
	}

	env := r.Env()
	for name, want := range map[string]string{
		"APP_STORE_CONNECT_API_KEY_PATH": keyFile,
		"SPACESHIP_CONNECT_API_KEY_ID":   "DEMOKEY001",
		"SPACESHIP_CONNECT_API_KEY":      written["key"].(string),
	} {
		if env[name] != want {
			t.Errorf("exported %s = %q, want %q", name, env[name], want)
		}
	}

	// Everything secret was masked, and masked before it could be printed.
	masks := r.Masks()
	for _, secret := range []string{tok, "DEMOKEY001", testIssuerID, strings.Split(pemKey, "\n")[1]} {
		if !slices.Contains(masks, secret) {
			t.Errorf("%.12q… was not masked", secret)
		}
	}
	first := strings.Index(r.Stdout.String(), "\n")
	if !strings.HasPrefix(r.Stdout.String(), "::add-mask::") || first < 0 {
		t.Errorf("the first line is not a mask: %.40q", r.Stdout.String())
	}
	summary := r.Summary()
	for _, secret := range []string{tok, "DEMOKEY001", testIssuerID, "PRIVATE KEY"} {
		if strings.Contains(summary, secret) || strings.Contains(logText(r), secret) {
			t.Errorf("a secret (%.12q…) reached the summary or the log", secret)
		}
	}
	if !strings.Contains(summary, "team key") || !strings.Contains(summary, "`appstoreconnect-v1`") {
		t.Errorf("summary lacks key kind or audience:\n%s", summary)
	}
}

// TestActionAcceptsKeyForms runs the action on each form of the key that
// users paste into secrets; every one must sign verifiable tokens.
func TestActionAcceptsKeyForms(t *testing.T) {
	t.Parallel()
	pemKey := string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))
	block, _ := pem.Decode([]byte(pemKey))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "AuthKey_DEMOKEY001.p8")
	if err := os.WriteFile(keyPath, []byte(pemKey), 0o600); err != nil {
		t.Fatal(err)
	}
	jsonKey, _ := json.Marshal(map[string]any{"key_id": "DEMOKEY001", "issuer_id": testIssuerID, "key": pemKey, "in_house": true, "duration": 600})
	tests := []struct {
		name   string
		inputs map[string]string
		aud    string
		life   time.Duration
		sub    string
	}{
		{name: "PEM as downloaded", inputs: map[string]string{"private-key": pemKey}},
		{name: "PEM with literal \\n", inputs: map[string]string{"private-key": strings.ReplaceAll(pemKey, "\n", `\n`)}},
		{name: "PEM with surrounding white space", inputs: map[string]string{"private-key": "\n\n  " + pemKey + "  \n"}},
		{name: "base64 of the PEM", inputs: map[string]string{"private-key": base64.StdEncoding.EncodeToString([]byte(pemKey))}},
		{name: "base64 of the DER", inputs: map[string]string{"private-key": base64.StdEncoding.EncodeToString(block.Bytes)}},
		{name: "SEC1 PEM", inputs: map[string]string{"private-key": string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))}},
		{name: "path, key ID from the file name", inputs: map[string]string{"private-key-path": keyPath, "key-id": ""}},
		{name: "individual key", inputs: map[string]string{"private-key": pemKey, "issuer-id": "", "token-lifetime": "1200"}, life: 20 * time.Minute, sub: "user"},
		{name: "enterprise key", inputs: map[string]string{"private-key": pemKey, "in-house": "true", "token-lifetime": "5m"}, aud: token.AudienceEnterprise, life: 5 * time.Minute},
		{name: "fastlane API key JSON", inputs: map[string]string{"api-key-json": string(jsonKey), "key-id": "", "issuer-id": ""}, aud: token.AudienceEnterprise, life: 11 * time.Minute}, // duration 600 + fastlane's 60 s backdate
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			r.SetInput("key-id", "DEMOKEY001")
			r.SetInput("issuer-id", testIssuerID)
			for k, v := range tc.inputs {
				r.SetInput(k, v)
			}
			if code := runStep(t, r); code != 0 {
				t.Fatalf("exit %d; log:\n%s", code, logText(r))
			}
			c, err := token.Verify(r.Outputs()["token"], func(string) (*ecdsa.PublicKey, error) { return demoPublicKey(t), nil }, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			// The key ID and issuer ID are masked wherever they came from
			// (an input, the key JSON, the key's file name).
			if !slices.Contains(r.Masks(), c.KeyID) || (c.Issuer != "" && !slices.Contains(r.Masks(), c.Issuer)) {
				t.Errorf("key ID or issuer ID not masked; masks %d", len(r.Masks()))
			}
			wantAud, wantLife := cmpOr(tc.aud, token.AudienceTeam), cmpOr(tc.life, token.DefaultLifetime)
			if c.Audience[0] != wantAud || c.Lifetime() != wantLife || c.Subject != tc.sub || c.KeyID != "DEMOKEY001" {
				t.Errorf("claims %+v; want aud %s, lifetime %v, sub %q", c, wantAud, wantLife, tc.sub)
			}
		})
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// TestActionRefusesInput covers each way an input can be wrong: a non-zero
// exit, one error annotation naming the input, no output, and no secret in
// the log.
func TestActionRefusesInput(t *testing.T) {
	t.Parallel()
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	pkcs8 := func(k any) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("PRIVATE KEY", der)
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	good := string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.p8")
	if err := os.WriteFile(unreadable, []byte(good), 0o000); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		inputs    map[string]string
		wantInput []string // the inputs the annotations must name, in order
		wantText  string   // a phrase of the first message
	}{
		{"RSA key", map[string]string{"private-key": pkcs8(rsaKey)}, []string{"private-key"}, "RSA"},
		{"P-384 key", map[string]string{"private-key": pkcs8(p384)}, []string{"private-key"}, "P-384"},
		{"Ed25519 key", map[string]string{"private-key": pkcs8(edKey)}, []string{"private-key"}, "Ed25519"},
		{"encrypted PKCS#8", map[string]string{"private-key": string(readTestdata(t, "keys/encrypted-pkcs8.p8"))}, []string{"private-key"}, "encrypted"},
		{"certificate", map[string]string{"private-key": string(readTestdata(t, "keys/certificate.pem"))}, []string{"private-key"}, "certificate"},
		{"public key", map[string]string{"private-key": pemOf("PUBLIC KEY", pubDER)}, []string{"private-key"}, "public key"},
		{"truncated PEM", map[string]string{"private-key": good[:len(good)/2]}, []string{"private-key"}, "truncated"},
		{"base64 garbage", map[string]string{"private-key": "bm90IGEga2V5IGF0IGFsbA==!!"}, []string{"private-key"}, ""},
		{"empty key", map[string]string{}, []string{"private-key"}, "no key"},
		{"key-id missing", map[string]string{"private-key": good, "key-id": ""}, []string{"key-id"}, "missing"},
		{"malformed key-id", map[string]string{"private-key": good, "key-id": "demo-key"}, []string{"key-id"}, "10 upper-case"},
		{"issuer-id not a UUID", map[string]string{"private-key": good, "issuer-id": "DEMOKEY001"}, []string{"issuer-id"}, "UUID"},
		{"two key inputs", map[string]string{"private-key": good, "api-key-json": `{"key_id":"DEMOKEY001","key":"x"}`}, []string{"api-key-json"}, "one way"},
		{"private-key-path missing", map[string]string{"private-key-path": filepath.Join(dir, "nope.p8")}, []string{"private-key-path"}, "no such file"},
		{"private-key-path a folder", map[string]string{"private-key-path": dir}, []string{"private-key-path"}, "folder"},
		{"api-key-json invalid", map[string]string{"api-key-json": `{"key_id": "DEMOKEY001",`}, []string{"api-key-json"}, "not a JSON object"},
		{"api-key-json missing fields", map[string]string{"api-key-json": `{"issuer_id":"` + testIssuerID + `"}`}, []string{"api-key-json"}, "missing"},
		{"lifetime zero", map[string]string{"private-key": good, "token-lifetime": "0"}, []string{"token-lifetime"}, "positive"},
		{"lifetime negative", map[string]string{"private-key": good, "token-lifetime": "-5m"}, []string{"token-lifetime"}, "positive"},
		{"lifetime over 20 minutes", map[string]string{"private-key": good, "token-lifetime": "21m"}, []string{"token-lifetime"}, "over"},
		{"lifetime not a duration", map[string]string{"private-key": good, "token-lifetime": "soon"}, []string{"token-lifetime"}, "not a duration"},
		{"malformed scope", map[string]string{"private-key": good, "scope": "GET /v1/apps\nfetch apps"}, []string{"scope"}, "line 2"},
		{"in-house not a boolean", map[string]string{"private-key": good, "in-house": "yes"}, []string{"in-house"}, "boolean"},
		{"build-number without app", map[string]string{"private-key": good, "build-number": "true"}, []string{"app"}, "missing"},
		{"build-number with an invalid platform", map[string]string{"private-key": good, "build-number": "true", "app": "com.example.app", "platform": "ANDROID"}, []string{"platform"}, "platform"},
		{"build-number with an invalid version", map[string]string{"private-key": good, "build-number": "true", "app": "com.example.app", "version": "v1"}, []string{"version"}, "marketing version"},
		{"build-number with an invalid initial number", map[string]string{"private-key": good, "build-number": "true", "app": "com.example.app", "initial-build-number": "0.x"}, []string{"initial-build-number"}, "build number"},
		{"plain http to another host", map[string]string{"private-key": good, "api-base-url": "http://api.example.com"}, []string{"api-base-url"}, "https"},
		{"session in the key input", map[string]string{"private-key": "---\\n- !ruby/object:HTTP::Cookie\\n  name: myacinfo\\n  value: DAWTKNV2secret\\n"}, []string{"private-key"}, "FASTLANE_SESSION"},
		{
			"every invalid input at once",
			map[string]string{"private-key": pkcs8(rsaKey), "key-id": "x", "issuer-id": "y", "token-lifetime": "1h", "scope": "all"},
			[]string{"private-key", "key-id", "issuer-id", "token-lifetime", "scope"}, "",
		},
	}
	if os.Geteuid() != 0 { // root reads any file
		tests = append(tests, struct {
			name      string
			inputs    map[string]string
			wantInput []string
			wantText  string
		}{"private-key-path unreadable", map[string]string{"private-key-path": unreadable}, []string{"private-key-path"}, "permission"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			r.SetInput("key-id", "DEMOKEY001")
			r.SetInput("issuer-id", testIssuerID)
			for k, v := range tc.inputs {
				r.SetInput(k, v)
			}
			if code := runStep(t, r); code != exitFailure {
				t.Fatalf("exit %d, want %d; log:\n%s", code, exitFailure, r.Stdout)
			}
			anns := r.Annotations()
			var named []string
			for _, a := range anns {
				if a.Level != "error" || strings.Contains(a.Message, "\n") {
					t.Errorf("annotation %+v is not a one-line error", a)
				}
				named = append(named, strings.TrimPrefix(a.Title, "Invalid input "))
			}
			if !slices.Equal(named, tc.wantInput) {
				t.Fatalf("annotations name %q, want %q:\n%s", named, tc.wantInput, logText(r))
			}
			if !strings.Contains(anns[0].Message, tc.wantText) {
				t.Errorf("message %q lacks %q", anns[0].Message, tc.wantText)
			}
			if len(r.Outputs()) != 0 || len(r.Env()) != 0 {
				t.Errorf("a refused step wrote outputs %v or env %v", r.Outputs(), r.Env())
			}
			for _, name := range []string{"private-key", "api-key-json", "key-id", "issuer-id"} {
				for line := range strings.Lines(tc.inputs[name]) {
					if s := strings.TrimSpace(line); len(s) >= 8 && !strings.HasPrefix(s, "-----") && strings.Contains(logText(r), s) {
						t.Errorf("the log echoes input text %.16q…", s)
					}
				}
			}
			if strings.Contains(r.Stdout.String(), "goroutine ") || strings.Contains(r.Stdout.String(), "panic") {
				t.Errorf("a stack trace reached the log")
			}
		})
	}
}

func TestMainRecoversFromPanic(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	code := Main(context.Background(), Env{
		Args:   []string{"token", "--private-key-path", "x"},
		Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out,
		ReadFile: func(string) ([]byte, error) { panic("boom") },
	})
	if code != exitInternal || strings.Count(out.String(), "\n") != 1 || strings.Contains(out.String(), "boom") {
		t.Fatalf("exit %d, output %q; want one line and exit %d", code, out.String(), exitInternal)
	}
}

// testSimulator starts the demo simulator on a free port for one test,
// dated by now, and stops it when the test ends.
func testSimulator(t *testing.T, now func() time.Time) (*ascsim.Server, string) {
	t.Helper()
	sim, url, err := demo.StartSimulator(readTestdata(t, "AuthKey_DEMOKEY001.p8"), now, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, url
}
