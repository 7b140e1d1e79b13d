package notary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asc-auth/action/internal/asc"
)

// clockSkew is how far Apple's createdDate may lie before the moment this
// machine sent the request, its clock being off.
const clockSkew = 2 * time.Minute

// LandedError is a submission request whose answer was lost but which
// reached Apple: the team's list shows a submission of the same name made
// since. Its upload credentials came only in the lost answer, so it cannot
// be completed, and asc-auth does not submit the same file a second time
// on its own.
type LandedError struct {
	Submission Submission
	Err        error // what the request met
}

func (e *LandedError) Error() string {
	return fmt.Sprintf("notary: the submission request failed (%v), but Apple made submission %s (%s, %s) at %s; its upload credentials were lost with the answer, so it cannot be completed. asc-auth does not submit the same file twice: run the step again to submit afresh",
		e.Err, e.Submission.ID, e.Submission.Name, e.Submission.Status, e.Submission.CreatedDate.UTC().Format(time.RFC3339))
}

func (e *LandedError) Unwrap() error { return e.Err }

// Submit asks Apple for a submission of the file named name whose SHA-256
// is sha256Hex. A failure that leaves it unknown whether Apple made the
// submission (no answer, or 5xx) is settled before trying again: the
// team's recent submissions are read, and the request is sent again only
// if none matches. The list gives no SHA-256 (name, status and
// createdDate only), so a match is a submission of the same name created
// at or after the first attempt, less clockSkew; a parallel job
// submitting a file of the same name in that window would match too, and
// is reported rather than duplicated.
func (c *Client) Submit(ctx context.Context, name, sha256Hex string) (NewSubmission, error) {
	const attempts = 3
	start := c.now()
	for n := 1; ; n++ {
		s, err := c.submit(ctx, name, sha256Hex)
		if errors.Is(err, asc.ErrForbidden) {
			return s, fmt.Errorf("%w (if Apple names an agreement, the team's Account Holder must accept it at developer.apple.com/account before anything can be notarized)", err)
		}
		if err == nil || ctx.Err() != nil || !ambiguous(err) {
			return s, err
		}
		if n == attempts {
			return NewSubmission{}, fmt.Errorf("notary: submitting %s: %w", name, err)
		}
		c.logf("notary: the submission request failed (%v); checking the team's recent submissions before trying again", err)
		if err := c.sleep(ctx, time.Duration(n)*2*time.Second); err != nil {
			return NewSubmission{}, err
		}
		list, lerr := c.List(ctx)
		if lerr != nil {
			return NewSubmission{}, fmt.Errorf("notary: the submission request failed (%v) and the team's submissions cannot be read to tell whether it reached Apple (%v); not submitting again", err, lerr)
		}
		for _, sub := range list {
			if sub.Name == name && !sub.CreatedDate.Before(start.Add(-clockSkew)) {
				return NewSubmission{}, &LandedError{Submission: sub, Err: err}
			}
		}
		c.logf("notary: no submission named %s since %s: sending the request again", name, start.UTC().Format(time.RFC3339))
	}
}

// ambiguous reports whether a failed submission request may have reached
// Apple and made a submission.
func ambiguous(err error) bool {
	var apiErr *asc.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500
	}
	// asc.Client wraps its own checks (a bad base URL, a token it cannot
	// mint) as plain errors too; a submission answer that lacks fields
	// means Apple answered.
	return passing(err)
}
