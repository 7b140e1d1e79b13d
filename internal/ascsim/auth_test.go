package ascsim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/token"
)

// appleNotAuthorized is the detail of Apple's 401 body, word for word.
const appleNotAuthorized = "Provide a properly configured and signed bearer token, and make sure that it has not expired. " +
	"Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"

func TestAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	team, indiv := f.keys[teamKID], f.keys[individualKID]
	teamClaims := func(iat, exp time.Time) map[string]any {
		return map[string]any{"iss": issuerID, "aud": token.AudienceTeam, "iat": iat.Unix(), "exp": exp.Unix()}
	}
	header := func(kid string) map[string]any { return map[string]any{"alg": "ES256", "kid": kid, "typ": "JWT"} }
	minted := func(key string, cfg token.Config, at time.Time) string {
		return mint(t, newMinter(t, f.keys[key], cfg, at))
	}
	teamCfg := token.Config{KeyID: teamKID, IssuerID: issuerID}

	tests := []struct {
		name  string
		auth  string
		want  int
		wantK string // kid in the request log
	}{
		{"team key", "Bearer " + mint(t, f.minters[teamKID]), http.StatusOK, teamKID},
		{"individual key, sub user", "Bearer " + mint(t, f.minters[individualKID]), http.StatusOK, individualKID},
		{"in-house key", "Bearer " + mint(t, f.minters[inHouseKID]), http.StatusOK, inHouseKID},
		{"lower-case scheme", "bearer " + mint(t, f.minters[teamKID]), http.StatusOK, teamKID},
		{"20-minute lifetime", "Bearer " + minted(teamKID, token.Config{KeyID: teamKID, IssuerID: issuerID, Lifetime: 20 * time.Minute}, epoch), http.StatusOK, teamKID},
		{"iat within the leeway", "Bearer " + signJWT(t, team, header(teamKID), teamClaims(epoch.Add(5*time.Second), epoch.Add(10*time.Minute))), http.StatusOK, teamKID},

		{"missing header", "", http.StatusUnauthorized, ""},
		{"basic scheme", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, ""},
		{"empty bearer", "Bearer ", http.StatusUnauthorized, ""},
		{"not a JWT", "Bearer abc.def", http.StatusUnauthorized, ""},
		{"wrong key", "Bearer " + signJWT(t, newKey(t), header(teamKID), teamClaims(epoch, epoch.Add(10*time.Minute))), http.StatusUnauthorized, teamKID},
		{"unknown kid", "Bearer " + signJWT(t, team, header("UNKNOWN001"), teamClaims(epoch, epoch.Add(10*time.Minute))), http.StatusUnauthorized, "UNKNOWN001"},
		{"no kid", "Bearer " + signJWT(t, team, map[string]any{"alg": "ES256"}, teamClaims(epoch, epoch.Add(10*time.Minute))), http.StatusUnauthorized, ""},
		{"alg none", "Bearer " + signJWT(t, team, map[string]any{"alg": "none", "kid": teamKID}, teamClaims(epoch, epoch.Add(10*time.Minute))), http.StatusUnauthorized, teamKID},
		{"expired", "Bearer " + minted(teamKID, teamCfg, epoch.Add(-30*time.Minute)), http.StatusUnauthorized, teamKID},
		{"exp 21 minutes ahead", "Bearer " + signJWT(t, team, header(teamKID), teamClaims(epoch, epoch.Add(21*time.Minute))), http.StatusUnauthorized, teamKID},
		{"exp over 20 minutes ahead, lifetime 20", "Bearer " + signJWT(t, team, header(teamKID), teamClaims(epoch.Add(5*time.Second), epoch.Add(20*time.Minute+5*time.Second))), http.StatusUnauthorized, teamKID},
		{"lifetime 21 minutes", "Bearer " + signJWT(t, team, header(teamKID), teamClaims(epoch.Add(-2*time.Minute), epoch.Add(19*time.Minute))), http.StatusUnauthorized, teamKID},
		{"iat in the future", "Bearer " + signJWT(t, team, header(teamKID), teamClaims(epoch.Add(time.Minute), epoch.Add(10*time.Minute))), http.StatusUnauthorized, teamKID},
		{"no exp", "Bearer " + signJWT(t, team, header(teamKID), map[string]any{"iss": issuerID, "aud": token.AudienceTeam, "iat": epoch.Unix()}), http.StatusUnauthorized, teamKID},
		{"no iat", "Bearer " + signJWT(t, team, header(teamKID), map[string]any{"iss": issuerID, "aud": token.AudienceTeam, "exp": epoch.Add(time.Minute).Unix()}), http.StatusUnauthorized, teamKID},
		{"wrong aud", "Bearer " + signJWT(t, team, header(teamKID), map[string]any{"iss": issuerID, "aud": "appstoreconnect-v2", "iat": epoch.Unix(), "exp": epoch.Add(time.Minute).Unix()}), http.StatusUnauthorized, teamKID},
		{"two audiences", "Bearer " + signJWT(t, team, header(teamKID), map[string]any{"iss": issuerID, "aud": []string{token.AudienceTeam, "x"}, "iat": epoch.Unix(), "exp": epoch.Add(time.Minute).Unix()}), http.StatusUnauthorized, teamKID},
		{"enterprise aud on a team key", "Bearer " + minted(teamKID, token.Config{KeyID: teamKID, IssuerID: issuerID, InHouse: true}, epoch), http.StatusUnauthorized, teamKID},
		{"team aud on an in-house key", "Bearer " + minted(inHouseKID, token.Config{KeyID: inHouseKID, IssuerID: issuerID}, epoch), http.StatusUnauthorized, inHouseKID},
		{"wrong issuer", "Bearer " + minted(teamKID, token.Config{KeyID: teamKID, IssuerID: "11111111-2222-3333-4444-555555555555"}, epoch), http.StatusUnauthorized, teamKID},
		{"team key without iss", "Bearer " + minted(teamKID, token.Config{KeyID: teamKID}, epoch), http.StatusUnauthorized, teamKID},
		{"individual key with iss", "Bearer " + minted(individualKID, token.Config{KeyID: individualKID, IssuerID: issuerID}, epoch), http.StatusUnauthorized, individualKID},
		{"individual key, sub not user", "Bearer " + signJWT(t, indiv, header(individualKID), map[string]any{"sub": "admin", "aud": token.AudienceTeam, "iat": epoch.Unix(), "exp": epoch.Add(time.Minute).Unix()}), http.StatusUnauthorized, individualKID},
		{"in scope", "Bearer " + minted(teamKID, token.Config{KeyID: teamKID, IssuerID: issuerID, Scope: []string{"GET /v1/apps?limit=1"}}, epoch), http.StatusOK, teamKID},
		{"out of scope", "Bearer " + minted(teamKID, token.Config{KeyID: teamKID, IssuerID: issuerID, Scope: []string{"GET /v1/builds"}}, epoch), http.StatusUnauthorized, teamKID},
		{"scope query differs", "Bearer " + minted(teamKID, token.Config{KeyID: teamKID, IssuerID: issuerID, Scope: []string{"GET /v1/apps?limit=2"}}, epoch), http.StatusUnauthorized, teamKID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := f.do(t, "GET", "/v1/apps?limit=1", tt.auth, "")
			if res.status != tt.want {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.want, res.body)
			}
			if tt.want == http.StatusUnauthorized {
				checkNotAuthorized(t, res)
			}
		})
	}
	// Cleanup runs once the parallel subtests are done.
	t.Cleanup(func() {
		seen := map[string]int{}
		for _, r := range f.srv.Requests() {
			seen[r.KeyID]++
			if r.Status == http.StatusUnauthorized && r.Note == "" {
				t.Errorf("401 for %s has no note", r.RawQuery)
			}
		}
		for _, tt := range tests {
			if seen[tt.wantK] == 0 {
				t.Errorf("no request logged with kid %q", tt.wantK)
			}
		}
	})
}

func checkNotAuthorized(t *testing.T, res response) {
	t.Helper()
	e := res.errors(t)
	if len(e.Errors) != 1 {
		t.Fatalf("errors %s", res.body)
	}
	got := e.Errors[0]
	if got.Status != "401" || got.Code != "NOT_AUTHORIZED" || got.Title != "Authentication credentials are missing or invalid." ||
		got.Detail != appleNotAuthorized || len(got.ID) != 36 {
		t.Errorf("401 body %s is not Apple's", res.body)
	}
}

func TestForbidden(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetForbidden(teamKID, true)
	res := f.get(t, "/v1/apps")
	if res.status != http.StatusForbidden {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	if e := res.errors(t).Errors; len(e) != 1 || e[0].Code != "FORBIDDEN_ERROR" || e[0].Status != "403" {
		t.Errorf("403 body %s", res.body)
	}
	// Other keys keep their access, and access can be given back.
	if res := f.do(t, "GET", "/v1/apps", "Bearer "+mint(t, f.minters[individualKID]), ""); res.status != http.StatusOK {
		t.Errorf("individual key: status %d", res.status)
	}
	f.srv.SetForbidden(teamKID, false)
	if res := f.get(t, "/v1/apps"); res.status != http.StatusOK {
		t.Errorf("after SetForbidden(false): status %d", res.status)
	}
}
