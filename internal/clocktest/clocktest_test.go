package clocktest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/clocktest"
)

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestClock(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		advance []time.Duration
		sleep   []time.Duration
		ctx     context.Context
		want    time.Time
		wantErr error
	}{
		{name: "new", want: epoch},
		{name: "advance", advance: []time.Duration{time.Second, time.Minute}, want: epoch.Add(time.Minute + time.Second)},
		{name: "advance back", advance: []time.Duration{-time.Hour}, want: epoch.Add(-time.Hour)},
		{name: "sleep", sleep: []time.Duration{2 * time.Second, 3 * time.Second}, want: epoch.Add(5 * time.Second)},
		{name: "sleep zero", sleep: []time.Duration{0}, want: epoch},
		{name: "sleep canceled still advances", sleep: []time.Duration{time.Hour}, ctx: canceled, want: epoch.Add(time.Hour), wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := clocktest.New(epoch)
			for _, d := range tt.advance {
				c.Advance(d)
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			for _, d := range tt.sleep {
				if err := c.Sleep(ctx, d); !errors.Is(err, tt.wantErr) {
					t.Errorf("Sleep(%s) = %v, want %v", d, err, tt.wantErr)
				}
			}
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %s, want %s", got, tt.want)
			}
			if got := c.Sleeps(); !slices.Equal(got, tt.sleep) {
				t.Errorf("Sleeps() = %v, want %v", got, tt.sleep)
			}
		})
	}
}

// TestClockConcurrent moves one clock from many goroutines; run with -race.
func TestClockConcurrent(t *testing.T) {
	t.Parallel()
	c := clocktest.New(epoch)
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Sleep(t.Context(), time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	if got, want := c.Now(), epoch.Add(2*n*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %s, want %s", got, want)
	}
	if got := len(c.Sleeps()); got != n {
		t.Errorf("%d sleeps recorded, want %d", got, n)
	}
}
