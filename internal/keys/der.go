package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	encasn1 "encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers, compared by their dotted string so that they can be
// constants.
const (
	oidECPublicKey = "1.2.840.10045.2.1"
	oidRSA         = "1.2.840.113549.1.1.1"
	oidRSAPSS      = "1.2.840.113549.1.1.10"
	oidDSA         = "1.2.840.10040.4.1"
	oidDHX942      = "1.2.840.10046.2.1"
	oidDHPKCS3     = "1.2.840.113549.1.3.1"
	oidX25519      = "1.3.101.110"
	oidX448        = "1.3.101.111"
	oidEd25519     = "1.3.101.112"
	oidEd448       = "1.3.101.113"
	oidPKCS7Data   = "1.2.840.113549.1.7.1"
	oidPKCS7Signed = "1.2.840.113549.1.7.2"

	oidP256            = "1.2.840.10045.3.1.7"
	oidP192            = "1.2.840.10045.3.1.1"
	oidP224            = "1.3.132.0.33"
	oidP384            = "1.3.132.0.34"
	oidP521            = "1.3.132.0.35"
	oidSecp256k1       = "1.3.132.0.10"
	oidBrainpoolP256r1 = "1.3.36.3.3.2.8.1.1.7"
	oidBrainpoolP384r1 = "1.3.36.3.3.2.8.1.1.11"
	oidBrainpoolP512r1 = "1.3.36.3.3.2.8.1.1.13"
	oidSM2             = "1.2.156.10197.1.301"
)

// tagExplicit0 is the [0] EXPLICIT tag (context-specific, constructed) of
// the curve parameters in a SEC1 ECPrivateKey and of the version in an X.509
// TBSCertificate.
const tagExplicit0 asn1.Tag = 0xa0

// parsed is a P-256 key read from DER, with the DER it came from.
type parsed struct {
	priv *ecdsa.PrivateKey
	sec1 bool   // the DER was a SEC1 ECPrivateKey rather than PKCS#8
	der  []byte // the DER as given
}

// inspectDER reads a P-256 private key from PKCS#8 or SEC1 DER. When the
// data is anything else it uses cryptobyte to find out what it is, so that
// the error can say so. The standard library does all the real parsing.
func inspectDER(der []byte) (parsed, reason) {
	in := cryptobyte.String(der)
	var body cryptobyte.String
	var tag asn1.Tag
	if !in.ReadAnyASN1(&body, &tag) {
		if cutShort(der) {
			return parsed{}, rShortDER
		}
		return parsed{}, rNotDER
	}
	switch {
	case tag == asn1.OBJECT_IDENTIFIER:
		// The DER form of an "EC PARAMETERS" block: a named curve only.
		return parsed{}, rOnlyParams
	case tag != asn1.SEQUENCE:
		return parsed{}, rNotDER
	case !in.Empty():
		return parsed{}, rTrailing
	}

	switch {
	case body.PeekASN1Tag(asn1.INTEGER):
		return inspectVersioned(der, body)
	case body.PeekASN1Tag(asn1.SEQUENCE):
		return parsed{}, inspectSigned(body)
	}
	return parsed{}, rNotKeyDER
}

// inspectVersioned handles a SEQUENCE that starts with an INTEGER: PKCS#8
// PrivateKeyInfo, SEC1 ECPrivateKey, PKCS#12 PFX, PKCS#1 RSA keys and
// OpenSSL's DSA keys.
func inspectVersioned(der []byte, body cryptobyte.String) (parsed, reason) {
	var version cryptobyte.String
	if !body.ReadASN1(&version, asn1.INTEGER) {
		return parsed{}, rNotKeyDER
	}
	switch {
	case body.PeekASN1Tag(asn1.SEQUENCE):
		switch {
		case isSmallInt(version, 0), isSmallInt(version, 1):
			return inspectPKCS8(der, body)
		case isSmallInt(version, 3) && isPKCS12(body):
			return parsed{}, rPKCS12
		}
	case body.PeekASN1Tag(asn1.OCTET_STRING):
		if isSmallInt(version, 1) {
			return inspectSEC1(der, body)
		}
	case body.PeekASN1Tag(asn1.INTEGER):
		n := 1
		for body.PeekASN1Tag(asn1.INTEGER) {
			if !body.SkipASN1(asn1.INTEGER) {
				return parsed{}, rNotKeyDER
			}
			n++
		}
		if !body.Empty() {
			break
		}
		switch {
		case n == 2:
			return parsed{}, rPublicKey // PKCS#1 RSAPublicKey: modulus, exponent
		case n == 6 && isSmallInt(version, 0):
			return parsed{}, rDSA // OpenSSL DSA: version, p, q, g, y, x
		case n >= 9 && isSmallInt(version, 0), n >= 9 && isSmallInt(version, 1):
			return parsed{}, rRSA // PKCS#1 RSAPrivateKey
		}
	}
	return parsed{}, rNotKeyDER
}

// inspectPKCS8 handles PrivateKeyInfo (RFC 5208) / OneAsymmetricKey
// (RFC 5958); body is positioned after the version.
func inspectPKCS8(der []byte, body cryptobyte.String) (parsed, reason) {
	var alg, inner cryptobyte.String
	var algOID encasn1.ObjectIdentifier
	if !body.ReadASN1(&alg, asn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&algOID) ||
		!body.ReadASN1(&inner, asn1.OCTET_STRING) {
		return parsed{}, rNotKeyDER
	}
	switch algOID.String() {
	case oidECPublicKey:
		// handled below
	case oidRSA, oidRSAPSS:
		return parsed{}, rRSA
	case oidEd25519:
		return parsed{}, rEd25519
	case oidEd448:
		return parsed{}, rEd448
	case oidX25519:
		return parsed{}, rX25519
	case oidX448:
		return parsed{}, rX448
	case oidDSA:
		return parsed{}, rDSA
	case oidDHX942, oidDHPKCS3:
		return parsed{}, rDH
	default:
		return parsed{}, rAlgorithmUnknown
	}

	// The curve is named in the AlgorithmIdentifier parameters; some
	// encoders leave it out there and name it in the inner SEC1 key.
	r := rNoCurve
	switch {
	case alg.PeekASN1Tag(asn1.OBJECT_IDENTIFIER):
		var curve encasn1.ObjectIdentifier
		if !alg.ReadASN1ObjectIdentifier(&curve) {
			return parsed{}, rInvalid
		}
		r = curveReason(curve.String())
	case alg.PeekASN1Tag(asn1.SEQUENCE):
		r = rCurveExplicit
	default:
		r = sec1Curve(inner)
	}
	if r != rOK {
		return parsed{}, r
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return parsed{}, rInvalid
	}
	return checkP256(key, false, der)
}

// inspectSEC1 handles ECPrivateKey (RFC 5915); body is positioned after the
// version.
func inspectSEC1(der []byte, body cryptobyte.String) (parsed, reason) {
	if r := sec1CurveAfterVersion(body); r != rOK {
		return parsed{}, r
	}
	key, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return parsed{}, rInvalid
	}
	return checkP256(key, true, der)
}

// sec1Curve says whether the SEC1 ECPrivateKey in der is on P-256.
func sec1Curve(der cryptobyte.String) reason {
	var body, version cryptobyte.String
	if !der.ReadASN1(&body, asn1.SEQUENCE) || !body.ReadASN1(&version, asn1.INTEGER) {
		return rInvalid
	}
	return sec1CurveAfterVersion(body)
}

// sec1CurveAfterVersion reads the optional [0] parameters of an
// ECPrivateKey whose version has been read.
func sec1CurveAfterVersion(body cryptobyte.String) reason {
	var params cryptobyte.String
	var has bool
	if !body.SkipASN1(asn1.OCTET_STRING) ||
		!body.ReadOptionalASN1(&params, &has, tagExplicit0) {
		return rInvalid
	}
	switch {
	case !has:
		return rNoCurve
	case params.PeekASN1Tag(asn1.OBJECT_IDENTIFIER):
		var curve encasn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&curve) {
			return rInvalid
		}
		return curveReason(curve.String())
	case params.PeekASN1Tag(asn1.SEQUENCE):
		return rCurveExplicit
	}
	return rInvalid
}

// curveReason returns rOK for P-256 and names any other curve.
func curveReason(oid string) reason {
	switch oid {
	case oidP256:
		return rOK
	case oidP192:
		return rCurveP192
	case oidP224:
		return rCurveP224
	case oidP384:
		return rCurveP384
	case oidP521:
		return rCurveP521
	case oidSecp256k1:
		return rCurveSecp256k1
	case oidBrainpoolP256r1:
		return rCurveBrainpool256
	case oidBrainpoolP384r1:
		return rCurveBrainpool384
	case oidBrainpoolP512r1:
		return rCurveBrainpool512
	case oidSM2:
		return rCurveSM2
	}
	return rCurveUnknown
}

// checkP256 makes sure the standard parser gave a P-256 ECDSA key.
func checkP256(key any, sec1 bool, der []byte) (parsed, reason) {
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return parsed{}, rInvalid
	}
	return parsed{priv: priv, sec1: sec1, der: der}, rOK
}

// inspectSigned handles a SEQUENCE that starts with a SEQUENCE:
// certificates, certificate requests, SubjectPublicKeyInfo and
// EncryptedPrivateKeyInfo.
func inspectSigned(body cryptobyte.String) reason {
	var first cryptobyte.String
	if !body.ReadASN1(&first, asn1.SEQUENCE) {
		return rNotKeyDER
	}
	switch {
	case body.PeekASN1Tag(asn1.OCTET_STRING):
		// EncryptedPrivateKeyInfo (RFC 5208): encryptionAlgorithm,
		// encryptedData.
		if first.PeekASN1Tag(asn1.OBJECT_IDENTIFIER) {
			return rEncryptedPKCS8
		}
	case body.PeekASN1Tag(asn1.BIT_STRING):
		// SubjectPublicKeyInfo (RFC 5280): algorithm, subjectPublicKey.
		if first.PeekASN1Tag(asn1.OBJECT_IDENTIFIER) {
			return rPublicKey
		}
	case body.PeekASN1Tag(asn1.SEQUENCE):
		// Certificate or CertificationRequest: to-be-signed data,
		// signatureAlgorithm, signature.
		if !body.SkipASN1(asn1.SEQUENCE) || !body.PeekASN1Tag(asn1.BIT_STRING) {
			return rNotKeyDER
		}
		if isRequest(first) {
			return rCSR
		}
		return rCertificate
	}
	return rNotKeyDER
}

// isRequest tells a CertificationRequestInfo (version, subject Name,
// SubjectPublicKeyInfo, ...) from a TBSCertificate ([0] version or serial,
// signature AlgorithmIdentifier, ...): the second field of a request is a
// Name, whose first element is a SET; that of a certificate is an
// AlgorithmIdentifier, whose first element is an OID.
func isRequest(tbs cryptobyte.String) bool {
	if tbs.PeekASN1Tag(tagExplicit0) || !tbs.SkipASN1(asn1.INTEGER) {
		return false
	}
	var second cryptobyte.String
	return tbs.ReadASN1(&second, asn1.SEQUENCE) && (second.Empty() || second.PeekASN1Tag(asn1.SET))
}

// isPKCS12 reports whether body, positioned after the version 3, starts with
// the authSafe ContentInfo of a PKCS#12 PFX (RFC 7292).
func isPKCS12(body cryptobyte.String) bool {
	var info cryptobyte.String
	var oid encasn1.ObjectIdentifier
	if !body.ReadASN1(&info, asn1.SEQUENCE) || !info.ReadASN1ObjectIdentifier(&oid) {
		return false
	}
	s := oid.String()
	return s == oidPKCS7Data || s == oidPKCS7Signed
}

// isSmallInt reports whether the INTEGER contents are exactly v (0..127).
func isSmallInt(contents cryptobyte.String, v byte) bool {
	return len(contents) == 1 && contents[0] == v
}

// maxDeclared is the largest DER length that cutShort believes: a key is a
// few hundred bytes and the input is capped at 64 KiB, so a larger length is
// noise, not a key that was cut.
const maxDeclared = maxInput

// cutShort reports whether der starts like a DER SEQUENCE whose declared
// length runs past the end of the data, which is what a key cut short looks
// like. cryptobyte only says "malformed" there, so read the header here.
func cutShort(der []byte) bool {
	if len(der) == 0 || der[0] != 0x30 {
		return false
	}
	if len(der) == 1 {
		return true
	}
	length, header := int(der[1]), 2
	if length&0x80 != 0 {
		n := length & 0x7f
		if n == 0 || n > 3 {
			return false
		}
		if len(der) < 2+n {
			return true
		}
		length = 0
		for _, b := range der[2 : 2+n] {
			length = length<<8 | int(b)
		}
		header += n
	}
	return length <= maxDeclared && header+length > len(der)
}
