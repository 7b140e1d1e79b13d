// Package session reads fastlane spaceauth sessions (FASTLANE_SESSION),
// says when they expire, and checks them live, without ever printing a
// cookie value.
//
// `fastlane spaceauth` logs in with an Apple ID, keeps the cookies whose
// name starts with "myacinfo" or "DES" or is "dqsid", and prints them as
// Ruby's YAML dump of HTTP::Cookie objects with every newline written as the
// two characters \n. spaceship reads FASTLANE_SESSION back by turning each
// \n into a newline. Parse accepts that escaped form and the same YAML with
// real newlines, walks the YAML itself and refuses every tag but
// !ruby/object:HTTP::Cookie. Refusals are *Error values whose text is a
// fixed template that never repeats the input, so they are safe in public
// logs.
//
// Secrets lists what must be masked in logs; call it before Parse so that
// even a refused session is masked. Check asks App Store Connect whether the
// session still works, as spaceship does.
package session

import (
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/asc-auth/action/internal/keys"
)

// maxInput is the largest value Parse reads. spaceauth's three cookies take
// about 2 KiB; the cap only stops a wrong secret (an archive, a log) from
// being parsed.
const maxInput = 64 << 10

// Limits on the YAML, far above any real session (three cookies, eleven
// fields each, two aliases per cookie) and far below what would make the
// walk slow. Aliases are never expanded beyond one plain value, so they
// cannot multiply the work; the cap is a second line of defence.
const (
	maxCookies = 64
	maxNodes   = 4096
	maxAliases = 256
)

// cookieTag is the one YAML tag a session may carry: Psych writes it for
// each HTTP::Cookie. Any other tag could make a Ruby reader build another
// object, so Parse refuses it rather than ignore it.
const cookieTag = "!ruby/object:HTTP::Cookie"

// Session is a fastlane session: the cookies spaceauth kept.
type Session struct {
	Cookies []Cookie
}

// Cookie is one HTTP::Cookie of a session, as Ruby's YAML dump has it.
type Cookie struct {
	Name, Value, Domain, Path string
	Secure, HTTPOnly          bool
	// ForDomain is the domain flag: the cookie is sent to the domain's
	// subdomains too, as if its domain had a leading dot.
	ForDomain bool
	// Expires is the expiry date, or nil for none.
	Expires *time.Time
	// MaxAge is the lifetime in seconds from CreatedAt, or nil for none.
	MaxAge                *int64
	CreatedAt, AccessedAt time.Time
}

// ExpiresAt returns when the cookie expires: CreatedAt + MaxAge if MaxAge
// is set, else Expires. It reports false for a session cookie, which has
// neither. MaxAge wins over Expires as in HTTP::Cookie, which drops Expires
// when it reads a cookie that has both.
func (c Cookie) ExpiresAt() (time.Time, bool) {
	if c.MaxAge != nil {
		// A lifetime beyond a century is as good as forever and would
		// overflow a time.Duration.
		const limit = 100 * 365 * 24 * 60 * 60
		sec := min(max(*c.MaxAge, -limit), limit)
		return c.CreatedAt.Add(time.Duration(sec) * time.Second), true
	}
	if c.Expires != nil {
		return *c.Expires, true
	}
	return time.Time{}, false
}

// IsAuth reports whether the cookie is one that keeps the Apple ID signed
// in: myacinfo... (the Apple ID authentication cookie, on apple.com) or
// DES... (the trusted-session cookie that spares a second 2FA prompt, on
// idmsa.apple.com). Both live for weeks. dqsid is not one: App Store
// Connect issues it for half an hour and re-issues it on each use, so its
// expiry says nothing about how long the session lasts.
func (c Cookie) IsAuth() bool {
	return strings.HasPrefix(c.Name, "myacinfo") || strings.HasPrefix(c.Name, "DES")
}

// ExpiresAt returns when the session stops working: the earliest expiry
// among its authentication cookies (see Cookie.IsAuth), since losing
// either means a new login. It reports false if none of them expires.
// The server may end a session sooner; Check asks it.
func (s Session) ExpiresAt() (time.Time, bool) {
	var first time.Time
	found := false
	for _, c := range s.Cookies {
		if !c.IsAuth() {
			continue
		}
		if t, ok := c.ExpiresAt(); ok && (!found || t.Before(first)) {
			first, found = t, true
		}
	}
	return first, found
}

// Parse reads a session as `fastlane spaceauth` prints it: the YAML list of
// HTTP::Cookie objects with each newline written as the two characters \n,
// or the same YAML with real newlines. Surrounding white space and one pair
// of single quotes (from copying spaceauth's export line) are ignored. It
// checks every cookie field and refuses a session with no authentication
// cookie. Values over 64 KiB are refused. Every error is an *Error.
func Parse(text string) (*Session, error) {
	if len(text) > maxInput {
		return nil, rTooLarge.err()
	}
	s, r := prepare(text)
	if r != rOK {
		return nil, r.err()
	}
	yamlText, escaped := unescape(s)
	// Psych ends its output with a newline, so a complete escaped value
	// ends with \n; one that does not was most likely cut short.
	cut := escaped && !strings.HasSuffix(s, `\n`)

	root, bad, r := decode(yamlText)
	if r == rOK && root.Kind != yaml.SequenceNode {
		r = rNotList
	}
	if r == rTag && cut && root.Kind == yaml.SequenceNode && inLastItem(root, bad) {
		r = rTruncated // a tag cut short: "- !ruby/obj"
	}
	if r == rNotYAML || r == rNotList {
		switch {
		case isKey(text):
			r = rAPIKey
		case looksLikeSession(yamlText) && cut:
			r = rTruncated
		case r == rNotYAML && looksLikeSession(yamlText):
			r = rDamaged
		}
		return nil, r.err()
	}
	if r != rOK {
		return nil, r.err()
	}
	sess, r, inLast := readCookies(root)
	if r != rOK {
		// A problem in the last field of the last cookie, or a last
		// cookie without all its fields, is what cutting the value leaves.
		if inLast && (cut || r == rMissingField || r == rNotCookie) {
			r = rTruncated
		}
		return nil, r.err()
	}
	if !hasAuth(sess) {
		return nil, rNoAuthCookie.err()
	}
	return sess, nil
}

// Escaped returns text in the one-line form fastlane spaceauth prints and
// spaceship reads from FASTLANE_SESSION: surrounding white space and single
// quotes removed, every newline written as the two characters \n, the
// last one included.
func Escaped(text string) string {
	s := unshell(trim(text))
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", `\n`)
	if !strings.HasSuffix(s, `\n`) {
		s += `\n`
	}
	return s
}

// unshell removes one pair of surrounding single quotes, as a value copied
// from spaceauth's "export FASTLANE_SESSION='…'" line has.
func unshell(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return trim(s[1 : len(s)-1])
	}
	return s
}

// prepare trims the value and catches the mistakes that need no YAML to
// see: an empty value, a shell line, a private key, a cut or doubled
// escape.
func prepare(text string) (string, reason) {
	s := unshell(trim(text))
	switch {
	case s == "":
		return "", rEmpty
	case strings.Contains(s, "PRIVATE KEY-----"):
		return "", rAPIKey
	case strings.HasPrefix(s, "export ") || strings.HasPrefix(s, "FASTLANE_SESSION=") ||
		strings.HasPrefix(s, "SPACESHIP_SESSION="):
		return "", rShellLine
	case trailingBackslashes(s)%2 == 1:
		return "", rCutEscape
	case strings.Contains(s, `\\n`):
		return "", rEscapedTwice
	}
	return s, rOK
}

// trim removes surrounding white space and byte-order marks.
func trim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
}

func trailingBackslashes(s string) int {
	return len(s) - len(strings.TrimRight(s, `\`))
}

// unescape turns each two-character \n into a newline, as spaceship does
// (ENV["FASTLANE_SESSION"].gsub("\\n", "\n")), and reports whether there
// were any. Cookie values never hold a backslash, so this cannot damage
// one; the YAML itself has a real newline wherever it has \n.
func unescape(s string) (string, bool) {
	if !strings.Contains(s, `\n`) {
		return s, false
	}
	return strings.ReplaceAll(s, `\n`, "\n"), true
}

// looksLikeSession reports whether s starts as Psych's dump of cookies
// does, so that a YAML error in it means damage rather than a wrong value.
func looksLikeSession(s string) bool {
	s = strings.TrimPrefix(s, "---")
	return strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "- "+cookieTag)
}

// isKey reports whether text is a private key in a form keys.Parse reads:
// PEM, base64 of PEM or base64 of DER, of any algorithm.
func isKey(text string) bool {
	_, err := keys.Parse(text)
	if err == nil {
		return true
	}
	var ke *keys.Error
	if !errors.As(err, &ke) {
		return false
	}
	switch ke.Kind {
	case keys.KindRSA, keys.KindCurve, keys.KindEdwards, keys.KindAlgorithm,
		keys.KindEncrypted, keys.KindOpenSSH, keys.KindInvalid, keys.KindMultiple:
		return true
	}
	return false
}

// decode parses s as one YAML document and returns its root node after
// checking every node's tag and counting nodes and aliases. If a tag is
// refused, it also returns the node that carries it.
func decode(s string) (root, bad *yaml.Node, r reason) {
	defer func() {
		// yaml.v3 has panicked on hostile input before (CVE-2022-28948);
		// a panic in it means input it cannot read.
		if recover() != nil {
			root, bad, r = nil, nil, rNotYAML
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(s))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, rNotList // only comments or document markers
		}
		return nil, nil, rNotYAML
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, rMultipleDocuments
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil, rNotList
	}
	root = doc.Content[0]
	bad, r = checkTree(root)
	return root, bad, r
}

// checkTree visits every node once, without following aliases, and
// refuses unexpected tags, returning the node that has one, and oversized
// trees.
func checkTree(root *yaml.Node) (*yaml.Node, reason) {
	nodes, aliases := 0, 0
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nodes++
		if nodes > maxNodes {
			return nil, rTooComplex
		}
		switch n.Kind {
		case yaml.AliasNode:
			aliases++
			if aliases > maxAliases {
				return nil, rTooComplex
			}
			continue // its anchor is checked where it is defined
		case yaml.SequenceNode:
			if n.ShortTag() != "!!seq" {
				return n, rTag
			}
		case yaml.MappingNode:
			if t := n.ShortTag(); t != "!!map" && t != cookieTag {
				return n, rTag
			}
		case yaml.ScalarNode:
			switch n.ShortTag() {
			case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp":
			case cookieTag:
				// A tagged empty entry: a cookie cut right after its tag.
			default:
				return n, rTag // !!binary, !!merge, other Ruby objects, ...
			}
		default:
			return nil, rNotList
		}
		stack = append(stack, n.Content...)
	}
	return nil, rOK
}

// inLastItem reports whether n is the last item of list or the last value
// of that item, where a value cut short ends.
func inLastItem(list, n *yaml.Node) bool {
	if n == nil || len(list.Content) == 0 {
		return false
	}
	last := list.Content[len(list.Content)-1]
	if n == last {
		return true
	}
	return last.Kind == yaml.MappingNode && len(last.Content) > 0 && n == last.Content[len(last.Content)-1]
}

// hasAuth reports whether the session has an authentication cookie.
func hasAuth(s *Session) bool {
	for _, c := range s.Cookies {
		if c.IsAuth() {
			return true
		}
	}
	return false
}

// The fields of HTTP::Cookie's YAML, in the order Psych writes them.
const (
	fName = iota
	fValue
	fDomain
	fForDomain
	fPath
	fSecure
	fHTTPOnly
	fExpires
	fMaxAge
	fCreatedAt
	fAccessedAt
	numFields
)

var fieldNames = [numFields]string{
	"name", "value", "domain", "for_domain", "path", "secure", "httponly",
	"expires", "max_age", "created_at", "accessed_at",
}

// readCookies reads the list of cookies. On failure it also reports
// whether the problem lies at the very end of the document (the last
// field of the last cookie, or a last cookie that is incomplete), where a
// cut value breaks.
func readCookies(list *yaml.Node) (*Session, reason, bool) {
	if len(list.Content) > maxCookies {
		return nil, rTooComplex, false
	}
	sess := &Session{Cookies: make([]Cookie, 0, len(list.Content))}
	for i, item := range list.Content {
		last := i == len(list.Content)-1
		if item.Kind != yaml.MappingNode || item.ShortTag() != cookieTag {
			if item.Kind == yaml.AliasNode {
				return nil, rAlias, false
			}
			// A last entry that is a bare "-" or a lone tag is what a
			// value cut after its dash or tag leaves.
			cutShort := item.Kind == yaml.ScalarNode && (item.ShortTag() == "!!null" || item.ShortTag() == cookieTag)
			return nil, rNotCookie, last && cutShort
		}
		c, r, atEnd := readCookie(item)
		if r != rOK {
			return nil, r, last && atEnd
		}
		sess.Cookies = append(sess.Cookies, c)
	}
	return sess, rOK, false
}

// readCookie reads one HTTP::Cookie mapping. Unknown fields are ignored,
// as HTTP::Cookie ignores them. On failure it reports whether the problem
// is in the mapping's last field or is a missing field.
func readCookie(m *yaml.Node) (Cookie, reason, bool) {
	var fields [numFields]*yaml.Node
	lastKey := len(m.Content) - 2
	lastField := -1
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return Cookie{}, rNotCookie, false
		}
		for f, name := range fieldNames {
			if k.Value != name {
				continue
			}
			if fields[f] != nil {
				return Cookie{}, rDuplicateField, false
			}
			if v.Kind == yaml.AliasNode {
				if v.Alias == nil || v.Alias.Kind != yaml.ScalarNode {
					return Cookie{}, rAlias, false
				}
				v = v.Alias
			}
			if v.Kind != yaml.ScalarNode {
				return Cookie{}, fieldReason(f), i == lastKey
			}
			fields[f] = v
			if i == lastKey {
				lastField = f
			}
		}
	}
	for _, v := range fields {
		if v == nil {
			return Cookie{}, rMissingField, true
		}
	}
	c, f, r := cookieFrom(fields)
	return c, r, r != rOK && f == lastField
}

// cookieFrom converts the fields, checking each as HTTP::Cookie's setters
// do. On failure it returns the field at fault.
func cookieFrom(fields [numFields]*yaml.Node) (Cookie, int, reason) {
	var c Cookie
	var ok bool
	if c.Name, ok = text(fields[fName]); !ok || !validName(c.Name) {
		return Cookie{}, fName, rBadName
	}
	if c.Value, ok = text(fields[fValue]); !ok || strings.ContainsFunc(c.Value, isControl) {
		return Cookie{}, fValue, rBadValue
	}
	if c.Domain, ok = text(fields[fDomain]); !ok {
		return Cookie{}, fDomain, rBadText
	}
	if c.Path, ok = text(fields[fPath]); !ok {
		return Cookie{}, fPath, rBadText
	}
	for _, f := range []struct {
		field int
		dst   *bool
	}{{fForDomain, &c.ForDomain}, {fSecure, &c.Secure}, {fHTTPOnly, &c.HTTPOnly}} {
		if *f.dst, ok = flag(fields[f.field]); !ok {
			return Cookie{}, f.field, rBadFlag
		}
	}
	if v := fields[fExpires]; v.ShortTag() != "!!null" {
		t, ok := timeOf(v)
		if !ok {
			return Cookie{}, fExpires, rBadExpires
		}
		c.Expires = &t
	}
	if v := fields[fMaxAge]; v.ShortTag() != "!!null" {
		n, ok := maxAge(v)
		if !ok {
			return Cookie{}, fMaxAge, rBadMaxAge
		}
		c.MaxAge = &n
	}
	if c.CreatedAt, ok = timeOf(fields[fCreatedAt]); !ok {
		return Cookie{}, fCreatedAt, rBadCreated
	}
	if c.AccessedAt, ok = timeOf(fields[fAccessedAt]); !ok {
		return Cookie{}, fAccessedAt, rBadCreated
	}
	return c, -1, rOK
}

// text reads a scalar as the string Ruby would have. Psych quotes any
// string its reader would take for something else, so a plain scalar is
// its own text, whatever yaml.v3 would make of it; null is the empty
// string.
func text(n *yaml.Node) (string, bool) {
	switch n.ShortTag() {
	case "!!null":
		return "", true
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return n.Value, true
	}
	return "", false
}

// validName is HTTP::Cookie#name='s rule: not empty, and no control
// characters, space or any of , ; \ " =.
func validName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return isControl(r) || strings.ContainsRune(` ,;\"=`, r)
	})
}

// isControl reports whether r is a control character HTTP::Cookie refuses
// in a name or value (\x00-\x1F and \x7F).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// flag reads true or false; null, which Ruby treats as false, is false.
func flag(n *yaml.Node) (bool, bool) {
	switch n.ShortTag() {
	case "!!null":
		return false, true
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		return b, err == nil
	}
	return false, false
}

// digits is HTTP::Cookie#max_age='s rule for a string.
var digits = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-?[0-9]+$`) })

// maxAge reads a whole number of seconds, written as YAML writes integers
// or, as HTTP::Cookie also accepts, as a string of digits.
func maxAge(n *yaml.Node) (int64, bool) {
	switch n.ShortTag() {
	case "!!int":
		v, err := strconv.ParseInt(n.Value, 0, 64)
		return v, err == nil
	case "!!str":
		if !digits().MatchString(n.Value) {
			return 0, false
		}
		v, err := strconv.ParseInt(n.Value, 10, 64)
		return v, err == nil
	}
	return 0, false
}

// timeOf reads a time in Ruby's YAML format.
func timeOf(n *yaml.Node) (time.Time, bool) {
	switch n.ShortTag() {
	case "!!str", "!!timestamp":
		return parseRubyTime(n.Value)
	}
	return time.Time{}, false
}

// fieldReason is the reason for a field that is a list or a mapping.
func fieldReason(f int) reason {
	switch f {
	case fName:
		return rBadName
	case fValue:
		return rBadValue
	case fDomain, fPath:
		return rBadText
	case fForDomain, fSecure, fHTTPOnly:
		return rBadFlag
	case fExpires:
		return rBadExpires
	case fMaxAge:
		return rBadMaxAge
	}
	return rBadCreated
}
