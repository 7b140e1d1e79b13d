package session

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixedNow is the clock of every test: the moment the "valid" fixture was
// made (testdata/session/make.rb).
var fixedNow = time.Date(2026, 11, 22, 9, 42, 18, 549512137, time.UTC)

// fixtureNames are the sessions make.rb writes, each as <name>.session
// (newlines escaped, as spaceauth prints it) and <name>.yaml.
var fixtureNames = []string{"valid", "expiring", "expired", "noauth"}

const fixtureDir = "../../testdata/session"

// demoKeyPath is the throwaway API key bundled with the action.
const demoKeyPath = "../../testdata/AuthKey_DEMOKEY001.p8"

func fixture(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// rubyCookie is one line of want.txt: what Ruby's HTTP::Cookie makes of a
// fixture cookie.
type rubyCookie struct {
	name    string
	expires time.Time // zero for a session cookie
}

// rubyView reads want.txt, make.rb's record of each fixture as Ruby reads it.
func rubyView(tb testing.TB) map[string][]rubyCookie {
	tb.Helper()
	want := make(map[string][]rubyCookie)
	sc := bufio.NewScanner(strings.NewReader(fixture(tb, "want.txt")))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			tb.Fatalf("want.txt line %q", sc.Text())
		}
		c := rubyCookie{name: f[1]}
		if f[2] != "-" {
			t, err := time.Parse(time.RFC3339Nano, f[2])
			if err != nil {
				tb.Fatal(err)
			}
			c.expires = t
		}
		want[f[0]] = append(want[f[0]], c)
	}
	return want
}

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	ruby := rubyView(t)
	for _, name := range fixtureNames {
		for _, form := range []string{".session", ".yaml"} {
			t.Run(name+form, func(t *testing.T) {
				t.Parallel()
				s, err := Parse(fixture(t, name+form))
				if name == "noauth" {
					if !errors.Is(err, &Error{Kind: KindNoAuthCookie}) {
						t.Fatalf("Parse = %v, want no authentication cookie", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want := ruby[name]
				if len(s.Cookies) != len(want) {
					t.Fatalf("%d cookies, Ruby has %d", len(s.Cookies), len(want))
				}
				for i, c := range s.Cookies {
					got, ok := c.ExpiresAt()
					if c.Name != want[i].name || ok != !want[i].expires.IsZero() || !got.Equal(want[i].expires) {
						t.Errorf("cookie %d: %s expires %v (%v), Ruby says %s expires %v", i, c.Name, got, ok, want[i].name, want[i].expires)
					}
					if !c.Secure || !c.HTTPOnly || c.Path != "/" || c.Value == "" || c.CreatedAt.IsZero() || !c.AccessedAt.Equal(c.CreatedAt) {
						t.Errorf("cookie %d: %+v", i, c)
					}
				}
			})
		}
	}
}

func TestParseValidFields(t *testing.T) {
	t.Parallel()
	s := mustParse(t, fixture(t, "valid.session"))
	created := time.Date(2026, 11, 22, 9, 42, 18, 549512137, time.FixedZone("", 0))
	des, my, dq := s.Cookies[0], s.Cookies[1], s.Cookies[2]
	if !strings.HasPrefix(des.Name, "DES") || des.Domain != "idmsa.apple.com" || !des.ForDomain || des.MaxAge != nil ||
		des.Expires == nil || !des.Expires.Equal(time.Date(2026, 12, 20, 9, 42, 18, 0, time.UTC)) {
		t.Errorf("DES cookie: %+v", des)
	}
	if my.Name != "myacinfo" || my.Domain != "apple.com" || !my.ForDomain || !strings.HasPrefix(my.Value, "DAWTKNV3") {
		t.Errorf("myacinfo cookie: %+v", my)
	}
	if dq.Name != "dqsid" || dq.ForDomain || dq.Expires != nil || dq.MaxAge == nil || *dq.MaxAge != 1800 {
		t.Errorf("dqsid cookie: %+v", dq)
	}
	for _, c := range s.Cookies {
		// All three share created_at through the anchor &1.
		if !c.CreatedAt.Equal(created) || !c.AccessedAt.Equal(created) {
			t.Errorf("%s: created %v accessed %v", c.Name, c.CreatedAt, c.AccessedAt)
		}
	}
	if !des.IsAuth() || !my.IsAuth() || dq.IsAuth() {
		t.Error("IsAuth: want DES and myacinfo, not dqsid")
	}
}

// acceptedVariants are the ways a fixture may reach Parse.
func acceptedVariants(tb testing.TB) []struct{ name, text string } {
	tb.Helper()
	escaped, plain := fixture(tb, "valid.session"), fixture(tb, "valid.yaml")
	return []struct{ name, text string }{
		{"escaped", escaped},
		{"escaped, trailing newline", escaped + "\n"},
		{"escaped, no final \\n", strings.TrimSuffix(escaped, `\n`)},
		{"escaped, surrounding space", "  \t" + escaped + " \r\n"},
		{"escaped, single quotes", "'" + escaped + "'"},
		{"escaped, byte-order mark", "\uFEFF" + escaped},
		{"plain", plain},
		{"plain, no final newline", strings.TrimSuffix(plain, "\n")},
		{"plain, CRLF", strings.ReplaceAll(plain, "\n", "\r\n")},
		{"plain, single quotes", "'" + plain + "'"},
		{"plain, indented list", strings.ReplaceAll(plain, "\n", "\n  ")},
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	want := mustParse(t, fixture(t, "valid.yaml"))
	for _, tc := range acceptedVariants(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if !sameSession(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseOtherShapes(t *testing.T) {
	t.Parallel()
	const head = "---\n- !ruby/object:HTTP::Cookie\n  name: myacinfo\n  value: abc\n  domain: apple.com\n  for_domain: true\n  path: \"/\"\n  secure: true\n  httponly: true\n"
	tests := []struct {
		name    string
		tail    string
		expires time.Time // zero: none
	}{
		{"Z without space", "  expires: 2026-12-01 10:00:00.5Z\n  max_age:\n  created_at: 2026-11-22 09:00:00 Z\n  accessed_at: 2026-11-22 09:00:00 Z\n",
			time.Date(2026, 12, 1, 10, 0, 0, 5e8, time.UTC)},
		{"RFC 3339", "  expires: 2026-12-01T10:00:00+01:00\n  max_age: ~\n  created_at: 2026-11-22T09:00:00Z\n  accessed_at: 2026-11-22T09:00:00Z\n",
			time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"max_age as string", "  expires:\n  max_age: '60'\n  created_at: 2026-11-22 09:00:00 -0700\n  accessed_at: 2026-11-22 09:00:00 -0700\n",
			time.Date(2026, 11, 22, 16, 1, 0, 0, time.UTC)},
		{"max_age wins over expires", "  expires: 2030-01-01 00:00:00 Z\n  max_age: 60\n  created_at: 2026-11-22 09:00:00 Z\n  accessed_at: 2026-11-22 09:00:00 Z\n",
			time.Date(2026, 11, 22, 9, 1, 0, 0, time.UTC)},
		{"session cookie", "  expires:\n  max_age:\n  created_at: 2026-11-22 09:00:00 Z\n  accessed_at: 2026-11-22 09:00:00 Z\n", time.Time{}},
		{"unknown field ignored", "  expires:\n  max_age:\n  created_at: 2026-11-22 09:00:00 Z\n  accessed_at: 2026-11-22 09:00:00 Z\n  origin: https://apple.com\n", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, head+tc.tail)
			got, ok := s.ExpiresAt()
			if ok != !tc.expires.IsZero() || !got.Equal(tc.expires) {
				t.Errorf("ExpiresAt = %v, %v; want %v", got, ok, tc.expires)
			}
		})
	}
}

func TestSessionExpiresAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		want    time.Time
		left    time.Duration // from fixedNow
	}{
		// The DES cookie ends before myacinfo; dqsid, earliest of all, does not count.
		{"valid", time.Date(2026, 12, 20, 9, 42, 18, 0, time.UTC), 28*24*time.Hour - 549512137},
		// max_age 30 days from 27 days ago.
		{"expiring", fixedNow.Add(72 * time.Hour), 72 * time.Hour},
		{"expired", time.Date(2026, 10, 31, 8, 0, 0, 0, time.UTC), -(22*24*time.Hour + time.Hour + 42*time.Minute + 18*time.Second + 549512137)},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			for _, form := range []string{".session", ".yaml"} {
				s := mustParse(t, fixture(t, tc.fixture+form))
				got, ok := s.ExpiresAt()
				if !ok || !got.Equal(tc.want) || got.Sub(fixedNow) != tc.left {
					t.Errorf("%s: ExpiresAt = %v, %v (%v left); want %v (%v left)", form, got, ok, got.Sub(fixedNow), tc.want, tc.left)
				}
			}
		})
	}

	t.Run("only session cookies", func(t *testing.T) {
		t.Parallel()
		s := Session{Cookies: []Cookie{{Name: "myacinfo"}, {Name: "DES1"}, {Name: "dqsid", Expires: &fixedNow}}}
		if got, ok := s.ExpiresAt(); ok {
			t.Errorf("ExpiresAt = %v, want none", got)
		}
	})
	t.Run("huge max_age", func(t *testing.T) {
		t.Parallel()
		for _, n := range []int64{1 << 62, -1 << 62} {
			c := Cookie{Name: "myacinfo", MaxAge: &n, CreatedAt: fixedNow}
			got, ok := c.ExpiresAt()
			if d := got.Sub(fixedNow); !ok || (n > 0) != (d > 50*365*24*time.Hour) || (n < 0) != (d < -50*365*24*time.Hour) {
				t.Errorf("max_age %d: ExpiresAt = %v (%v from creation)", n, got, d)
			}
		}
	})
}

// refusal is an input Parse must refuse, and the reason it must give.
type refusal struct {
	name string
	text string
	want reason
}

// edit replaces the first occurrence of old in the valid plain fixture.
func edit(tb testing.TB, old, new string) string {
	tb.Helper()
	plain := fixture(tb, "valid.yaml")
	if !strings.Contains(plain, old) {
		tb.Fatalf("valid.yaml has no %q", old)
	}
	return strings.Replace(plain, old, new, 1)
}

func refusedInputs(tb testing.TB) []refusal {
	tb.Helper()
	escaped, plain := fixture(tb, "valid.session"), fixture(tb, "valid.yaml")
	key := fixture(tb, demoKeyPath)
	keyBody := strings.Join(strings.Split(strings.TrimSpace(key), "\n")[1:4], "")
	laughs := "---\n- &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for c := 'b'; c <= 'z'; c++ {
		laughs += fmt.Sprintf("- &%c [%s]\n", c, strings.Repeat("*"+string(c-1)+", ", 11)+"*"+string(c-1))
	}
	tinyCookie := "- !ruby/object:HTTP::Cookie {}\n"

	return []refusal{
		{"empty", "", rEmpty},
		{"white space", " \n\t\r\n ", rEmpty},
		{"empty quotes", "''", rEmpty},
		{"too large", plain + strings.Repeat("#", maxInput), rTooLarge},

		{"API key PEM", key, rAPIKey},
		{"API key PEM escaped", strings.ReplaceAll(key, "\n", `\n`), rAPIKey},
		{"API key base64 of PEM", base64.StdEncoding.EncodeToString([]byte(key)), rAPIKey},
		{"API key base64 DER", keyBody, rAPIKey},
		{"API key JSON", `{"key_id": "DEMOKEY001", "key": "` + strings.ReplaceAll(key, "\n", `\n`) + `"}`, rAPIKey},
		{"RSA key", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n", rAPIKey},

		{"cut mid-escape", strings.TrimSuffix(escaped, "n"), rCutEscape},
		{"cut mid-escape inside a cookie", escaped[:strings.Index(escaped, `\n  max_age`)+1], rCutEscape},
		{"cut mid-entry, escaped", escaped[:len(escaped)/2], rTruncated},
		{"cut in the last field, escaped", escaped[:len(escaped)-len(`*1\n`)] + "*", rTruncated},
		{"cut after a dash, escaped", escaped + "- ", rTruncated},
		{"cut in a tag, escaped", escaped + `- !ruby/obj`, rTruncated},
		{"cut mid-entry, plain", plain[:strings.Index(plain, "  max_age:")], rTruncated},
		{"cut after the tag, plain", plain + "- !ruby/object:HTTP::Cookie\n", rTruncated},

		{"escaped twice", strings.ReplaceAll(escaped, `\n`, `\\n`), rEscapedTwice},
		{"shell line", "export FASTLANE_SESSION='" + escaped + "'", rShellLine},
		{"assignment", "FASTLANE_SESSION=" + escaped, rShellLine},

		{"not YAML", "key: [unclosed", rNotYAML},
		{"tab indentation", "a:\n\t- b", rNotYAML},
		{"damaged", edit(tb, "  domain: apple.com\n", "\tdomain: apple.com\n"), rDamaged},
		{"damaged, unknown anchor", edit(tb, "created_at: &1", "created_at: &2"), rDamaged},
		{"two documents", plain + "---\n- a\n", rMultipleDocuments},

		{"plain text", "hello", rNotList},
		{"a number", "12345", rNotList},
		{"a mapping", "name: myacinfo\nvalue: abc\n", rNotList},
		{"only a comment", "# nothing", rNotList},
		{"document marker", "---", rNotList},
		{"list of strings", "- a\n- b\n", rNotCookie},
		{"untagged mapping", strings.ReplaceAll(plain, " !ruby/object:HTTP::Cookie", ""), rNotCookie},
		{"non-string key", edit(tb, "  httponly: true\n", "  httponly: true\n  [a]: b\n"), rNotCookie},

		{"other Ruby object", strings.Replace(plain, "!ruby/object:HTTP::Cookie", "!ruby/object:Gem::Installer", 1), rTag},
		{"Ruby hash", strings.Replace(plain, "!ruby/object:HTTP::Cookie", "!ruby/hash:ActiveSupport::HashWithIndifferentAccess", 1), rTag},
		{"binary value", edit(tb, "  value: DAWT", "  value: !!binary aGk=\n  x: DAWT"), rTag},
		{"Ruby object value", edit(tb, "  path: \"/\"\n", "  path: !ruby/object:Gem::Requirement {}\n"), rTag},
		{"TAG directive", "%TAG ! tag:evil.example,2026:\n" + plain, rTag},
		{"merge key", edit(tb, "  httponly: true\n", "  httponly: true\n  <<: {x: 1}\n"), rTag},

		{"alias of a list", aliasOfList(tb), rAlias},
		{"cookie as alias", edit(tb, "- !ruby/object:HTTP::Cookie\n  name: myacinfo", "- &c !ruby/object:HTTP::Cookie\n  name: myacinfo") + "- *c\n", rAlias},
		{"billion laughs", laughs, rTooComplex},
		{"too many cookies", "---\n" + strings.Repeat(tinyCookie, maxCookies+1), rTooComplex},
		{"too many nodes", "- [" + strings.Repeat("a,", maxNodes) + "a]\n", rTooComplex},

		{"duplicate field", edit(tb, "  name: myacinfo\n", "  name: myacinfo\n  name: other\n"), rDuplicateField},
		{"missing field, first cookie", edit(tb, "  httponly: true\n", ""), rMissingField},
		{"empty cookie first", "---\n" + tinyCookie + strings.TrimPrefix(plain, "---\n"), rMissingField},

		{"empty name", edit(tb, "name: myacinfo", "name: ''"), rBadName},
		{"name with a space", edit(tb, "name: myacinfo", "name: my acinfo"), rBadName},
		{"name with =", edit(tb, "name: myacinfo", "name: \"a=b\""), rBadName},
		{"name a list", edit(tb, "name: myacinfo", "name: [myacinfo]"), rBadName},
		{"null name", edit(tb, "name: myacinfo", "name:"), rBadName},
		{"value with a control", edit(tb, "  value: DAWT", "  value: \"\\x01\"\n  x: DAWT"), rBadValue},
		{"value a mapping", edit(tb, "  value: DAWT", "  value: {a: b}\n  x: DAWT"), rBadValue},
		{"domain a list", edit(tb, "domain: apple.com", "domain: [apple.com]"), rBadText},
		{"flag not a bool", strings.Replace(plain, "secure: true", "secure: maybe", 1), rBadFlag},
		{"flag a number", strings.Replace(plain, "httponly: true", "httponly: 1", 1), rBadFlag},
		{"max_age a fraction", strings.Replace(plain, "max_age: 1800", "max_age: 1.5", 1), rBadMaxAge},
		{"max_age a word", strings.Replace(plain, "max_age: 1800", "max_age: soon", 1), rBadMaxAge},
		{"max_age overflows", strings.Replace(plain, "max_age: 1800", "max_age: 99999999999999999999", 1), rBadMaxAge},
		{"expires a word", strings.Replace(plain, "expires: 2026-12-22 09:42:18.000000000 +00:00", "expires: next month", 1), rBadExpires},
		{"expires February 30", strings.Replace(plain, "expires: 2026-12-22 09:42:18.000000000 +00:00", "expires: 2026-02-30 09:42:18 +00:00", 1), rBadExpires},
		{"expires a date only", strings.Replace(plain, "expires: 2026-12-22 09:42:18.000000000 +00:00", "expires: 2026-12-22", 1), rBadExpires},
		{"expires a number", strings.Replace(plain, "expires: 2026-12-22 09:42:18.000000000 +00:00", "expires: 1797500000", 1), rBadExpires},
		{"created_at a word", strings.Replace(plain, "&1 2026-11-22 09:42:18.549512137 +00:00", "&1 yesterday", 1), rBadCreated},
		{"created_at null", strings.Replace(plain, "&1 2026-11-22 09:42:18.549512137 +00:00", "&1 ~", 1), rBadCreated},
		{"created_at bad offset", strings.Replace(plain, "+00:00\n  accessed_at", "+25:00\n  accessed_at", 1), rBadCreated},

		{"no auth cookie", fixture(tb, "noauth.session"), rNoAuthCookie},
		{"no auth cookie, plain", fixture(tb, "noauth.yaml"), rNoAuthCookie},
		{"empty list", "--- []\n", rNoAuthCookie},
		{"renamed auth cookies", strings.NewReplacer("name: myacinfo", "name: xmyacinfo", "name: DES", "name: xDES").Replace(plain), rNoAuthCookie},
	}
}

// aliasOfList is a session whose myacinfo value is an alias of a list.
func aliasOfList(tb testing.TB) string {
	tb.Helper()
	return edit(tb, "- !ruby/object:HTTP::Cookie\n  name: myacinfo\n  value: DAWT",
		"- !ruby/object:HTTP::Cookie\n  x: &l [a, b]\n  name: myacinfo\n  value: *l\n  y: DAWT")
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range refusedInputs(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tc.text)
			if err == nil {
				t.Fatalf("Parse accepted it: %d cookies", len(s.Cookies))
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			want := tc.want.err()
			if *e != *want {
				t.Errorf("error = %q (%v), want %q (%v)", e.problem, e.Kind, want.problem, want.Kind)
			}
			if !errors.Is(err, &Error{Kind: want.Kind}) {
				t.Errorf("errors.Is(err, Kind %v) = false", want.Kind)
			}
			checkLeak(t, tc.text, err.Error())
			checkLeak(t, tc.text, e.hint)
		})
	}
}

// TestParseEveryCut cuts the escaped fixtures at every byte: each prefix
// must be refused as truncated, unless it ends exactly after a whole
// cookie, when it is the cookies before the cut.
func TestParseEveryCut(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"valid", "expiring", "expired"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text := fixture(t, name+".session")
			full := mustParse(t, text)
			start := len(`---\n- `)
			for i := start; i < len(text)-len(`\n`); i++ {
				s, err := Parse(text[:i])
				if err == nil {
					if !strings.HasSuffix(text[:i], "*1") && !strings.HasSuffix(text[:i], `*1\n`) ||
						!slices.EqualFunc(s.Cookies, full.Cookies[:len(s.Cookies)], sameCookie) {
						t.Errorf("cut at %d (…%q): accepted %d cookies", i, tail(text[:i]), len(s.Cookies))
					}
					continue
				}
				if !errors.Is(err, &Error{Kind: KindTruncated}) {
					t.Errorf("cut at %d (…%q): %v, want truncated", i, tail(text[:i]), err)
				}
			}
		})
	}
}

// tail is the end of a cut fixture, which holds no cookie value, for
// failure messages.
func tail(s string) string { return s[max(0, len(s)-12):] }

func TestParseSizeLimit(t *testing.T) {
	t.Parallel()
	plain := fixture(t, "valid.yaml")
	padded := plain + strings.Repeat("#", maxInput-len(plain))
	if _, err := Parse(padded); err != nil {
		t.Errorf("Parse of exactly 64 KiB: %v", err)
	}
	if _, err := Parse(padded + "#"); !errors.Is(err, &Error{Kind: KindTooLarge}) {
		t.Errorf("Parse of 64 KiB + 1 = %v, want too large", err)
	}
}

// TestParseAliasesNotExpanded checks that a document whose aliases would
// expand to billions of nodes is refused at once: yaml.v3 does not expand
// aliases into a yaml.Node, and Parse never follows one beyond a scalar.
func TestParseAliasesNotExpanded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("---\n- !ruby/object:HTTP::Cookie\n  a0: &a0 [x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("  name: *a20\n")
	// Expanded, this would be 8^21 nodes: a Parse that followed the
	// aliases would never return, and the test's deadline would catch it.
	_, err := Parse(b.String())
	if !errors.Is(err, &Error{Kind: KindNotCookies}) {
		t.Errorf("Parse = %v, want not a cookie list (alias)", err)
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	seen := make(map[string]reason)
	for r := rOK + 1; r < numReasons; r++ {
		e := r.err()
		if e.Kind == 0 || e.Kind.String() == "unknown kind" {
			t.Errorf("reason %d has no kind", r)
		}
		if e.problem == "" || e.hint == "" || strings.ContainsAny(e.problem+e.hint, "\r\n") {
			t.Errorf("reason %d: problem %q / hint %q not one line each", r, e.problem, e.hint)
		}
		if r != rUnknown && strings.Contains(e.problem, "unknown reason") {
			t.Errorf("reason %d has no template", r)
		}
		if first := e.problem[:1]; first != strings.ToLower(first) {
			t.Errorf("reason %d: problem %q does not start in lower case", r, e.problem)
		}
		if prev, dup := seen[e.problem]; dup {
			t.Errorf("reasons %d and %d share problem %q", prev, r, e.problem)
		}
		seen[e.problem] = r
		if got := e.Error(); got != "session: "+e.problem {
			t.Errorf("Error() = %q", got)
		}
	}
	if !strings.Contains(rCutEscape.err().problem, `\n`) || !strings.Contains(rEscapedTwice.err().problem, `\\n`) {
		t.Error("the escape templates do not show the escapes")
	}
}

func TestParseRubyTime(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("", 3600)
	tests := []struct {
		in   string
		want time.Time // zero: refused
	}{
		{"2026-11-22 09:42:18.549512137 +00:00", fixedNow},
		{"2026-11-22 10:42:18.549512137 +01:00", fixedNow},
		{"2026-11-22 10:42:18.549512137 +0100", fixedNow},
		{"2026-11-22 10:42:18.549512137 +01", fixedNow},
		{"2026-11-22 09:42:18.549512137 Z", fixedNow},
		{"2026-11-22 09:42:18.549512137Z", fixedNow},
		{"2026-11-22 09:42:18.549512137", fixedNow},
		{"2026-11-22T09:42:18.549512137Z", fixedNow},
		{"2026-11-22t09:42:18.549512137z", fixedNow},
		{"2026-11-22 09:42:18.5495121379999 Z", fixedNow},
		{"2026-11-22 02:42:18.549512137 -07:00", fixedNow},
		{"2026-11-22 05:12:18.549512137 -04:30", fixedNow},
		{"2026-11-22 10:42:18 +01:00", time.Date(2026, 11, 22, 10, 42, 18, 0, cet)},
		{"2026-11-22 10:42:18. +01:00", time.Date(2026, 11, 22, 10, 42, 18, 0, cet)},
		{"2026-11-22 10:42:18.5 +01:00", time.Date(2026, 11, 22, 10, 42, 18, 5e8, cet)},
		{"2026-1-2 3:04:05 Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2028-02-29 00:00:00 Z", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},

		{"", time.Time{}},
		{"2026-11-22", time.Time{}},
		{"2026-11-22 09:42", time.Time{}},
		{"2027-02-29 00:00:00 Z", time.Time{}},
		{"2026-13-01 00:00:00 Z", time.Time{}},
		{"2026-00-01 00:00:00 Z", time.Time{}},
		{"2026-11-00 00:00:00 Z", time.Time{}},
		{"2026-11-22 24:00:00 Z", time.Time{}},
		{"2026-11-22 09:60:00 Z", time.Time{}},
		{"2026-11-22 09:42:60 Z", time.Time{}},
		{"2026-11-22 09:42:18 +24:00", time.Time{}},
		{"2026-11-22 09:42:18 +01:60", time.Time{}},
		{"2026-11-22 09:42:18 UTC", time.Time{}},
		{"2026-11-22 09:42:18 +01:00 ", time.Time{}},
		{"Sun, 22 Nov 2026 09:42:18 GMT", time.Time{}},
		{"2026-11-22 09:42:18." + strings.Repeat("1", 80) + " Z", time.Time{}},
		{"１２３４-11-22 09:42:18 Z", time.Time{}},
	}
	for _, tc := range tests {
		got, ok := parseRubyTime(tc.in)
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("parseRubyTime(%q) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/=._]{8,}`)

// checkLeak fails if msg is not one line or holds any 8-character piece of
// a word of the input that is not in the fixed templates' own vocabulary.
func checkLeak(t *testing.T, input, msg string) {
	t.Helper()
	if msg == "" || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("message %q is not a single non-empty line", msg)
	}
	for _, run := range base64Run.FindAllString(strings.ReplaceAll(input, `\n`, "\n"), -1) {
		if strings.Contains(allTemplates(), run) {
			continue // a word such as "FASTLANE_SESSION" that the templates use
		}
		for i := 0; i+8 <= len(run); i++ {
			if piece := run[i : i+8]; strings.Contains(msg, piece) && !strings.Contains(allTemplates(), piece) {
				t.Fatalf("message %q contains %q from the input", msg, piece)
			}
		}
	}
}

// allTemplates is the text of every template, joined.
func allTemplates() string {
	var b strings.Builder
	for r := rOK + 1; r < numReasons; r++ {
		e := r.err()
		b.WriteString(e.problem + "\n" + e.hint + "\n")
	}
	return b.String()
}

func mustParse(tb testing.TB, text string) *Session {
	tb.Helper()
	s, err := Parse(text)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func sameSession(a, b *Session) bool {
	return slices.EqualFunc(a.Cookies, b.Cookies, sameCookie)
}

// sameCookie compares cookies field by field, times by instant.
func sameCookie(a, b Cookie) bool {
	sameTime := func(x, y *time.Time) bool { return x == nil && y == nil || x != nil && y != nil && x.Equal(*y) }
	sameInt := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Name == b.Name && a.Value == b.Value && a.Domain == b.Domain && a.Path == b.Path &&
		a.Secure == b.Secure && a.HTTPOnly == b.HTTPOnly && a.ForDomain == b.ForDomain &&
		sameTime(a.Expires, b.Expires) && sameInt(a.MaxAge, b.MaxAge) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.AccessedAt.Equal(b.AccessedAt)
}

// psych writes a session as Psych writes HTTP::Cookie objects, quoting
// every string, for the round trip in FuzzParse.
func psych(s *Session) string {
	var b strings.Builder
	b.WriteString("---\n")
	tm := func(t time.Time) string { return t.Format("2006-01-02 15:04:05.000000000 -07:00") }
	for _, c := range s.Cookies {
		fmt.Fprintf(&b, "- !ruby/object:HTTP::Cookie\n  name: %s\n  value: %s\n  domain: %s\n  for_domain: %t\n  path: %s\n  secure: %t\n  httponly: %t\n",
			strconv.Quote(c.Name), strconv.Quote(c.Value), strconv.Quote(c.Domain), c.ForDomain, strconv.Quote(c.Path), c.Secure, c.HTTPOnly)
		b.WriteString("  expires:")
		if c.Expires != nil {
			b.WriteString(" " + tm(*c.Expires))
		}
		b.WriteString("\n  max_age:")
		if c.MaxAge != nil {
			fmt.Fprintf(&b, " %d", *c.MaxAge)
		}
		fmt.Fprintf(&b, "\n  created_at: %s\n  accessed_at: %s\n", tm(c.CreatedAt), tm(c.AccessedAt))
	}
	return b.String()
}

func TestPsychRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"valid", "expiring", "expired"} {
		s := mustParse(t, fixture(t, name+".yaml"))
		again := mustParse(t, strings.ReplaceAll(psych(s), "\n", `\n`))
		if !sameSession(s, again) {
			t.Errorf("%s: round trip changed the session", name)
		}
	}
}

func TestEscaped(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"---\n- a\n":         `---\n- a\n`,
		"---\n- a":           `---\n- a\n`,
		`---\n- a\n`:         `---\n- a\n`,
		"  '---\\n- a\\n'  ": `---\n- a\n`,
		"---\r\n- a\r\n":     `---\n- a\n`,
	} {
		if got := Escaped(in); got != want {
			t.Errorf("Escaped(%q) = %q, want %q", in, got, want)
		}
	}
}
