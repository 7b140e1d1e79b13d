package token

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireTool finds an independent verifier on PATH. Where CI sets
// ASC_AUTH_CROSSCHECK=required, a missing tool fails the test instead of
// skipping it, so the cross-check cannot silently stop running.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("ASC_AUTH_CROSSCHECK") == "required" {
			t.Fatalf("%s is required for the cross-check but not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	return path
}

func writePublicPEM(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mintNow(t *testing.T, key *ecdsa.PrivateKey, cfg Config) Token {
	t.Helper()
	m, err := NewMinter(key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestOpenSSLVerifies checks the signature with openssl: the JWS r||s
// signature is converted to the DER form openssl expects.
func TestOpenSSLVerifies(t *testing.T) {
	t.Parallel()
	openssl := requireTool(t, "openssl")
	key := newKey(t)
	pub := writePublicPEM(t, key)
	tok := mintNow(t, key, Config{KeyID: testKeyID, IssuerID: testIssuerID})

	verify := func(signingInput string, sig []byte) (string, error) {
		dir := t.TempDir()
		in, sigPath := filepath.Join(dir, "in"), filepath.Join(dir, "sig.der")
		der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(in, []byte(signingInput), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sigPath, der, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pub, "-signature", sigPath, in).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}

	i := strings.LastIndex(tok.Value, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok.Value[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature is %d bytes (%v), want 64", len(sig), err)
	}
	if out, err := verify(tok.Value[:i], sig); err != nil || out != "Verified OK" {
		t.Fatalf("openssl did not verify the token: %s (%v)", out, err)
	}
	if out, err := verify(tok.Value[:i]+"x", sig); err == nil {
		t.Fatalf("openssl verified a tampered signing input: %s", out)
	}
}

// TestRubyJWTVerifies decodes the token with Debian's ruby-jwt, checking
// signature, algorithm, iat and exp as Ruby clients (fastlane) do.
func TestRubyJWTVerifies(t *testing.T) {
	t.Parallel()
	ruby := requireTool(t, "ruby")
	if err := exec.Command(ruby, "-rjwt", "-e", "").Run(); err != nil {
		if os.Getenv("ASC_AUTH_CROSSCHECK") == "required" {
			t.Fatal("ruby-jwt is required for the cross-check but not installed")
		}
		t.Skip("ruby-jwt not installed")
	}
	const script = `
key = OpenSSL::PKey::EC.new(File.read(ARGV[0]))
payload, header = JWT.decode(ARGV[1], key, true, { algorithm: "ES256", verify_iat: true })
puts JSON.generate({ "header" => header, "payload" => payload })`
	key := newKey(t)
	pub := writePublicPEM(t, key)
	cfg := Config{KeyID: testKeyID, IssuerID: testIssuerID, InHouse: true, Lifetime: 20 * time.Minute, Scope: []string{"GET /v1/apps"}}
	tok := mintNow(t, key, cfg)

	out, err := exec.Command(ruby, "-rjwt", "-ropenssl", "-rjson", "-e", script, pub, tok.Value).CombinedOutput()
	if err != nil {
		t.Fatalf("ruby-jwt refused the token: %s", out)
	}
	var got struct {
		Header  map[string]any
		Payload struct {
			Iss, Aud string
			Iat, Exp int64
			Scope    []string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("ruby output %q: %v", out, err)
	}
	p := got.Payload
	if got.Header["kid"] != testKeyID || p.Iss != testIssuerID || p.Aud != AudienceEnterprise ||
		p.Exp-p.Iat != 1200 || len(p.Scope) != 1 || p.Scope[0] != "GET /v1/apps" {
		t.Errorf("ruby-jwt decoded %s", out)
	}

	other := writePublicPEM(t, newKey(t))
	if out, err := exec.Command(ruby, "-rjwt", "-ropenssl", "-rjson", "-e", script, other, tok.Value).CombinedOutput(); err == nil {
		t.Fatalf("ruby-jwt accepted the token with another key: %s", out)
	}
}
