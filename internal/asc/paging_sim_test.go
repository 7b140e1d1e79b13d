package asc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/token"
)

// newSimClient is a client of a fresh simulator that serves one app with
// five builds, and the app's ID.
func newSimClient(t *testing.T) (*ascsim.Server, *Client, string) {
	t.Helper()
	clock := func() time.Time { return epoch }
	sim, err := ascsim.New(ascsim.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const kid, iss = "PAGINGKEY1", "69a6de70-03db-47e3-e053-5b8c7c11a4d1"
	sim.RegisterKey(kid, iss, false, &key.PublicKey)
	m, err := token.NewMinter(key, token.Config{KeyID: kid, IssuerID: iss}, token.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	mint := func() (string, time.Time, error) {
		tok, err := m.Mint()
		return tok.Value, tok.ExpiresAt, err
	}
	appID := sim.AddApp("com.example.paging", "Paging")
	sim.SeedBuilds(appID, "IOS", "1.0", 5)
	return sim, NewClient(NewTokenCache(mint, clock), WithBaseURL(srv.URL), WithClock(clock), WithRetry(1, 0)), appID
}

// TestGetAllStopsSimulatorLoops makes the simulator's links.next lead in
// circles and checks that the listing stops with a *PagingLoopError having
// sent no request twice: each loop is seen in the link, before it is
// followed.
func TestGetAllStopsSimulatorLoops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault    ascsim.FaultKind
		requests int // sent before the loop is seen
		want     PagingLoopError
	}{
		// /v1/builds?…, then its cursor page, whose link names the first.
		{ascsim.FaultNextCycle, 2, PagingLoopError{Path: "/v1/builds", Page: 2, Revisits: 1}},
		{ascsim.FaultNextSelfReordered, 1, PagingLoopError{Path: "/v1/builds", Page: 1, Revisits: 1}},
		{ascsim.FaultNextSelfFragment, 1, PagingLoopError{Path: "/v1/builds", Page: 1, Revisits: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.fault.String(), func(t *testing.T) {
			t.Parallel()
			sim, c, appID := newSimClient(t)
			sim.Inject(ascsim.Fault{Kind: tc.fault, PathPrefix: "/v1/builds"})
			builds, err := c.Builds(t.Context(), BuildsQuery{AppID: appID, Limit: 2})
			var loop *PagingLoopError
			if !errors.As(err, &loop) || *loop != tc.want {
				t.Fatalf("Builds = %d builds, %v; want %+v", len(builds), err, tc.want)
			}
			reqs := sim.Requests()
			seen := map[string]bool{}
			for _, r := range reqs {
				if seen[r.Path+"?"+r.RawQuery] {
					t.Errorf("sent twice: %s", r)
				}
				seen[r.Path+"?"+r.RawQuery] = true
			}
			if len(reqs) != tc.requests {
				t.Errorf("%d requests, want %d:\n%v", len(reqs), tc.requests, reqs)
			}
			t.Logf("%s: stopped after %d requests: %v", tc.fault, len(reqs), err)
		})
	}
}

// TestGetAllSimulatorPagesWithoutFaults is the control: the same listing
// reads all five builds in three pages.
func TestGetAllSimulatorPagesWithoutFaults(t *testing.T) {
	t.Parallel()
	sim, c, appID := newSimClient(t)
	builds, err := c.Builds(t.Context(), BuildsQuery{AppID: appID, Limit: 2})
	if err != nil || len(builds) != 5 {
		t.Fatalf("Builds = %d builds, %v", len(builds), err)
	}
	if n := len(sim.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}
