package token

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// CheckKeyID reports whether id looks like an App Store Connect key ID:
// ten upper-case letters and digits, as in AuthKey_<ID>.p8.
func CheckKeyID(id string) error {
	if id == "" {
		return errors.New("token: the key ID is missing")
	}
	if len(id) != 10 || strings.IndexFunc(id, func(r rune) bool { return !isUpperAlnum(r) }) >= 0 {
		return errors.New("token: the key ID is not 10 upper-case letters and digits")
	}
	return nil
}

// CheckIssuerID reports whether id is empty (an individual key) or a UUID
// in the 8-4-4-4-12 hex form App Store Connect shows.
func CheckIssuerID(id string) error {
	if id == "" {
		return nil
	}
	if len(id) != 36 {
		return errors.New("token: the issuer ID is not a UUID")
	}
	for i, r := range id {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return errors.New("token: the issuer ID is not a UUID")
			}
		default:
			if !isHex(r) {
				return errors.New("token: the issuer ID is not a UUID")
			}
		}
	}
	return nil
}

// CheckLifetime reports whether d is a lifetime App Store Connect accepts
// and worth minting.
func CheckLifetime(d time.Duration) error {
	if d < MinLifetime || d > MaxLifetime {
		return fmt.Errorf("token: the lifetime must be from %v to %v", MinLifetime, MaxLifetime)
	}
	if d%time.Second != 0 {
		return errors.New("token: the lifetime must be whole seconds")
	}
	return nil
}

// scopeMethods are the HTTP methods the App Store Connect API uses.
var scopeMethods = []string{"GET", "POST", "PATCH", "DELETE"}

// CheckScope reports whether every entry is "METHOD /path" with an optional
// query, the form of Apple's scope claim ("GET /v1/apps?filter[platform]=IOS").
func CheckScope(scope []string) error {
	var errs []error
	for i, s := range scope {
		method, target, ok := strings.Cut(s, " ")
		switch {
		case !ok || target == "":
			errs = append(errs, fmt.Errorf("token: scope entry %d is not \"METHOD /path\"", i+1))
		case !isScopeMethod(method):
			errs = append(errs, fmt.Errorf("token: scope entry %d does not start with one of %s", i+1, strings.Join(scopeMethods, ", ")))
		case !strings.HasPrefix(target, "/"):
			errs = append(errs, fmt.Errorf("token: scope entry %d has a path that does not start with /", i+1))
		case strings.IndexFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
			errs = append(errs, fmt.Errorf("token: scope entry %d has spaces or control characters in its path", i+1))
		}
	}
	return errors.Join(errs...)
}

func isScopeMethod(m string) bool {
	for _, s := range scopeMethods {
		if m == s {
			return true
		}
	}
	return false
}

func isUpperAlnum(r rune) bool { return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' }

func isHex(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' }
