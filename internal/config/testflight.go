package config

import (
	"strings"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/testflight"
)

// StepTestFlight distributes a processed build to testers.
const StepTestFlight = "testflight"

// TestFlight-step inputs. The step runs when any of them differs from its
// default; it also reads app and version to name an existing build.
const (
	InputTestFlightGroups      = "testflight-groups"
	InputWhatToTest            = "what-to-test"
	InputWhatToTestLocalized   = "what-to-test-localized"
	InputWhatToTestFile        = "what-to-test-file"
	InputUsesNonExemptEncrypt  = "uses-non-exempt-encryption"
	InputEncryptionDeclaration = "encryption-declaration-id"
	InputSubmitBetaReview      = "submit-beta-review"
	InputNotifyTesters         = "notify-testers"
	InputExpireBuildInReview   = "expire-build-in-review"
	InputDistributionTimeout   = "distribution-timeout"
	InputBuildID               = "build-id"
	InputTestFlightBuildNumber = "testflight-build-number"
)

// maxNotesFile caps what-to-test-file: notes have at most 4,000 characters.
const maxNotesFile = 64 << 10

// TestFlight is the checked configuration of the testflight step: the
// plan, less what only App Store Connect can say (the app's ID when a
// bundle ID was given, the build when the upload step makes it).
type TestFlight struct {
	Plan testflight.Plan
	// App is the app's bundle ID or numeric ID, for a build named by its
	// version and number; "" when the build ID or the upload names it.
	App string
}

func testFlightInputs() []Input {
	tf := []string{StepTestFlight}
	return []Input{
		{Name: InputTestFlightGroups, Steps: tf, Lines: true,
			Description: "Run the testflight step: add the build to these beta groups, by ID or name (case-insensitive), one per line or comma-separated. An unknown or ambiguous entry fails the job before anything is uploaded or changed. Internal groups with access to all builds get every build by themselves and are reported as automatic."},
		{Name: InputWhatToTest, Steps: tf,
			Description: "The TestFlight notes (What to Test) for the app's primary locale, at most 4000 characters, no emoji."},
		{Name: InputWhatToTestLocalized, Steps: tf,
			Description: `The notes by locale, as a JSON object such as {"en-US": "Bug fixes", "de-DE": "Fehlerbehebungen"}. Each locale is created if missing and updated if present.`},
		{Name: InputWhatToTestFile, Steps: tf,
			Description: "A file holding the notes for the app's primary locale (instead of what-to-test)."},
		{Name: InputUsesNonExemptEncrypt, Steps: tf,
			Description: "The export compliance answer (true or false), applied only when the build has none yet (its Info.plist has no ITSAppUsesNonExemptEncryption). true needs encryption-declaration-id."},
		{Name: InputEncryptionDeclaration, Steps: tf,
			Description: "The ID of an approved app encryption declaration, for uses-non-exempt-encryption true."},
		{Name: InputSubmitBetaReview, Steps: tf, Default: "auto",
			Description: "auto: submit the build for Beta App Review when it is in an external group and awaits submission. true: submit, and fail if it cannot be. false: never submit."},
		{Name: InputNotifyTesters, Steps: tf,
			Description: "Empty: keep App Store Connect's auto-notify setting. false: turn auto-notify off for this build. true: notify testers (auto-notify already on counts)."},
		{Name: InputExpireBuildInReview, Steps: tf, Bool: true, Default: "false",
			Description: "When Apple refuses the review submission because another build is in review, expire the build of the same version that is waiting for or in review, then submit again. Expiring cannot be undone."},
		{Name: InputDistributionTimeout, Steps: tf, Default: "15m",
			Description: "A bound on all waiting in the testflight step (processing, export compliance re-processing), as a Go duration."},
		{Name: InputBuildID, Steps: tf,
			Description: "Distribute this existing build (its App Store Connect ID) instead of the one the upload step makes. Alternatively name it by app, version and testflight-build-number."},
		{Name: InputTestFlightBuildNumber, Steps: tf,
			Description: "With app and version: the build number (CFBundleVersion) of the existing build to distribute."},
	}
}

func testFlightOutputs() []Output {
	tf := []string{StepTestFlight}
	return []Output{
		{Name: "internal-build-state", Steps: tf, Description: "The build's internal TestFlight state, such as IN_BETA_TESTING."},
		{Name: "external-build-state", Steps: tf, Description: "The build's external TestFlight state, such as WAITING_FOR_BETA_REVIEW."},
		{Name: "beta-groups", Steps: tf, Description: "JSON: each group's id, name, internal, automatic and result (added, already or skipped-automatic)."},
		{Name: "beta-review-state", Steps: tf, Description: "The Beta App Review state, when the build was submitted (WAITING_FOR_REVIEW, IN_REVIEW, APPROVED, REJECTED)."},
		{Name: "beta-review-submission-id", Steps: tf, Description: "The Beta App Review submission's ID."},
		{Name: "what-to-test-locales", Steps: tf, Description: "The locales whose notes were written, comma-separated."},
		{Name: "notification", Steps: tf, Description: "How testers hear of the build: auto (App Store Connect's auto-notify), sent (a notification was sent) or none."},
	}
}

// testFlightOn reports whether any testflight input differs from its
// default: the runner passes declared defaults as inputs, so a value equal
// to its default switches nothing on.
func (p *parser) testFlightOn() bool {
	for _, in := range testFlightInputs() {
		if v := p.env.Input(in.Name); v != "" && v != in.Default {
			return true
		}
	}
	return false
}

// testFlight reads the testflight step's inputs; upload is the upload
// step's configuration, nil when it is off.
func (p *parser) testFlight(upload *Upload) *TestFlight {
	on := p.testFlightOn()
	cfg := &TestFlight{}
	pl := &cfg.Plan
	pl.Groups = testflight.ParseGroups(p.get(InputTestFlightGroups))
	pl.Notes = p.notes()
	pl.UsesNonExemptEncryption = p.optionalBool(InputUsesNonExemptEncrypt)
	pl.EncryptionDeclarationID = p.get(InputEncryptionDeclaration)
	switch v := testflight.ReviewMode(p.get(InputSubmitBetaReview)); v {
	case testflight.ReviewAuto, testflight.ReviewAlways, testflight.ReviewNever:
		pl.SubmitBetaReview = v
	default:
		p.fail(InputSubmitBetaReview, "is not auto, true or false", "leave it empty for auto")
	}
	switch v := testflight.Notify(p.get(InputNotifyTesters)); v {
	case testflight.NotifyUnset, testflight.NotifyOff, testflight.NotifyOn:
		pl.NotifyTesters = v
	default:
		p.fail(InputNotifyTesters, "is not true, false or empty", "leave it empty to keep App Store Connect's auto-notify setting")
	}
	pl.ExpireBuildInReview = p.boolean(InputExpireBuildInReview, p.get(InputExpireBuildInReview))
	if d, err := time.ParseDuration(p.get(InputDistributionTimeout)); err != nil || d <= 0 || d > maxWait {
		p.fail(InputDistributionTimeout, "is not a duration from 1s to 6h", "give how long the step may wait, such as 30m")
	} else {
		pl.Timeout = d
	}
	switch v := pl.UsesNonExemptEncryption; {
	case v != nil && *v && pl.EncryptionDeclarationID == "":
		p.fail(InputEncryptionDeclaration, "is missing, and uses-non-exempt-encryption is true", "give the ID of the app's approved encryption declaration (App Store Connect > your app > App Information), or answer false if the app uses only exempt encryption")
	case (v == nil || !*v) && pl.EncryptionDeclarationID != "":
		p.fail(InputEncryptionDeclaration, "is only used with uses-non-exempt-encryption true", "remove it, or set uses-non-exempt-encryption to true")
	}
	buildID, number := p.get(InputBuildID), p.get(InputTestFlightBuildNumber)
	if !on {
		return nil
	}
	switch {
	case buildID != "" && (upload != nil || number != ""):
		p.fail(InputBuildID, "names a build, and so does "+cond(upload != nil, InputUploadFile, InputTestFlightBuildNumber), "name the build one way only")
	case buildID != "":
		pl.BuildID = buildID
		if !isDigits(buildID) && !asc.IsUUID(buildID) {
			p.fail(InputBuildID, "is not an App Store Connect build ID", "copy the build's ID from the upload step's build-id output or from the API")
		}
	case upload != nil:
		if number != "" {
			p.fail(InputTestFlightBuildNumber, "is given, and the upload step names the build", "leave it empty when uploading")
		}
		cfg.App = upload.App
		pl.Platform, pl.Version, pl.BuildNumber = upload.Platform, upload.ShortVersion, upload.BuildVersion
	default:
		cfg.App, pl.Version, pl.BuildNumber = p.get(InputApp), p.get(InputVersion), number
		if cfg.App == "" || pl.Version == "" || number == "" {
			p.fail(InputBuildID, "no build is named", "give build-id, or app, version and testflight-build-number, or upload-file to distribute the build it uploads")
		} else if _, err := buildnum.Parse(number); err != nil {
			p.fail(InputTestFlightBuildNumber, "is not one to three period-separated integers", "give CFBundleVersion, such as 42")
		}
		if pf := asc.Platform(p.get(InputPlatform)); pf != "" {
			pl.Platform = pf
			if !pf.Valid() {
				p.fail(InputPlatform, "is not a platform App Store Connect knows", "use IOS, MAC_OS, TV_OS or VISION_OS")
			}
		}
	}
	return cfg
}

// notes gathers the notes from what-to-test, what-to-test-file and
// what-to-test-localized, checking each text as App Store Connect would.
func (p *parser) notes() map[string]string {
	notes := map[string]string{}
	text, file := p.get(InputWhatToTest), p.get(InputWhatToTestFile)
	switch {
	case text != "" && file != "":
		p.fail(InputWhatToTestFile, "gives the notes, and so does what-to-test", "give the notes one way only")
	case file != "":
		data, err := p.env.ReadFile(file)
		switch {
		case err != nil:
			p.fail(InputWhatToTestFile, "cannot be read", "give the path of a UTF-8 text file with the notes")
			return notes
		case len(data) > maxNotesFile:
			p.fail(InputWhatToTestFile, "is far too large for TestFlight notes", "notes have at most 4000 characters")
			return notes
		}
		text = strings.TrimSpace(string(data))
		p.checkNotes(InputWhatToTestFile, text)
		notes[""] = text
	case text != "":
		p.checkNotes(InputWhatToTest, text)
		notes[""] = text
	}
	if js := p.get(InputWhatToTestLocalized); js != "" {
		m, err := testflight.ParseLocalizedNotes(js)
		for _, err := range unjoinErrs(err) {
			p.fail(InputWhatToTestLocalized, strings.TrimPrefix(err.Error(), "testflight: "), `give a JSON object of locale to text, such as {"en-US": "Bug fixes"}, each text at most 4000 characters and without emoji`)
		}
		for locale, t := range m {
			if _, dup := notes[locale]; dup {
				p.fail(InputWhatToTestLocalized, "gives the primary locale's notes, and so does what-to-test", "give them one way only")
			}
			notes[locale] = t
		}
	}
	if len(notes) == 0 {
		return nil
	}
	return notes
}

func (p *parser) checkNotes(input, text string) {
	for _, err := range unjoinErrs(testflight.CheckNotes(text)) {
		p.fail(input, strings.TrimPrefix(err.Error(), "testflight: the notes "), "App Store Connect takes at most 4000 characters and no emoji")
	}
}

// optionalBool reads true, false or empty (no answer).
func (p *parser) optionalBool(input string) *bool {
	s := p.get(input)
	if s == "" {
		return nil
	}
	b := p.boolean(input, s)
	return &b
}

func cond(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
