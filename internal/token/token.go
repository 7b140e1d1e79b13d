// Package token mints and verifies the ES256 JSON Web Tokens that authorize
// App Store Connect API requests. It is the only importer of golang-jwt.
package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// MaxLifetime is the longest token App Store Connect accepts. Apple
	// measures a token's lifetime as exp − iat, so the backdated iat counts.
	MaxLifetime = 20 * time.Minute

	// MinLifetime is the shortest lifetime worth minting. API clients mint
	// again 60 s before exp; a 2-minute token, backdated 30 s, still leaves
	// them 30 s of use.
	MinLifetime = 2 * time.Minute

	// DefaultLifetime leaves five minutes below Apple's limit. The limit is
	// checked against Apple's clock; a margin this wide absorbs a skewed
	// runner clock on the exp side as well as the backdating on the iat side.
	DefaultLifetime = 15 * time.Minute

	// maxBackdate is how far iat is set in the past, so that a runner whose
	// clock runs ahead of Apple's does not mint a token "issued in the
	// future". It is taken out of the lifetime, never added to it.
	maxBackdate = 60 * time.Second

	// AudienceTeam is the aud claim for App Store Connect API keys.
	AudienceTeam = "appstoreconnect-v1"
	// AudienceEnterprise is the aud claim for Apple Developer Enterprise
	// Program (in-house) keys.
	AudienceEnterprise = "apple-developer-enterprise-v1"

	// individualSubject is the sub claim Apple requires of individual keys,
	// which have no issuer ID.
	individualSubject = "user"
)

// Config is what a token says about its key. KeyID is required; an empty
// IssuerID makes an individual key's token (sub "user", no iss).
type Config struct {
	KeyID    string
	IssuerID string
	InHouse  bool
	Lifetime time.Duration // exp − iat; zero means DefaultLifetime
	Scope    []string      // optional scope claim, e.g. "GET /v1/apps"
}

// Kind names the kind of key a Config describes: "team", "individual" or
// "enterprise".
func (c Config) Kind() string {
	switch {
	case c.InHouse:
		return "enterprise"
	case c.IssuerID == "":
		return "individual"
	default:
		return "team"
	}
}

// Audience is the aud claim tokens of this Config carry.
func (c Config) Audience() string {
	if c.InHouse {
		return AudienceEnterprise
	}
	return AudienceTeam
}

// Token is one signed JWT and the instants it covers.
type Token struct {
	Value     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Minter signs tokens with one key.
type Minter struct {
	key *ecdsa.PrivateKey
	cfg Config
	now func() time.Time
}

// Option changes a Minter's defaults.
type Option func(*Minter)

// WithClock sets the clock tokens are dated by (default time.Now).
func WithClock(now func() time.Time) Option { return func(m *Minter) { m.now = now } }

// NewMinter checks cfg and returns a Minter for key, which must be P-256.
func NewMinter(key *ecdsa.PrivateKey, cfg Config, opts ...Option) (*Minter, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("token: ES256 needs a P-256 private key")
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if err := errors.Join(CheckKeyID(cfg.KeyID), CheckIssuerID(cfg.IssuerID), CheckLifetime(cfg.Lifetime), CheckScope(cfg.Scope)); err != nil {
		return nil, err
	}
	cfg.Scope = append([]string(nil), cfg.Scope...)
	m := &Minter{key: key, cfg: cfg, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// Config returns the checked configuration, defaults filled in.
func (m *Minter) Config() Config { return m.cfg }

// Mint signs a new token. iat is backdated by up to a minute (a quarter of
// the lifetime at most) and exp − iat is exactly the configured lifetime.
func (m *Minter) Mint() (Token, error) {
	backdate := min(maxBackdate, m.cfg.Lifetime/4)
	iat := m.now().Truncate(time.Second).Add(-backdate)
	exp := iat.Add(m.cfg.Lifetime)
	c := &mintClaims{
		Audience:  m.cfg.Audience(),
		IssuedAt:  iat.Unix(),
		ExpiresAt: exp.Unix(),
		Scope:     m.cfg.Scope,
	}
	if m.cfg.IssuerID == "" {
		c.Subject = individualSubject
	} else {
		c.Issuer = m.cfg.IssuerID
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = m.cfg.KeyID
	s, err := t.SignedString(m.key)
	if err != nil {
		return Token{}, fmt.Errorf("token: sign: %w", err)
	}
	return Token{Value: s, IssuedAt: iat.UTC(), ExpiresAt: exp.UTC()}, nil
}

// mintClaims is the payload Apple documents. aud is a plain string, as in
// Apple's examples (golang-jwt would write a one-element array).
type mintClaims struct {
	Issuer    string   `json:"iss,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	IssuedAt  int64    `json:"iat"`
	ExpiresAt int64    `json:"exp"`
	Audience  string   `json:"aud"`
	Scope     []string `json:"scope,omitempty"`
}

func (c *mintClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}
func (c *mintClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}
func (c *mintClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *mintClaims) GetIssuer() (string, error)              { return c.Issuer, nil }
func (c *mintClaims) GetSubject() (string, error)             { return c.Subject, nil }
func (c *mintClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Audience}, nil
}
