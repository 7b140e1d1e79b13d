package session_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/session"
)

// TestErrorProblemHint checks that a refusal, wrapped as callers wrap it,
// is found by the interface every input error shares, and gives one line
// of problem with no "session: " prefix and one line of hint.
func TestErrorProblemHint(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "not yaml: [", "---\n- a\n- b\n"} {
		_, err := session.Parse(text)
		var a interface {
			Problem() string
			Hint() string
		}
		if !errors.As(fmt.Errorf("session step: %w", err), &a) {
			t.Fatalf("Parse(%q) error %T %v is not a Problem/Hint error", text, err, err)
		}
		p, h := a.Problem(), a.Hint()
		if p == "" || h == "" || strings.ContainsAny(p+h, "\r\n") || strings.HasPrefix(p, "session:") {
			t.Errorf("Parse(%q): problem %q / hint %q are not one unprefixed line each", text, p, h)
		}
		if err.Error() != "session: "+p {
			t.Errorf("Parse(%q): Error() = %q, problem %q", text, err, p)
		}
	}
}
