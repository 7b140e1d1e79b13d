package httpx

import (
	"slices"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name  string
		fixed time.Duration
		retry []time.Duration
		want  []time.Duration
	}{
		{"schedule", 0, make([]time.Duration, 6), []time.Duration{2 * s, 4 * s, 8 * s, 16 * s, 20 * s, 20 * s}},
		{"fixed", 7 * s, make([]time.Duration, 3), []time.Duration{7 * s, 7 * s, 7 * s}},
		{"retry-after wins when longer", 0, []time.Duration{30 * s, 0, time.Hour}, []time.Duration{30 * s, 4 * s, MaxRetryAfter}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := Poll{Fixed: tc.fixed}
			var got []time.Duration
			for _, ra := range tc.retry {
				got = append(got, p.Next(ra))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("pauses %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.8.9.1": true, "::1": true,
		"10.0.0.1": false, "example.com": false, "": false, "localhost.example.com": false} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %t", host, got)
		}
	}
}
