package ascsim

import (
	"net/http"
)

// OlympusSessionPath is App Store Connect's web session endpoint, which
// spaceship asks to check a FASTLANE_SESSION. It belongs to the web
// application, not to the API: it is absent from the OpenAPI document and
// authenticates by the Apple ID's cookies, not by a bearer token, so the
// simulator answers it apart from the API, without the rate limit.
const OlympusSessionPath = "/olympus/v1/session"

// Team the simulated web session acts for.
const (
	olympusEmail        = "dev@example.com"
	olympusProviderID   = 123
	olympusProviderName = "Example Team"
)

// RegisterSession makes a web session known by the value of its myacinfo
// cookie. A request to OlympusSessionPath carrying that cookie gets the
// session's user and team if valid is true, or 401, as a session Apple has
// ended does, if it is false, whatever the cookies' own expiry dates say.
// Registering a value again replaces it; unknown values get 401 too.
func (s *Server) RegisterSession(myacinfo string, valid bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = make(map[string]bool)
	}
	s.sessions[myacinfo] = valid
}

// olympusSession is the body App Store Connect answers a live session
// with, reduced to what spaceship reads: the user and the current team.
type olympusSession struct {
	User               olympusUser       `json:"user"`
	Provider           olympusProvider   `json:"provider"`
	AvailableProviders []olympusProvider `json:"availableProviders"`
}

type olympusUser struct {
	EmailAddress string `json:"emailAddress"`
}

type olympusProvider struct {
	ProviderID   int      `json:"providerId"`
	Name         string   `json:"name"`
	ContentTypes []string `json:"contentTypes"`
}

// serveOlympus answers OlympusSessionPath. Latency and injected faults
// apply as to any request; the bearer token and the API rate limit do not.
func (s *Server) serveOlympus(w http.ResponseWriter, r *http.Request, entry *Request) {
	if !sleep(r.Context(), s.latency) {
		entry.Note = "the client gave up during the simulated latency"
		return
	}
	if answered, _ := s.applyFaults(w, r, entry); answered {
		return
	}
	if r.Method != http.MethodGet {
		entry.Note = "the web session endpoint takes only GET"
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	valid, known := false, false
	if c, err := r.Cookie("myacinfo"); err == nil {
		s.mu.Lock()
		valid, known = s.sessions[c.Value]
		s.mu.Unlock()
	}
	switch {
	case !known:
		entry.Note = "no myacinfo cookie of a registered session"
	case !valid:
		entry.Note = "the web session has ended"
	}
	if !valid {
		// Apple's body for this is not documented; clients go by the status.
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	provider := olympusProvider{ProviderID: olympusProviderID, Name: olympusProviderName, ContentTypes: []string{"SOFTWARE"}}
	writeJSON(w, http.StatusOK, olympusSession{
		User:               olympusUser{EmailAddress: olympusEmail},
		Provider:           provider,
		AvailableProviders: []olympusProvider{provider},
	})
}
