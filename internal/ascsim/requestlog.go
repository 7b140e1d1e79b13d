package ascsim

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// String formats r as one line of the request log: method, path and query
// (decoded, for reading), status and the reason for a refusal or fault,
// such as
//
//	GET /v1/apps?filter[bundleId]=com.example 400 'x' is not a valid value
//	PUT /upload/… (no response) part fault: connection reset
//
// Control characters a client sent are escaped, so a request is always
// one line.
func (r Request) String() string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte(' ')
	b.WriteString(escapeControl(r.Path))
	if r.RawQuery != "" {
		q, err := url.QueryUnescape(r.RawQuery)
		if err != nil {
			q = r.RawQuery
		}
		b.WriteByte('?')
		b.WriteString(escapeControl(q))
	}
	if r.Status == 0 {
		b.WriteString(" (no response)")
	} else {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(r.Status))
	}
	if r.Note != "" {
		b.WriteByte(' ')
		b.WriteString(escapeControl(r.Note))
	}
	return b.String()
}

// escapeControl percent-encodes control characters, and white space other
// than the space, so that s stays on one line of the log.
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !isControl(r) {
			b.WriteRune(r)
			continue
		}
		for _, c := range []byte(string(r)) {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return r != ' ' && (unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029')
}
