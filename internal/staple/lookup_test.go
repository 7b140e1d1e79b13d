package staple

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestLookupRetriesOnlyWhatMayPass: a 503 is tried again, a 400 ends the
// lookup at once rather than after every attempt.
func TestLookupRetriesOnlyWhatMayPass(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status    int
		wantCalls int64
	}{{http.StatusServiceUnavailable, 3}, {http.StatusBadRequest, 1}} {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(tc.status)
		}))
		_, err := Lookup(t.Context(), srv.Client(), srv.URL, "2/2/abc", 3, time.Second,
			func(context.Context, time.Duration) error { return nil }, nil)
		srv.Close()
		if err == nil || calls.Load() != tc.wantCalls {
			t.Errorf("status %d: %d lookups, error %v; want %d and an error", tc.status, calls.Load(), err, tc.wantCalls)
		}
	}
}
