package ciapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRetries checks what is repeated: an idempotent request after a 503
// or 429 (waiting at least the Retry-After asked for), never a POST, and
// never a 4xx.
func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		answers   []int
		wantCalls int
		wantCode  int
		minWait   time.Duration
	}{
		{"PUT after 503", http.MethodPut, []int{503, 204}, 2, 204, 0},
		{"GET after 429 with Retry-After", http.MethodGet, []int{429, 200}, 2, 200, 3 * time.Second},
		{"POST is never repeated", http.MethodPost, []int{503, 201}, 1, 503, 0},
		{"a 422 is final", http.MethodPut, []int{422, 204}, 1, 422, 0},
		{"gives up after the retries", http.MethodGet, []int{502, 502, 502, 200}, 3, 502, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				code := tc.answers[calls]
				calls++
				mu.Unlock()
				if code == 429 {
					w.Header().Set("Retry-After", "3")
				}
				w.WriteHeader(code)
			}))
			defer srv.Close()
			var waited time.Duration
			// The server's own client: closing another test's server closes
			// the idle connections of the default transport.
			c := New(srv.URL, nil, WithHTTPClient(srv.Client()), WithBackoff(func(_ context.Context, d time.Duration) error { waited += d; return nil }))
			code, _ := c.Do(t.Context(), tc.method, "/x", nil, nil)
			if calls != tc.wantCalls || code != tc.wantCode || waited < tc.minWait {
				t.Errorf("%d calls, status %d, waited %s; want %d calls, %d, at least %s", calls, code, waited, tc.wantCalls, tc.wantCode, tc.minWait)
			}
		})
	}
}

// TestMessageIsWhole: a server's message is kept whole, however long, so
// that a secret it quotes back can be recognised and taken out before it
// is printed; a message cut short would leave the start of the secret.
func TestMessageIsWhole(t *testing.T) {
	t.Parallel()
	secret := "myacinfo-" + strings.Repeat("DAWTKNV2", 40)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"message": "%s value %s is invalid"}`, strings.Repeat("padding ", 40), secret)
	}))
	defer srv.Close()
	_, err := New(srv.URL, nil, WithHTTPClient(srv.Client())).Do(t.Context(), http.MethodPut, "/x", nil, nil)
	if err == nil || !strings.Contains(err.Error(), secret) {
		t.Errorf("the message was cut: %v", err)
	}
}
