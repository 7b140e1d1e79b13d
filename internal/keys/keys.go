// Package keys reads App Store Connect API private keys (.p8) in every form
// people paste into CI secrets, and says precisely why a refused key is
// refused.
//
// Parse accepts the PKCS#8 PEM file Apple hands out and the shapes it takes
// on its way into a secret: CRLF line endings, literal \n escapes, stray
// whitespace, a byte-order mark, re-wrapped or space-joined lines, base64 of
// the whole file or of the DER body, and the SEC1 "EC PRIVATE KEY" form that
// openssl writes. Anything else is refused with an *Error whose text is a
// fixed template that never repeats the input, so it is safe in public logs.
//
// SecretForms lists every string derived from a key that must be masked in
// logs; call it before Parse so that even a refused key is masked.
package keys

import (
	"crypto/ecdsa"
	"crypto/x509"
	encasn1 "encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"unicode"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// maxInput is the largest value Parse reads. A .p8 key is about 250 bytes;
// the cap only stops a wrong secret (a whole archive, a log) from being
// scanned.
const maxInput = 64 << 10

// Form says how a key was given to Parse.
type Form int

// The forms Parse accepts. Line-ending, escape and whitespace variations of
// a PEM file keep the form of the file.
const (
	FormPKCS8PEM    Form = iota + 1 // "-----BEGIN PRIVATE KEY-----", as Apple's .p8
	FormSEC1PEM                     // "-----BEGIN EC PRIVATE KEY-----", as openssl ec writes
	FormBase64PEM                   // base64 of a whole PEM file (PKCS#8 or SEC1)
	FormBase64PKCS8                 // base64 of PKCS#8 DER: a PEM body without its lines
	FormBase64SEC1                  // base64 of SEC1 DER
)

// String describes the form, for example "PKCS#8 PEM".
func (f Form) String() string {
	switch f {
	case FormPKCS8PEM:
		return "PKCS#8 PEM"
	case FormSEC1PEM:
		return "SEC1 PEM"
	case FormBase64PEM:
		return "base64 of a PEM file"
	case FormBase64PKCS8:
		return "base64 of PKCS#8 DER"
	case FormBase64SEC1:
		return "base64 of SEC1 DER"
	}
	return "unknown form"
}

// Key is a P-256 private key read by Parse.
type Key struct {
	// Private is the key, always on elliptic.P256().
	Private *ecdsa.PrivateKey
	// Form is how it was given.
	Form Form

	der   []byte // the DER as given, PKCS#8 or SEC1
	sec1  bool   // der is SEC1
	inner string // the PEM text decoded from FormBase64PEM
}

// PKCS8PEM returns the key as Apple's .p8 file has it: a "-----BEGIN PRIVATE
// KEY-----" PEM block in 64-column lines ending with a newline, holding
// PKCS#8 DER whose inner SEC1 key names the curve and carries the public
// key, byte for byte the layout Apple uses. It returns nil for a Key not
// made by Parse.
func (k *Key) PKCS8PEM() []byte {
	der := k.pkcs8DER()
	if der == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// pkcs8DER builds Apple's PKCS#8 layout. x509.MarshalPKCS8PrivateKey leaves
// the curve out of the inner key, so it would differ from the user's file
// and from what they might see in a log.
func (k *Key) pkcs8DER() []byte {
	if k == nil || k.Private == nil {
		return nil
	}
	sec1, err := x509.MarshalECPrivateKey(k.Private)
	if err != nil {
		return nil
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(encasn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1})    // ecPublicKey
			b.AddASN1ObjectIdentifier(encasn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}) // P-256
		})
		b.AddASN1OctetString(sec1)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil
	}
	return der
}

// Parse reads a P-256 private key given as text: a PEM file (PKCS#8 or
// SEC1, with or without an EC PARAMETERS block), base64 of a PEM file, or
// base64 of the DER. It tolerates CRLF line endings, literal "\n" escapes,
// surrounding whitespace and quotes, a byte-order mark and re-wrapped lines.
// Values over 64 KiB are refused. Every error is an *Error.
func Parse(text string) (*Key, error) {
	if len(text) > maxInput {
		return nil, rTooLarge.err()
	}
	s := normalize(text)
	if s == "" {
		return nil, rEmpty.err()
	}
	var k *Key
	var r reason
	if looksPEM(s) {
		k, r = parsePEM(s)
	} else {
		k, r = parseBase64(s)
	}
	if r != rOK {
		return nil, r.err()
	}
	return k, nil
}

// normalize undoes what pasting does to a key: surrounding whitespace, a
// byte-order mark, one pair of surrounding quotes, JSON-style escapes and
// CR line endings.
func normalize(s string) string {
	s = trim(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = trim(s[1 : len(s)-1])
	}
	s = unescape(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return trim(s)
}

// trim removes surrounding white space and byte-order marks.
func trim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
}

// unescape turns the two-character escapes \n and \r (also doubled, as
// after encoding to JSON twice) into newlines, and \/ into /. Neither PEM
// nor base64 contains a backslash, so this cannot damage a key.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(
		`\\r\\n`, "\n", `\\n`, "\n", `\\r`, "\n",
		`\r\n`, "\n", `\n`, "\n", `\r`, "\n",
		`\\/`, "/", `\/`, "/",
	).Replace(s)
}

// looksPEM reports whether s has a PEM boundary line, even a damaged one.
func looksPEM(s string) bool {
	return strings.Contains(s, "-----BEGIN") || strings.Contains(s, "-----END")
}

// block is one PEM block found by scanPEM.
type block struct {
	label string // the word(s) after BEGIN, such as "PRIVATE KEY"
	body  string // everything between the BEGIN and END lines
}

// scanPEM finds the PEM blocks in s. Unlike pem.Decode it does not need the
// boundaries on lines of their own, so it copes with keys whose newlines
// became spaces or vanished; the body is decoded later with the whitespace
// removed.
func scanPEM(s string) ([]block, reason) {
	const begin, end, dashes = "-----BEGIN ", "-----END ", "-----"
	var blocks []block
	for {
		i := strings.Index(s, begin)
		if i < 0 {
			break
		}
		rest := s[i+len(begin):]
		j := strings.Index(rest, dashes)
		if j < 0 || strings.Contains(rest[:j], "\n") {
			return nil, rNoEnd // the BEGIN line itself was cut
		}
		label := strings.TrimSpace(rest[:j])
		rest = rest[j+len(dashes):]

		k := strings.Index(rest, end)
		if k < 0 || strings.Contains(rest[:k], begin) {
			return nil, rNoEnd
		}
		body := rest[:k]
		rest = rest[k+len(end):]
		m := strings.Index(rest, dashes)
		if m < 0 {
			// The END line lost its closing dashes: keep the block only
			// if its label survived whole.
			m = strings.IndexByte(rest, '\n')
			if m < 0 {
				m = len(rest)
			}
			if strings.TrimSpace(rest[:m]) != label {
				return nil, rNoEnd
			}
			rest = rest[m:]
		} else {
			if strings.TrimSpace(rest[:m]) != label {
				return nil, rMismatch
			}
			rest = rest[m+len(dashes):]
		}
		blocks = append(blocks, block{label: label, body: body})
		s = rest
	}
	if len(blocks) == 0 {
		if strings.Contains(s, "-----BEGIN") {
			return nil, rNoEnd // "-----BEGIN" without the space: a cut BEGIN line
		}
		return nil, rNoBegin
	}
	return blocks, rOK
}

// parsePEM reads the one private key among the PEM blocks of s.
func parsePEM(s string) (*Key, reason) {
	blocks, r := scanPEM(s)
	if r != rOK {
		return nil, r
	}
	var keyBlocks, others []block
	for _, b := range blocks {
		switch {
		case b.label == "EC PARAMETERS":
			// openssl ecparam -genkey prints the curve before the key.
		case strings.HasSuffix(b.label, "PRIVATE KEY"):
			keyBlocks = append(keyBlocks, b)
		default:
			others = append(others, b)
		}
	}
	switch {
	case len(keyBlocks) > 1:
		return nil, rMultiple
	case len(keyBlocks) == 1:
		return parseKeyBlock(keyBlocks[0])
	case len(others) > 0:
		return nil, otherBlock(others[0].label)
	}
	return nil, rOnlyParams
}

// otherBlock names a PEM block that is not a private key.
func otherBlock(label string) reason {
	switch label {
	case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
		return rCertificate
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		return rCSR
	case "PUBLIC KEY", "RSA PUBLIC KEY", "EC PUBLIC KEY", "SSH2 PUBLIC KEY":
		return rPublicKey
	case "PKCS12":
		return rPKCS12
	}
	if strings.HasPrefix(label, "PGP ") {
		return rPGP
	}
	return rUnknownPEM
}

// parseKeyBlock reads a block whose label ends in "PRIVATE KEY".
func parseKeyBlock(b block) (*Key, reason) {
	switch b.label {
	case "RSA PRIVATE KEY":
		return nil, rRSA
	case "DSA PRIVATE KEY":
		return nil, rDSA
	case "OPENSSH PRIVATE KEY":
		return nil, rOpenSSH
	case "ENCRYPTED PRIVATE KEY":
		return nil, rEncryptedPKCS8
	}
	if strings.HasPrefix(b.label, "PGP ") {
		return nil, rPGP
	}
	body, encrypted := stripHeaders(b.body)
	if encrypted {
		return nil, rEncryptedPEM
	}
	der, ok := decodeBase64(body)
	if !ok {
		return nil, rPEMBase64
	}
	return fromDER(der, FormPKCS8PEM, FormSEC1PEM)
}

// fromDER makes a Key of a DER body, in form pkcs8, or sec1 for a SEC1 key.
func fromDER(der []byte, pkcs8, sec1 Form) (*Key, reason) {
	p, r := inspectDER(der)
	if r != rOK {
		return nil, r
	}
	form := pkcs8
	if p.sec1 {
		form = sec1
	}
	return &Key{Private: p.priv, Form: form, der: p.der, sec1: p.sec1}, rOK
}

// stripHeaders removes RFC 1421 headers ("Name: value" lines before the
// base64) from a PEM body and reports whether they mark it encrypted.
func stripHeaders(body string) (string, bool) {
	if !strings.Contains(body, ":") {
		return body, false
	}
	if strings.Contains(body, "Proc-Type:") || strings.Contains(body, "DEK-Info:") {
		return "", true
	}
	lines := strings.Split(body, "\n")
	for len(lines) > 0 && (strings.Contains(lines[0], ":") || strings.TrimSpace(lines[0]) == "") {
		lines = lines[1:]
	}
	return strings.Join(lines, "\n"), false
}

// parseBase64 reads a key given as base64, of a PEM file or of DER.
func parseBase64(s string) (*Key, reason) {
	if r := notBase64(s); r != rOK {
		return nil, r
	}
	data, ok := decodeBase64(s)
	if !ok || len(data) == 0 {
		return nil, rBadBase64
	}
	if text := normalize(string(data)); looksPEM(text) {
		k, r := parsePEM(text)
		if r != rOK {
			return nil, r
		}
		k.Form = FormBase64PEM
		k.inner = string(data)
		return k, rOK
	}
	if strings.HasPrefix(string(data), "openssh-key-v1\x00") {
		return nil, rOpenSSH
	}
	return fromDER(data, FormBase64PKCS8, FormBase64SEC1)
}

// notBase64 returns rOK if s may be base64, or the reason it is not,
// naming the usual mistakes.
func notBase64(s string) reason {
	for _, prefix := range []string{"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"} {
		if strings.HasPrefix(s, prefix) {
			return rSSHPublicKey
		}
	}
	if strings.HasPrefix(s, "PuTTY-User-Key-File-") {
		return rPuTTY
	}
	ok := true
	for _, c := range s {
		if !isBase64Char(c) && !unicode.IsSpace(c) {
			ok = false
			break
		}
	}
	if ok {
		return rOK
	}
	lower := strings.ToLower(s)
	if !strings.ContainsAny(s, "\n") {
		for _, ext := range []string{".p8", ".pem", ".key", ".txt"} {
			if strings.HasSuffix(lower, ext) {
				return rFileName
			}
		}
	}
	return rNotText
}

func isBase64Char(c rune) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '+' || c == '/' || c == '-' || c == '_' || c == '='
}

// decodeBase64 decodes standard or URL-safe base64, padded or not, ignoring
// white space. A single dangling character, which cannot hold a byte, is
// dropped, so that a cut value reports a cut key rather than bad base64.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	data, err := enc.DecodeString(s)
	return data, err == nil
}
