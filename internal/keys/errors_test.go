package keys_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/keys"
)

// TestErrorProblemHint checks that a refusal, wrapped as callers wrap it,
// is found by the interface every input error shares, and gives one line
// of problem with no "keys: " prefix and one line of hint.
func TestErrorProblemHint(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "not a key at all", "-----BEGIN PRIVATE KEY-----\nMIGH"} {
		_, err := keys.Parse(text)
		var a interface {
			Problem() string
			Hint() string
		}
		if !errors.As(fmt.Errorf("token step: %w", err), &a) {
			t.Fatalf("Parse(%q) error %T %v is not a Problem/Hint error", text, err, err)
		}
		p, h := a.Problem(), a.Hint()
		if p == "" || h == "" || strings.ContainsAny(p+h, "\r\n") || strings.HasPrefix(p, "keys:") {
			t.Errorf("Parse(%q): problem %q / hint %q are not one unprefixed line each", text, p, h)
		}
		if err.Error() != "keys: "+p {
			t.Errorf("Parse(%q): Error() = %q, problem %q", text, err, p)
		}
	}
}
