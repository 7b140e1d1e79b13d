package upload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/httpx"
)

// commit sends the PATCH that commits the file, once (again only after a
// 429, which Apple did not process). If its answer is lost, the build
// upload's state says whether it arrived: the PATCH is never replayed.
func (r *run) commit(ctx context.Context) error {
	var sums *asc.Checksums
	if r.o.Checksum == ChecksumMD5 {
		sums = &asc.Checksums{File: &asc.Checksum{Hash: r.res.MD5, Algorithm: asc.ChecksumAlgorithmMD5}}
	}
	fileID := r.res.BuildUploadFileID
	_, err := retry429(ctx, r, "committing the file", func() (*asc.BuildUploadFile, error) {
		return r.c.CommitBuildUploadFile(ctx, fileID, sums)
	})
	if err == nil {
		r.logf("committed build upload file %s", fileID)
		return nil
	}
	var apiErr *asc.APIError
	switch {
	case errors.As(err, &apiErr):
		// Apple answered and refused: nothing was committed.
		err = fmt.Errorf("upload: committing build upload file %s: %w", fileID, err)
		if sums != nil && apiErr.StatusCode == http.StatusConflict {
			err = fmt.Errorf("%w; App Store Connect refused the commit with the file's MD5 %s: "+
				"the bytes it received may differ from the file, or it does not accept this checksum; try again, or without a checksum", err, r.res.MD5)
		}
		return r.abandon(ctx, err)
	case ctx.Err() != nil:
		return fmt.Errorf("upload: committing build upload file %s of build upload %s (it may or may not be committed): %w", fileID, r.res.BuildUploadID, ctx.Err())
	}
	r.logf("the commit got no answer (%v); reading build upload %s instead of sending it again", err, r.res.BuildUploadID)
	return r.confirmCommit(ctx, err)
}

// confirmCommit reads the build upload after a commit whose answer was
// lost: PROCESSING or COMPLETE (or FAILED, which only a committed upload
// reaches) means the commit arrived.
func (r *run) confirmCommit(ctx context.Context, cause error) error {
	id := r.res.BuildUploadID
	var lastErr error
	sched := httpx.Poll{Fixed: r.o.PollInterval}
	for i := range confirmChecks {
		if i > 0 {
			if err := r.o.Sleep(ctx, sched.Next(0)); err != nil {
				break
			}
		}
		doc, err := r.c.BuildUpload(ctx, id)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch r.observe(doc) {
		case asc.BuildUploadStateProcessing, asc.BuildUploadStateComplete, asc.BuildUploadStateFailed:
			r.logf("build upload %s is %s: the commit arrived", id, r.res.UploadState)
			return nil
		}
	}
	state := r.res.UploadState
	if lastErr != nil {
		state = fmt.Sprintf("%s (the last read failed: %v)", orUnknown(state), lastErr)
	}
	return fmt.Errorf("%w: the commit of build upload file %s got no answer (%v) and build upload %s is still %s; "+
		"the commit may yet arrive: check build upload %s (GET /v1/buildUploads/%s) before uploading again",
		ErrCommitUnconfirmed, r.res.BuildUploadFileID, cause, id, state, id, id)
}

// Wait polls a committed build upload, as Run does after its commit, for
// resuming a wait that timed out. opts' wait, poll and callback fields
// apply; the others are ignored.
func Wait(ctx context.Context, c *asc.Client, buildUploadID string, opts Options) (Result, error) {
	if c == nil {
		return Result{}, errors.New("upload: no App Store Connect client")
	}
	if buildUploadID == "" {
		return Result{}, errors.New("upload: no build upload ID")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	r := &run{c: c, o: o, seen: map[Message]bool{}}
	r.res.BuildUploadID = buildUploadID
	r.start = o.Now()
	err = r.wait(ctx, r.start)
	r.res.Duration = o.Now().Sub(r.start)
	return r.res, err
}

// wait polls the build upload until COMPLETE or FAILED and then, with
// WaitForProcessing, the build until VALID, INVALID or FAILED, all within
// the time allowed from start.
func (r *run) wait(ctx context.Context, start time.Time) error {
	limit := r.o.WaitForUpload
	if r.o.WaitForProcessing > 0 {
		limit = r.o.WaitForProcessing
	}
	if limit < 0 {
		return nil
	}
	deadline := start.Add(limit)
	id := r.res.BuildUploadID

	err := r.poll(ctx, start, deadline, func() (bool, error) {
		doc, err := r.c.BuildUpload(ctx, id)
		if err != nil {
			return false, err
		}
		switch r.observe(doc) {
		case asc.BuildUploadStateFailed:
			return true, &StateError{Resource: "build upload", ID: id, State: r.res.UploadState, Errors: r.errorsOf(doc)}
		case asc.BuildUploadStateComplete:
			// Waiting for processing needs the build's ID; Apple links it
			// when it makes the build, which may be a little later.
			return r.o.WaitForProcessing <= 0 || r.res.BuildID != "", nil
		}
		return false, nil
	})
	if err != nil || r.o.WaitForProcessing <= 0 {
		return err
	}
	if done, err := r.buildDone(); done {
		return err
	}
	r.logf("build upload %s is COMPLETE; waiting for build %s to be processed", id, r.res.BuildID)
	return r.poll(ctx, start, deadline, func() (bool, error) {
		b, err := r.c.Build(ctx, r.res.BuildID)
		if err != nil {
			return false, err
		}
		r.observeBuild(b)
		return r.buildDone()
	})
}

// buildDone says whether the build's processingState is final, with an
// error if it is INVALID or FAILED.
func (r *run) buildDone() (bool, error) {
	switch s := asc.BuildProcessingState(r.res.ProcessingState); s {
	case asc.BuildProcessingStateValid:
		return true, nil
	case asc.BuildProcessingStateInvalid, asc.BuildProcessingStateFailed:
		return true, &StateError{Resource: "build", ID: r.res.BuildID, State: string(s)}
	}
	return false, nil
}

// poll calls step until it is done, on the polling schedule (or
// PollInterval apart), until deadline. Errors of step other than its final
// answer are tolerated maxPollFailures times in a row if they may pass (no
// answer, 429, 5xx); a Retry-After is honoured.
func (r *run) poll(ctx context.Context, start, deadline time.Time, step func() (bool, error)) error {
	failures := 0
	sched := httpx.Poll{Fixed: r.o.PollInterval}
	for {
		var retryAfter time.Duration
		done, err := step()
		if ra, ok := errors.AsType[*asc.RetryAfterError](err); ok {
			retryAfter = ra.RetryAfter
		}
		var se *StateError
		switch {
		case errors.As(err, &se) || (done && err == nil):
			return err
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("upload: waiting for build upload %s: %w", r.res.BuildUploadID, ctx.Err())
		case err != nil:
			failures++
			if !asc.MayPass(err) || failures >= maxPollFailures {
				return fmt.Errorf("upload: reading the state of build upload %s: %w; the upload is committed: check it later (GET /v1/buildUploads/%s)",
					r.res.BuildUploadID, err, r.res.BuildUploadID)
			}
			r.logf("reading the state failed (%v); trying again", err)
		default:
			failures = 0
		}
		now := r.o.Now()
		if !now.Before(deadline) {
			return &WaitTimeoutError{
				BuildUploadID: r.res.BuildUploadID, BuildID: r.res.BuildID,
				UploadState: r.res.UploadState, ProcessingState: r.res.ProcessingState,
				Waited: now.Sub(start),
			}
		}
		if err := r.o.Sleep(ctx, min(sched.Next(retryAfter), deadline.Sub(now))); err != nil {
			return fmt.Errorf("upload: waiting for build upload %s: %w", r.res.BuildUploadID, err)
		}
	}
}

// observe records what doc says: the upload's state, its messages, and its
// build. It returns the state.
func (r *run) observe(doc *asc.BuildUploadResponse) asc.BuildUploadState {
	var st *asc.BuildUploadStateDetail
	if a := doc.Data.Attributes; a != nil {
		st = a.State
	}
	if st == nil {
		return asc.BuildUploadState(r.res.UploadState)
	}
	if s := string(st.State); s != "" && s != r.res.UploadState {
		r.logf("build upload %s: %s", r.res.BuildUploadID, s)
		r.res.UploadState = s
	}
	for _, list := range []struct {
		level Level
		items []asc.StateDetail
	}{{LevelError, st.Errors}, {LevelWarning, st.Warnings}, {LevelInfo, st.Infos}} {
		for _, d := range list.items {
			r.message(Message{Level: list.level, Code: d.Code, Description: d.Description})
		}
	}
	if id, b := doc.Build(); id != "" {
		if id != r.res.BuildID {
			r.logf("build upload %s became build %s", r.res.BuildUploadID, id)
		}
		r.res.BuildID = id
		if b != nil {
			r.observeBuild(b)
		}
	}
	return st.State
}

func (r *run) observeBuild(b *asc.Build) {
	if b.Attributes == nil || b.Attributes.ProcessingState == "" {
		return
	}
	if s := string(b.Attributes.ProcessingState); s != r.res.ProcessingState {
		r.logf("build %s: %s", b.ID, s)
		r.res.ProcessingState = s
	}
}

// message reports m once.
func (r *run) message(m Message) {
	if r.seen[m] {
		return
	}
	r.seen[m] = true
	r.res.Messages = append(r.res.Messages, m)
	if r.o.Messages != nil {
		r.o.Messages(m)
	}
}

// errorsOf is the error messages of doc's state.
func (r *run) errorsOf(doc *asc.BuildUploadResponse) []Message {
	var out []Message
	if a := doc.Data.Attributes; a != nil && a.State != nil {
		for _, d := range a.State.Errors {
			out = append(out, Message{Level: LevelError, Code: d.Code, Description: d.Description})
		}
	}
	return out
}
