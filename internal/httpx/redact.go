package httpx

import (
	"net/http"
	"net/url"
	"strings"
)

// RedactURL returns u without its query, fragment and user information,
// the parts that may carry secrets (a presigned URL's signature, a cursor,
// a password), on one line of valid UTF-8. Every URL that reaches an error
// or a log goes through it.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return clean(r.String())
}

// RedactURLString is RedactURL for a string that may not even parse: what
// cannot be parsed is cut at the first '?' or '#', and loses anything
// before an '@' that follows the scheme.
func RedactURLString(s string) string {
	if u, err := url.Parse(s); err == nil {
		return RedactURL(u)
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		keep := ""
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			keep = s[:i+len("://")]
		}
		s = keep + s[at+1:]
	}
	return clean(s)
}

// Scrub removes u's query and user information from msg, wherever an
// error might have quoted them, raw or unescaped.
func Scrub(msg string, u *url.URL) string {
	if u == nil {
		return msg
	}
	secrets := []string{u.RawQuery}
	if q, err := url.QueryUnescape(u.RawQuery); err == nil {
		secrets = append(secrets, q)
	}
	if u.User != nil {
		secrets = append(secrets, u.User.String())
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// clean folds runs of white space, line breaks included, to one space and
// replaces invalid UTF-8, so that what is logged stays on its line.
func clean(s string) string {
	return strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "\uFFFD")
}

// secretHeaders are the headers that carry credentials, canonical.
var secretHeaders = map[string]bool{
	"Authorization":        true,
	"Proxy-Authorization":  true,
	"Cookie":               true,
	"Set-Cookie":           true,
	"X-Amz-Security-Token": true,
	"X-Amz-Credential":     true,
	"X-Amz-Signature":      true,
	"X-Api-Key":            true,
	"X-Github-Token":       true,
}

// RedactHeader returns a copy of h fit for a log: the values of headers
// that carry credentials (Authorization, cookies, AWS session tokens and
// signatures, API keys, and any header whose name mentions a token, secret,
// signature or password) are replaced by "[redacted]".
func RedactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if !secretHeader(k) {
			out[k] = append([]string(nil), vs...)
			continue
		}
		red := make([]string, len(vs))
		for i := range red {
			red[i] = "[redacted]"
		}
		out[k] = red
	}
	return out
}

func secretHeader(name string) bool {
	if secretHeaders[http.CanonicalHeaderKey(name)] {
		return true
	}
	n := strings.ToLower(name)
	for _, word := range []string{"token", "secret", "signature", "password", "auth"} {
		if strings.Contains(n, word) {
			return true
		}
	}
	return false
}

// URLSecrets returns the credentials a URL carries in its query: a
// presigned URL's signature, credential and security token, or any
// parameter named like a key, token or signature. Register them as
// secrets before the URL is used, so that a server that quotes the URL
// back in an error never gets them printed.
func URLSecrets(u *url.URL) []string {
	if u == nil {
		return nil
	}
	var out []string
	for name, values := range u.Query() {
		n := strings.ToLower(name)
		for _, word := range []string{"signature", "credential", "token", "key", "sig", "secret", "password"} {
			if strings.Contains(n, word) {
				out = append(out, values...)
				break
			}
		}
	}
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	return out
}
