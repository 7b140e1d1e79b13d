// Package buildnum orders and increments build numbers (CFBundleVersion)
// the way App Store Connect compares them: as one to three period-separated
// non-negative integers, component by component, never as strings and never
// by date.
package buildnum

import (
	"errors"
	"strconv"
	"strings"
)

// maxComponents is the most components CFBundleVersion may have.
const maxComponents = 3

// Number is a parsed build number.
type Number struct {
	parts []uint64
}

// Parse reads a build number such as "42", "1.2" or "1.2.10".
func Parse(s string) (Number, error) {
	if s == "" {
		return Number{}, errors.New("buildnum: empty build number")
	}
	fields := strings.Split(s, ".")
	if len(fields) > maxComponents {
		return Number{}, errors.New("buildnum: a build number has at most three period-separated integers")
	}
	n := Number{parts: make([]uint64, len(fields))}
	for i, f := range fields {
		if f == "" || strings.TrimLeft(f, "0123456789") != "" {
			return Number{}, errors.New("buildnum: a build number is period-separated non-negative integers")
		}
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return Number{}, errors.New("buildnum: a build number component is too large")
		}
		n.parts[i] = v
	}
	return n, nil
}

// IsZero reports whether n is the zero Number (no build number).
func (n Number) IsZero() bool { return len(n.parts) == 0 }

// String writes n back in its canonical form (no leading zeros).
func (n Number) String() string {
	s := make([]string, len(n.parts))
	for i, p := range n.parts {
		s[i] = strconv.FormatUint(p, 10)
	}
	return strings.Join(s, ".")
}

// Compare orders a and b component by component; missing components count
// as zero, so 1.2 and 1.2.0 are equal and 1.2 < 1.2.9 < 1.2.10.
func Compare(a, b Number) int {
	for i := range max(len(a.parts), len(b.parts)) {
		x, y := a.at(i), b.at(i)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

func (n Number) at(i int) uint64 {
	if i < len(n.parts) {
		return n.parts[i]
	}
	return 0
}

// Next is n with its last component incremented: 41 → 42, 1.2.9 → 1.2.10.
func (n Number) Next() (Number, error) {
	if n.IsZero() {
		return Number{}, errors.New("buildnum: no build number to increment")
	}
	parts := append([]uint64(nil), n.parts...)
	last := len(parts) - 1
	if parts[last] == ^uint64(0) {
		return Number{}, errors.New("buildnum: the build number cannot be incremented")
	}
	parts[last]++
	return Number{parts: parts}, nil
}

// Max returns the highest of the numbers (the zero Number if there are none).
func Max(ns ...Number) Number {
	var best Number
	for _, n := range ns {
		if best.IsZero() || Compare(n, best) > 0 {
			best = n
		}
	}
	return best
}
