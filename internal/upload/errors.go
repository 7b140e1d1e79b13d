package upload

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrCommitUnconfirmed is matched (errors.Is) by the error Run returns when
// the commit's answer was lost and the build upload still did not show it
// committed: it may or may not be.
var ErrCommitUnconfirmed = errors.New("upload: the commit is unconfirmed")

// ErrBuildNumberTaken is matched (errors.Is) by a *BuildNumberTakenError.
var ErrBuildNumberTaken = errors.New("upload: the build number is taken")

// PartError is a part that failed for good. No commit was sent.
type PartError struct {
	Part, Parts    int   // 1-based position in offset order, and how many parts there are
	PartNumber     int64 // Apple's partNumber, 0 if it gave none
	Offset, Length int64
	Method         string
	URL            string // without its query
	Attempts       int
	StatusCode     int  // the last answer's HTTP status, 0 if there was none
	Expired        bool // 403: the presigned URL was refused, most likely expired
	Expiration     *time.Time
	Err            error
}

func (e *PartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upload: part %d of %d (offset %d, length %d) failed", e.Part, e.Parts, e.Offset, e.Length)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Expired {
		b.WriteString("; the presigned upload URL was refused: it has expired")
		if e.Expiration != nil {
			fmt.Fprintf(&b, " (it was valid until %s)", e.Expiration.UTC().Format(time.RFC3339))
		}
		b.WriteString(" or was altered; start the upload again to get new URLs")
	}
	b.WriteString("; the file was not committed")
	return b.String()
}

func (e *PartError) Unwrap() error { return e.Err }

// StateError is a build upload that App Store Connect marked FAILED, or a
// build it found INVALID or FAILED.
type StateError struct {
	Resource string // "build upload" or "build"
	ID       string
	State    string
	Errors   []Message // the state's error messages, if any
}

func (e *StateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upload: App Store Connect marked %s %s %s", e.Resource, e.ID, e.State)
	if len(e.Errors) == 0 {
		b.WriteString(" without giving a reason; App Store Connect's web page for the build or Apple's email may say why")
		return b.String()
	}
	for i, m := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(m.String())
	}
	return b.String()
}

// WaitTimeoutError is a wait that ran out of time. The upload itself is
// committed and App Store Connect goes on processing it.
type WaitTimeoutError struct {
	BuildUploadID   string
	BuildID         string // "" if App Store Connect had not made the build yet
	UploadState     string
	ProcessingState string
	Waited          time.Duration
}

func (e *WaitTimeoutError) Error() string {
	waited := e.Waited.Round(time.Second)
	if e.BuildID != "" && e.UploadState == "COMPLETE" {
		return fmt.Sprintf("upload: build %s (build upload %s) is still %s after a wait of %s; "+
			"the upload is committed and App Store Connect is still processing it: check the build later (GET /v1/builds/%s) or wait longer next time",
			e.BuildID, e.BuildUploadID, orUnknown(e.ProcessingState), waited, e.BuildID)
	}
	return fmt.Sprintf("upload: build upload %s is still %s after a wait of %s; "+
		"the upload is committed and App Store Connect is still processing it: check it later (GET /v1/buildUploads/%s) or wait longer next time",
		e.BuildUploadID, orUnknown(e.UploadState), waited, e.BuildUploadID)
}

func orUnknown(s string) string {
	if s == "" {
		return "in an unknown state"
	}
	return s
}

// BuildNumberTakenError says the version and build number are already
// used by a build or by a build upload in flight.
type BuildNumberTakenError struct {
	Version, BuildNumber string
	TakenBy              string // e.g. "build 1234" or "build upload 7d2b… (PROCESSING)"
	Next                 string // the next free build number
}

func (e *BuildNumberTakenError) Error() string {
	return fmt.Sprintf("upload: build number %s of version %s is already used by %s; the next free build number is %s: "+
		"build again with CFBundleVersion %s", e.BuildNumber, e.Version, e.TakenBy, e.Next, e.Next)
}

// Is matches ErrBuildNumberTaken.
func (e *BuildNumberTakenError) Is(target error) bool { return target == ErrBuildNumberTaken }
