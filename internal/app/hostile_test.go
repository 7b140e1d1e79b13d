package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/demo"
)

// jwtSegment matches a JWT's first segment, a base64url JSON object: any
// token, or what is left of one cut short.
var jwtSegment = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}`)

// TestEchoedCredentialsAreNotPrinted points the action and the command
// line at a server that quotes the request's credentials back in its
// errors, as some proxies do. The runner would mask them; the command line
// has no masking, and neither may print them.
func TestEchoedCredentialsAreNotPrinted(t *testing.T) {
	t.Parallel()
	demoKey := string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))
	sim, url := testSimulator(t, func() time.Time { return fixedNow })
	sim.Inject(ascsim.Fault{Kind: ascsim.FaultEchoCredentials, PathPrefix: "/v1/apps"})

	t.Run("action", func(t *testing.T) {
		r := actionstest.New(t)
		for k, v := range map[string]string{"key-id": demo.KeyID, "issuer-id": demo.IssuerID, "private-key": demoKey,
			"api-base-url": url, "build-number": "true", "app": demo.BundleID} {
			r.SetInput(k, v)
		}
		if code := runStep(t, r); code != exitFailure {
			t.Fatalf("exit %d:\n%s", code, r.Stdout)
		}
		if !strings.Contains(r.Stdout.String(), "gateway refused Authorization") {
			t.Fatalf("the echo did not reach the step's error:\n%s", r.Stdout)
		}
		for line := range strings.Lines(r.Stdout.String()) {
			if !strings.HasPrefix(line, "::add-mask::") && jwtSegment.MatchString(line) {
				t.Errorf("a token reaches the log: %s", line)
			}
		}
	})
	t.Run("command line", func(t *testing.T) {
		var stdout, stderr strings.Builder
		code := Main(t.Context(), Env{
			Args: []string{"build-number", "--api-base-url", url, "--app", demo.BundleID, "--issuer-id", demo.IssuerID,
				"--private-key-path", filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")},
			Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
			Now: func() time.Time { return fixedNow }, ReadFile: os.ReadFile,
		})
		if code != exitFailure || !strings.Contains(stderr.String(), "gateway refused Authorization") {
			t.Fatalf("exit %d, stderr %s", code, stderr.String())
		}
		if m := jwtSegment.FindString(stderr.String() + stdout.String()); m != "" {
			t.Errorf("a token reaches the terminal: %s\n%s", m, stderr.String())
		}
	})
}

// TestEchoedSessionIsNotPrinted does the same for the session's cookies,
// on its live check: the refusal is reported by its status alone.
func TestEchoedSessionIsNotPrinted(t *testing.T) {
	t.Parallel()
	sim, url := sessionSimulator(t)
	valid, s := readSession(t, "valid.session")
	sim.Inject(ascsim.Fault{Kind: ascsim.FaultEchoCredentials, PathPrefix: "/olympus"})
	var stdout, stderr strings.Builder
	code := Main(t.Context(), Env{
		Args: []string{"session", "--session-base-url", url}, Getenv: func(string) string { return "" },
		Stdin: strings.NewReader(valid), Stdout: &stdout, Stderr: &stderr,
		Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile,
	})
	// The refusal says what App Store Connect answered, never what it
	// wrote: the server's reply, which quotes the cookies here, is dropped.
	if code != exitFailure || !strings.Contains(stderr.String(), "HTTP 401") || strings.Contains(stderr.String(), "gateway refused") {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	for _, c := range s.Cookies {
		if len(c.Value) >= 8 && strings.Contains(stdout.String()+stderr.String(), c.Value) {
			t.Errorf("cookie %s's value reaches the terminal:\n%s", c.Name, stderr.String())
		}
	}
}

// FuzzEchoedSecrets answers every request with an error body the fuzzer
// writes, in which ${TOKEN}, ${KEYID}, ${ISSUER} and ${KEYLINE} stand for
// the request's token and the key's secrets, and checks that what the
// command line prints holds none of them.
func FuzzEchoedSecrets(f *testing.F) {
	f.Add(uint8(1), `{"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"t","detail":"bad ${TOKEN}"}]}`)
	f.Add(uint8(0), `<html>proxy error for ${TOKEN} (kid ${KEYID}, iss ${ISSUER})</html>`)
	f.Add(uint8(3), `{"errors":[{"status":"404","code":"NOT_FOUND","title":"${KEYLINE}","detail":"${TOKEN}"},{"status":"404","code":"X","title":"${ISSUER}"}]}`)
	f.Add(uint8(2), `{"errors":[{"status":"403","code":"FORBIDDEN","title":"no","detail":"${TOKEN}"}]}`)
	pemKey, err := os.ReadFile(filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8"))
	if err != nil {
		f.Fatal(err)
	}
	var keyLines []string
	for line := range strings.Lines(string(pemKey)) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "-----") {
			keyLines = append(keyLines, l)
		}
	}
	statuses := []int{400, 401, 403, 404, 409, 422}
	f.Fuzz(func(t *testing.T, status uint8, body string) {
		var tokens []string
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			mu.Lock()
			tokens = append(tokens, tok)
			mu.Unlock()
			echo := strings.NewReplacer("${TOKEN}", tok, "${KEYID}", demo.KeyID, "${ISSUER}", demo.IssuerID,
				"${KEYLINE}", keyLines[int(status)%len(keyLines)]).Replace(body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(statuses[int(status)%len(statuses)])
			io.WriteString(w, echo)
		}))
		defer srv.Close()
		var stdout, stderr strings.Builder
		Main(t.Context(), Env{
			Args: []string{"build-number", "--api-base-url", srv.URL, "--app", demo.BundleID, "--issuer-id", demo.IssuerID,
				"--key-id", demo.KeyID, "--private-key", string(pemKey)},
			Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
			Now: func() time.Time { return fixedNow }, ReadFile: os.ReadFile,
		})
		out := stdout.String() + stderr.String()
		secrets := append([]string{demo.KeyID, demo.IssuerID}, keyLines...)
		for _, tok := range tokens {
			secrets = append(secrets, strings.Split(tok, ".")...)
		}
		for _, s := range secrets {
			if len(s) >= 6 && strings.Contains(out, s) {
				t.Fatalf("%.12s… reaches the terminal:\n%s", s, out)
			}
		}
	})
}

// TestEchoedPartSignatureIsNotPrinted: a part host that quotes the
// presigned URL back must not get its signature printed, as the action or
// on the command line.
func TestEchoedPartSignatureIsNotPrinted(t *testing.T) {
	t.Parallel()
	sim, url := testSimulator(t, time.Now)
	sim.InjectPartFault(ascsim.PartFault{Kind: ascsim.PartEchoURL, Part: ascsim.AnyPart})
	signature := regexp.MustCompile(`signature [0-9a-f]{16,}`)
	ipa := writeIPA(t, "6.0", "1")

	r := actionstest.New(t)
	for k, v := range map[string]string{"key-id": demo.KeyID, "issuer-id": demo.IssuerID,
		"private-key": string(readTestdata(t, "AuthKey_DEMOKEY001.p8")), "api-base-url": url, "upload-file": ipa} {
		r.SetInput(k, v)
	}
	code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout, Now: time.Now,
		ReadFile: os.ReadFile, Version: "test", PollInterval: 100 * time.Millisecond})
	if code != exitFailure || !strings.Contains(r.Stdout.String(), "Access Denied: signature ***") {
		t.Fatalf("exit %d; the echo should reach the error, hidden:\n%s", code, r.Stdout)
	}
	for line := range strings.Lines(r.Stdout.String()) {
		if !strings.HasPrefix(line, "::add-mask::") && signature.MatchString(line) {
			t.Errorf("a part URL's signature reaches the log: %s", line)
		}
	}

	var stdout, stderr strings.Builder
	code = Main(t.Context(), Env{
		Args: []string{"upload", "--api-base-url", url, "--issuer-id", demo.IssuerID,
			"--private-key-path", filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8"), writeIPA(t, "6.0", "2")},
		Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr, Now: time.Now, ReadFile: os.ReadFile,
	})
	if code != exitFailure || !strings.Contains(stderr.String(), "Access Denied: signature ***") {
		t.Fatalf("exit %d; the echo should reach the error, hidden:\n%s", code, stderr.String())
	}
	if m := signature.FindString(stderr.String() + stdout.String()); m != "" {
		t.Errorf("a part URL's signature reaches the terminal: %s", m)
	}
}
