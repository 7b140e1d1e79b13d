package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// demoPath is the throwaway P-256 key bundled with the action (openssl
// PKCS#8, without the public key inside).
const demoPath = "../../testdata/AuthKey_DEMOKEY001.p8"

// fixture reads a file from testdata/keys; see its README for how each was
// made.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/keys", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func demoText(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(demoPath)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// demoKey parses the demo key with the standard library alone, as the
// reference every accepted form must match.
func demoKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := x509.ParsePKCS8PrivateKey(pemBlock(tb, demoText(tb)).Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}

// pemBlock returns the last PEM block of text (after any EC PARAMETERS).
func pemBlock(tb testing.TB, text string) *pem.Block {
	tb.Helper()
	var last *pem.Block
	rest := []byte(text)
	for {
		b, r := pem.Decode(rest)
		if b == nil {
			break
		}
		last, rest = b, r
	}
	if last == nil {
		tb.Fatal("no PEM block in fixture")
	}
	return last
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// wrap breaks s into lines of width characters.
func wrap(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width] + "\n")
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}

// rewrap re-wraps the body of a single-block PEM text at width, with sep
// between lines.
func rewrap(tb testing.TB, text string, width int, sep string) string {
	tb.Helper()
	blk := pemBlock(tb, text)
	body := strings.ReplaceAll(wrap(b64(blk.Bytes), width), "\n", sep)
	return "-----BEGIN " + blk.Type + "-----" + sep + body + sep + "-----END " + blk.Type + "-----" + sep
}

// mustDER returns a function that passes on the DER from a marshalling
// call, failing the test on error: mustDER(t)(x509.MarshalXxx(k)).
func mustDER(tb testing.TB) func([]byte, error) []byte {
	return func(der []byte, err error) []byte {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return der
	}
}

var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func ecKey(tb testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// build encodes DER with cryptobyte.
func build(tb testing.TB, f func(b *cryptobyte.Builder)) []byte {
	tb.Helper()
	var b cryptobyte.Builder
	f(&b)
	der, err := b.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// oid appends the DER of a dotted object identifier.
func oid(b *cryptobyte.Builder, dotted string) {
	var ids []int
	for part := range strings.SplitSeq(dotted, ".") {
		n := 0
		for _, c := range part {
			n = n*10 + int(c-'0')
		}
		ids = append(ids, n)
	}
	b.AddASN1ObjectIdentifier(ids)
}

// pkcs8With builds a PrivateKeyInfo with the given algorithm, optional
// curve and private key octets.
func pkcs8With(tb testing.TB, alg, curve string, inner []byte) []byte {
	return build(tb, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				oid(b, alg)
				if curve != "" {
					oid(b, curve)
				}
			})
			b.AddASN1OctetString(inner)
		})
	})
}

// appleLayout encodes k as Apple's .p8 files are laid out: PKCS#8 naming
// P-256, around a SEC1 key that names it again and holds the public key.
func appleLayout(tb testing.TB, k *ecdsa.PrivateKey) string {
	tb.Helper()
	return pemOf("PRIVATE KEY", pkcs8With(tb, oidECPublicKey, oidP256, mustDER(tb)(x509.MarshalECPrivateKey(k))))
}

type input struct {
	name string
	text string
	form Form
}

// acceptedInputs returns the demo key in every form Parse must accept.
func acceptedInputs(tb testing.TB) []input {
	tb.Helper()
	demo := demoText(tb)
	ref := demoKey(tb)
	pkcs8 := pemBlock(tb, demo).Bytes
	sec1 := mustDER(tb)(x509.MarshalECPrivateKey(ref))
	goPKCS8 := pemOf("PRIVATE KEY", mustDER(tb)(x509.MarshalPKCS8PrivateKey(ref)))
	apple := appleLayout(tb, ref)
	sec1PEM := pemOf("EC PRIVATE KEY", sec1)
	params := pemOf("EC PARAMETERS", build(tb, func(b *cryptobyte.Builder) { oid(b, oidP256) }))
	escaped := strings.ReplaceAll(demo, "\n", `\n`)
	crlf := strings.ReplaceAll(demo, "\n", "\r\n")
	cert := fixture(tb, "certificate.pem")

	return []input{
		{"openssl PKCS#8 as downloaded", demo, FormPKCS8PEM},
		{"Apple layout", apple, FormPKCS8PEM},
		{"Go layout", goPKCS8, FormPKCS8PEM},
		{"CRLF line endings", crlf, FormPKCS8PEM},
		{"escaped newlines on one line", escaped, FormPKCS8PEM},
		{"escaped CRLF on one line", strings.ReplaceAll(demo, "\n", `\r\n`), FormPKCS8PEM},
		{"double escaped newlines", strings.ReplaceAll(demo, "\n", `\\n`), FormPKCS8PEM},
		{"JSON string with quotes and escaped slashes", `"` + strings.ReplaceAll(escaped, "/", `\/`) + `"`, FormPKCS8PEM},
		{"JSON object", `{"private_key": "` + escaped + `"}`, FormPKCS8PEM},
		{"surrounding blank lines and spaces", "\n\n   \t" + demo + "\n\n  \n", FormPKCS8PEM},
		{"UTF-8 byte-order mark", "\uFEFF" + demo, FormPKCS8PEM},
		{"byte-order mark and CRLF", "\uFEFF" + crlf, FormPKCS8PEM},
		{"lines joined with spaces", strings.ReplaceAll(strings.TrimSpace(demo), "\n", " "), FormPKCS8PEM},
		{"newlines removed", strings.ReplaceAll(demo, "\n", ""), FormPKCS8PEM},
		{"re-wrapped at 76", rewrap(tb, demo, 76, "\n"), FormPKCS8PEM},
		{"re-wrapped at 17", rewrap(tb, demo, 17, "\n"), FormPKCS8PEM},
		{"indented lines", strings.ReplaceAll(demo, "\n", "\n    "), FormPKCS8PEM},
		{"text around the block", "Bag Attributes\n    friendlyName: key\n" + demo + "trailing note\n", FormPKCS8PEM},
		{"RFC 1421 header", strings.Replace(demo, "-----\n", "-----\nComment: exported by a tool\n\n", 1), FormPKCS8PEM},
		{"followed by a certificate", demo + cert, FormPKCS8PEM},
		{"missing padding", strings.ReplaceAll(sec1PEM, "=", ""), FormSEC1PEM},
		{"END line without closing dashes", strings.TrimSuffix(demo, "-----\n"), FormPKCS8PEM},

		{"base64 of PEM file", b64([]byte(demo)), FormBase64PEM},
		{"base64 of PEM file unpadded", base64.RawStdEncoding.EncodeToString([]byte(demo)), FormBase64PEM},
		{"base64url of PEM file", base64.URLEncoding.EncodeToString([]byte(demo)), FormBase64PEM},
		{"base64url of PEM file unpadded", base64.RawURLEncoding.EncodeToString([]byte(demo)), FormBase64PEM},
		{"base64 of PEM file wrapped at 76", wrap(b64([]byte(demo)), 76) + "\n", FormBase64PEM},
		{"base64 of CRLF PEM file", b64([]byte(crlf)), FormBase64PEM},
		{"base64 of PEM file with BOM", b64([]byte("\uFEFF" + demo)), FormBase64PEM},
		{"base64 of SEC1 PEM file", b64([]byte(sec1PEM)), FormBase64PEM},
		{"escaped base64 of PEM file", strings.ReplaceAll(wrap(b64([]byte(demo)), 60), "\n", `\n`), FormBase64PEM},

		{"base64 of PKCS#8 DER", b64(pkcs8), FormBase64PKCS8},
		{"base64 of Apple PKCS#8 DER", b64(pemBlock(tb, apple).Bytes), FormBase64PKCS8},
		{"base64url of PKCS#8 DER unpadded", base64.RawURLEncoding.EncodeToString(pkcs8), FormBase64PKCS8},
		{"PEM body lines without boundaries", wrap(b64(pkcs8), 64), FormBase64PKCS8},
		{"quoted base64 of PKCS#8 DER", "'" + b64(pkcs8) + "'", FormBase64PKCS8},

		{"base64 of SEC1 DER", b64(sec1), FormBase64SEC1},
		{"SEC1 PEM", sec1PEM, FormSEC1PEM},
		{"SEC1 PEM with EC PARAMETERS", params + sec1PEM, FormSEC1PEM},
		{"SEC1 PEM escaped on one line", strings.ReplaceAll(params+sec1PEM, "\n", `\n`), FormSEC1PEM},
		{"SEC1 PEM with CRLF", strings.ReplaceAll(sec1PEM, "\n", "\r\n"), FormSEC1PEM},
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	want, err := demoKey(t).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range acceptedInputs(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := Parse(tc.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if k.Form != tc.form {
				t.Errorf("Form = %v, want %v", k.Form, tc.form)
			}
			if k.Private.Curve != elliptic.P256() {
				t.Errorf("curve = %v, want P-256", k.Private.Curve.Params().Name)
			}
			got, err := k.Private.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Error("private scalar differs from the reference key")
			}
		})
	}
}

// TestParseFixtures checks the openssl-made keys Parse must accept against
// the standard library's reading of the same files.
func TestParseFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		form Form
		want func([]byte) (any, error)
	}{
		{"sec1-with-params.pem", FormSEC1PEM, func(d []byte) (any, error) { return x509.ParseECPrivateKey(d) }},
		{"../AuthKey_DEMOKEY001.p8", FormPKCS8PEM, x509.ParsePKCS8PrivateKey},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			text := fixture(t, tc.file)
			want, err := tc.want(pemBlock(t, text).Bytes)
			if err != nil {
				t.Fatal(err)
			}
			k, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if k.Form != tc.form {
				t.Errorf("Form = %v, want %v", k.Form, tc.form)
			}
			if !k.Private.Equal(want) {
				t.Error("key differs from the standard library's reading")
			}
		})
	}
}

// refusedInputs returns inputs Parse must refuse, with the reason.
func refusedInputs(tb testing.TB) []struct {
	name string
	text string
	want reason
} {
	tb.Helper()
	demo := demoText(tb)
	ref := demoKey(tb)
	demoDER := pemBlock(tb, demo).Bytes
	rk, err := rsaKey()
	if err != nil {
		tb.Fatal(err)
	}
	rsaPKCS8 := mustDER(tb)(x509.MarshalPKCS8PrivateKey(rk))
	rsaPKCS1 := x509.MarshalPKCS1PrivateKey(rk)
	p384 := mustDER(tb)(x509.MarshalPKCS8PrivateKey(ecKey(tb, elliptic.P384())))
	p521 := mustDER(tb)(x509.MarshalECPrivateKey(ecKey(tb, elliptic.P521())))
	p224 := mustDER(tb)(x509.MarshalPKCS8PrivateKey(ecKey(tb, elliptic.P224())))
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	ed := mustDER(tb)(x509.MarshalPKCS8PrivateKey(edPriv))
	xPriv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	x25519 := mustDER(tb)(x509.MarshalPKCS8PrivateKey(xPriv))
	spki := mustDER(tb)(x509.MarshalPKIXPublicKey(ref.Public()))
	csr := mustDER(tb)(x509.CreateCertificateRequest(rand.Reader,
		&x509.CertificateRequest{Subject: pkix.Name{CommonName: "throwaway"}}, ref))
	certDER := pemBlock(tb, fixture(tb, "certificate.pem")).Bytes
	encDER := pemBlock(tb, fixture(tb, "encrypted-pkcs8.p8")).Bytes
	k1DER := pemBlock(tb, fixture(tb, "secp256k1-pkcs8.p8")).Bytes
	legacy := fixture(tb, "legacy-encrypted-sec1.pem")
	sshBody := pemBlock(tb, fixture(tb, "openssh-ecdsa.key")).Bytes
	p12, err := os.ReadFile("../../testdata/keys/bundle.p12")
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(demo), "\n")
	bigScalar := bytes.Repeat([]byte{0xff}, 32)
	sec1Inner := func(withCurve func(b *cryptobyte.Builder)) []byte {
		return build(tb, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1OctetString(bytes.Repeat([]byte{7}, 32))
				if withCurve != nil {
					b.AddASN1(tagExplicit0, withCurve)
				}
			})
		})
	}
	outOfRange := pkcs8With(tb, oidECPublicKey, oidP256, build(tb, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1OctetString(bigScalar)
		})
	}))
	notKey := build(tb, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(5)
			b.AddASN1Boolean(true)
		})
	})
	dsaPKCS1 := build(tb, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range 6 {
				b.AddASN1Int64(int64(i * 7))
			}
		})
	})
	rsaPub := x509.MarshalPKCS1PublicKey(&rk.PublicKey)

	return []struct {
		name string
		text string
		want reason
	}{
		{"empty", "", rEmpty},
		{"whitespace", " \n\t\r\n ", rEmpty},
		{"byte-order mark only", "\uFEFF\n", rEmpty},
		{"empty quotes", `""`, rEmpty},
		{"too large", strings.Repeat("A", maxInput+1), rTooLarge},
		{"too large PEM", demo + strings.Repeat(" ", maxInput), rTooLarge},

		{"RSA PKCS#8 PEM", pemOf("PRIVATE KEY", rsaPKCS8), rRSA},
		{"RSA PKCS#8 base64 DER", b64(rsaPKCS8), rRSA},
		{"RSA PKCS#1 PEM", pemOf("RSA PRIVATE KEY", rsaPKCS1), rRSA},
		{"RSA PKCS#1 base64 DER", b64(rsaPKCS1), rRSA},
		{"RSA PKCS#1 mislabelled", pemOf("PRIVATE KEY", rsaPKCS1), rRSA},

		{"P-384 PKCS#8 PEM", pemOf("PRIVATE KEY", p384), rCurveP384},
		{"P-384 base64 DER", b64(p384), rCurveP384},
		{"P-521 SEC1 PEM", pemOf("EC PRIVATE KEY", p521), rCurveP521},
		{"P-224 PKCS#8 PEM", pemOf("PRIVATE KEY", p224), rCurveP224},
		{"secp256k1 PKCS#8 PEM", fixture(tb, "secp256k1-pkcs8.p8"), rCurveSecp256k1},
		{"secp256k1 base64 DER", b64(k1DER), rCurveSecp256k1},
		{"secp256k1 SEC1 PEM", fixture(tb, "secp256k1-sec1.pem"), rCurveSecp256k1},
		{"brainpool PKCS#8", pemOf("PRIVATE KEY", pkcs8With(tb, oidECPublicKey, oidBrainpoolP256r1, sec1Inner(nil))), rCurveBrainpool256},
		{"unknown curve PKCS#8", pemOf("PRIVATE KEY", pkcs8With(tb, oidECPublicKey, "1.2.3.4", sec1Inner(nil))), rCurveUnknown},
		{"curve only in inner SEC1", pemOf("PRIVATE KEY", pkcs8With(tb, oidECPublicKey, "",
			sec1Inner(func(b *cryptobyte.Builder) { oid(b, oidP384) }))), rCurveP384},
		{"explicit curve SEC1", pemOf("EC PRIVATE KEY", sec1Inner(func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(1) })
		})), rCurveExplicit},

		{"Ed25519 PKCS#8 PEM", pemOf("PRIVATE KEY", ed), rEd25519},
		{"Ed25519 base64 DER", b64(ed), rEd25519},
		{"X25519 PKCS#8 PEM", pemOf("PRIVATE KEY", x25519), rX25519},
		{"DSA PKCS#8", pemOf("PRIVATE KEY", pkcs8With(tb, oidDSA, "", []byte{2, 1, 5})), rDSA},
		{"DSA OpenSSL PEM", pemOf("DSA PRIVATE KEY", dsaPKCS1), rDSA},
		{"DSA OpenSSL base64 DER", b64(dsaPKCS1), rDSA},
		{"unknown algorithm", pemOf("PRIVATE KEY", pkcs8With(tb, "1.2.3.4.5", "", []byte{1})), rAlgorithmUnknown},

		{"encrypted PKCS#8 PEM", fixture(tb, "encrypted-pkcs8.p8"), rEncryptedPKCS8},
		{"encrypted PKCS#8 base64 DER", b64(encDER), rEncryptedPKCS8},
		{"encrypted PKCS#8 mislabelled", pemOf("PRIVATE KEY", encDER), rEncryptedPKCS8},
		{"legacy encrypted PEM", legacy, rEncryptedPEM},
		{"legacy encrypted PEM escaped", strings.ReplaceAll(legacy, "\n", `\n`), rEncryptedPEM},
		{"legacy encrypted PEM joined", strings.ReplaceAll(legacy, "\n", " "), rEncryptedPEM},

		{"certificate PEM", fixture(tb, "certificate.pem"), rCertificate},
		{"certificate base64 DER", b64(certDER), rCertificate},
		{"certificate DER mislabelled", pemOf("PRIVATE KEY", certDER), rCertificate},
		{"certificate request PEM", pemOf("CERTIFICATE REQUEST", csr), rCSR},
		{"certificate request base64 DER", b64(csr), rCSR},

		{"public key PEM", pemOf("PUBLIC KEY", spki), rPublicKey},
		{"public key base64 DER", b64(spki), rPublicKey},
		{"RSA public key PEM", pemOf("RSA PUBLIC KEY", rsaPub), rPublicKey},
		{"RSA public key base64 DER", b64(rsaPub), rPublicKey},
		{"SSH public key", fixture(tb, "openssh-ecdsa.pub"), rSSHPublicKey},

		{"OpenSSH private key", fixture(tb, "openssh-ecdsa.key"), rOpenSSH},
		{"OpenSSH private key body", b64(sshBody), rOpenSSH},
		{"PKCS#12 base64", b64(p12), rPKCS12},
		{"PGP armor", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGV0\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\n", rPGP},
		{"PuTTY key", "PuTTY-User-Key-File-3: ecdsa-sha2-nistp256\nEncryption: none\n", rPuTTY},

		{"no END line", strings.Join(lines[:len(lines)-1], "\n"), rNoEnd},
		{"cut in the middle", demo[:len(demo)/2], rNoEnd},
		{"cut in the BEGIN line", demo[:15], rNoEnd},
		{"no BEGIN line", strings.Join(lines[1:], "\n"), rNoBegin},
		{"body cut short", lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[len(lines)-1], rShortDER},
		{"body cut short on one line", lines[0] + lines[1] + lines[2][:30] + lines[len(lines)-1], rShortDER},
		{"base64 DER cut short", b64(demoDER)[:100], rShortDER},
		{"base64 DER cut to a dangling character", b64(demoDER)[:101], rShortDER},

		{"prose", "this is not a key!", rNotText},
		{"environment variable name", "$ASC_PRIVATE_KEY", rNotText},
		{"file name", "AuthKey_ABCDEF1234.p8", rFileName},
		{"file path", "./secrets/AuthKey_ABCDEF1234.p8", rFileName},
		{"padding only", "====", rBadBase64},
		{"mixed base64 alphabets", "ab+c-d_e/f", rBadBase64},
		{"padding in the middle", "QUJD=QUJD", rBadBase64},
		{"base64 of prose", b64([]byte("hello, this is not a key at all")), rNotDER},
		{"PEM body not base64", "-----BEGIN PRIVATE KEY-----\n!!!!*&\n-----END PRIVATE KEY-----\n", rPEMBase64},
		{"mismatched boundaries", strings.Replace(demo, "END PRIVATE KEY", "END EC PRIVATE KEY", 1), rMismatch},

		{"unknown PEM type", pemOf("X509 CRL", []byte{0x30, 0}), rUnknownPEM},
		{"DER that is no key", b64(notKey), rNotKeyDER},
		{"EC PARAMETERS only", pemOf("EC PARAMETERS", build(tb, func(b *cryptobyte.Builder) { oid(b, oidP256) })), rOnlyParams},
		{"EC parameters DER", b64([]byte{6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 3, 1, 7}), rOnlyParams},
		{"trailing DER", b64(append(slices.Clone(demoDER), 5, 0)), rTrailing},

		{"scalar out of range", pemOf("PRIVATE KEY", outOfRange), rInvalid},
		{"SEC1 without curve", pemOf("EC PRIVATE KEY", sec1Inner(nil)), rNoCurve},
		{"two keys", demo + demo, rMultiple},
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range refusedInputs(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := Parse(tc.text)
			if err == nil {
				t.Fatalf("Parse accepted it as %v", k.Form)
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

var boundaryLine = regexp.MustCompile(`-----(BEGIN|END) [A-Z0-9 ]+-----`)
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/=]{8,}`)

// checkLeak fails if msg is not one line or holds any 8-character piece of
// the base64 in input.
func checkLeak(t *testing.T, input, msg string) {
	t.Helper()
	if msg == "" || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("message %q is not a single non-empty line", msg)
	}
	body := boundaryLine.ReplaceAllString(unescape(input), " ")
	for _, run := range base64Run.FindAllString(body, -1) {
		for i := 0; i+8 <= len(run); i++ {
			if strings.Contains(msg, run[i:i+8]) {
				t.Fatalf("message %q contains %q from the input", msg, run[i:i+8])
			}
		}
	}
}

func TestParseSizeLimit(t *testing.T) {
	t.Parallel()
	demo := demoText(t)
	padded := demo + strings.Repeat("\n", maxInput-len(demo))
	if _, err := Parse(padded); err != nil {
		t.Errorf("Parse of exactly 64 KiB: %v", err)
	}
	if _, err := Parse(padded + "\n"); !errors.Is(err, &Error{Kind: KindTooLarge}) {
		t.Errorf("Parse of 64 KiB + 1 = %v, want too large", err)
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
		if strings.Contains(e.problem, "unknown reason") {
			t.Errorf("reason %d has no template", r)
		}
		if first := e.problem[:1]; first != strings.ToLower(first) {
			t.Errorf("reason %d: problem %q does not start in lower case", r, e.problem)
		}
		if prev, dup := seen[e.problem]; dup {
			t.Errorf("reasons %d and %d share problem %q", prev, r, e.problem)
		}
		seen[e.problem] = r
		if got := e.Error(); got != "keys: "+e.problem {
			t.Errorf("Error() = %q", got)
		}
	}
	for f := FormPKCS8PEM; f <= FormBase64SEC1; f++ {
		if f.String() == "unknown form" {
			t.Errorf("form %d has no name", f)
		}
	}
}

func TestPKCS8PEM(t *testing.T) {
	t.Parallel()
	for _, tc := range acceptedInputs(t)[:4] {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			out := string(k.PKCS8PEM())
			if !strings.HasPrefix(out, "-----BEGIN PRIVATE KEY-----\n") || !strings.HasSuffix(out, "\n-----END PRIVATE KEY-----\n") {
				t.Errorf("PKCS8PEM() boundaries wrong:\n%s", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for i, line := range lines[1 : len(lines)-2] {
				if len(line) != 64 {
					t.Errorf("line %d has %d characters, want 64", i+2, len(line))
				}
			}
			// Apple's .p8 files all start this way: PKCS#8 v0, ecPublicKey,
			// P-256, and an ECPrivateKey holding the public key.
			if !strings.HasPrefix(lines[1], "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg") {
				t.Errorf("PKCS8PEM() is not shaped like Apple's .p8: %s", lines[1][:20])
			}
			if apple := appleLayout(t, k.Private); out != apple {
				t.Errorf("PKCS8PEM() =\n%s\nwant Apple's layout\n%s", out, apple)
			}
			again, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if again.Form != FormPKCS8PEM || !again.Private.Equal(k.Private) {
				t.Error("PKCS8PEM() does not parse back to the same key")
			}
		})
	}
	if (&Key{}).PKCS8PEM() != nil || (*Key)(nil).PKCS8PEM() != nil {
		t.Error("PKCS8PEM() of an empty Key is not nil")
	}
}

func TestSecretForms(t *testing.T) {
	t.Parallel()
	demo := demoText(t)
	ref := demoKey(t)
	demoDER := pemBlock(t, demo).Bytes
	sec1 := mustDER(t)(x509.MarshalECPrivateKey(ref))
	canonical := string(mustParse(t, demo).PKCS8PEM())
	canonicalDER := pemBlock(t, canonical).Bytes
	escapedCanonical := strings.ReplaceAll(canonical, "\n", `\n`)
	demoLines := strings.Split(strings.TrimSpace(demo), "\n")
	canonicalLines := strings.Split(strings.TrimSpace(canonical), "\n")
	keyForms := append([]string{
		canonical, b64([]byte(canonical)), b64(canonicalDER), escapedCanonical,
	}, canonicalLines[1:len(canonicalLines)-1]...)

	tests := []struct {
		name   string
		text   string
		parse  bool
		want   []string
		absent []string
	}{
		{
			name:  "PEM as downloaded",
			text:  demo,
			parse: true,
			want: append([]string{demo, strings.TrimSpace(demo), b64(demoDER)},
				append(keyForms, demoLines[1:len(demoLines)-1]...)...),
		},
		{
			name:  "escaped one line",
			text:  "  " + strings.ReplaceAll(demo, "\n", `\n`) + "\n",
			parse: true,
			want: append([]string{strings.ReplaceAll(demo, "\n", `\n`), strings.TrimSpace(demo)},
				append(keyForms, demoLines[1:len(demoLines)-1]...)...),
		},
		{
			name:  "base64 of PEM",
			text:  b64([]byte(demo)),
			parse: true,
			want:  append([]string{b64([]byte(demo)), demo}, append(keyForms, demoLines[1:len(demoLines)-1]...)...),
		},
		{
			name:  "SEC1 PEM",
			text:  pemOf("EC PRIVATE KEY", sec1),
			parse: true,
			want:  append([]string{b64(sec1)}, keyForms...),
		},
		{
			name:   "unparsed PEM",
			text:   demo,
			want:   append([]string{demo, strings.TrimSpace(demo)}, demoLines[1:len(demoLines)-1]...),
			absent: []string{canonical, escapedCanonical},
		},
		{
			name: "refused key",
			text: "'" + fixture(t, "secp256k1-pkcs8.p8") + "'",
			want: []string{strings.TrimSpace(fixture(t, "secp256k1-pkcs8.p8"))},
		},
		{
			name:   "short lines",
			text:   "abc\n==\nabcd",
			want:   []string{"abcd", "abc\n==\nabcd"},
			absent: []string{"abc", "=="},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var k *Key
			if tc.parse {
				k = mustParse(t, tc.text)
			}
			forms := SecretForms(tc.text, k)
			checkForms(t, forms)
			for _, w := range tc.want {
				if !slices.Contains(forms, w) {
					t.Errorf("SecretForms lacks %q", w)
				}
			}
			for _, a := range append(tc.absent, "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----") {
				if slices.Contains(forms, a) {
					t.Errorf("SecretForms has %q", a)
				}
			}
			if again := SecretForms(tc.text, k); !slices.Equal(forms, again) {
				t.Error("SecretForms is not stable")
			}
		})
	}
}

// checkForms checks that forms has no empty strings and no duplicates.
func checkForms(tb testing.TB, forms []string) {
	tb.Helper()
	seen := make(map[string]bool)
	for _, f := range forms {
		if f == "" {
			tb.Error("SecretForms returned an empty string")
		}
		if seen[f] {
			tb.Errorf("SecretForms returned %q twice", f)
		}
		seen[f] = true
	}
}

func mustParse(tb testing.TB, text string) *Key {
	tb.Helper()
	k, err := Parse(text)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
