package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 22, 9, 42, 18, 549512137, time.UTC)

const (
	testKeyID    = "DEMOKEY001"
	testIssuerID = "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// segment decodes one dot-separated part of a JWT into a generic map.
func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d is not base64url without padding: %v", i, err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMintClaims(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tests := []struct {
		name       string
		cfg        Config
		wantClaims map[string]any
		wantIat    time.Time
	}{
		{
			name: "team key with default lifetime",
			cfg:  Config{KeyID: testKeyID, IssuerID: testIssuerID},
			wantClaims: map[string]any{
				"iss": testIssuerID, "aud": AudienceTeam,
				"iat": float64(testNow.Unix() - 60), "exp": float64(testNow.Unix() - 60 + 900),
			},
		},
		{
			name: "individual key has sub user and no iss",
			cfg:  Config{KeyID: testKeyID, Lifetime: 20 * time.Minute},
			wantClaims: map[string]any{
				"sub": "user", "aud": AudienceTeam,
				"iat": float64(testNow.Unix() - 60), "exp": float64(testNow.Unix() - 60 + 1200),
			},
		},
		{
			name: "enterprise key",
			cfg:  Config{KeyID: testKeyID, IssuerID: testIssuerID, InHouse: true, Lifetime: 5 * time.Minute},
			wantClaims: map[string]any{
				"iss": testIssuerID, "aud": AudienceEnterprise,
				"iat": float64(testNow.Unix() - 60), "exp": float64(testNow.Unix() - 60 + 300),
			},
		},
		{
			name: "short lifetime backdates a quarter of it",
			cfg:  Config{KeyID: testKeyID, IssuerID: testIssuerID, Lifetime: 2 * time.Minute},
			wantClaims: map[string]any{
				"iss": testIssuerID, "aud": AudienceTeam,
				"iat": float64(testNow.Unix() - 30), "exp": float64(testNow.Unix() - 30 + 120),
			},
		},
		{
			name: "scope is an array",
			cfg:  Config{KeyID: testKeyID, IssuerID: testIssuerID, Scope: []string{"GET /v1/apps?filter[platform]=IOS", "PATCH /v1/builds/1"}},
			wantClaims: map[string]any{
				"iss": testIssuerID, "aud": AudienceTeam,
				"iat": float64(testNow.Unix() - 60), "exp": float64(testNow.Unix() - 60 + 900),
				"scope": []any{"GET /v1/apps?filter[platform]=IOS", "PATCH /v1/builds/1"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewMinter(key, tc.cfg, WithClock(func() time.Time { return testNow }))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := m.Mint()
			if err != nil {
				t.Fatal(err)
			}
			header := segment(t, tok.Value, 0)
			wantHeader := map[string]any{"alg": "ES256", "kid": testKeyID, "typ": "JWT"}
			if !jsonEqual(header, wantHeader) {
				t.Errorf("header = %v, want %v", header, wantHeader)
			}
			if got := segment(t, tok.Value, 1); !jsonEqual(got, tc.wantClaims) {
				t.Errorf("claims = %v, want %v", got, tc.wantClaims)
			}
			if life := tok.ExpiresAt.Sub(tok.IssuedAt); life > MaxLifetime || life != m.Config().Lifetime {
				t.Errorf("exp - iat = %v, want the configured %v within %v", life, m.Config().Lifetime, MaxLifetime)
			}
			if !tok.ExpiresAt.After(testNow) {
				t.Errorf("token expires at %v, not after now %v", tok.ExpiresAt, testNow)
			}
			c, err := Verify(tok.Value, func(kid string) (*ecdsa.PublicKey, error) { return &key.PublicKey, nil }, testNow)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.KeyID != testKeyID || !c.ExpiresAt.Equal(tok.ExpiresAt) || !c.IssuedAt.Equal(tok.IssuedAt) {
				t.Errorf("Verify = %+v, want kid %s iat %v exp %v", c, testKeyID, tok.IssuedAt, tok.ExpiresAt)
			}
		})
	}
}

func jsonEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestNewMinterRefuses(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := Config{KeyID: testKeyID, IssuerID: testIssuerID}
	tests := []struct {
		name string
		key  *ecdsa.PrivateKey
		edit func(*Config)
		want string
	}{
		{"P-384 key", p384, func(*Config) {}, "P-256"},
		{"nil key", nil, func(*Config) {}, "P-256"},
		{"missing key ID", key, func(c *Config) { c.KeyID = "" }, "key ID is missing"},
		{"short key ID", key, func(c *Config) { c.KeyID = "ABC" }, "10 upper-case"},
		{"lower-case key ID", key, func(c *Config) { c.KeyID = "demokey001" }, "10 upper-case"},
		{"issuer not a UUID", key, func(c *Config) { c.IssuerID = "not-a-uuid" }, "not a UUID"},
		{"issuer with a bad hyphen", key, func(c *Config) { c.IssuerID = "69a6de7e1-b2c-47e3-a053-5b8c7c11a4d1" }, "not a UUID"},
		{"negative lifetime", key, func(c *Config) { c.Lifetime = -time.Minute }, "lifetime"},
		{"lifetime under two minutes", key, func(c *Config) { c.Lifetime = 119 * time.Second }, "lifetime"},
		{"lifetime over 20 minutes", key, func(c *Config) { c.Lifetime = 20*time.Minute + time.Second }, "lifetime"},
		{"fractional lifetime", key, func(c *Config) { c.Lifetime = 150*time.Second + time.Millisecond }, "whole seconds"},
		{"scope without a path", key, func(c *Config) { c.Scope = []string{"GET"} }, "scope entry 1"},
		{"scope with a lower-case method", key, func(c *Config) { c.Scope = []string{"GET /v1/apps", "get /v1/apps"} }, "scope entry 2"},
		{"scope with a relative path", key, func(c *Config) { c.Scope = []string{"GET v1/apps"} }, "does not start with /"},
		{"scope with a space in the path", key, func(c *Config) { c.Scope = []string{"GET /v1/apps ?x"} }, "spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tc.edit(&cfg)
			_, err := NewMinter(tc.key, cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewMinter error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	key, other := newKey(t), newKey(t)
	m, err := NewMinter(key, Config{KeyID: testKeyID, IssuerID: testIssuerID}, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.Value, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"x","aud":"appstoreconnect-v1","iat":1,"exp":9999999999}`)) + "." + parts[2]
	keyOf := func(k *ecdsa.PrivateKey) func(string) (*ecdsa.PublicKey, error) {
		return func(string) (*ecdsa.PublicKey, error) { return &k.PublicKey, nil }
	}
	tests := []struct {
		name    string
		tok     string
		keyFor  func(string) (*ecdsa.PublicKey, error)
		now     time.Time
		wantErr error
	}{
		{"other key", tok.Value, keyOf(other), testNow, nil},
		{"unknown kid", tok.Value, func(string) (*ecdsa.PublicKey, error) { return nil, errors.New("unknown kid") }, testNow, nil},
		{"tampered claims", tampered, keyOf(key), testNow, nil},
		{"expired", tok.Value, keyOf(key), tok.ExpiresAt.Add(time.Second), ErrExpired},
		{"not a JWT", "abc.def", keyOf(key), testNow, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Verify(tc.tok, tc.keyFor, tc.now)
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	m, err := NewMinter(newKey(t), Config{KeyID: testKeyID, Scope: []string{"GET /v1/apps"}}, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint()
	if err != nil {
		t.Fatal(err)
	}
	h, c, err := Decode(tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	if h["kid"] != testKeyID || c["sub"] != "user" || c["aud"] != AudienceTeam {
		t.Fatalf("Decode = %v %v", h, c)
	}
	if _, _, err := Decode("not.a.jwt"); err == nil {
		t.Fatal("Decode accepted garbage")
	}
}

// BenchmarkMint and BenchmarkRawSign compare minting a whole token with the
// bare ECDSA signature it contains; the goal is at most 1.5×.
func BenchmarkMint(b *testing.B) {
	m, err := NewMinter(newKey(b), Config{KeyID: testKeyID, IssuerID: testIssuerID})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Mint(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawSign(b *testing.B) {
	key := newKey(b)
	digest := sha256.Sum256([]byte("eyJhbGciOiJFUzI1NiIsImtpZCI6IkRFTU9LRVkwMDEiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiI2OWE2ZGU3ZSJ9"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ecdsa.Sign(rand.Reader, key, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}
