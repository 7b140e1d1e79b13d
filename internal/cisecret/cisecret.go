// Package cisecret stores one value in a CI service's secret store:
// GitHub Actions secrets (repository, environment, organisation), GitLab
// CI/CD variables (project, group), CircleCI environment variables
// (project, context) and Bitrise app secrets.
//
// A Destination checks the name and the value before it sends anything,
// then stores the value and says whether it created or replaced the
// secret. GitHub's values are sealed with the scope's public key (a
// libsodium sealed box) before they leave; the others go over HTTPS as the
// services' APIs take them. No error carries the value; a server's own
// message may echo what it was sent, so callers print errors through their
// redaction.
package cisecret

import (
	"context"
	"fmt"
	"regexp"
	"sync"
)

// A Destination is one place a secret can be stored.
type Destination interface {
	// Describe names the place, such as "GitHub repository o/n".
	Describe() string
	// Check refuses a name or value this destination would refuse,
	// before anything is sent.
	Check(name string, value []byte) error
	// Store creates or replaces the secret.
	Store(ctx context.Context, name string, value []byte) (Result, error)
	// Requests reports how many HTTP requests were sent so far.
	Requests() int
}

// Result is what Store did.
type Result struct {
	Created bool // false: an existing secret was replaced
}

// Verb is "created" or "updated".
func (r Result) Verb() string {
	if r.Created {
		return "created"
	}
	return "updated"
}

// envName is the rule for an environment variable's name that GitLab,
// CircleCI and Bitrise share: letters, digits and underscores, not
// starting with a digit.
var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// maxValue caps what the other services are sent; a session is a few KiB
// and internal/session refuses anything over 64 KiB.
const maxValue = 64 << 10

// checkEnv is Check for the services that take environment variable names.
func checkEnv(service, name string, value []byte) error {
	if !envName().MatchString(name) || len(name) > 255 {
		return fmt.Errorf("cisecret: %s variable name %q is invalid: use letters, digits and underscores, not starting with a digit", service, name)
	}
	if len(value) == 0 {
		return fmt.Errorf("cisecret: the value is empty")
	}
	if len(value) > maxValue {
		return fmt.Errorf("cisecret: the value is %d bytes, more than the %d this command sends to %s", len(value), maxValue, service)
	}
	return nil
}
