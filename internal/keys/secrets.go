package keys

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
)

// minLine is the shortest line SecretForms lists on its own. A shorter line
// (the tail of a re-wrapped body, a lone "==") carries at most two bytes of
// the key, while masking it would star out that text everywhere in the log.
const minLine = 4

// SecretForms returns every string that must be masked in logs for a key
// given as text. From text: the text as given, trimmed, unescaped and
// normalized, and each of its lines. When k is not nil, also: the decoded
// PEM text of a base64 PEM and its lines; the canonical PKCS#8 PEM
// (k.PKCS8PEM), trimmed and line by line; base64 of that PEM; base64 of the
// PKCS#8 DER, canonical and as given; base64 of the SEC1 DER for a SEC1 key;
// and the canonical PEM with its newlines written as the two characters \n,
// as inside JSON, with and without the final one.
//
// Lines that are exactly a -----BEGIN or -----END boundary are left out, as
// they are public and masking them would hide harmless log text; so are
// lines shorter than four characters, which hold at most two bytes.
//
// k may be nil, for a value that has not been or could not be parsed, so
// that the caller can mask before validating. The list has no duplicates and
// no empty strings, and its order depends only on the arguments.
func SecretForms(text string, k *Key) []string {
	var forms []string
	seen := make(map[string]bool)
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			forms = append(forms, s)
		}
	}
	addLines := func(s string) {
		for line := range strings.Lines(strings.ReplaceAll(s, "\r", "\n")) {
			line = trim(line)
			if len(line) >= minLine && !isBoundary(line) {
				add(line)
			}
		}
	}

	unescaped := unescape(text)
	add(text)
	add(trim(text))
	add(unescaped)
	add(trim(unescaped))
	add(normalize(text))
	addLines(text)
	addLines(unescaped)

	der := k.pkcs8DER()
	if der == nil {
		return forms
	}
	if k.inner != "" {
		add(k.inner)
		add(trim(k.inner))
		addLines(k.inner)
	}
	canonical := string(k.PKCS8PEM())
	addLines(canonical)
	add(canonical)
	add(trim(canonical))
	add(base64.StdEncoding.EncodeToString([]byte(canonical)))
	add(base64.StdEncoding.EncodeToString(der))
	add(base64.StdEncoding.EncodeToString(k.der))
	if k.sec1 {
		if sec1, err := x509.MarshalECPrivateKey(k.Private); err == nil {
			add(base64.StdEncoding.EncodeToString(sec1))
		}
	}
	escaped := strings.ReplaceAll(canonical, "\n", `\n`)
	add(escaped)
	add(strings.TrimSuffix(escaped, `\n`))
	return forms
}

// isBoundary reports whether line is exactly a PEM boundary line such as
// "-----BEGIN PRIVATE KEY-----", which is public.
func isBoundary(line string) bool {
	if !strings.HasSuffix(line, "-----") || strings.Count(line, "-----") != 2 {
		return false
	}
	return strings.HasPrefix(line, "-----BEGIN ") || strings.HasPrefix(line, "-----END ")
}
