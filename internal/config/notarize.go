package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/notary"
	"github.com/asc-auth/action/internal/staple"
)

// StepNotarize notarizes (and staples) macOS software.
const StepNotarize = "notarize"

// Notarize-step inputs.
const (
	InputNotarizeFile     = "notarize-file"
	InputNotarizeWaitID   = "notarize-wait-id"
	InputNotarizeTimeout  = "notarize-timeout"
	InputStaple           = "staple"
	InputNotaryBaseURL    = "notary-base-url"
	InputS3EndpointURL    = "s3-endpoint-url"
	InputTicketBaseURL    = "ticket-base-url"
	DefaultNotaryBaseURL  = notary.DefaultBaseURL
	DefaultTicketBaseURL  = staple.DefaultLookupURL
	defaultNotarizeWait   = "30m"
	notarizeFileExtension = ".zip, .pkg or .dmg"
)

// Notarize is the checked configuration of the notarize step.
type Notarize struct {
	File          string // "" when only resuming a wait
	Kind          string // "zip", "pkg" or "dmg"
	WaitID        string // a submission to wait for instead of submitting
	Timeout       time.Duration
	Staple        bool
	BaseURL       string
	S3EndpointURL string
	TicketBaseURL string
}

func notarizeInputs() []Input {
	n := []string{StepNotarize}
	return []Input{
		{Name: InputNotarizeFile, Steps: n,
			Description: "Run the notarize step on this file: a .zip, a signed .pkg or a .dmg. Zip a .app first (ditto -c -k --keepParent App.app App.zip). Needs a team key (individual keys cannot use the notary service)."},
		{Name: InputNotarizeWaitID, Steps: n, ActionOnly: true,
			Description: "Wait for this earlier submission (its notarization-id) instead of submitting; with notarize-file, staple that file afterwards."},
		{Name: InputNotarizeTimeout, Steps: n, Default: defaultNotarizeWait,
			Description: "How long to wait for Apple's decision, as a Go duration, up to 6h. On timeout the step fails and prints the command that resumes the wait."},
		{Name: InputStaple, Steps: n,
			Description: "Staple the ticket to the file once accepted: true by default for .pkg and .dmg; a .zip cannot be stapled (staple the item inside it)."},
		{Name: InputNotaryBaseURL, Steps: n, Default: DefaultNotaryBaseURL,
			Description: "Where the Notary API is (HTTPS, or plain http to this machine only for the simulator)."},
		{Name: InputS3EndpointURL, Steps: n,
			Description: "An S3 endpoint to upload to instead of the bucket's regional endpoint, addressed path-style (HTTPS, or plain http to this machine only)."},
		{Name: InputTicketBaseURL, Steps: n, Default: DefaultTicketBaseURL,
			Description: "Where the ticket lookup (CloudKit) is (HTTPS, or plain http to this machine only)."},
	}
}

func notarizeOutputs() []Output {
	n := []string{StepNotarize}
	return []Output{
		{Name: "notarization-id", Steps: n, Description: "The notary submission's ID."},
		{Name: "notarization-status", Steps: n, Description: "Accepted, Invalid, Rejected, or In Progress on timeout."},
		{Name: "notarization-log", Steps: n, Description: "The path of the developer log JSON: under RUNNER_TEMP in a job, else next to the file, else in the system's temporary directory."},
		{Name: "stapled", Steps: n, Description: "true if the ticket was stapled to the file."},
	}
}

// notarize reads the notarize step's inputs; nil when the step is off.
func (p *parser) notarize() *Notarize {
	cfg := &Notarize{File: p.get(InputNotarizeFile), WaitID: p.get(InputNotarizeWaitID)}
	timeout, staple := p.get(InputNotarizeTimeout), p.get(InputStaple)
	s3 := p.get(InputS3EndpointURL)
	if cfg.File == "" && cfg.WaitID == "" {
		p.get(InputNotaryBaseURL)
		p.get(InputTicketBaseURL)
		return nil
	}
	cfg.BaseURL = p.url(InputNotaryBaseURL)
	cfg.TicketBaseURL = p.url(InputTicketBaseURL)
	if s3 != "" {
		cfg.S3EndpointURL = p.url(InputS3EndpointURL)
	}
	if d, err := time.ParseDuration(timeout); err != nil || d <= 0 || d > maxWait {
		p.fail(InputNotarizeTimeout, "is not a duration from 1s to 6h", "give how long to wait for Apple, such as 30m")
	} else {
		cfg.Timeout = d
	}
	if cfg.File != "" {
		cfg.Kind = p.notarizeKind(cfg.File)
	}
	switch staple {
	case "":
		cfg.Staple = cfg.Kind == "pkg" || cfg.Kind == "dmg"
	default:
		cfg.Staple = p.boolean(InputStaple, staple)
		if cfg.Staple && cfg.Kind == "zip" {
			p.fail(InputStaple, "a .zip cannot be stapled", "staple the item inside it (the .app, .pkg or .dmg) and zip it again, or set staple: false")
		}
		if cfg.Staple && cfg.File == "" {
			p.fail(InputStaple, "there is no file to staple", "give notarize-file too")
		}
	}
	if cfg.WaitID != "" && !asc.IsUUID(cfg.WaitID) {
		p.fail(InputNotarizeWaitID, "is not a submission ID (a UUID)", "give the notarization-id of the submission")
	}
	return cfg
}

// notarizeKind checks the file's kind by its name and first look.
func (p *parser) notarizeKind(path string) string {
	fi, err := os.Stat(path)
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case err != nil:
		p.fail(InputNotarizeFile, "cannot be read", "give the path of the "+notarizeFileExtension+" to notarize")
		return ""
	case fi.IsDir() && ext == ".app":
		p.fail(InputNotarizeFile, "is an .app folder, which cannot be submitted as it is", "zip it first, keeping its symbolic links: ditto -c -k --keepParent App.app App.zip (or zip -ry App.zip App.app)")
		return ""
	case fi.IsDir():
		p.fail(InputNotarizeFile, "is a folder", "give a "+notarizeFileExtension+" file")
		return ""
	}
	switch ext {
	case ".zip", ".pkg", ".dmg":
		return ext[1:]
	}
	p.fail(InputNotarizeFile, fmt.Sprintf("is a %q file; the notary service takes a .zip, a signed .pkg or a .dmg", ext), "zip an .app or a bare binary first, or give the installer package or disk image")
	return ""
}
