package asc

import (
	"strconv"
	"strings"
)

// RateLimit is App Store Connect's hourly request allowance for the key's
// user, from the X-Rate-Limit response header.
type RateLimit struct {
	Limit     int // requests allowed per hour (user-hour-lim)
	Remaining int // requests left in the current hour (user-hour-rem)
}

// String formats rl the way Apple sends it.
func (rl RateLimit) String() string {
	return "user-hour-lim:" + strconv.Itoa(rl.Limit) + ";user-hour-rem:" + strconv.Itoa(rl.Remaining) + ";"
}

// maxRateValue bounds the numbers accepted; Apple's limit is 3600.
const maxRateValue = 1 << 30

// ParseRateLimit parses an X-Rate-Limit value such as
// "user-hour-lim:3600;user-hour-rem:3599;". Fields may come in any order,
// with spaces around them and without the final ';'; unknown fields are
// skipped. It reports false unless both numbers are present and valid.
func ParseRateLimit(v string) (RateLimit, bool) {
	var rl RateLimit
	var haveLim, haveRem bool
	for field := range strings.SplitSeq(v, ";") {
		key, val, ok := strings.Cut(field, ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 0 || n > maxRateValue {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "user-hour-lim":
			rl.Limit, haveLim = n, true
		case "user-hour-rem":
			rl.Remaining, haveRem = n, true
		}
	}
	if !haveLim || !haveRem {
		return RateLimit{}, false
	}
	return rl, true
}
