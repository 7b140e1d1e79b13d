package session

import (
	"regexp"
	"strconv"
	"sync"
	"time"
)

// rubyTime matches the times Psych (Ruby's YAML library) writes and reads:
// "2026-11-22 09:42:18.549512137 +00:00" for a local time, "... Z" for a
// UTC one. It also takes what Psych's own reader takes: a T instead of the
// space (so RFC 3339), any number of fraction digits or none, an offset as
// +01:00, +0100 or +01, or none at all (UTC). It is compiled on first use,
// not at every start of the program (most runs read no session).
var rubyTime = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)` +
		`([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?` +
		`(?:[ \t]*(Z|z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?$`)
})

// maxTimeLen is longer than any time Psych writes; a longer value is not
// a time, however many fraction digits it claims.
const maxTimeLen = 64

// parseRubyTime reads a time in Ruby's YAML format. It reports false for
// anything else, including impossible dates such as 2026-02-30.
func parseRubyTime(s string) (time.Time, bool) {
	if len(s) > maxTimeLen {
		return time.Time{}, false
	}
	m := rubyTime().FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	num := func(i int) int {
		n, _ := strconv.Atoi(m[i]) // the pattern allows only a few digits
		return n
	}
	year, month, day := num(1), num(2), num(3)
	hour, minute, sec := num(4), num(5), num(6)
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := m[7]; frac != "" {
		// Psych keeps every digit as a Rational; nanoseconds are as far as
		// a Go time goes, so further digits are dropped.
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, _ := strconv.Atoi(frac)
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" && z != "z" {
		sign := 1
		if z[0] == '-' {
			sign = -1
		}
		z = z[1:]
		var hh, mm string
		switch {
		case len(z) <= 2:
			hh = z
		case z[len(z)-3] == ':':
			hh, mm = z[:len(z)-3], z[len(z)-2:]
		default:
			hh, mm = z[:len(z)-2], z[len(z)-2:]
		}
		h, _ := strconv.Atoi(hh)
		mins := 0
		if mm != "" {
			mins, _ = strconv.Atoi(mm)
		}
		if h > 23 || mins > 59 {
			return time.Time{}, false
		}
		loc = time.FixedZone("", sign*(h*3600+mins*60))
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

// daysIn returns the number of days in the month.
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
