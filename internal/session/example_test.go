package session_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/asc-auth/action/internal/session"
)

func ExampleParse() {
	// The value `fastlane spaceauth` prints, as a CI secret holds it.
	b, err := os.ReadFile("../../testdata/session/expiring.session")
	if err != nil {
		fmt.Println(err)
		return
	}
	text := string(b)

	// Mask every secret in the value before anything can print it.
	for range session.Secrets(text, nil) {
		// e.g. githubactions.AddMask(secret)
	}

	s, err := session.Parse(text)
	if err != nil {
		var e *session.Error
		if errors.As(err, &e) {
			fmt.Println(e, "\nhint:", e.Hint())
		}
		return
	}
	now := time.Date(2026, 11, 22, 9, 42, 18, 549512137, time.UTC)
	if exp, ok := s.ExpiresAt(); ok {
		fmt.Printf("%d cookies; the session ends in %v, on %s\n", len(s.Cookies), exp.Sub(now), exp.UTC().Format(time.DateOnly))
	}
	// Output: 3 cookies; the session ends in 72h0m0s, on 2026-11-25
}

func ExampleParse_refused() {
	_, err := session.Parse(`---\n- !ruby/object:HTTP::Cookie\n  name: myacinfo\n  value: DAWTKNV3`)
	var e *session.Error
	if errors.As(err, &e) {
		fmt.Println(e)
		fmt.Println(e.Kind)
	}
	// Output:
	// session: the session is truncated: its last cookie is incomplete
	// truncated
}
