package token

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrExpired is returned by Verify for a well-signed token past its exp.
var ErrExpired = errors.New("token: expired")

// Claims is what a verified token says.
type Claims struct {
	KeyID     string
	Issuer    string
	Subject   string
	Audience  []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Scope     []string
}

// Lifetime is exp − iat, the span Apple limits to MaxLifetime.
func (c Claims) Lifetime() time.Duration { return c.ExpiresAt.Sub(c.IssuedAt) }

// verifyClaims accepts aud as a string or an array, as RFC 7519 allows.
type verifyClaims struct {
	jwt.RegisteredClaims
	Scope []string `json:"scope,omitempty"`
}

// Verify checks that tok is an ES256 JWT signed by the key keyFor returns
// for its kid, that it carries iat and exp, and that it has not expired at
// now. Any further policy (audience, issuer, lifetime) is the caller's.
func Verify(tok string, keyFor func(kid string) (*ecdsa.PublicKey, error), now time.Time) (Claims, error) {
	var kid string
	var vc verifyClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	_, err := p.ParseWithClaims(tok, &vc, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid in the header")
		}
		return keyFor(kid)
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, ErrExpired
	case err != nil:
		return Claims{}, fmt.Errorf("token: verify: %w", err)
	case vc.IssuedAt == nil:
		return Claims{}, errors.New("token: verify: no iat claim")
	}
	return Claims{
		KeyID:     kid,
		Issuer:    vc.Issuer,
		Subject:   vc.Subject,
		Audience:  vc.Audience,
		IssuedAt:  vc.IssuedAt.Time.UTC(),
		ExpiresAt: vc.ExpiresAt.Time.UTC(),
		Scope:     vc.Scope,
	}, nil
}

// Decode returns a token's header and claims without checking its
// signature, for display only.
func Decode(tok string) (header, claims map[string]any, err error) {
	mc := jwt.MapClaims{}
	t, _, err := jwt.NewParser().ParseUnverified(tok, mc)
	if err != nil {
		return nil, nil, fmt.Errorf("token: decode: %w", err)
	}
	return t.Header, mc, nil
}
