package session

// Error is the reason Parse refused a session. Its text is chosen from a
// fixed list of templates and never contains any part of the input, so it
// is safe to print in a public log.
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

// Error returns "session: " followed by the problem. The hint is kept apart
// so that callers can print it on a line of its own.
func (e *Error) Error() string { return "session: " + e.problem }

// Is reports whether target is an *Error of the same Kind, so that
// errors.Is(err, &session.Error{Kind: session.KindTruncated}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

// Kind classifies the problems Parse reports.
type Kind int

// The kinds of problem Parse reports.
const (
	KindEmpty        Kind = iota + 1 // the value is empty or only white space
	KindTooLarge                     // the value is larger than 64 KiB
	KindAPIKey                       // a private key (an App Store Connect API key) instead of a session
	KindTruncated                    // the value was cut short: mid-escape or mid-cookie
	KindNotYAML                      // the value does not parse as YAML
	KindNotCookies                   // YAML, but not a list of HTTP::Cookie objects
	KindBadDate                      // a date and time that does not parse
	KindNoAuthCookie                 // a cookie list with no myacinfo or DES cookie
	KindInvalid                      // anything else: a damaged field, a pasted shell line
)

// String names the kind, for logs and tests.
func (k Kind) String() string {
	switch k {
	case KindEmpty:
		return "empty"
	case KindTooLarge:
		return "too large"
	case KindAPIKey:
		return "API key"
	case KindTruncated:
		return "truncated"
	case KindNotYAML:
		return "not YAML"
	case KindNotCookies:
		return "not a cookie list"
	case KindBadDate:
		return "bad date"
	case KindNoAuthCookie:
		return "no authentication cookie"
	case KindInvalid:
		return "invalid"
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
	rAPIKey
	rCutEscape
	rTruncated
	rNotYAML
	rDamaged
	rMultipleDocuments
	rNotList
	rNotCookie
	rTag
	rAlias
	rTooComplex
	rDuplicateField
	rMissingField
	rBadName
	rBadValue
	rBadText
	rBadFlag
	rBadMaxAge
	rBadExpires
	rBadCreated
	rNoAuthCookie
	rEscapedTwice
	rShellLine
	rUnknown
	numReasons // not a reason: the count, for tests
)

// Hints shared by several templates.
const (
	hintSpaceauth = "run `fastlane spaceauth -u <apple-id>` on a Mac and copy the whole value it prints between the single quotes after FASTLANE_SESSION="
	hintCopyAgain = "the value was cut or changed on its way into the secret; " + hintSpaceauth
)

// err returns a fresh *Error for the reason. Every message is a constant.
func (r reason) err() *Error {
	kind, problem, hint := r.template()
	return &Error{Kind: kind, problem: problem, hint: hint}
}

func (r reason) template() (Kind, string, string) {
	switch r {
	case rEmpty:
		return KindEmpty, "the session is empty",
			"set the secret to the value `fastlane spaceauth -u <apple-id>` prints; secrets are empty in workflows triggered from forks"
	case rTooLarge:
		return KindTooLarge, "the session is larger than 64 KiB",
			"a fastlane session is two or three cookies, a few KiB; check that the secret holds only the value spaceauth prints"
	case rAPIKey:
		return KindAPIKey, "the value is a private key (an App Store Connect API key?), not a fastlane session",
			"an API key is a credential of its own: give it where the action takes the .p8 key, and give here only the value `fastlane spaceauth` prints"
	case rCutEscape:
		return KindTruncated, "the session is truncated: it ends in the middle of a \\n escape", hintCopyAgain
	case rTruncated:
		return KindTruncated, "the session is truncated: its last cookie is incomplete", hintCopyAgain
	case rNotYAML:
		return KindNotYAML, "the value is not YAML, so it cannot be a fastlane session", hintSpaceauth
	case rDamaged:
		return KindNotYAML, "the session looks like spaceauth output, but its YAML does not parse", hintCopyAgain
	case rMultipleDocuments:
		return KindNotCookies, "the value holds more than one YAML document", "put exactly one session in the secret; " + hintSpaceauth
	case rNotList:
		return KindNotCookies, "the value is YAML but not a list of cookies", hintSpaceauth
	case rNotCookie:
		return KindNotCookies, "an entry of the list is not a !ruby/object:HTTP::Cookie mapping", hintSpaceauth
	case rTag:
		return KindNotCookies, "the YAML has a tag other than !ruby/object:HTTP::Cookie; other tags are refused for safety", hintSpaceauth
	case rAlias:
		return KindNotCookies, "a YAML alias stands for something other than a plain value; spaceauth aliases only dates", hintCopyAgain
	case rTooComplex:
		return KindNotCookies, "the YAML has far more cookies, nodes or aliases than a session has", hintSpaceauth
	case rDuplicateField:
		return KindNotCookies, "a cookie has the same field twice", hintCopyAgain
	case rMissingField:
		return KindNotCookies, "a cookie lacks some of the fields HTTP::Cookie always writes " +
			"(name, value, domain, for_domain, path, secure, httponly, expires, max_age, created_at, accessed_at)", hintCopyAgain
	case rBadName:
		return KindInvalid, "a cookie's name is missing, is not text, or has characters a cookie name cannot have", hintCopyAgain
	case rBadValue:
		return KindInvalid, "a cookie's value is not text or has control characters", hintCopyAgain
	case rBadText:
		return KindInvalid, "a cookie's domain or path is not text", hintCopyAgain
	case rBadFlag:
		return KindInvalid, "a cookie's for_domain, secure or httponly is not true or false", hintCopyAgain
	case rBadMaxAge:
		return KindInvalid, "a cookie's max_age is not a whole number of seconds", hintCopyAgain
	case rBadExpires:
		return KindBadDate, "a cookie's expires is not a date and time in Ruby's format (2026-11-22 09:42:18.549512137 +00:00)", hintCopyAgain
	case rBadCreated:
		return KindBadDate, "a cookie's created_at or accessed_at is missing or not a date and time in Ruby's format (2026-11-22 09:42:18.549512137 +00:00)", hintCopyAgain
	case rNoAuthCookie:
		return KindNoAuthCookie, "the session has no authentication cookie (myacinfo or DES...)",
			"only dqsid is left, which cannot sign in; log in again with `fastlane spaceauth -u <apple-id>` and copy the whole value"
	case rEscapedTwice:
		return KindInvalid, "the session's line breaks are escaped twice (\\\\n where spaceauth writes \\n)",
			"the value was JSON-encoded on its way into the secret; " + hintSpaceauth
	case rShellLine:
		return KindInvalid, "the value is a shell line (export FASTLANE_SESSION=...), not the session alone",
			"give only the part between the single quotes, starting with ---"
	}
	return KindInvalid, "the session was refused for an unknown reason", hintSpaceauth
}
