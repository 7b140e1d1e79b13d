// Package fastlane reads and writes fastlane's App Store Connect API key
// JSON and names the environment variables fastlane reads, so that a later
// fastlane step can use the key with no configuration of its own.
package fastlane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxAPIKeySize caps the JSON we read: a key file is well under 1 KiB.
const maxAPIKeySize = 64 << 10

// iatBackdate is how far fastlane (spaceship's Token#refresh!) sets iat in
// the past. Its duration counts from now, so its tokens live duration + 60 s
// as Apple measures them (exp − iat).
const iatBackdate = 60 * time.Second

// APIKey is fastlane's API key JSON, as read by api_key_path and
// Spaceship::ConnectAPI::Token.from_json_file.
type APIKey struct {
	KeyID              string `json:"key_id"`
	IssuerID           string `json:"issuer_id,omitempty"`
	Key                string `json:"key"`
	InHouse            bool   `json:"in_house"`
	Duration           int    `json:"duration,omitempty"`
	IsKeyContentBase64 bool   `json:"is_key_content_base64"`
}

// hintAPIKey is what to do about any fault ParseAPIKey finds.
const hintAPIKey = "give the content of fastlane's API key JSON file, with at least key_id and key"

// Error is the reason ParseAPIKey refused a key file: every fault it found,
// on one line. Its text names fields, never values, so it is safe to print
// in a public log.
type Error struct {
	faults []string // each a clause about the API key JSON, from a fixed template
}

// Problem says what is wrong, in one lower-case line with no package
// prefix: every fault found, separated by semicolons.
func (e *Error) Problem() string { return strings.Join(e.faults, "; ") }

// Hint says what the user can do about it, in one line.
func (e *Error) Hint() string { return hintAPIKey }

// Error returns "fastlane: " followed by the problem.
func (e *Error) Error() string { return "fastlane: " + e.Problem() }

// ParseAPIKey reads fastlane's API key JSON. key_id and key are required,
// as fastlane requires them; unknown fields are ignored, as fastlane does.
// The error, an *Error, reports every fault at once and names fields,
// never values.
func ParseAPIKey(data []byte) (APIKey, error) {
	if len(data) > maxAPIKeySize {
		return APIKey{}, &Error{[]string{fmt.Sprintf("the API key JSON is over %d KiB", maxAPIKeySize>>10)}}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		return APIKey{}, &Error{[]string{"the API key JSON is not a JSON object"}}
	}
	var k APIKey
	var faults []string
	field := func(name string, dst any, kind string) {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			return
		}
		if json.Unmarshal(v, dst) != nil {
			faults = append(faults, fmt.Sprintf("field %q of the API key JSON must be %s", name, kind))
		}
	}
	field("key_id", &k.KeyID, "a string")
	field("issuer_id", &k.IssuerID, "a string")
	field("key", &k.Key, "a string")
	field("in_house", &k.InHouse, "true or false")
	field("duration", &k.Duration, "a whole number of seconds")
	field("is_key_content_base64", &k.IsKeyContentBase64, "true or false")
	switch {
	case k.KeyID == "" && k.Key == "":
		faults = append(faults, "the API key JSON is missing key_id and key")
	case k.KeyID == "":
		faults = append(faults, "the API key JSON is missing key_id")
	case k.Key == "":
		faults = append(faults, "the API key JSON is missing key")
	}
	if k.Duration < 0 {
		faults = append(faults, `field "duration" of the API key JSON is negative`)
	}
	if len(faults) > 0 {
		return APIKey{}, &Error{faults}
	}
	return k, nil
}

// DurationFor is the duration to give fastlane for a token lifetime
// (exp − iat): fastlane adds its 60 s backdate on top, so this keeps its
// own tokens within the same lifetime.
func DurationFor(lifetime time.Duration) int {
	return int(max(lifetime-iatBackdate, iatBackdate) / time.Second)
}

// LifetimeFor is the token lifetime (exp − iat) a fastlane duration stands
// for: the inverse of DurationFor.
func LifetimeFor(duration int) time.Duration {
	return time.Duration(duration)*time.Second + iatBackdate
}

// WriteAPIKeyFile writes k to path with mode 0600, creating missing parent
// folders with mode 0700. The file appears whole or not at all.
func WriteAPIKeyFile(path string, k APIKey) error {
	data, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return fmt.Errorf("fastlane: encode the API key JSON: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("fastlane: create the folder for the API key JSON: %w", err)
	}
	f, err := os.CreateTemp(dir, ".asc-auth-*.json")
	if err != nil {
		return fmt.Errorf("fastlane: write the API key JSON: %w", err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if _, err := bytes.NewReader(data).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("fastlane: write the API key JSON: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("fastlane: write the API key JSON: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("fastlane: write the API key JSON: %w", err)
	}
	return nil
}

// EnvVar is one environment variable for later steps.
type EnvVar struct{ Name, Value string }

// Env lists the variables fastlane reads for key k, whose PEM is in k.Key:
//   - APP_STORE_CONNECT_API_KEY_PATH, the api_key_path fallback of pilot,
//     deliver, match, sigh, cert and the other API-key aware actions (only
//     when keyPath is set);
//   - APP_STORE_CONNECT_API_KEY_*, the options of the app_store_connect_api_key
//     action, so that a lane calling it with no arguments works;
//   - SPACESHIP_CONNECT_API_*, which Spaceship::ConnectAPI::Token.create
//     falls back to when nothing else configures a token.
func Env(k APIKey, keyPath string) []EnvVar {
	inHouse := strconv.FormatBool(k.InHouse)
	duration := strconv.Itoa(k.Duration)
	var env []EnvVar
	add := func(name, value string) {
		if value != "" {
			env = append(env, EnvVar{name, value})
		}
	}
	add("APP_STORE_CONNECT_API_KEY_PATH", keyPath)
	add("APP_STORE_CONNECT_API_KEY_KEY_ID", k.KeyID)
	add("APP_STORE_CONNECT_API_KEY_ISSUER_ID", k.IssuerID)
	add("APP_STORE_CONNECT_API_KEY_KEY", k.Key)
	add("APP_STORE_CONNECT_API_KEY_IS_KEY_CONTENT_BASE64", strconv.FormatBool(k.IsKeyContentBase64))
	add("APP_STORE_CONNECT_API_KEY_IN_HOUSE", inHouse)
	add("SPACESHIP_CONNECT_API_KEY_ID", k.KeyID)
	add("SPACESHIP_CONNECT_API_ISSUER_ID", k.IssuerID)
	add("SPACESHIP_CONNECT_API_KEY", k.Key)
	add("SPACESHIP_CONNECT_API_IN_HOUSE", inHouse)
	if k.Duration > 0 {
		add("APP_STORE_CONNECT_API_KEY_DURATION", duration)
		add("SPACESHIP_CONNECT_API_TOKEN_DURATION", duration)
	}
	return env
}
