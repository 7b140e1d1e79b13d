package upload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/httpx"
	"github.com/asc-auth/action/internal/transfer"
)

// part is one upload operation, checked, and the request that sends it.
type part struct {
	op asc.DeliveryFileUploadOperation
	transfer.Part
}

// planParts checks App Store Connect's operations before any is sent: each
// is an http(s) URL with a method and a byte range within the file, and
// together, sorted by offset, they cover the file exactly once. The list
// may come in any order.
func planParts(ops []asc.DeliveryFileUploadOperation, size int64) ([]part, error) {
	if len(ops) == 0 {
		return nil, errors.New("upload: App Store Connect sent no upload operations")
	}
	var errs []error
	parts := make([]part, 0, len(ops))
	for i, op := range ops {
		what := fmt.Sprintf("operation %d", i+1)
		if op.PartNumber > 0 {
			what = fmt.Sprintf("operation %d (part number %d)", i+1, op.PartNumber)
		}
		u, err := url.Parse(op.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", what, httpx.RedactURLString(op.URL)))
			continue
		}
		method := strings.ToUpper(strings.TrimSpace(op.Method))
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			errs = append(errs, fmt.Errorf("%s: %q is not an HTTP method", what, op.Method))
		}
		if op.Length < 1 || op.Offset < 0 || op.Offset > size-op.Length {
			errs = append(errs, fmt.Errorf("%s: bytes %d to %d are not within the file's %d", what, op.Offset, op.Offset+op.Length, size))
		}
		for _, h := range op.RequestHeaders {
			if strings.EqualFold(h.Name, "Content-Length") && h.Value != strconv.FormatInt(op.Length, 10) {
				errs = append(errs, fmt.Errorf("%s: header Content-Length %s differs from its length %d", what, h.Value, op.Length))
			}
		}
		header := http.Header{}
		for _, h := range op.RequestHeaders {
			header.Add(h.Name, h.Value)
		}
		parts = append(parts, part{op: op, Part: transfer.Part{Method: method, URL: u, Header: header, Offset: op.Offset, Length: op.Length}})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(parts, func(a, b part) int { return cmpInt64(a.op.Offset, b.op.Offset) })
	var next int64
	for _, p := range parts {
		switch {
		case p.op.Offset > next:
			return nil, fmt.Errorf("no operation covers bytes %d to %d of the file", next, p.op.Offset)
		case p.op.Offset < next:
			return nil, fmt.Errorf("operations overlap at byte %d of the file", p.op.Offset)
		}
		next = p.op.Offset + p.op.Length
	}
	if next != size {
		return nil, fmt.Errorf("no operation covers bytes %d to %d of the file", next, size)
	}
	return parts, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func largest(parts []part) int64 {
	var m int64
	for _, p := range parts {
		m = max(m, p.Length)
	}
	return m
}

// sendParts sends every part through the transfer engine, Concurrency at
// a time, in offset order. The first part that fails for good cancels the
// others and is the error, a *PartError.
func (r *run) sendParts(ctx context.Context, parts []part) error {
	tparts := make([]transfer.Part, len(parts))
	for i, p := range parts {
		tparts[i] = p.Part
	}
	res, err := transfer.Send(ctx, r.src.File, r.src.Size, tparts, transfer.Options{
		Client:       r.o.PartHTTPClient,
		Concurrency:  r.o.Concurrency,
		StallTimeout: r.o.StallTimeout,
		Retry:        r.o.PartRetry,
		Progress:     r.o.Progress,
		Log:          r.o.Log,
		Now:          r.o.Now,
		Sleep:        r.o.Sleep,
		Rand:         r.o.Rand,
	})
	r.res.Retries += res.Retries
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("upload: sending the parts of build upload %s: %w", r.res.BuildUploadID, err)
	}
	if pe, ok := errors.AsType[*transfer.PartError](err); ok {
		op := parts[pe.Part-1].op
		return &PartError{
			Part: pe.Part, Parts: pe.Parts, PartNumber: op.PartNumber,
			Offset: pe.Offset, Length: pe.Length,
			Method: pe.Method, URL: pe.URL,
			Attempts: pe.Attempts, StatusCode: pe.StatusCode,
			Expired: pe.StatusCode == http.StatusForbidden, Expiration: op.Expiration,
			Err: pe.Err,
		}
	}
	if err != nil {
		return fmt.Errorf("upload: sending the parts of build upload %s: %w", r.res.BuildUploadID, err)
	}
	return nil
}
