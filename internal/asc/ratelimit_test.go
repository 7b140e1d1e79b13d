package asc

import (
	"testing"
)

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   RateLimit
		wantOK bool
	}{
		{"user-hour-lim:3600;user-hour-rem:3599;", RateLimit{3600, 3599}, true},
		{"user-hour-lim:3600;user-hour-rem:3599", RateLimit{3600, 3599}, true},
		{"user-hour-rem:12;user-hour-lim:3600;", RateLimit{3600, 12}, true},
		{"  user-hour-lim : 3600 ;  user-hour-rem: 0 ; ", RateLimit{3600, 0}, true},
		{"USER-HOUR-LIM:3600;User-Hour-Rem:5;", RateLimit{3600, 5}, true},
		{"user-minute-lim:100;user-hour-lim:3600;user-hour-rem:3599;", RateLimit{3600, 3599}, true},
		{"user-hour-lim:3600;user-hour-rem:x;user-hour-rem:7", RateLimit{3600, 7}, true},
		{"", RateLimit{}, false},
		{"garbage", RateLimit{}, false},
		{"user-hour-lim:3600;", RateLimit{}, false},
		{"user-hour-lim:3600;user-hour-rem:-1;", RateLimit{}, false},
		{"user-hour-lim:3600;user-hour-rem:99999999999999999999;", RateLimit{}, false},
		{"user-hour-lim=3600;user-hour-rem=3599;", RateLimit{}, false},
		{";;;:::", RateLimit{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseRateLimit(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRateLimit(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzParseRateLimit checks that the parser never panics, accepts only
// non-negative numbers, and that what it accepts survives String and a
// second parse unchanged.
func FuzzParseRateLimit(f *testing.F) {
	for _, s := range []string{
		"user-hour-lim:3600;user-hour-rem:3599;",
		"user-hour-rem: 1 ;user-hour-lim:3600",
		"user-hour-lim:3600;",
		"user-hour-lim:+3600;user-hour-rem:0",
		"a:b;c:d;;",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rl, ok := ParseRateLimit(s)
		if !ok {
			if rl != (RateLimit{}) {
				t.Fatalf("ParseRateLimit(%q) = %+v with ok false", s, rl)
			}
			return
		}
		if rl.Limit < 0 || rl.Remaining < 0 || rl.Limit > maxRateValue || rl.Remaining > maxRateValue {
			t.Fatalf("ParseRateLimit(%q) = %+v", s, rl)
		}
		again, ok := ParseRateLimit(rl.String())
		if !ok || again != rl {
			t.Fatalf("round trip of %q: %+v → %q → %+v, %v", s, rl, rl.String(), again, ok)
		}
	})
}
