package buildnum

import (
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) Number {
	t.Helper()
	n, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return n
}

func TestCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.2.10", "1.2.9", 1},
		{"1.2.9", "1.2", 1},
		{"1.2", "1.2.0", 0},
		{"10", "9", 1},
		{"100", "99.99.99", 1},
		{"007", "7", 0},
		{"2", "10", -1},
		{"1.10", "1.9", 1},
		{"18446744073709551615", "18446744073709551614", 1},
	}
	for _, tc := range tests {
		if got := Compare(mustParse(t, tc.a), mustParse(t, tc.b)); got != tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Compare(mustParse(t, tc.b), mustParse(t, tc.a)); got != -tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestMaxIsNumericNotString(t *testing.T) {
	t.Parallel()
	var ns []Number
	for _, s := range []string{"9", "10", "1.2.10", "99", "100", "1.2.9", "2"} {
		ns = append(ns, mustParse(t, s))
	}
	if got := Max(ns...).String(); got != "100" {
		t.Errorf("Max = %s, want 100", got)
	}
	if !Max().IsZero() {
		t.Error("Max() of nothing is not zero")
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"41": "42", "1.2.9": "1.2.10", "1.9": "1.10", "007": "8"} {
		n, err := mustParse(t, in).Next()
		if err != nil || n.String() != want {
			t.Errorf("Next(%s) = %s, %v; want %s", in, n, err, want)
		}
	}
	if _, err := mustParse(t, "18446744073709551615").Next(); err == nil {
		t.Error("Next of the largest component succeeded")
	}
	if _, err := (Number{}).Next(); err == nil {
		t.Error("Next of zero succeeded")
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "1.2.3.4", "1..2", ".1", "1.", "a", "1.2b", "-1", "+1", " 1", "1e3", "18446744073709551616"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "1.2.10", "007", "1..2", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		// Canonical form parses back equal, and Next is strictly greater.
		again, err := Parse(n.String())
		if err != nil || Compare(n, again) != 0 || len(strings.Split(n.String(), ".")) != len(strings.Split(s, ".")) {
			t.Fatalf("%q → %q does not round-trip", s, n)
		}
		if next, err := n.Next(); err == nil && Compare(next, n) <= 0 {
			t.Fatalf("Next(%s) = %s is not greater", n, next)
		}
	})
}
