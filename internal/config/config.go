// Package config turns the action's inputs, or the command line's flags
// that mirror them, into checked settings. It reports every invalid input
// at once, each with the fix, and never quotes a secret.
package config

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/fastlane"
	"github.com/asc-auth/action/internal/httpx"
	"github.com/asc-auth/action/internal/keys"
	"github.com/asc-auth/action/internal/token"
)

// Input names, as declared in action.yml and mirrored by the CLI's flags.
const (
	InputKeyID          = "key-id"
	InputIssuerID       = "issuer-id"
	InputPrivateKey     = "private-key"
	InputPrivateKeyPath = "private-key-path"
	InputAPIKeyJSON     = "api-key-json"
	InputInHouse        = "in-house"
	InputTokenLifetime  = "token-lifetime"
	InputScope          = "scope"
	InputAPIKeyJSONPath = "api-key-json-path"
	InputExportEnv      = "export-env"

	InputAPIBaseURL         = "api-base-url"
	InputBuildNumber        = "build-number"
	InputApp                = "app"
	InputPlatform           = "platform"
	InputVersion            = "version"
	InputInitialBuildNumber = "initial-build-number"
)

// DefaultAPIBaseURL is App Store Connect's API.
const DefaultAPIBaseURL = "https://api.appstoreconnect.apple.com"

// maxKeyFileSize caps a private-key-path read: a .p8 file is about 250 bytes.
const maxKeyFileSize = 64 << 10

// InputError is one invalid input: which, what is wrong, and what to do.
type InputError struct {
	Input   string
	Problem string
	Fix     string
}

func (e *InputError) Error() string {
	msg := fmt.Sprintf("input %s: %s", e.Input, e.Problem)
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// Token is the checked configuration of the token step.
type Token struct {
	Key            *keys.Key
	KeySource      string // the input the key was given by
	Minter         token.Config
	APIKeyJSONPath string // as the user wrote it
	ExportEnv      bool
}

// Config is every step's checked configuration. A step whose inputs were
// not given is nil: the token step runs when a key is given (or nothing
// else is), the session step when a session or an app-specific password is.
type Config struct {
	Token       *Token
	APIBaseURL  string
	BuildNumber *buildnum.Query
	Session     *Session
	Upload      *Upload
	TestFlight  *TestFlight
	Notarize    *Notarize
}

// Env is where inputs come from: Input returns an input's value with
// surrounding white space removed ("" when unset) and ReadFile reads a file
// named by an input.
type Env struct {
	Input    func(name string) string
	ReadFile func(name string) ([]byte, error)
}

// Parse checks the inputs of every step. Whatever it returns, secrets
// lists every secret it saw or derived (raw inputs, the key in each of its
// forms) so that the caller can mask them before printing anything,
// including the error. The error joins one *InputError per invalid input.
func Parse(env Env) (cfg Config, secrets []string, err error) {
	p := &parser{env: env, decls: make(map[string]Input)}
	for _, in := range Inputs() {
		p.decls[in.Name] = in
	}
	cfg.Session = p.session()
	cfg.Upload = p.upload()
	cfg.TestFlight = p.testFlight(cfg.Upload)
	cfg.Notarize = p.notarize()
	buildNumber := p.boolean(InputBuildNumber, p.get(InputBuildNumber))
	if cfg.Session == nil || buildNumber || cfg.Upload != nil || cfg.TestFlight != nil || cfg.Notarize != nil || p.keyGiven() {
		t := p.token()
		cfg.Token = &t
	}
	cfg.APIBaseURL = p.baseURL()
	if buildNumber {
		cfg.BuildNumber = p.buildNumber()
	}
	return cfg, p.secrets, errors.Join(p.errs...)
}

type parser struct {
	env     Env
	decls   map[string]Input
	secrets []string
	errs    []error
}

// get returns an input's value, or its declared default when it is empty:
// the command line, the native action and some runners pass nothing for an
// input that is not set. A secret input on one line joins the secrets to
// mask; a multi-line one is masked in the forms its parser finds, since
// masking each of its lines could blank common lines all over the log.
func (p *parser) get(name string) string {
	in, ok := p.decls[name]
	if !ok {
		p.errs = append(p.errs, fmt.Errorf("config: input %s is read but not declared", name))
	}
	v := p.env.Input(name)
	if in.Secret && !strings.ContainsAny(v, "\r\n") {
		p.secrets = append(p.secrets, v)
	}
	if v == "" {
		return in.Default
	}
	return v
}

func (p *parser) fail(input, problem, fix string) {
	p.errs = append(p.errs, &InputError{Input: input, Problem: problem, Fix: fix})
}

func (p *parser) token() Token {
	var cfg Token
	keyID := p.get(InputKeyID)
	issuerID := p.get(InputIssuerID)

	fromJSON := p.key(&cfg)
	if fromJSON != nil {
		keyID = p.agree(InputKeyID, keyID, fromJSON.KeyID, "key_id")
		issuerID = p.agree(InputIssuerID, issuerID, fromJSON.IssuerID, "issuer_id")
		cfg.Minter.InHouse = fromJSON.InHouse
	}
	if keyID == "" && cfg.KeySource == InputPrivateKeyPath {
		keyID = keyIDFromFileName(p.get(InputPrivateKeyPath))
	}
	switch {
	case keyID == "":
		p.fail(InputKeyID, "is missing", "set it to the Key ID shown next to the key in App Store Connect > Users and Access > Integrations")
	case token.CheckKeyID(keyID) != nil:
		p.fail(InputKeyID, "is not a key ID (10 upper-case letters and digits)", "copy the Key ID column from App Store Connect > Users and Access > Integrations, not the key itself or the issuer ID")
	}
	if token.CheckIssuerID(issuerID) != nil {
		p.fail(InputIssuerID, "is not a UUID", "copy the Issuer ID shown above the key list in App Store Connect (8-4-4-4-12 hex digits), or leave it empty for an individual key")
	}
	cfg.Minter.KeyID, cfg.Minter.IssuerID = keyID, issuerID
	// They may have come from api-key-json or the key's file name, not only
	// from the inputs masked above.
	p.secrets = append(p.secrets, keyID, issuerID)

	// in-house defaults to false, so it can only add to what the API key
	// JSON says.
	cfg.Minter.InHouse = p.boolean(InputInHouse, p.get(InputInHouse)) || cfg.Minter.InHouse
	cfg.Minter.Lifetime = p.lifetime(fromJSON)
	cfg.Minter.Scope = p.scope()
	cfg.APIKeyJSONPath = p.get(InputAPIKeyJSONPath)
	cfg.ExportEnv = p.boolean(InputExportEnv, p.get(InputExportEnv))
	return cfg
}

// keyGiven reports whether any input gives a private key.
func (p *parser) keyGiven() bool {
	return p.get(InputPrivateKey) != "" || p.get(InputPrivateKeyPath) != "" || p.get(InputAPIKeyJSON) != ""
}

// key reads the private key from the one input that gives it. It returns
// the parsed API key JSON when the key came that way.
func (p *parser) key(cfg *Token) *fastlane.APIKey {
	var given []string
	for _, name := range []string{InputPrivateKey, InputPrivateKeyPath, InputAPIKeyJSON} {
		if p.get(name) != "" {
			given = append(given, name)
		}
	}
	switch len(given) {
	case 0:
		p.fail(InputPrivateKey, "no key was given", "set exactly one of private-key (the .p8 contents), private-key-path or api-key-json (or, for an Apple ID, session or app-specific-password)")
		return nil
	case 1:
	default:
		p.fail(given[1], fmt.Sprintf("the key was given by %s too", strings.Join(given[:len(given)-1], " and ")), "give the key one way only")
		return nil
	}
	cfg.KeySource = given[0]
	switch cfg.KeySource {
	case InputPrivateKey:
		cfg.Key = p.parseKey(InputPrivateKey, p.get(InputPrivateKey))
	case InputPrivateKeyPath:
		text, ok := p.readKeyFile(p.get(InputPrivateKeyPath))
		if ok {
			cfg.Key = p.parseKey(InputPrivateKeyPath, text)
		}
	case InputAPIKeyJSON:
		raw := p.get(InputAPIKeyJSON)
		k, err := fastlane.ParseAPIKey([]byte(raw))
		if err != nil {
			p.failFrom(InputAPIKeyJSON, err, "is not fastlane's API key JSON", "give the content of fastlane's API key JSON file, with at least key_id and key")
			return nil
		}
		text := k.Key
		if k.IsKeyContentBase64 {
			p.secrets = append(p.secrets, text)
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
			if err != nil {
				p.fail(InputAPIKeyJSON, "its key is not base64 although is_key_content_base64 is true", "set is_key_content_base64 to false or encode the .p8 file with base64")
				return nil
			}
			text = string(b)
		}
		cfg.Key = p.parseKey(InputAPIKeyJSON, text)
		return &k
	}
	return nil
}

func (p *parser) readKeyFile(path string) (string, bool) {
	const fix = "point private-key-path at the .p8 file, or pass its contents in private-key"
	data, err := p.env.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.fail(InputPrivateKeyPath, "no such file", fix)
	case errors.Is(err, fs.ErrPermission):
		p.fail(InputPrivateKeyPath, "the file cannot be read (permission denied)", fix)
	case errors.Is(err, syscall.EISDIR):
		p.fail(InputPrivateKeyPath, "is a folder, not a file", fix)
	case err != nil:
		p.fail(InputPrivateKeyPath, "the file cannot be read", fix)
	case len(data) > maxKeyFileSize:
		p.fail(InputPrivateKeyPath, "the file is far too large for a .p8 key", fix)
	default:
		return string(data), true
	}
	return "", false
}

func (p *parser) parseKey(input, text string) *keys.Key {
	k, err := keys.Parse(text)
	p.secrets = append(p.secrets, keys.SecretForms(text, k)...)
	if err == nil {
		return k
	}
	if strings.Contains(text, "!ruby/object:HTTP::Cookie") {
		p.fail(input, "holds a FASTLANE_SESSION, not a private key", "pass the session in the session input and the .p8 key here")
		return nil
	}
	p.failFrom(input, err, "is not a usable private key", "paste the whole .p8 file downloaded from App Store Connect")
	return nil
}

// parseError is what the parsers' errors (keys, session, bundle, fastlane)
// share: what is wrong, and what to do, each in words fit for an input's
// annotation.
type parseError interface {
	Problem() string
	Hint() string
}

// failFrom reports err against input: in the parser's own words where it
// has them, else with problem and fix. It never quotes the input.
func (p *parser) failFrom(input string, err error, problem, fix string) {
	var pe parseError
	if errors.As(err, &pe) {
		p.fail(input, pe.Problem(), pe.Hint())
		return
	}
	p.fail(input, problem, fix)
}

// agree merges a value given both as an input and in the API key JSON.
func (p *parser) agree(input, fromInput, fromJSON, field string) string {
	if fromInput != "" && fromJSON != "" && fromInput != fromJSON {
		p.fail(input, fmt.Sprintf("differs from %s in api-key-json", field), "leave "+input+" empty or make the two agree")
	}
	if fromInput != "" {
		return fromInput
	}
	return fromJSON
}

// boolean reads a YAML 1.2 core boolean, as GitHub's toolkit does; empty
// is false.
func (p *parser) boolean(input, s string) bool {
	switch s {
	case "", "false", "False", "FALSE":
		return false
	case "true", "True", "TRUE":
		return true
	}
	p.fail(input, "is not a boolean", "use true or false")
	return false
}

func (p *parser) lifetime(fromJSON *fastlane.APIKey) time.Duration {
	s := p.get(InputTokenLifetime)
	if s == "" {
		if fromJSON != nil && fromJSON.Duration > 0 {
			// fastlane's duration leaves out its 60 s backdate, so the
			// lifetime (exp − iat) it stands for is 60 s longer.
			d := min(fastlane.LifetimeFor(fromJSON.Duration), token.MaxLifetime)
			return max(d, token.MinLifetime)
		}
		return token.DefaultLifetime
	}
	d, err := ParseLifetime(s)
	if err != nil {
		p.fail(InputTokenLifetime, err.Error(), fmt.Sprintf("give a duration from %s to %s, such as 15m or 900", minutes(token.MinLifetime), minutes(token.MaxLifetime)))
		return 0
	}
	return d
}

// ParseLifetime reads a token lifetime as a Go duration ("15m", "90s") or
// plain seconds ("900") and checks that App Store Connect accepts it.
func ParseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, errors.New("is not a duration")
	}
	switch {
	case d <= 0:
		return 0, errors.New("must be positive")
	case d > token.MaxLifetime:
		return 0, fmt.Errorf("is over the %s App Store Connect accepts", minutes(token.MaxLifetime))
	case token.CheckLifetime(d) != nil:
		return 0, fmt.Errorf("must be whole seconds from %s to %s", minutes(token.MinLifetime), minutes(token.MaxLifetime))
	}
	return d, nil
}

func (p *parser) scope() []string {
	var scope []string
	n := 0
	for line := range strings.Lines(p.get(InputScope)) {
		n++
		s := strings.TrimSpace(line)
		if s == "" {
			continue
		}
		if token.CheckScope([]string{s}) != nil {
			p.fail(InputScope, fmt.Sprintf("line %d is not \"METHOD /path\"", n), "write one operation per line, such as GET /v1/apps?filter[platform]=IOS")
		}
		scope = append(scope, s)
	}
	return scope
}

// keyIDFromFileName reads the key ID from the name App Store Connect gives
// a downloaded key, AuthKey_<key ID>.p8.
func keyIDFromFileName(path string) string {
	name := filepath.Base(path)
	id, ok := strings.CutPrefix(strings.TrimSuffix(name, ".p8"), "AuthKey_")
	if !ok || !strings.HasSuffix(name, ".p8") || token.CheckKeyID(id) != nil {
		return ""
	}
	return id
}

// minutes writes a whole number of minutes as "20m" rather than "20m0s".
func minutes(d time.Duration) string { return fmt.Sprintf("%dm", d/time.Minute) }

// baseURL checks api-base-url.
func (p *parser) baseURL() string { return p.url(InputAPIBaseURL) }

// url checks a base-URL input: HTTPS, or plain HTTP to this machine only
// (the local simulator), so that a credential never crosses a network
// unencrypted.
func (p *parser) url(input string) string {
	s := p.get(input)
	if err := CheckBaseURL(s); err != nil {
		p.fail(input, err.Error(), "give an https:// URL such as "+p.decls[input].Default+", or http://127.0.0.1:PORT for the local simulator")
	}
	return strings.TrimSuffix(s, "/")
}

// CheckBaseURL applies the base-URL rule of the inputs to a URL given
// elsewhere (a command's flag): HTTPS, or plain HTTP to this machine only,
// with no credentials, query or fragment. The error is one lower-case
// problem.
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return errors.New("is not a URL")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not carry credentials, a query or a fragment")
	case u.Scheme == "https", u.Scheme == "http" && httpx.IsLoopback(u.Hostname()):
		return nil
	}
	return errors.New("must use https (plain http only to this machine)")
}

// buildNumber checks the build-number step's inputs.
func (p *parser) buildNumber() *buildnum.Query {
	q := &buildnum.Query{
		App:      p.get(InputApp),
		Platform: asc.Platform(cmp.Or(p.get(InputPlatform), string(asc.PlatformIOS))),
		Version:  p.get(InputVersion),
	}
	if q.App == "" {
		p.fail(InputApp, "is missing", "give the app's bundle ID (com.example.app) or its numeric App Store Connect ID")
	} else if buildnum.CheckApp(q.App) != nil {
		p.fail(InputApp, "is neither a bundle ID nor a numeric app ID", "give the app's bundle ID (com.example.app) or its numeric App Store Connect ID")
	}
	if !q.Platform.Valid() {
		p.fail(InputPlatform, "is not a platform App Store Connect knows", "use IOS, MAC_OS, TV_OS or VISION_OS")
	}
	if q.Version != "" {
		if _, err := buildnum.Parse(q.Version); err != nil {
			p.fail(InputVersion, "is not a marketing version", "give CFBundleShortVersionString, such as 1.2 or 1.2.3, or leave it empty")
		}
	}
	n, err := buildnum.Parse(p.get(InputInitialBuildNumber))
	if err != nil {
		p.fail(InputInitialBuildNumber, "is not a build number", "give one to three period-separated integers, such as 1 or 1.0.0")
	}
	q.Initial = n
	return q
}

// unjoinErrs lists the errors inside an errors.Join; nil has none.
func unjoinErrs(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
