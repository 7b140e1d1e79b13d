package cisecret_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// newFlaky answers every request 503 and counts them by method.
func newFlaky(t *testing.T, calls map[string]int) string {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.Method]++
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
