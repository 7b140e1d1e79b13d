package notary

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/httpx"
	"github.com/asc-auth/action/internal/sigv4"
	"github.com/asc-auth/action/internal/transfer"
)

const (
	// MultipartThreshold is the largest file sent in one PUT. Above it the
	// file goes as a multipart upload, so that a failed part is sent again
	// alone rather than the whole file. S3 takes single PUTs up to 5 GiB;
	// 100 MiB keeps a retry cheap and is above most notarized artifacts.
	MultipartThreshold = 100 << 20

	// PartSize is the size of each part but the last of a multipart
	// upload: 16 MiB gives a 4 GiB file 256 parts, well under S3's 10,000,
	// and keeps four parts in flight busy on a CI runner's uplink.
	PartSize = 16 << 20
)

// Hashes are the file's SHA-256 and, for a multipart upload, each part's,
// computed in one pass.
type Hashes struct {
	Size     int64
	Sum      string   // the whole file, lower-case hex
	PartSize int64    // 0 for a single PUT
	Parts    []string // each part's SHA-256, for a multipart upload
}

// Hash reads r once and returns its hashes; the file's parts are laid out
// as Upload will send them.
func Hash(ctx context.Context, r io.Reader, size int64) (Hashes, error) {
	h := Hashes{Size: size}
	whole := sha256.New()
	if size <= MultipartThreshold {
		n, err := io.Copy(whole, httpx.ContextReader(ctx, r))
		if err != nil {
			return Hashes{}, fmt.Errorf("notary: reading the file: %w", err)
		}
		if n != size {
			return Hashes{}, fmt.Errorf("notary: the file has %d bytes, not %d: was it changed?", n, size)
		}
		h.Sum = hex.EncodeToString(whole.Sum(nil))
		return h, nil
	}
	h.PartSize = PartSize
	part := sha256.New()
	w := io.MultiWriter(whole, part)
	rd := httpx.ContextReader(ctx, r)
	for off := int64(0); off < size; off += PartSize {
		n := min(PartSize, size-off)
		part.Reset()
		got, err := io.CopyN(w, rd, n)
		if err != nil {
			return Hashes{}, fmt.Errorf("notary: reading the file at %d of %d bytes: %w", off+got, size, err)
		}
		h.Parts = append(h.Parts, hex.EncodeToString(part.Sum(nil)))
	}
	h.Sum = hex.EncodeToString(whole.Sum(nil))
	return h, nil
}

// UploadOptions tune Upload.
type UploadOptions struct {
	Concurrency int
	Progress    func(transfer.Progress)
	Client      *http.Client // default: transfer.NewClient
	Retry       transfer.RetryPolicy
}

// UploadResult says how the upload went.
type UploadResult struct {
	Parts    int // 1 for a single PUT
	Retries  int
	Duration time.Duration
}

// objectURL is where the object goes: the bucket's regional endpoint
// (virtual-hosted), or S3Endpoint/BUCKET/KEY. Path holds the key as it
// is; the signer sends it encoded (':' as %3A).
func (c *Client) objectURL(s NewSubmission) (*url.URL, error) {
	key := "/" + strings.TrimPrefix(s.Object, "/")
	if c.S3Endpoint == "" {
		if strings.ContainsAny(s.Bucket, "/:@?#") {
			return nil, errors.New("notary: the bucket name is not one S3 allows")
		}
		return &url.URL{Scheme: "https", Host: s.Bucket + ".s3." + Region + ".amazonaws.com", Path: key}, nil
	}
	u, err := url.Parse(strings.TrimSuffix(c.S3Endpoint, "/"))
	if err != nil {
		return nil, err
	}
	u.Path += "/" + s.Bucket + key
	u.RawPath = ""
	return u, nil
}

func (c *Client) signer(s NewSubmission) sigv4.Signer {
	return sigv4.Signer{Credentials: s.Credentials, Region: Region, Service: "s3"}
}

// Upload puts the file (size bytes at f, whose hashes h are) into the
// submission's bucket: one signed PUT up to MultipartThreshold, a
// multipart upload above it, aborted if it fails.
func (c *Client) Upload(ctx context.Context, f io.ReaderAt, h Hashes, s NewSubmission, o UploadOptions) (UploadResult, error) {
	start := c.now()
	u, err := c.objectURL(s)
	if err != nil {
		return UploadResult{}, err
	}
	sg := c.signer(s)
	topts := transfer.Options{
		Client: o.Client, Concurrency: o.Concurrency, Progress: o.Progress, Retry: o.Retry,
		Log: func(line string) { c.logf("%s", line) }, Now: c.Now, Sleep: c.Sleep, Rand: c.Rand,
		Secrets: []string{s.Credentials.SecretAccessKey, s.Credentials.SessionToken},
	}
	if h.PartSize == 0 {
		topts.Sign = func(req *http.Request, _ transfer.Part) error { return sg.Sign(req, h.Sum, c.now()) }
		res, err := transfer.Send(ctx, f, h.Size, []transfer.Part{{Method: http.MethodPut, URL: u, Offset: 0, Length: h.Size}}, topts)
		if err != nil {
			return UploadResult{Parts: 1, Retries: res.Retries}, fmt.Errorf("notary: uploading to S3: %w", err)
		}
		return UploadResult{Parts: 1, Retries: res.Retries, Duration: c.now().Sub(start)}, nil
	}

	hc := o.Client
	if hc == nil {
		hc = c.HTTP
	}
	if hc == nil {
		hc = transfer.NewClient(max(o.Concurrency, 1))
	}
	m := &multipart{c: c, hc: hc, sg: sg, u: u}
	if err := m.create(ctx); err != nil {
		return UploadResult{}, err
	}
	topts.Client = hc
	parts := make([]transfer.Part, len(h.Parts))
	for i := range parts {
		pu := *u
		pu.RawQuery = fmt.Sprintf("partNumber=%d&uploadId=%s", i+1, url.QueryEscape(m.uploadID))
		off := int64(i) * h.PartSize
		parts[i] = transfer.Part{Method: http.MethodPut, URL: &pu, Offset: off, Length: min(h.PartSize, h.Size-off)}
	}
	topts.Sign = func(req *http.Request, p transfer.Part) error {
		return sg.Sign(req, h.Parts[p.Offset/h.PartSize], c.now())
	}
	topts.Response = func(resp *http.Response, _ transfer.Part) (string, error) {
		etag := resp.Header.Get("ETag")
		if etag == "" {
			return "", errors.New("S3 gave the part no ETag")
		}
		return etag, nil
	}
	res, err := transfer.Send(ctx, f, h.Size, parts, topts)
	if err == nil {
		err = m.complete(ctx, res.Responses)
	}
	if err != nil {
		// The abort runs even when ctx has ended, so that no parts are
		// left in the bucket; it is bounded on its own.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if aerr := m.abort(actx); aerr != nil {
			c.logf("notary: aborting the multipart upload failed too: %v", aerr)
		}
		return UploadResult{Parts: len(parts), Retries: res.Retries}, fmt.Errorf("notary: uploading to S3: %w", err)
	}
	return UploadResult{Parts: len(parts), Retries: res.Retries, Duration: c.now().Sub(start)}, nil
}

// multipart is one multipart upload's control requests.
type multipart struct {
	c        *Client
	hc       *http.Client
	sg       sigv4.Signer
	u        *url.URL
	uploadID string
}

// do sends one signed control request, with a few attempts for failures
// that may pass, and returns the body of a 2xx answer.
func (m *multipart) do(ctx context.Context, method, query string, body []byte) ([]byte, error) {
	u := *m.u
	u.RawQuery = query
	sum := sha256.Sum256(body)
	var last error
	for n := 1; n <= 4; n++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.ContentLength = int64(len(body))
		if err := m.sg.Sign(req, hex.EncodeToString(sum[:]), m.c.now()); err != nil {
			return nil, err
		}
		resp, err := m.hc.Do(req)
		if err != nil {
			err = httpx.UnwrapURLError(err)
			if ctx.Err() != nil || httpx.Permanent(err) {
				return nil, fmt.Errorf("%s %s: %w", method, httpx.RedactURL(&u), err)
			}
			last = fmt.Errorf("%s %s: %w", method, httpx.RedactURL(&u), err)
		} else {
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			// S3 may answer CompleteMultipartUpload 200 with an <Error>.
			bad := resp.StatusCode/100 != 2 || bytes.Contains(b[:min(len(b), 512)], []byte("<Error>"))
			switch {
			case rerr == nil && !bad:
				return b, nil
			case resp.StatusCode/100 == 4:
				return nil, fmt.Errorf("%s %s: %s%s", method, httpx.RedactURL(&u), resp.Status, transfer.ErrorDetail(bytes.NewReader(b), credentialSecrets(m.sg.Credentials)))
			}
			last = fmt.Errorf("%s %s: %s%s", method, httpx.RedactURL(&u), resp.Status, transfer.ErrorDetail(bytes.NewReader(b), credentialSecrets(m.sg.Credentials)))
		}
		if n < 4 {
			if err := m.c.sleep(ctx, httpx.Backoff(n, time.Second, 10*time.Second, m.c.rand())); err != nil {
				return nil, err
			}
		}
	}
	return nil, last
}

func (c *Client) rand() func() float64 {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Float64
}

func (m *multipart) create(ctx context.Context) error {
	b, err := m.do(ctx, http.MethodPost, "uploads", nil)
	if err != nil {
		return fmt.Errorf("notary: starting the multipart upload: %w", err)
	}
	var doc struct {
		UploadID string `xml:"UploadId"`
	}
	if xml.Unmarshal(b, &doc) != nil || doc.UploadID == "" {
		return errors.New("notary: starting the multipart upload: S3 gave no upload ID")
	}
	m.uploadID = doc.UploadID
	return nil
}

func (m *multipart) complete(ctx context.Context, etags []string) error {
	type part struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	}
	doc := struct {
		XMLName xml.Name `xml:"CompleteMultipartUpload"`
		Parts   []part   `xml:"Part"`
	}{}
	for i, e := range etags {
		doc.Parts = append(doc.Parts, part{i + 1, e})
	}
	body, err := xml.Marshal(doc)
	if err != nil {
		return err
	}
	if _, err := m.do(ctx, http.MethodPost, "uploadId="+url.QueryEscape(m.uploadID), body); err != nil {
		return fmt.Errorf("completing the multipart upload: %w", err)
	}
	return nil
}

func (m *multipart) abort(ctx context.Context) error {
	_, err := m.do(ctx, http.MethodDelete, "uploadId="+url.QueryEscape(m.uploadID), nil)
	return err
}

// credentialSecrets are what an S3 error may quote back of the temporary
// credentials.
func credentialSecrets(c sigv4.Credentials) []string {
	return []string{c.SecretAccessKey, c.SessionToken, c.AccessKeyID}
}
