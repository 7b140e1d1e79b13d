package ascsim

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/token"
)

// issuedAtLeeway is how far in the future a token's iat may be: enough for
// the clocks of one machine's processes, far less than the minute by which
// token.Minter backdates iat to absorb a runner clock that runs ahead.
const issuedAtLeeway = 10 * time.Second

// individualSubject is the sub claim Apple requires of individual keys.
const individualSubject = "user"

// RegisterKey lets requests authenticate with tokens signed by pub under
// key ID kid. issuerID is the team's issuer ID, or "" for an individual
// key; inHouse marks an Apple Developer Enterprise Program key, whose
// tokens carry a different audience. Registering a kid again replaces it.
func (s *Server) RegisterKey(kid, issuerID string, inHouse bool, pub *ecdsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[kid] = &apiKey{kid: kid, issuerID: issuerID, inHouse: inHouse, pub: pub}
}

// SetForbidden gives the key kid a role without access (forbidden true),
// so that its valid tokens get 403 FORBIDDEN_ERROR, or restores its access.
func (s *Server) SetForbidden(kid string, forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[kid]; ok {
		k.forbidden = forbidden
	}
}

// authenticate checks the bearer token as Apple does. It returns the key
// that signed it, or nil and the reason it was refused. entry gets the kid.
func (s *Server) authenticate(r *http.Request, entry *Request) (*apiKey, string) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, "no bearer token in the Authorization header"
	}
	if h, _, err := token.Decode(tok); err == nil {
		entry.KeyID, _ = h["kid"].(string)
	}
	keyFor := func(kid string) (*ecdsa.PublicKey, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if k, ok := s.keys[kid]; ok {
			return k.pub, nil
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	now := s.now()
	claims, err := token.Verify(tok, keyFor, now)
	if err != nil && !errors.Is(err, token.ErrExpired) {
		// Verify allows no iat in the future; a second look a little
		// later tells a token issued within the leeway from a bad one.
		if c, err2 := token.Verify(tok, keyFor, now.Add(issuedAtLeeway)); err2 == nil {
			claims, err = c, nil
		}
	}
	if err != nil {
		return nil, err.Error()
	}

	s.mu.Lock()
	k := s.keys[claims.KeyID]
	s.mu.Unlock()
	if k == nil { // unregistered between the two looks
		return nil, "unknown kid"
	}
	wantAud := token.AudienceTeam
	if k.inHouse {
		wantAud = token.AudienceEnterprise
	}
	switch {
	case len(claims.Audience) != 1 || claims.Audience[0] != wantAud:
		return nil, fmt.Sprintf("aud is %q, want %q", claims.Audience, wantAud)
	case k.issuerID != "" && claims.Issuer != k.issuerID:
		return nil, fmt.Sprintf("iss is %q, want the key's issuer ID %q", claims.Issuer, k.issuerID)
	case k.issuerID == "" && claims.Issuer != "":
		return nil, "an individual key's token has an iss claim"
	case k.issuerID == "" && claims.Subject != individualSubject:
		return nil, fmt.Sprintf("an individual key's token has sub %q, want %q", claims.Subject, individualSubject)
	case claims.ExpiresAt.Sub(now) > token.MaxLifetime:
		return nil, fmt.Sprintf("exp is %v ahead, more than %v", claims.ExpiresAt.Sub(now), token.MaxLifetime)
	case claims.Lifetime() > token.MaxLifetime:
		return nil, fmt.Sprintf("exp − iat is %v, more than %v", claims.Lifetime(), token.MaxLifetime)
	case len(claims.Scope) > 0 && !inScope(claims.Scope, r):
		return nil, fmt.Sprintf("%s %s is outside the token's scope %q", r.Method, r.URL.Path, claims.Scope)
	}
	return k, ""
}

// inScope reports whether r is one of the operations a scope claim allows:
// "METHOD /path", optionally with query parameters the request must carry
// with the same values ("GET /v1/apps?filter[platform]=IOS").
func inScope(scope []string, r *http.Request) bool {
	for _, entry := range scope {
		method, target, _ := strings.Cut(entry, " ")
		path, rawQuery, _ := strings.Cut(target, "?")
		if method != r.Method || path != r.URL.Path {
			continue
		}
		want, err := url.ParseQuery(rawQuery)
		if err != nil {
			continue
		}
		got := r.URL.Query()
		match := true
		for name, values := range want {
			if strings.Join(got[name], ",") != strings.Join(values, ",") {
				match = false
			}
		}
		if match {
			return true
		}
	}
	return false
}
