package config

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/buildnum"
	"github.com/asc-auth/action/internal/bundle"
	"github.com/asc-auth/action/internal/upload"
)

// Upload-step inputs. The upload step also reads app, platform and version
// as overrides of what the file says. Its build-number override is
// upload-build-number, because build-number switches the build-number step
// on.
const (
	InputUploadFile        = "upload-file"
	InputUploadBuildNumber = "upload-build-number"
	InputWaitForProcessing = "wait-for-processing"
	InputUploadConcurrency = "upload-concurrency"
	InputUploadChecksum    = "upload-checksum"
	InputDryRun            = "dry-run"
)

// maxWait bounds wait-for-processing: longer than a GitHub job may run.
const maxWait = 6 * time.Hour

// Upload is the checked configuration of the upload step.
type Upload struct {
	File              string      // the path as the container sees it
	Info              bundle.Info // what the file says
	App               string      // a bundle ID or numeric app ID
	Platform          asc.Platform
	ShortVersion      string
	BuildVersion      string
	WaitForProcessing time.Duration // 0: wait for the upload only
	Concurrency       int
	Checksum          upload.ChecksumMode
	DryRun            bool
}

// upload reads the upload step's inputs (all of them, whether or not a file
// is given) and returns nil when no file is.
func (p *parser) upload() *Upload {
	cfg := &Upload{
		File:              p.get(InputUploadFile),
		WaitForProcessing: p.wait(),
		Concurrency:       p.concurrency(),
		Checksum:          p.checksum(),
		DryRun:            p.boolean(InputDryRun, p.get(InputDryRun)),
	}
	app, platform := p.get(InputApp), p.get(InputPlatform)
	version, build := p.get(InputVersion), p.get(InputUploadBuildNumber)
	if cfg.File == "" {
		return nil
	}
	info, err := bundle.InspectFile(cfg.File)
	if err != nil {
		p.failFrom(InputUploadFile, err, "cannot be read", "give the path of the .ipa or .pkg to upload, such as ${{ runner.temp }}/build/App.ipa")
		return cfg
	}
	cfg.Info = info
	name := filepath.Base(cfg.File)

	cfg.App = cmp.Or(app, info.BundleID)
	if app != "" && !buildnum.IsAppID(app) && info.BundleID != "" && app != info.BundleID {
		p.fail(InputApp, fmt.Sprintf("is %s but %s is built for %s", app, name, info.BundleID), "leave app empty for uploads or make the two agree")
	}
	if cfg.App == "" {
		p.fail(InputApp, "is missing and "+name+" names no bundle ID", "give the app's bundle ID or numeric App Store Connect ID")
	}
	cfg.Platform = asc.Platform(cmp.Or(platform, info.Platform))
	if !cfg.Platform.Valid() {
		p.fail(InputPlatform, "is not a platform App Store Connect knows", "use IOS, MAC_OS, TV_OS or VISION_OS")
	} else if platform != "" && info.Platform != "" && platform != info.Platform {
		p.fail(InputPlatform, fmt.Sprintf("is %s but %s is built for %s", platform, name, info.Platform), "leave platform empty for uploads or make the two agree")
	}
	cfg.ShortVersion = p.override(InputVersion, version, info.ShortVersion, "CFBundleShortVersionString", name)
	cfg.BuildVersion = p.override(InputUploadBuildNumber, build, info.BuildVersion, "CFBundleVersion", name)
	return cfg
}

// override merges an input with the value the file carries: the input may
// fill in what a .pkg does not say, but may not contradict the file, whose
// Info.plist App Store Connect will read anyway.
func (p *parser) override(input, given, inFile, key, name string) string {
	v := cmp.Or(given, inFile)
	switch {
	case v == "":
		p.fail(input, fmt.Sprintf("is missing and %s does not say its %s", name, key), "give it as "+input)
	case given != "" && inFile != "" && given != inFile:
		p.fail(input, fmt.Sprintf("is %s but %s says %s %s", given, name, key, inFile), "leave "+input+" empty or make the two agree")
	default:
		if _, err := buildnum.Parse(v); err != nil {
			p.fail(input, "is not one to three period-separated integers", "App Store Connect needs "+key+" such as 1.2.3")
		}
	}
	return v
}

func (p *parser) wait() time.Duration {
	s := p.get(InputWaitForProcessing)
	if s == "" || s == "false" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxWait {
		p.fail(InputWaitForProcessing, "is not a duration from 1s to 6h", "give how long to wait, such as 30m, or leave it empty not to wait for processing")
		return 0
	}
	return d
}

func (p *parser) concurrency() int {
	n, err := strconv.Atoi(p.get(InputUploadConcurrency))
	if err != nil || n < 1 || n > upload.MaxConcurrency {
		p.fail(InputUploadConcurrency, fmt.Sprintf("is not a number from 1 to %d", upload.MaxConcurrency), fmt.Sprintf("leave it empty for %d", upload.DefaultConcurrency))
		return upload.DefaultConcurrency
	}
	return n
}

func (p *parser) checksum() upload.ChecksumMode {
	switch s := upload.ChecksumMode(p.get(InputUploadChecksum)); s {
	case upload.ChecksumNone:
		return upload.ChecksumNone
	case upload.ChecksumMD5:
		return s
	}
	p.fail(InputUploadChecksum, "is neither none nor md5", "leave it empty (none) unless App Store Connect asks for a checksum")
	return upload.ChecksumNone
}
