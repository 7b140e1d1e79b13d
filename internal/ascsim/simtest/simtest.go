// Package simtest connects a client to the App Store Connect simulator in
// tests: it starts the simulator on loopback, registers an API key it
// generates, and returns an asc.Client whose tokens that key signs, on a
// fake clock shared with the simulator.
package simtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/clocktest"
	"github.com/asc-auth/action/internal/token"
)

// KeyID and IssuerID name the key NewClient registers, for tests that
// change what the simulator lets it do (ascsim.Server.SetForbidden).
const (
	KeyID    = "SIMKEY0001"
	IssuerID = "57246542-96fe-1a63-e053-0824d011072a"
)

// NewClient starts sim on loopback, closed when t ends, registers a newly
// generated P-256 key as KeyID of IssuerID, and returns a client of sim
// that reads the time from clock and sleeps on it. Its tokens are minted
// with that key on clock's time, with the lifetime (0: the token
// package's default). opts come last: the test's transport and jitter.
func NewClient(t testing.TB, sim *ascsim.Server, clock *clocktest.Clock, lifetime time.Duration, opts ...asc.Option) *asc.Client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sim.RegisterKey(KeyID, IssuerID, false, &key.PublicKey)
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	m, err := token.NewMinter(key, token.Config{KeyID: KeyID, IssuerID: IssuerID, Lifetime: lifetime}, token.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	tokens := asc.NewTokenCache(func() (string, time.Time, error) {
		tok, err := m.Mint()
		return tok.Value, tok.ExpiresAt, err
	}, clock.Now)
	return asc.NewClient(tokens, append([]asc.Option{
		asc.WithBaseURL(base),
		asc.WithClock(clock.Now),
		asc.WithSleep(clock.Sleep),
	}, opts...)...)
}
