package app

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/cifake"
	"github.com/asc-auth/action/internal/session"
)

// freshSession is the valid fixture with its dates moved to now: made now,
// DES and myacinfo ending in 20 and 22 days, dqsid alive for half an hour.
// It returns the escaped form and the parsed session. Tests that run the
// binary, or Ruby, need it: they use the real clock.
func freshSession(t *testing.T, now time.Time) (string, *session.Session) {
	t.Helper()
	const layout = "2006-01-02 15:04:05.000000000 -07:00"
	now = now.UTC()
	yaml := strings.NewReplacer(
		"2026-12-20 09:42:18.000000000 +00:00", now.Add(20*24*time.Hour).Format(layout),
		"2026-12-22 09:42:18.000000000 +00:00", now.Add(22*24*time.Hour).Format(layout),
		"2026-11-22 09:42:18.549512137 +00:00", now.Format(layout),
	).Replace(readYAML(t))
	escaped := session.Escaped(yaml)
	s, err := session.Parse(escaped)
	if err != nil {
		t.Fatal(err)
	}
	if exp, _ := s.ExpiresAt(); exp.Sub(now) < 19*24*time.Hour {
		t.Fatalf("the fresh session expires %v", exp)
	}
	return escaped, s
}

// fakeFastlane prints what fastlane spaceauth prints, asking for the 2FA
// code on the terminal (its standard input) in the middle, with no newline
// after the prompt, as spaceship's prompt has none.
const fakeFastlane = `#!/bin/sh
printf '[15:04:05]: Two-factor Authentication (6 digits code) is enabled for account '\''you@example.com'\''\n'
printf 'Please enter the 6 digit code: '
read -r code
if [ "$code" != "123456" ]; then printf 'Incorrect verification code\n'; exit 1; fi
printf 'Requesting session...\nSuccessfully logged in to App Store Connect\n\n'
printf 'Pass the following via the FASTLANE_SESSION environment variable:\n'
printf '\033[4m\033[36m%s\033[0m\033[0m\n\n\n' "$SESSION"
printf 'Example:\n'
printf '\033[4m\033[36mexport FASTLANE_SESSION='\''%s'\''\033[0m\033[0m\n' "$SESSION"
`

// buildBinary builds the product binary into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "asc-auth")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a buffer the reading goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSessionStorePipedFromSpaceauth types the command as a person would,
// in a terminal (script(1) gives it a pty): a fake fastlane spaceauth
// piped into asc-auth session store. The 2FA prompt must reach the
// terminal through asc-auth before the code is typed; then the session is
// stored, and never shown.
func TestSessionStorePipedFromSpaceauth(t *testing.T) {
	t.Parallel()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) from util-linux is not installed")
	}
	bin := buildBinary(t, t.TempDir())
	gh := cifake.NewGitHub()
	t.Cleanup(gh.Close)
	gh.AddRepo("acme/app", 101)
	gh.Grant(ghToken, cifake.RepoScope("acme/app"))
	escaped, s := freshSession(t, time.Now())
	fake := filepath.Join(t.TempDir(), "fastlane")
	if err := os.WriteFile(fake, []byte(fakeFastlane), 0o700); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	line := `"$FAKE" spaceauth -u you@example.com | "$ASC" session store --repo acme/app --no-check --github-api-url "$API"`
	cmd := exec.CommandContext(ctx, script, "-qfec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "FAKE="+fake, "ASC="+bin, "API="+gh.URL(), "GH_TOKEN="+ghToken,
		"SESSION="+strings.TrimSpace(escaped), "GITHUB_TOKEN=", "TERM=dumb")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const prompt = "Please enter the 6 digit code: "
	for !strings.Contains(out.String(), prompt) {
		select {
		case <-ctx.Done():
			t.Fatalf("the prompt never reached the terminal; it shows %q", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if before := out.String(); strings.Contains(before, "Successfully logged in") {
		t.Fatalf("the login went on before the code was typed: %q", before)
	}
	if _, err := stdin.Write([]byte("123456\n")); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	stdin.Close()
	text := out.String()
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for _, want := range []string{"Successfully logged in", "not shown", "stored FASTLANE_SESSION in GitHub repository acme/app (created; 2 requests", "days left)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the terminal lacks %q:\n%s", want, text)
		}
	}
	assertNoValue(t, "the terminal", text, s, escaped)
	if strings.Contains(text, "export FASTLANE_SESSION") {
		t.Error("the export line reached the terminal")
	}
	stored, ok := gh.Secret(cifake.RepoScope("acme/app"), "FASTLANE_SESSION")
	if !ok || string(stored.Plaintext) != escaped {
		t.Errorf("stored %.30q…, %v", stored.Plaintext, ok)
	}
}

// requireCrossCheck skips, or fails where ASC_AUTH_CROSSCHECK=required,
// when an independent checker is missing.
func requireCrossCheck(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("ASC_AUTH_CROSSCHECK") == "required" {
		t.Fatalf("%s is required for the cross-check but not installed", what)
	}
	t.Skipf("%s not installed", what)
}

// naclPython finds a python3 that has Debian's python3-nacl: the system's
// own, which may not be the first python3 on PATH.
func naclPython() string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import nacl.public").Run() == nil {
			return p
		}
	}
	return ""
}

const openSealed = `import sys, nacl.public
sk = bytes.fromhex(open(sys.argv[1]).read())
ct = bytes.fromhex(open(sys.argv[2]).read())
sys.stdout.buffer.write(nacl.public.SealedBox(nacl.public.PrivateKey(sk)).decrypt(ct))
`

// loadAsSpaceship loads FASTLANE_SESSION as fastlane's
// load_session_from_env does (each \n made a newline, written to a file,
// HTTP::CookieJar#load), then prints the names of the cookies the jar
// would send to App Store Connect and to idmsa.apple.com.
const loadAsSpaceship = `require 'http-cookie'
require 'tempfile'
file = Tempfile.new('cookie.yml')
file.write(File.read(ARGV[0]).gsub("\\n", "\n"))
file.close
jar = HTTP::CookieJar.new
jar.load(file.path)
puts jar.cookies(URI("https://appstoreconnect.apple.com/olympus/v1/session")).map(&:name).sort.join(",")
puts jar.cookies(URI("https://idmsa.apple.com/appleauth/auth")).map(&:name).sort.join(",")
`

// TestStoredSecretCrossCheck: what the command stored opens with an
// independent sealed-box implementation (libsodium through python3-nacl),
// a flipped byte does not, and the value that comes out loads in Ruby's
// HTTP::Cookie as spaceship loads it, sending the expected cookies.
func TestStoredSecretCrossCheck(t *testing.T) {
	t.Parallel()
	py := naclPython()
	requireCrossCheck(t, py != "", "python3-nacl")
	ruby, _ := exec.LookPath("ruby")
	requireCrossCheck(t, ruby != "" && exec.Command(ruby, "-rhttp-cookie", "-e", "").Run() == nil, "ruby with ruby-http-cookie")

	gh := cifake.NewGitHub()
	t.Cleanup(gh.Close)
	gh.AddRepo("acme/app", 101)
	gh.Grant(ghToken, cifake.RepoScope("acme/app"))
	now := time.Now()
	escaped, s := freshSession(t, now)
	var stdout, stderr strings.Builder
	code := Main(t.Context(), Env{
		Args:   []string{"session", "store", "--repo", "acme/app", "--no-check", "--github-api-url", gh.URL()},
		Getenv: func(k string) string { return map[string]string{"GH_TOKEN": ghToken}[k] },
		Stdin:  strings.NewReader(spaceauthTranscript(escaped)), Stdout: &stdout, Stderr: &stderr,
		Now: func() time.Time { return now }, ReadFile: os.ReadFile, Version: "test",
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	stored, _ := gh.Secret(cifake.RepoScope("acme/app"), "FASTLANE_SESSION")
	sk := gh.PrivateKey(cifake.RepoScope("acme/app"))
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	skFile, ctFile := write("sk", hex.EncodeToString(sk[:])), write("ct", hex.EncodeToString(stored.Sealed))
	plain, err := exec.Command(py, "-c", openSealed, skFile, ctFile).Output()
	if err != nil {
		t.Fatalf("python3-nacl could not open the sealed box: %v", err)
	}
	if string(plain) != escaped {
		t.Fatalf("python3-nacl opened %.30q…, not the session", plain)
	}
	flipped := append([]byte(nil), stored.Sealed...)
	flipped[len(flipped)/2] ^= 0x01
	if out, err := exec.Command(py, "-c", openSealed, skFile, write("bad", hex.EncodeToString(flipped))).Output(); err == nil {
		t.Fatalf("a flipped byte still opened: %.30q", out)
	}

	out, err := exec.Command(ruby, "-e", loadAsSpaceship, write("session", string(plain))).CombinedOutput()
	if err != nil {
		t.Fatalf("Ruby could not load the session as spaceship does: %v\n%s", err, out)
	}
	var des string
	for _, c := range s.Cookies {
		if strings.HasPrefix(c.Name, "DES") {
			des = c.Name
		}
	}
	if want := "dqsid,myacinfo\n" + des + ",myacinfo\n"; string(out) != want {
		t.Errorf("Ruby's jar sends\n%s\nwant\n%s", out, want)
	}
}
