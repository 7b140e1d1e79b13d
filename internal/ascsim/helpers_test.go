package ascsim_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/token"
)

const (
	teamKID       = "TEAMKEY001"
	individualKID = "INDIVKEY01"
	inHouseKID    = "INHOUSE001"
	issuerID      = "69a6de70-03db-47e3-e053-5b8c7c11a4d1"
)

// epoch is the simulated clock of every test server.
var epoch = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a simulator with a team, an individual and an in-house key
// registered, each with a minter at the server's clock.
type fixture struct {
	srv     *ascsim.Server
	url     string
	keys    map[string]*ecdsa.PrivateKey
	minters map[string]*token.Minter
}

func newFixture(t testing.TB, opts ...ascsim.Option) *fixture {
	t.Helper()
	srv, err := ascsim.New(append([]ascsim.Option{ascsim.WithClock(func() time.Time { return epoch })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f := &fixture{srv: srv, url: ts.URL, keys: map[string]*ecdsa.PrivateKey{}, minters: map[string]*token.Minter{}}
	for _, k := range []struct {
		kid, iss string
		inHouse  bool
	}{{teamKID, issuerID, false}, {individualKID, "", false}, {inHouseKID, issuerID, true}} {
		priv := newKey(t)
		srv.RegisterKey(k.kid, k.iss, k.inHouse, &priv.PublicKey)
		f.keys[k.kid] = priv
		f.minters[k.kid] = newMinter(t, priv, token.Config{KeyID: k.kid, IssuerID: k.iss, InHouse: k.inHouse}, epoch)
	}
	return f
}

func newMinter(t testing.TB, key *ecdsa.PrivateKey, cfg token.Config, at time.Time) *token.Minter {
	t.Helper()
	m, err := token.NewMinter(key, cfg, token.WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mint(t testing.TB, m *token.Minter) string {
	t.Helper()
	tok, err := m.Mint()
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

// signJWT signs any header and claims with ES256, for tokens token.Minter
// refuses to make.
func signJWT(t testing.TB, key *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// apiErrors is Apple's error body.
type apiErrors struct {
	Errors []struct {
		ID, Status, Code, Title, Detail string
		Source                          struct{ Parameter, Pointer string }
	}
}

func (r response) errors(t testing.TB) apiErrors {
	t.Helper()
	var e apiErrors
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	return e
}

// list is a collection response.
type list struct {
	Data     []resource
	Included []resource
	Links    struct{ Self, Next string }
	Meta     struct{ Paging struct{ Total, Limit int } }
}

type single struct {
	Data     resource
	Included []resource
}

type resource struct {
	Type, ID      string
	Attributes    map[string]any
	Relationships map[string]struct {
		Links *struct{ Self, Related string }
		Data  *struct{ Type, ID string }
	}
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return v
}

// do sends a request with the team key's token.
func (f *fixture) get(t testing.TB, target string) response {
	t.Helper()
	return f.do(t, "GET", target, "Bearer "+mint(t, f.minters[teamKID]), "")
}

func (f *fixture) do(t testing.TB, method, target, auth, body string) response {
	t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = f.url + target
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func ids(rs []resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
