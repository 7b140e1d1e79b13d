package config

import (
	"fmt"
	"strings"
)

// Steps, in the order the action runs them. The command line names its
// commands after them.
const (
	StepSession     = "session"
	StepToken       = "token"
	StepBuildNumber = "build-number"
	StepUpload      = "upload"
)

// Groups of inputs that several steps read.
const (
	GroupKey = "key" // the API key: the token step and every step that calls App Store Connect
	GroupAPI = "api" // where App Store Connect is: every step that calls it
)

// Input declares one input of the action, once: action.yml, the README's
// table, the command line's flags and the parser's defaults all come from
// here, and a test fails on any drift.
type Input struct {
	Name        string
	Description string // one paragraph, as action.yml and the README show it
	Default     string // what an empty value means; "" for none
	Secret      bool   // masked as soon as it is read
	Bool        bool   // true or false: a switch on the command line
	Lines       bool   // one value per line: a repeatable flag
	// Steps lists the steps and groups that read the input; a command
	// offers the inputs of its step and of the groups it uses.
	Steps []string
	// ActionOnly leaves the input off the command line, which gives it
	// another way (the command itself, an argument, a file) or has no use
	// for it (no later steps to export to).
	ActionOnly bool
}

// Flag is the input's help on the command line: the description's first
// sentence.
func (in Input) Flag() string {
	s := in.Description
	for i := 0; ; {
		j := strings.Index(s[i:], ". ")
		if j < 0 {
			break
		}
		end := i + j
		if !strings.HasSuffix(s[:end], "e.g") && !strings.HasSuffix(s[:end], "i.e") {
			s = s[:end+1]
			break
		}
		i = end + 2
	}
	if in.Default != "" && !in.Bool {
		s += fmt.Sprintf(" (default %s)", in.Default)
	}
	return s
}

// Output declares one output of the action.
type Output struct {
	Name        string
	Description string
	Steps       []string // the steps that set it
}

// Inputs returns every input of the action, in the order action.yml lists
// them.
func Inputs() []Input {
	var all []Input
	for _, part := range [][]Input{tokenInputs(), apiInputs(), buildNumberInputs(), uploadInputs(), testFlightInputs(), notarizeInputs(), sessionInputs()} {
		all = append(all, part...)
	}
	return all
}

// Outputs returns every output of the action, in the order action.yml
// lists them.
func Outputs() []Output {
	var all []Output
	for _, part := range [][]Output{tokenOutputs(), buildNumberOutputs(), uploadOutputs(), testFlightOutputs(), notarizeOutputs(), sessionOutputs()} {
		all = append(all, part...)
	}
	return all
}

// InputsOf returns the inputs a command offers: those of its step and of
// the groups it uses, less the action-only ones.
func InputsOf(steps ...string) []Input {
	var out []Input
	for _, in := range Inputs() {
		if in.ActionOnly {
			continue
		}
		for _, s := range in.Steps {
			if contains(steps, s) {
				out = append(out, in)
				break
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func tokenInputs() []Input {
	key := []string{GroupKey}
	return []Input{
		{Name: InputKeyID, Steps: key, Secret: true,
			Description: "The 10-character API key ID (App Store Connect > Users and Access > Integrations). May be omitted when api-key-json carries key_id or when private-key-path ends in AuthKey_<key ID>.p8."},
		{Name: InputIssuerID, Steps: key, Secret: true,
			Description: `The issuer ID, a UUID shown above the key list. Leave empty for an individual key: its tokens carry sub "user" and no iss.`},
		{Name: InputPrivateKey, Steps: key, Secret: true,
			Description: `The .p8 key: PEM as downloaded (CRLF or literal \n escapes are fine), base64 of the PEM file or of its DER body, or a SEC1 EC PRIVATE KEY. Give the key exactly one way: private-key, private-key-path or api-key-json.`},
		{Name: InputPrivateKeyPath, Steps: key,
			Description: "A path to the .p8 file, e.g. one a previous step wrote under runner.temp."},
		{Name: InputAPIKeyJSON, Steps: key, Secret: true,
			Description: "The content of fastlane's API key JSON (key_id, issuer_id, key, in_house, duration, is_key_content_base64)."},
		{Name: InputInHouse, Steps: key, Bool: true, Default: "false",
			Description: "An Apple Developer Enterprise Program key; tokens get aud apple-developer-enterprise-v1."},
		{Name: InputTokenLifetime, Steps: key,
			Description: "The token lifetime as Apple measures it (exp - iat): a Go duration (15m, 900s) or plain seconds, from 2m to 20m. Default 15m, or the duration in api-key-json."},
		{Name: InputScope, Steps: key, Lines: true,
			Description: `Optional scope claim, one operation per line, such as "GET /v1/apps?filter[platform]=IOS". Empty means every operation the key's role allows.`},
		{Name: InputAPIKeyJSONPath, Steps: []string{StepToken},
			Description: "Write fastlane's API key JSON here (mode 0600) for a later step's api_key_path. Use a path under runner.temp or github.workspace."},
		{Name: InputExportEnv, Steps: []string{StepToken}, Bool: true, Default: "false", ActionOnly: true,
			Description: "Export the variables fastlane reads (APP_STORE_CONNECT_API_KEY_PATH, APP_STORE_CONNECT_API_KEY_*, SPACESHIP_CONNECT_API_*) so that later fastlane steps need no configuration."},
	}
}

func tokenOutputs() []Output {
	token := []string{StepToken}
	return []Output{
		{Name: "token", Steps: token, Description: "A signed App Store Connect API token (masked). Valid for this job only: the runner drops job outputs that hold masked values, so mint a token in every job."},
		{Name: "token-expires-at", Steps: token, Description: "When the token expires, RFC 3339 in UTC."},
		{Name: "api-key-json-path", Steps: token, Description: "The path of the API key JSON written, exactly as given (for api_key_path)."},
	}
}

func apiInputs() []Input {
	return []Input{
		{Name: InputAPIBaseURL, Steps: []string{GroupAPI}, Default: DefaultAPIBaseURL,
			Description: "The App Store Connect API's base URL, for a corporate proxy or the local simulator. HTTPS, or plain http to this machine only (127.0.0.1, ::1 or localhost)."},
	}
}

func buildNumberInputs() []Input {
	return []Input{
		{Name: InputBuildNumber, Steps: []string{StepBuildNumber}, Bool: true, Default: "false", ActionOnly: true,
			Description: "Run the build-number step: find the highest build number App Store Connect has for the app (builds and in-flight uploads) and the next one."},
		{Name: InputApp, Steps: []string{StepBuildNumber, StepUpload, StepTestFlight},
			Description: "The app's bundle ID (com.example.app) or numeric App Store Connect ID."},
		{Name: InputPlatform, Steps: []string{StepBuildNumber, StepUpload, StepTestFlight},
			Description: "IOS, MAC_OS, TV_OS or VISION_OS. The build-number step defaults to IOS; the upload step reads it from the file."},
		{Name: InputVersion, Steps: []string{StepBuildNumber, StepUpload, StepTestFlight},
			Description: "The marketing version (CFBundleShortVersionString): the build-number step counts only its builds; the upload step takes it from the file unless a .pkg does not say it; the testflight step finds an existing build by it."},
		{Name: InputInitialBuildNumber, Steps: []string{StepBuildNumber}, Default: "1",
			Description: "The build number to use when the app has none yet."},
	}
}

func buildNumberOutputs() []Output {
	bn := []string{StepBuildNumber}
	return []Output{
		{Name: "latest-build-number", Steps: bn, Description: "The highest build number among the app's builds (expired and processing ones included) and its in-flight uploads; empty when there is none."},
		{Name: "next-build-number", Steps: bn, Description: "The latest with its last component plus one, or initial-build-number."},
		{Name: "app-id", Steps: bn, Description: "The app's App Store Connect ID."},
	}
}

func uploadInputs() []Input {
	up := []string{StepUpload}
	return []Input{
		{Name: InputUploadFile, Steps: up, ActionOnly: true,
			Description: "Upload this .ipa (iOS, tvOS, visionOS) or .pkg (macOS) through App Store Connect's Build Uploads API. Bundle ID, version, build number and platform are read from the file."},
		{Name: InputUploadBuildNumber, Steps: up,
			Description: "The build number (CFBundleVersion) for a .pkg that does not say it. (The input build-number switches the build-number step on.)"},
		{Name: InputWaitForProcessing, Steps: up,
			Description: "After the upload, wait this long (a Go duration such as 30m) for App Store Connect to process the build. Empty: wait for the upload to be accepted only."},
		{Name: InputUploadConcurrency, Steps: up, Default: "4",
			Description: "How many parts are sent at once, 1 to 16."},
		{Name: InputUploadChecksum, Steps: up, Default: "none",
			Description: "none or md5: whether the commit carries the file's MD5, which is computed only then. Apple has refused checksums it did not expect."},
		{Name: InputDryRun, Steps: up, Bool: true, Default: "false",
			Description: "Inspect the file and check the build number, print the plan, and change nothing."},
	}
}

func uploadOutputs() []Output {
	up := []string{StepUpload}
	return []Output{
		{Name: "build-upload-id", Steps: up, Description: "The build upload's ID."},
		{Name: "build-id", Steps: []string{StepUpload, StepTestFlight}, Description: "The build's ID, once App Store Connect has made it."},
		{Name: "upload-state", Steps: up, Description: "AWAITING_UPLOAD, PROCESSING, COMPLETE or FAILED."},
		{Name: "processing-state", Steps: up, Description: "The build's processing state (PROCESSING, VALID, INVALID, FAILED), when waited for."},
		{Name: "bundle-id", Steps: up, Description: "The uploaded app's bundle ID."},
		{Name: "version", Steps: up, Description: "The uploaded build's marketing version."},
		{Name: "build-number", Steps: up, Description: "The uploaded build's build number."},
	}
}

func sessionInputs() []Input {
	s := []string{StepSession}
	return []Input{
		{Name: InputSession, Steps: s, Secret: true, ActionOnly: true,
			Description: "An Apple ID session for jobs that still need an Apple ID, exactly as `fastlane spaceauth` prints it (with \\n escapes or real newlines). Checked, then exported as FASTLANE_SESSION and SPACESHIP_SESSION."},
		{Name: InputSessionCheck, Steps: s, Bool: true, Default: "true",
			Description: "Check the session live against App Store Connect, as spaceship does."},
		{Name: InputSessionWarnDays, Steps: s, Default: "7",
			Description: "Warn when the session has fewer days than this left."},
		{Name: InputSessionBaseURL, Steps: s, Default: DefaultSessionBaseURL,
			Description: "Where the live check goes (HTTPS, or plain http to this machine only for the simulator)."},
		{Name: InputAppSpecificPassword, Steps: s, Secret: true, ActionOnly: true,
			Description: "An app-specific password (xxxx-xxxx-xxxx-xxxx) for altool or iTMSTransporter; exported as FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD."},
	}
}

func sessionOutputs() []Output {
	s := []string{StepSession}
	return []Output{
		{Name: "session-expires-at", Steps: s, Description: "When the session's first long-lived authentication cookie expires, RFC 3339 in UTC."},
		{Name: "session-days-left", Steps: s, Description: "Whole days until the session expires."},
	}
}
