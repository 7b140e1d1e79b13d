package notarysim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/aws-http-auth/credentials"
	smithy "github.com/aws/smithy-go/aws-http-auth/sigv4"
	v4 "github.com/aws/smithy-go/aws-http-auth/v4"
)

// mpu is a multipart upload in progress.
type mpu struct {
	sub   *Submission
	key   string
	parts map[int]*object
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>SIM</RequestId></Error>", code, msg)
}

type signedSet map[string]bool

func (s signedSet) IsSigned(h string) bool { return s[h] }

// S3Requests counts the requests the S3 side received.
func (s *Server) S3Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s3Requests
}

// serveS3 is a path-style bucket: /BUCKET/KEY. Every request must be
// signed with a submission's credentials, its session token signed too,
// the key's ':' sent as %3A, and a PUT must say its Content-Length.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.s3Requests++
	s.mu.Unlock()
	wirePath, _, _ := strings.Cut(r.RequestURI, "?")
	if strings.Contains(wirePath, ":") {
		s.mu.Lock()
		s.violation("an object key was sent with ':' rather than %%3A: %s", wirePath)
		s.mu.Unlock()
		s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if (r.Method == http.MethodPut || r.Method == http.MethodPost) && (r.ContentLength < 0 || len(r.TransferEncoding) > 0) {
		s3Error(w, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
		return
	}
	sub, code := s.verify(r)
	if sub == nil {
		s3Error(w, http.StatusForbidden, code, "The request signature we calculated does not match the signature you provided.")
		return
	}
	s.mu.Lock()
	echo := s.takeFault(FaultEchoS3Credentials)
	s.mu.Unlock()
	if echo {
		s3Error(w, http.StatusForbidden, "AccessDenied", EchoMarker+" token "+sub.Token+" secret "+sub.Secret+" for "+r.Header.Get("Authorization"))
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != sub.Bucket || key != sub.Object {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	want := r.Header.Get("X-Amz-Content-Sha256")
	h := sha256.New()
	var kept bytes.Buffer
	var sink io.Writer = h
	// Control requests (POST: start and complete a multipart upload) are
	// small and always read; objects and parts only up to the keep limit.
	keep := r.ContentLength <= s.keepLimit || (r.Method == http.MethodPost && r.ContentLength <= 1<<20)
	if keep {
		sink = io.MultiWriter(h, &kept)
	}
	n, err := io.Copy(sink, r.Body)
	if err != nil {
		return
	}
	if n != r.ContentLength {
		s3Error(w, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return
	}
	if got := hex.EncodeToString(h.Sum(nil)); want != got {
		s3Error(w, http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
		return
	}
	q := r.URL.Query()
	var data []byte
	if keep {
		data = kept.Bytes()
	}
	obj := &object{sha: want, data: data, size: n}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && len(q) == 0:
		s.finish(sub, obj, false)
		w.Header().Set("ETag", `"`+want[:32]+`"`)
	case r.Method == http.MethodPost && q.Has("uploads"):
		id := randomHex(24)
		s.uploads[id] = &mpu{sub: sub, key: key, parts: map[int]*object{}}
		fmt.Fprintf(w, "<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>", bucket, key, id)
	case r.Method == http.MethodPut && q.Has("partNumber"):
		up := s.uploads[q.Get("uploadId")]
		pn, err := strconv.Atoi(q.Get("partNumber"))
		if up == nil || err != nil || pn < 1 || pn > 10000 {
			s3Error(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
			return
		}
		up.parts[pn] = obj
		w.Header().Set("ETag", `"`+want[:32]+`"`)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		s.complete(w, q.Get("uploadId"), data)
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		delete(s.uploads, q.Get("uploadId"))
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Error(w, http.StatusNotImplemented, "NotImplemented", "not simulated")
	}
}

// finish records the object; s.mu is held.
func (s *Server) finish(sub *Submission, obj *object, multipart bool) {
	s.objects[sub.Bucket+"/"+sub.Object] = obj
	sub.Uploaded, sub.UploadedSHA, sub.Data, sub.Multipart = true, obj.sha, obj.data, multipart
}

func (s *Server) complete(w http.ResponseWriter, id string, body []byte) {
	up := s.uploads[id]
	if up == nil {
		s3Error(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
		return
	}
	var doc struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if xml.Unmarshal(body, &doc) != nil || len(doc.Parts) == 0 {
		s3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed.")
		return
	}
	var whole hash.Hash = sha256.New()
	var data []byte
	keep := true
	var size int64
	for i, p := range doc.Parts {
		part := up.parts[p.PartNumber]
		if p.PartNumber != i+1 || part == nil || p.ETag != `"`+part.sha[:32]+`"` {
			s3Error(w, http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found.")
			return
		}
		if i < len(doc.Parts)-1 && part.size < 5<<20 {
			s3Error(w, http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
			return
		}
		size += part.size
		if part.data == nil || size > s.keepLimit {
			keep = false
		}
		if keep {
			whole.Write(part.data)
			data = append(data, part.data...)
		}
	}
	obj := &object{size: size}
	if keep {
		obj.sha, obj.data = hex.EncodeToString(whole.Sum(nil)), data
	}
	delete(s.uploads, id)
	s.finish(up.sub, obj, true)
	fmt.Fprintf(w, "<CompleteMultipartUploadResult><Key>%s</Key><ETag>\"%s-%d\"</ETag></CompleteMultipartUploadResult>", up.key, randomHex(16), len(doc.Parts))
}

// verify finds the submission whose credentials signed r and checks the
// signature by recomputing it with smithy-go's signer over the headers
// the request says it signed. It returns nil and an S3 error code when
// the request is not properly signed.
func (s *Server) verify(r *http.Request) (*Submission, string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return nil, "AccessDenied"
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[2] != "us-west-2" || cred[3] != "s3" || cred[4] != "aws4_request" {
		return nil, "AuthorizationHeaderMalformed"
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	for _, need := range []string{"host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"} {
		if !slices.Contains(signed, need) {
			return nil, "AccessDenied"
		}
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != cred[1] {
		return nil, "AccessDenied"
	}
	s.mu.Lock()
	var sub *Submission
	for _, c := range s.subs {
		if c.AccessKey == cred[0] {
			sub = c
		}
	}
	now := s.now()
	s.mu.Unlock()
	if sub == nil {
		return nil, "InvalidAccessKeyId"
	}
	if d := now.Sub(at); d > 15*time.Minute || d < -15*time.Minute {
		return nil, "RequestTimeTooSkewed"
	}
	if r.Header.Get("X-Amz-Security-Token") != sub.Token {
		return nil, "InvalidToken"
	}
	payload, err := hex.DecodeString(r.Header.Get("X-Amz-Content-Sha256"))
	if err != nil || len(payload) != sha256.Size {
		return nil, "InvalidArgument"
	}
	// A copy holding only what was signed, as it arrived.
	c, _ := http.NewRequest(r.Method, "http://"+r.Host+r.RequestURI, nil)
	c.Host = r.Host
	rules := signedSet{}
	for _, h := range signed {
		rules[h] = true
		if h != "host" {
			c.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	err = smithy.New(func(o *v4.SignerOptions) {
		o.DisableDoublePathEscape = true
		o.AddPayloadHashHeader = true
		o.HeaderRules = rules
	}).SignRequest(&smithy.SignRequestInput{Request: c, PayloadHash: payload, Service: "s3", Region: "us-west-2", Time: at,
		Credentials: credentials.Credentials{AccessKeyID: sub.AccessKey, SecretAccessKey: sub.Secret, SessionToken: sub.Token}})
	if err != nil || c.Header.Get("Authorization") != auth {
		return nil, "SignatureDoesNotMatch"
	}
	return sub, ""
}
