package keys

// Error is the reason Parse refused a key. Its text is chosen from a fixed
// list of templates and never contains any part of the input, so it is safe
// to print in a public log.
type Error struct {
	// Kind is what sort of problem it is, for callers that branch on it.
	Kind Kind

	problem, hint string // from the reason's fixed template
}

// Problem says what is wrong, in one lower-case line with no package
// prefix, such as an input annotation can show as it is.
func (e *Error) Problem() string { return e.problem }

// Hint says what the user can do about it, in one line.
func (e *Error) Hint() string { return e.hint }

// Error returns "keys: " followed by the problem. The hint is kept apart so
// that callers can print it on a line of its own.
func (e *Error) Error() string { return "keys: " + e.problem }

// Is reports whether target is an *Error of the same Kind, so that
// errors.Is(err, &keys.Error{Kind: keys.KindRSA}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

// Kind classifies the problems Parse reports.
type Kind int

// The kinds of problem Parse reports.
const (
	KindEmpty       Kind = iota + 1 // the value is empty or only whitespace
	KindTooLarge                    // the value is larger than 64 KiB
	KindRSA                         // an RSA key (PKCS#8 or PKCS#1)
	KindCurve                       // an EC key on a curve other than P-256
	KindEdwards                     // an Ed25519, Ed448, X25519 or X448 key
	KindAlgorithm                   // a key of another algorithm (DSA, Diffie-Hellman, unknown)
	KindEncrypted                   // a passphrase-protected key (PKCS#8 or legacy PEM)
	KindCertificate                 // an X.509 certificate or certificate request
	KindPublicKey                   // a public key (PEM, DER or an SSH public key line)
	KindOpenSSH                     // an OpenSSH private key
	KindOtherFormat                 // another key container: PKCS#12, PGP, PuTTY
	KindTruncated                   // PEM or DER that was cut short
	KindGarbage                     // text that is neither PEM nor base64, or does not decode
	KindNotKey                      // well-formed data that holds no private key
	KindInvalid                     // a P-256 key whose structure or value is damaged
	KindMultiple                    // more than one private key
)

// String names the kind, for logs and tests.
func (k Kind) String() string {
	switch k {
	case KindEmpty:
		return "empty"
	case KindTooLarge:
		return "too large"
	case KindRSA:
		return "RSA key"
	case KindCurve:
		return "wrong curve"
	case KindEdwards:
		return "Edwards-curve key"
	case KindAlgorithm:
		return "other algorithm"
	case KindEncrypted:
		return "encrypted key"
	case KindCertificate:
		return "certificate"
	case KindPublicKey:
		return "public key"
	case KindOpenSSH:
		return "OpenSSH key"
	case KindOtherFormat:
		return "other key format"
	case KindTruncated:
		return "truncated"
	case KindGarbage:
		return "not PEM or base64"
	case KindNotKey:
		return "not a key"
	case KindInvalid:
		return "invalid P-256 key"
	case KindMultiple:
		return "several keys"
	}
	return "unknown kind"
}

// reason identifies one fixed error template. Parse never builds an error
// message from the input; it picks a reason and reason.err fills in the text.
type reason int

const (
	rOK reason = iota
	rEmpty
	rTooLarge
	rRSA
	rCurveP192
	rCurveP224
	rCurveP384
	rCurveP521
	rCurveSecp256k1
	rCurveBrainpool256
	rCurveBrainpool384
	rCurveBrainpool512
	rCurveSM2
	rCurveUnknown
	rCurveExplicit
	rEd25519
	rEd448
	rX25519
	rX448
	rDSA
	rDH
	rAlgorithmUnknown
	rEncryptedPKCS8
	rEncryptedPEM
	rCertificate
	rCSR
	rPublicKey
	rSSHPublicKey
	rOpenSSH
	rPKCS12
	rPGP
	rPuTTY
	rNoEnd
	rNoBegin
	rShortDER
	rNotText
	rBadBase64
	rPEMBase64
	rMismatch
	rNotDER
	rFileName
	rUnknownPEM
	rNotKeyDER
	rOnlyParams
	rTrailing
	rInvalid
	rNoCurve
	rMultiple
	numReasons // not a reason: the count, for tests
)

// Hints shared by several templates.
const (
	hintDownload = "paste the whole .p8 file downloaded from App Store Connect > Users and Access > Integrations; " +
		"a key downloads only once, so if the file is lost, revoke the key and generate a new one"
	hintWhole     = "paste the whole .p8 file, from the -----BEGIN PRIVATE KEY----- line through the -----END PRIVATE KEY----- line, or its base64"
	hintEncrypted = "the action takes no passphrase; decrypt the key first with " +
		"`openssl pkcs8 -topk8 -nocrypt -in encrypted.p8 -out AuthKey.p8`, or use the original .p8 from App Store Connect"
)

// err returns a fresh *Error for the reason. Every message is a constant.
func (r reason) err() *Error {
	kind, problem, hint := r.template()
	return &Error{Kind: kind, problem: problem, hint: hint}
}

func (r reason) template() (Kind, string, string) {
	const (
		wantP256  = ", but App Store Connect needs an EC P-256 key"
		wantCurve = ", but App Store Connect needs P-256 (prime256v1)"
	)
	switch r {
	case rEmpty:
		return KindEmpty, "the key is empty",
			"set the secret to the contents of the .p8 file and pass it to the action; secrets are empty in workflows triggered from forks"
	case rTooLarge:
		return KindTooLarge, "the key is larger than 64 KiB",
			"an App Store Connect key is about 250 bytes; check that the secret holds only the .p8 file"
	case rRSA:
		return KindRSA, "the key is an RSA key" + wantP256, hintDownload
	case rCurveP192:
		return KindCurve, "the key is an EC key on curve P-192" + wantCurve, hintDownload
	case rCurveP224:
		return KindCurve, "the key is an EC key on curve P-224" + wantCurve, hintDownload
	case rCurveP384:
		return KindCurve, "the key is an EC key on curve P-384" + wantCurve, hintDownload
	case rCurveP521:
		return KindCurve, "the key is an EC key on curve P-521" + wantCurve, hintDownload
	case rCurveSecp256k1:
		return KindCurve, "the key is an EC key on curve secp256k1" + wantCurve, hintDownload
	case rCurveBrainpool256:
		return KindCurve, "the key is an EC key on curve brainpoolP256r1" + wantCurve, hintDownload
	case rCurveBrainpool384:
		return KindCurve, "the key is an EC key on curve brainpoolP384r1" + wantCurve, hintDownload
	case rCurveBrainpool512:
		return KindCurve, "the key is an EC key on curve brainpoolP512r1" + wantCurve, hintDownload
	case rCurveSM2:
		return KindCurve, "the key is an EC key on curve SM2" + wantCurve, hintDownload
	case rCurveUnknown:
		return KindCurve, "the key is an EC key on an unknown curve" + wantCurve, hintDownload
	case rCurveExplicit:
		return KindCurve, "the key is an EC key with explicit curve parameters instead of the named curve P-256",
			"App Store Connect keys name their curve; " + hintDownload
	case rEd25519:
		return KindEdwards, "the key is an Ed25519 key" + wantP256, hintDownload
	case rEd448:
		return KindEdwards, "the key is an Ed448 key" + wantP256, hintDownload
	case rX25519:
		return KindEdwards, "the key is an X25519 key" + wantP256, hintDownload
	case rX448:
		return KindEdwards, "the key is an X448 key" + wantP256, hintDownload
	case rDSA:
		return KindAlgorithm, "the key is a DSA key" + wantP256, hintDownload
	case rDH:
		return KindAlgorithm, "the key is a Diffie-Hellman key" + wantP256, hintDownload
	case rAlgorithmUnknown:
		return KindAlgorithm, "the key uses an unknown algorithm" + wantP256, hintDownload
	case rEncryptedPKCS8:
		return KindEncrypted, "the key is encrypted with a passphrase (PKCS#8 EncryptedPrivateKeyInfo)", hintEncrypted
	case rEncryptedPEM:
		return KindEncrypted, "the key is encrypted with a passphrase (a legacy PEM with a Proc-Type header)", hintEncrypted
	case rCertificate:
		return KindCertificate, "the value is an X.509 certificate, not a private key",
			"a certificate holds no private key; " + hintDownload
	case rCSR:
		return KindCertificate, "the value is a certificate signing request, not a private key",
			"a certificate request holds no private key; " + hintDownload
	case rPublicKey:
		return KindPublicKey, "the value is a public key, not a private key",
			"a public key cannot sign; " + hintDownload
	case rSSHPublicKey:
		return KindPublicKey, "the value is an SSH public key, not a private key",
			"SSH keys cannot sign App Store Connect tokens; " + hintDownload
	case rOpenSSH:
		return KindOpenSSH, "the value is an OpenSSH private key, not a .p8 key",
			"SSH keys cannot sign App Store Connect tokens; " + hintDownload
	case rPKCS12:
		return KindOtherFormat, "the value is a PKCS#12 (.p12) bundle, not a .p8 key",
			"a .p12 holds a code-signing identity, not an API key; " + hintDownload
	case rPGP:
		return KindOtherFormat, "the value is a PGP key, not a .p8 key", hintDownload
	case rPuTTY:
		return KindOtherFormat, "the value is a PuTTY key, not a .p8 key", hintDownload
	case rNoEnd:
		return KindTruncated, "the key is truncated: the PEM text has no END line", "the value was cut short; " + hintWhole
	case rNoBegin:
		return KindTruncated, "the key is truncated: the PEM text has no BEGIN line", "the value was cut short; " + hintWhole
	case rShortDER:
		return KindTruncated, "the key is truncated: its DER data ends early", "the value was cut short; " + hintWhole
	case rNotText:
		return KindGarbage, "the value is neither PEM nor base64", hintWhole
	case rBadBase64:
		return KindGarbage, "the value looks like base64 but does not decode", hintWhole
	case rPEMBase64:
		return KindGarbage, "the PEM body is not valid base64", hintWhole
	case rMismatch:
		return KindGarbage, "the PEM BEGIN and END lines do not match", hintWhole
	case rNotDER:
		return KindGarbage, "the value decodes to data that is neither PEM text nor DER", hintWhole
	case rFileName:
		return KindGarbage, "the value looks like a file name, not the key text",
			"set the value to the text inside the .p8 file, not its name or path"
	case rUnknownPEM:
		return KindNotKey, "the PEM block is of a type that holds no private key", hintDownload
	case rNotKeyDER:
		return KindNotKey, "the DER data is not a private key", hintDownload
	case rOnlyParams:
		return KindNotKey, "the value holds only EC parameters, no key", hintWhole
	case rTrailing:
		return KindNotKey, "the DER data has extra bytes after the key", hintWhole
	case rInvalid:
		return KindInvalid, "the P-256 key is damaged: its structure or private value is invalid", hintDownload
	case rNoCurve:
		return KindInvalid, "the EC key does not name its curve", hintDownload
	case rMultiple:
		return KindMultiple, "the value holds more than one private key", "put exactly one .p8 key in the secret"
	}
	return KindInvalid, "the key was refused for an unknown reason", hintDownload
}
