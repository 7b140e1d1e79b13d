package spaceauth

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/session"
)

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "session", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Transcript is what fastlane spaceauth prints, shaped like its output:
// the prompts, then the session coloured cyan and underlined, on a line of
// its own and in an export line.
func Transcript(escaped string) string {
	v := strings.TrimSpace(escaped)
	return "Available session is not valid anymore. Continuing with normal login.\n" +
		"Two-factor Authentication (6 digits code) is enabled for account 'you@example.com'\n" +
		"Please enter the 6 digit code: " + "\n" +
		"Requesting session...\n" +
		"Successfully logged in to App Store Connect\n\n" +
		"Pass the following via the FASTLANE_SESSION environment variable:\n" +
		"\x1b[4m\x1b[36m" + v + "\x1b[0m\x1b[0m\n\n\n" +
		"Example:\n" +
		"\x1b[4m\x1b[36mexport FASTLANE_SESSION='" + v + "'\x1b[0m\x1b[0m\n"
}

func TestFindAcceptsEveryShape(t *testing.T) {
	t.Parallel()
	escaped := fixture(t, "valid.session")
	yaml := fixture(t, "valid.yaml")
	want, err := session.Parse(escaped)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"escaped":                 escaped,
		"escaped, no newline":     strings.TrimSpace(escaped),
		"yaml":                    yaml,
		"single quotes":           "'" + strings.TrimSpace(escaped) + "'\n",
		"double quotes":           `"` + strings.TrimSpace(escaped) + `"`,
		"export line":             "export FASTLANE_SESSION='" + strings.TrimSpace(escaped) + "'\n",
		"coloured":                "\x1b[4m\x1b[36m" + strings.TrimSpace(escaped) + "\x1b[0m\x1b[0m\n",
		"transcript":              Transcript(escaped),
		"transcript, CRLF":        strings.ReplaceAll(Transcript(escaped), "\n", "\r\n"),
		"yaml inside other lines": "Successfully logged in\n" + yaml + "Done.\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Find(in)
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			if len(f.Session.Cookies) != len(want.Cookies) {
				t.Fatalf("%d cookies, want %d", len(f.Session.Cookies), len(want.Cookies))
			}
			for i, c := range f.Session.Cookies {
				if c.Name != want.Cookies[i].Name || c.Value != want.Cookies[i].Value {
					t.Errorf("cookie %d is %s, want %s", i, c.Name, want.Cookies[i].Name)
				}
			}
			if session.Escaped(f.Raw) != session.Escaped(escaped) {
				t.Errorf("the escaped form differs from spaceauth's")
			}
			if strings.Contains(f.Raw, "\x1b") {
				t.Error("colour codes left in the session")
			}
		})
	}
}

func TestFindRefuses(t *testing.T) {
	t.Parallel()
	escaped := strings.TrimSpace(fixture(t, "valid.session"))
	key := fixture(t, filepath.Join("..", "AuthKey_DEMOKEY001.p8"))
	tests := []struct {
		name     string
		in       string
		notFound bool
		kind     session.Kind
	}{
		{name: "empty", in: "", kind: session.KindEmpty},
		{name: "a word", in: "hello", kind: session.KindNotCookies},
		{name: "a transcript without a session", in: "Please enter the 6 digit code: \nInvalid code\n", notFound: true},
		{name: "cut short", in: escaped[:len(escaped)/2], kind: session.KindTruncated},
		{name: "cut short in a transcript", in: Transcript(escaped[:len(escaped)/2]), kind: session.KindTruncated},
		{name: "an API key", in: key, kind: session.KindAPIKey},
		{name: "no auth cookie", in: fixture(t, "noauth.session"), kind: session.KindNoAuthCookie},
		{name: "escaped twice", in: strings.ReplaceAll(escaped, `\n`, `\\n`), kind: session.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Find(tc.in)
			if tc.notFound {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("err %v, want ErrNotFound", err)
				}
				return
			}
			var se *session.Error
			if !errors.As(err, &se) || se.Kind != tc.kind {
				t.Fatalf("err %v, want a session error of kind %v", err, tc.kind)
			}
		})
	}
}

func TestStripANSI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":                          "plain",
		"\x1b[4m\x1b[36mcyan\x1b[0m":     "cyan",
		"a\x1b[1;31mb\x1b[0mc":           "abc",
		"\x1b]0;title\x07text":           "text",
		"cut \x1b[3":                     "cut ",
		"\x1b(Bx":                        "Bx",
		"\u009b36mx":                     "x",
		"tab\there \x1b[K\x1b[2Jcleared": "tab\there cleared",
	} {
		if got := StripANSI(in); got != want {
			t.Errorf("StripANSI(%q) = %q, want %q", in, got, want)
		}
	}
}

// filtered writes in through a Passthrough in chunks of n bytes.
func filtered(t testing.TB, in string, n int) string {
	var out bytes.Buffer
	p := NewPassthrough(&out)
	for len(in) > 0 {
		k := min(n, len(in))
		if _, err := p.Write([]byte(in[:k])); err != nil {
			t.Fatal(err)
		}
		in = in[k:]
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestPassthroughHidesTheSessionAndShowsTheRest(t *testing.T) {
	t.Parallel()
	escaped := fixture(t, "valid.session")
	s, err := session.Parse(escaped)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{Transcript(escaped), fixture(t, "valid.yaml"), escaped,
		"'" + strings.TrimSpace(escaped) + "'", "Logged in\n" + fixture(t, "valid.yaml") + "Done.\n"} {
		for _, n := range []int{1, 3, 7, 64, 1 << 20} {
			got := filtered(t, in, n)
			for _, c := range s.Cookies {
				if strings.Contains(got, c.Value) || strings.Contains(got, c.Name+"\\n") {
					t.Fatalf("chunks of %d: cookie %s shown:\n%s", n, c.Name, got)
				}
			}
			if strings.Contains(got, "!ruby") {
				t.Errorf("chunks of %d: YAML shown:\n%s", n, got)
			}
			if !strings.Contains(got, "not shown") {
				t.Errorf("chunks of %d: no note in %q", n, got)
			}
			if want := filtered(t, in, 1<<20); got != want {
				t.Errorf("chunks of %d give %q, whole gives %q", n, got, want)
			}
		}
	}
	got := filtered(t, Transcript(escaped), 5)
	for _, want := range []string{"Please enter the 6 digit code: ", "Successfully logged in", "Example:\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from %q", want, got)
		}
	}
	// Text after a multi-line session is shown again.
	if after := filtered(t, "Logged in\n"+fixture(t, "valid.yaml")+"Done.\n", 5); !strings.Contains(after, "Done.") {
		t.Errorf("the line after the session is not shown: %q", after)
	}
	if strings.Contains(got, "export FASTLANE_SESSION") {
		t.Error("the export line was shown")
	}
}

// TestPassthroughShowsAPromptAtOnce: a prompt without a newline is written
// as soon as it arrives, since the person must read it before typing.
func TestPassthroughShowsAPromptAtOnce(t *testing.T) {
	t.Parallel()
	for _, prompt := range []string{"Please enter the 6 digit code: ", "\x1b[1mPassword (for you@example.com): \x1b[0m", "-> code: ", "? "} {
		var out bytes.Buffer
		p := NewPassthrough(&out)
		if _, err := p.Write([]byte("Two-factor Authentication is enabled\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Write([]byte(prompt)); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(out.String(), prompt) {
			t.Errorf("after the prompt %q the output is %q", prompt, out.String())
		}
	}
}

func FuzzFind(f *testing.F) {
	escaped := fixture(f, "valid.session")
	f.Add(escaped)
	f.Add(Transcript(escaped))
	f.Add(fixture(f, "valid.yaml"))
	f.Add(fixture(f, "expiring.yaml"))
	f.Add("export FASTLANE_SESSION='" + escaped + "'")
	f.Add("hello\n\x1b[36mworld")
	f.Fuzz(func(t *testing.T, in string) {
		found, err := Find(in)
		if err == nil {
			if found.Session == nil || len(found.Tried) == 0 || found.Tried[len(found.Tried)-1] != found.Raw {
				t.Fatal("a found session without its record")
			}
			if _, err := session.Parse(found.Raw); err != nil {
				t.Fatalf("Raw does not parse again: %v", err)
			}
			return
		}
		var se *session.Error
		if !errors.Is(err, ErrNotFound) && !errors.As(err, &se) {
			t.Fatalf("error of an unexpected type: %T %v", err, err)
		}
	})
}

// FuzzPassthrough checks that the output does not depend on how the input
// is cut into writes, and that a session's cookie values never pass.
func FuzzPassthrough(f *testing.F) {
	escaped := fixture(f, "valid.session")
	s, err := session.Parse(escaped)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Please enter the code: ", "\nDone\n", uint8(3))
	f.Add("\x1b[36m", "\x1b[0m\n", uint8(1))
	f.Add("", "", uint8(9))
	f.Fuzz(func(t *testing.T, before, after string, n uint8) {
		in := before + "\n" + Transcript(escaped) + after
		got := filtered(t, in, int(n)+1)
		if want := filtered(t, in, len(in)+1); got != want {
			t.Fatalf("chunks of %d give %q, whole gives %q", int(n)+1, got, want)
		}
		for _, c := range s.Cookies {
			if strings.Contains(got, c.Value) && !strings.Contains(before+after, c.Value) {
				t.Fatalf("cookie %s passed", c.Name)
			}
		}
	})
}
