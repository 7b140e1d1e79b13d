// Package sigv4 signs HTTP requests with AWS Signature Version 4 in the
// Authorization header, as Amazon S3 takes them: the path encoded once
// (AWS's UriEncode, which keeps only A-Z a-z 0-9 - . _ ~ and /), the
// payload's SHA-256 sent and signed as x-amz-content-sha256, and a
// session token sent and signed as x-amz-security-token.
//
// It is the whole of what asc-auth needs to put a file into the bucket
// Apple's notary service names, so the product links no AWS SDK.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	// Algorithm names the signing scheme in the Authorization header.
	Algorithm = "AWS4-HMAC-SHA256"
	// UnsignedPayload stands in for the payload hash of a body that is
	// not signed.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// EmptyPayload is the SHA-256 of no bytes, the hash of a body-less
	// request.
	EmptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	timeFormat = "20060102T150405Z"
	dateFormat = "20060102"
)

// Credentials are temporary or long-term AWS credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // empty for long-term credentials
}

// Signer signs requests for one region and service.
type Signer struct {
	Credentials Credentials
	Region      string // us-west-2 for the notary service's bucket
	Service     string // s3
	// Headers names headers signed besides host and every x-amz-* header
	// (lower case), such as "content-type" or "range".
	Headers []string
}

// Sign adds X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (when
// there is a session token) and Authorization to req, signed at t.
// payloadHash is the body's SHA-256 in lower-case hex, or UnsignedPayload.
// It also sets req.URL.RawPath to the encoding it signed, so that the
// path sent is the path signed (a ':' in an S3 key goes out as %3A).
func (s Signer) Sign(req *http.Request, payloadHash string, t time.Time) error {
	if s.Credentials.AccessKeyID == "" || s.Credentials.SecretAccessKey == "" {
		return errors.New("sigv4: no credentials")
	}
	if s.Region == "" || s.Service == "" {
		return errors.New("sigv4: no region or service")
	}
	t = t.UTC()
	req.Header.Set("X-Amz-Date", t.Format(timeFormat))
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if s.Credentials.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", s.Credentials.SessionToken)
	}
	path := EncodePath(req.URL.Path)
	req.URL.RawPath = path
	creq, signed := s.CanonicalRequest(req, payloadHash)
	scope := t.Format(dateFormat) + "/" + s.Region + "/" + s.Service + "/aws4_request"
	sts := StringToSign(t, scope, creq)
	key := SigningKey(s.Credentials.SecretAccessKey, t.Format(dateFormat), s.Region, s.Service)
	sig := hex.EncodeToString(hmacSHA256(key, []byte(sts)))
	req.Header.Set("Authorization", Algorithm+" Credential="+s.Credentials.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
	return nil
}

// CanonicalRequest returns req's canonical request and its signed
// headers list, as Sign computes them.
func (s Signer) CanonicalRequest(req *http.Request, payloadHash string) (creq, signedHeaders string) {
	path := EncodePath(req.URL.Path)
	if path == "" {
		path = "/"
	}
	headers, signed := s.canonicalHeaders(req)
	return strings.Join([]string{req.Method, path, CanonicalQuery(req.URL.RawQuery), headers, signed, payloadHash}, "\n"), signed
}

// canonicalHeaders lists the signed headers, lower case and sorted, each
// with its values trimmed, inner runs of spaces folded and joined by ','.
func (s Signer) canonicalHeaders(req *http.Request) (canon, signed string) {
	values := map[string][]string{}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	values["host"] = []string{host}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk == "host" || (!strings.HasPrefix(lk, "x-amz-") && !slices.Contains(s.Headers, lk)) {
			continue
		}
		values[lk] = append(values[lk], vs...)
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(':')
		for i, v := range values[k] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Join(strings.Fields(v), " "))
		}
		b.WriteByte('\n')
	}
	return b.String(), strings.Join(names, ";")
}

// StringToSign is the algorithm, the time, the credential scope and the
// canonical request's hash, one a line.
func StringToSign(t time.Time, scope, canonicalRequest string) string {
	h := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + t.UTC().Format(timeFormat) + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// SigningKey derives the day's signing key for a region and service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

// CanonicalQuery encodes each name and value of a raw query with
// UriEncode and sorts the pairs by name, then value; a name without a
// value ("uploads") gets an empty one ("uploads=").
func CanonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, _ := url.ParseQuery(raw) // what does not parse is left out, as a server would
	pairs := make([]string, 0, len(q))
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&")
}

// EncodePath is AWS's UriEncode of a path: every byte but the unreserved
// ones and '/' becomes %XX, upper-case hex. An S3 key such as
// "prod/AROA…:uuid" becomes "prod/AROA…%3Auuid".
func EncodePath(path string) string { return uriEncode(path, false) }

func uriEncode(s string, slash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && !slash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
