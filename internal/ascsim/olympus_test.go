package ascsim_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/asc-auth/action/internal/ascsim"
)

func TestOlympusSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.RegisterSession("live-session", true)
	f.srv.RegisterSession("ended-session", false)
	f.srv.RegisterSession("revoked-later", true)
	f.srv.RegisterSession("revoked-later", false)
	// The API's hourly quota is spent; the web session does not use it.
	f.srv.SetRateLimitRemaining(0)

	tests := []struct {
		name   string
		method string
		cookie string
		auth   string
		want   int
		note   string
	}{
		{"live", "GET", "myacinfo=live-session; dqsid=x", "", http.StatusOK, ""},
		{"live among other cookies", "GET", "DES1=a; myacinfo=live-session", "", http.StatusOK, ""},
		{"ended", "GET", "myacinfo=ended-session", "", http.StatusUnauthorized, "the web session has ended"},
		{"registered again as ended", "GET", "myacinfo=revoked-later", "", http.StatusUnauthorized, "the web session has ended"},
		{"unknown", "GET", "myacinfo=never-registered", "", http.StatusUnauthorized, "no myacinfo cookie of a registered session"},
		{"no cookie", "GET", "", "", http.StatusUnauthorized, "no myacinfo cookie of a registered session"},
		{"a bearer token is no session", "GET", "", "Bearer " + mint(t, f.minters[teamKID]), http.StatusUnauthorized, "no myacinfo cookie of a registered session"},
		{"POST", "POST", "myacinfo=live-session", "", http.StatusMethodNotAllowed, "the web session endpoint takes only GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, f.url+ascsim.OlympusSessionPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.cookie != "" {
				req.Header.Set("Cookie", tc.cookie)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if h := res.Header.Get("X-Rate-Limit"); h != "" {
				t.Errorf("X-Rate-Limit %q on a web session answer", h)
			}
			log := f.srv.Requests()
			last := log[len(log)-1]
			if last.Path != ascsim.OlympusSessionPath || last.Status != tc.want || last.Note != tc.note {
				t.Errorf("logged %+v", last)
			}
			if tc.want != http.StatusOK {
				return
			}
			var body struct {
				User     struct{ EmailAddress string }
				Provider *struct {
					ProviderID   int
					Name         string
					ContentTypes []string
				}
				AvailableProviders []struct{ Name string }
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if body.User.EmailAddress != "dev@example.com" || body.Provider == nil || body.Provider.ProviderID != 123 ||
				body.Provider.Name != "Example Team" || len(body.Provider.ContentTypes) != 1 || len(body.AvailableProviders) != 1 {
				t.Errorf("body %+v", body)
			}
		})
	}
}

func TestOlympusFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.RegisterSession("live-session", true)
	f.srv.Inject(ascsim.Fault{Kind: ascsim.FaultUnavailable, PathPrefix: ascsim.OlympusSessionPath, Times: 1})
	for _, want := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		req, err := http.NewRequestWithContext(t.Context(), "GET", f.url+ascsim.OlympusSessionPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: "myacinfo", Value: "live-session"})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("status %d, want %d", res.StatusCode, want)
		}
	}
}
