package sigv4_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/sigv4"

	"github.com/aws/smithy-go/aws-http-auth/credentials"
	smithy "github.com/aws/smithy-go/aws-http-auth/sigv4"
	v4 "github.com/aws/smithy-go/aws-http-auth/v4"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func signature(auth string) string {
	_, sig, _ := strings.Cut(auth, "Signature=")
	return sig
}

// The S3 examples of "Authenticating Requests: Using the Authorization
// Header" (AWS Signature Version 4), with their published signatures.
func TestS3DocumentationExamples(t *testing.T) {
	t.Parallel()
	s3 := sigv4.Signer{
		Credentials: sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Region:      "us-east-1", Service: "s3",
	}
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, method, url, body string
		headers                 map[string]string
		sign                    []string
		signedHeaders, want     string
	}{
		{name: "GET Object", method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
			headers: map[string]string{"Range": "bytes=0-9"}, sign: []string{"range"},
			signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
			want:          "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		{name: "PUT Object", method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test$file.text", body: "Welcome to Amazon S3.",
			headers: map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY"}, sign: []string{"date"},
			signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			want:          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
		{name: "GET Bucket Lifecycle", method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle",
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			want:          "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
		{name: "GET Bucket (List Objects)", method: "GET", url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			want:          "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			s := s3
			s.Headers = tc.sign
			if err := s.Sign(req, sha(tc.body), at); err != nil {
				t.Fatal(err)
			}
			auth := req.Header.Get("Authorization")
			if !strings.Contains(auth, "SignedHeaders="+tc.signedHeaders+",") {
				t.Errorf("Authorization = %s, want SignedHeaders=%s", auth, tc.signedHeaders)
			}
			if got := signature(auth); got != tc.want {
				t.Errorf("signature = %s, want %s", got, tc.want)
			}
		})
	}
}

// Vectors of the public aws-sig-v4-test-suite (service "service",
// us-east-1, 20150830T123600Z).
func TestSuiteVectors(t *testing.T) {
	t.Parallel()
	s := sigv4.Signer{
		Credentials: sigv4.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
		Region:      "us-east-1", Service: "service",
	}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	for _, tc := range []struct{ name, method, url, want string }{
		{"get-vanilla", "GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tc.method, tc.url, nil)
			if err := s.Sign(req, sigv4.EmptyPayload, at); err != nil {
				t.Fatal(err)
			}
			// The suite's requests carry no x-amz-content-sha256; sign
			// the canonical request without it, as the suite does.
			req.Header.Del("X-Amz-Content-Sha256")
			creq, signed := s.CanonicalRequest(req, sigv4.EmptyPayload)
			scope := "20150830/us-east-1/service/aws4_request"
			got := hmacHex(sigv4.SigningKey(s.Credentials.SecretAccessKey, "20150830", "us-east-1", "service"), sigv4.StringToSign(at, scope, creq))
			if signed != "host;x-amz-date" || got != tc.want {
				t.Errorf("signed %s, signature %s; want host;x-amz-date, %s\n%s", signed, got, tc.want, creq)
			}
		})
	}
}

// TestAgainstSmithy signs requests shaped like the notary upload's (an
// object key with ':', a session token, multipart queries) with this
// package and with smithy-go's independent signer, and compares.
func TestAgainstSmithy(t *testing.T) {
	t.Parallel()
	creds := sigv4.Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE01", SecretAccessKey: "c2VjcmV0/c2VjcmV0+c2VjcmV0c2VjcmV0c2VjcmV0", SessionToken: "IQoJb3JpZ2luX2VjE//////////wEaCXVzLXdlc3QtMiJHMEUCIQ+token=="}
	at := time.Date(2026, 11, 29, 10, 11, 12, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	urls := []string{
		"https://notary-submissions-prod.s3.us-west-2.amazonaws.com/prod/AROARQRX7CZS3PRF6ZA5L:2b0d4bd1-1c4b-4f53-9d0b-9b8a1a6f6a01",
		"https://notary-submissions-prod.s3-accelerate.amazonaws.com/prod/AROARQRX7CZS3PRF6ZA5L:2b0d4bd1-1c4b-4f53-9d0b-9b8a1a6f6a01?uploads",
		"https://s3.us-west-2.amazonaws.com/notary-submissions-prod/prod/AROA:id?partNumber=12&uploadId=VXBsb2FkIElE+with/slash%3D",
		"http://127.0.0.1:9000/bucket/a%20b/c~d_e.f-g!h*(i)'j?b=2&a=1&a=0",
	}
	for i, u := range urls {
		for _, method := range []string{"PUT", "POST", "GET", "DELETE"} {
			body := fmt.Sprint(r.Uint64())
			mine, _ := http.NewRequest(method, u, strings.NewReader(body))
			theirs, _ := http.NewRequest(method, u, strings.NewReader(body))
			for _, req := range []*http.Request{mine, theirs} {
				// Trimmed on both sides; smithy-go does not fold inner runs of
				// spaces as the SigV4 documentation asks, so none are sent.
				req.Header.Set("X-Amz-Meta-Note", "  a note  ")
				req.Header.Set("Content-Type", "application/octet-stream") // not signed by either
			}
			if err := (sigv4.Signer{Credentials: creds, Region: "us-west-2", Service: "s3"}).Sign(mine, sha(body), at); err != nil {
				t.Fatal(err)
			}
			h := sha256.Sum256([]byte(body))
			// smithy signs the path as it will be sent: send it as ours is.
			theirs.URL.RawPath = sigv4.EncodePath(theirs.URL.Path)
			if err := smithy.New(func(o *v4.SignerOptions) { o.DisableDoublePathEscape = true; o.AddPayloadHashHeader = true }).SignRequest(&smithy.SignRequestInput{
				Request: theirs, PayloadHash: h[:], Service: "s3", Region: "us-west-2", Time: at,
				Credentials: credentials.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
			}); err != nil {
				t.Fatal(err)
			}
			if a, b := mine.Header.Get("Authorization"), theirs.Header.Get("Authorization"); a != b {
				t.Errorf("url %d %s:\n ours   %s\n smithy %s", i, method, a, b)
			}
			if !strings.Contains(mine.Header.Get("Authorization"), "x-amz-security-token") {
				t.Errorf("the session token is not signed: %s", mine.Header.Get("Authorization"))
			}
		}
	}
}

func TestObjectKeyColonIsEncoded(t *testing.T) {
	t.Parallel()
	req, _ := http.NewRequest("PUT", "https://b.s3.us-west-2.amazonaws.com/prod/AROA:abc", bytes.NewReader(nil))
	s := sigv4.Signer{Credentials: sigv4.Credentials{AccessKeyID: "A", SecretAccessKey: "S"}, Region: "us-west-2", Service: "s3"}
	if err := s.Sign(req, sigv4.EmptyPayload, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if got := req.URL.String(); got != "https://b.s3.us-west-2.amazonaws.com/prod/AROA%3Aabc" {
		t.Errorf("wire URL = %s", got)
	}
	creq, _ := s.CanonicalRequest(req, sigv4.EmptyPayload)
	if !strings.Contains(creq, "\n/prod/AROA%3Aabc\n") {
		t.Errorf("canonical request:\n%s", creq)
	}
}

func hmacHex(key []byte, s string) string {
	// the last step of Sign, repeated here for the suite's vectors
	return signWith(key, s)
}
