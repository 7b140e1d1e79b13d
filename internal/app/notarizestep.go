package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/httpx"
	"github.com/asc-auth/action/internal/notary"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/staple"
	"github.com/asc-auth/action/internal/token"
	"github.com/asc-auth/action/internal/transfer"
	"github.com/asc-auth/action/internal/upload"
)

// notarizeStep submits a file to Apple's notary service, waits for the
// decision, turns the log into annotations and staples the ticket.
type notarizeStep struct{ cfg *config.Notarize }

func (notarizeStep) Name() string { return config.StepNotarize }

// Check refuses an individual key and a file that is not what its name
// says, before anything is sent.
func (n notarizeStep) Check(_ context.Context, _ report.Report, s *State) error {
	if s.Minter == nil || s.Minter.Config().IssuerID == "" {
		return errors.New("notarize: an individual key cannot use the notary service (Apple's key documentation): use a team key, which has an issuer ID")
	}
	if n.cfg.File != "" {
		if err := staple.Check(n.cfg.File, n.cfg.Kind); err != nil {
			return fmt.Errorf("input %s: %w", config.InputNotarizeFile, err)
		}
	}
	return nil
}

// notaryClient is the notary service's client: its own minter with no
// scope (the notary service is not matched like App Store Connect's
// scopes) and a lifetime within Apple's 20 minutes, re-minted by the
// token cache before each expiry.
func (s *State) notaryClient(r report.Report, cfg *config.Notarize) (*notary.Client, error) {
	tc := s.Minter.Config()
	tc.Scope = nil
	m, err := token.NewMinter(s.Config.Token.Key.Private, tc, token.WithClock(s.Env.Now))
	if err != nil {
		return nil, err
	}
	return &notary.Client{API: s.newClient(r, m, cfg.BaseURL), S3Endpoint: cfg.S3EndpointURL, Now: s.Env.Now,
		Mask: r.Mask, Log: func(line string) { r.Infof("%s", line) }}, nil
}

func (n notarizeStep) Run(ctx context.Context, r report.Report, s *State) error {
	cfg := n.cfg
	c, err := s.notaryClient(r, cfg)
	if err != nil {
		return err
	}
	var (
		id      = cfg.WaitID
		name    string
		result  notary.Submission
		stapled bool
		logPath string
	)
	outputs := func() error {
		return setOutputs(r, [][2]string{{"notarization-id", id}, {"notarization-status", result.Status},
			{"notarization-log", logPath}, {"stapled", fmt.Sprint(stapled)}})
	}
	if cfg.File != "" {
		name = filepath.Base(cfg.File)
	}
	if id == "" {
		f, err := os.Open(cfg.File)
		if err != nil {
			return fmt.Errorf("input %s: %w", config.InputNotarizeFile, err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		h, err := notary.Hash(ctx, f, st.Size())
		if err != nil {
			return err
		}
		r.Infof("Submitting %s (%s, SHA-256 %s) for notarization.", name, humanBytes(st.Size()), h.Sum)
		sub, err := c.Submit(ctx, name, h.Sum)
		if err != nil {
			return err
		}
		id = sub.ID
		r.Infof("Submission %s; uploading to S3.", id)
		up, err := c.Upload(ctx, f, h, sub, notary.UploadOptions{Concurrency: 4, Progress: throttledTransfer(r, s.Env.Now)})
		if err != nil {
			_ = outputs()
			return err
		}
		r.Infof("Uploaded in %d part(s), %d retried, in %s.", up.Parts, up.Retries, up.Duration.Round(time.Millisecond))
	}
	r.Infof("Waiting up to %s for Apple's decision on %s (resume later with: asc-auth notarize --wait %s).", cfg.Timeout, id, id)
	result, err = c.Wait(ctx, id, notary.WaitOptions{Interval: cmp.Or(s.Env.PollInterval, notary.DefaultPollInterval), Timeout: cfg.Timeout,
		Status: func(sub notary.Submission) { r.Infof("Submission %s: %s", sub.ID, sub.Status) }})
	if err != nil {
		result.Status = cmp.Or(result.Status, notary.StatusInProgress)
		_ = outputs()
		summary(r, notarizeSummary(name, id, result.Status, "", false, err))
		return err
	}
	raw, log, lerr := c.FetchLog(ctx, id)
	if lerr != nil {
		r.Warningf("Notarization", "%v", lerr)
	} else {
		// Under RUNNER_TEMP in a job; else next to the file; else (--wait
		// alone, outside Actions) in the system's temporary directory,
		// never wherever the command happens to run.
		dir := s.Env.Getenv("RUNNER_TEMP")
		switch {
		case dir != "":
		case cfg.File != "":
			dir = filepath.Dir(cfg.File)
		default:
			dir = os.TempDir()
		}
		logPath = filepath.Join(dir, "notarization-"+id+".json")
		if err := os.WriteFile(logPath, raw, 0o644); err != nil {
			r.Warningf("Notarization", "could not write the log: %v", err)
			logPath = ""
		}
		for _, is := range log.Issues {
			msg := fmt.Sprintf("%s: %s", is.Path, is.Message)
			if is.DocURL != "" {
				msg += " " + is.DocURL
			}
			title := "Notarization (" + cmp.Or(is.Architecture, "all") + ")"
			if is.Severity == "error" {
				r.Errorf(title, "%s", msg)
			} else {
				r.Warningf(title, "%s", msg)
			}
		}
	}
	var stapleNote string
	if result.Status == notary.StatusAccepted && cfg.Staple && cfg.File != "" {
		stapled, err = n.staple(ctx, r, cfg, s)
		if err != nil {
			_ = outputs()
			summary(r, notarizeSummary(name, id, result.Status, logPath, false, err))
			return err
		}
	} else if cfg.Kind == "zip" {
		stapleNote = "a .zip cannot be stapled: staple the item inside it and zip it again"
		r.Infof("%s.", stapleNote)
	}
	oerr := outputs()
	var failure error
	if result.Status != notary.StatusAccepted {
		failure = fmt.Errorf("notarize: submission %s is %s: %s", id, result.Status, cmp.Or(log.StatusSummary, "see the log"))
	}
	summary(r, notarizeSummary(name, id, result.Status, logPath, stapled, failure)+stapleNote)
	if failure != nil {
		return failure
	}
	r.Infof("Notarized %s: %s%s.", cmp.Or(name, id), result.Status, map[bool]string{true: ", ticket stapled", false: ""}[stapled])
	return oerr
}

// staple looks the ticket up (retrying while Apple publishes it) and
// attaches it.
func (n notarizeStep) staple(ctx context.Context, r report.Report, cfg *config.Notarize, s *State) (bool, error) {
	f, err := os.Open(cfg.File)
	if err != nil {
		return false, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return false, err
	}
	rec, err := staple.RecordName(f, st.Size(), cfg.File)
	f.Close()
	if err != nil {
		return false, err
	}
	interval := cmp.Or(s.Env.PollInterval, 15*time.Second)
	ticket, err := staple.Lookup(ctx, &http.Client{Timeout: 30 * time.Second}, cfg.TicketBaseURL, rec, 12, interval, httpx.Sleep,
		func(line string) { r.Infof("%s", line) })
	if err != nil {
		return false, err
	}
	if cfg.Kind == "pkg" {
		err = staple.Pkg(cfg.File, ticket)
	} else {
		err = staple.DMG(cfg.File, ticket)
	}
	if err != nil {
		return false, fmt.Errorf("notarize: stapling %s: %w", cfg.File, err)
	}
	r.Infof("Stapled the ticket (%d bytes, record %s) to %s.", len(ticket), rec, filepath.Base(cfg.File))
	return true, nil
}

func notarizeSummary(name, id, status, logPath string, stapled bool, err error) string {
	rows := [][2]string{
		{"File", "`" + dash(name) + "`"},
		{"Submission", "`" + dash(id) + "`"},
		{"Status", dash(status)},
		{"Log", "`" + dash(logPath) + "`"},
		{"Stapled", fmt.Sprint(stapled)},
	}
	if err != nil {
		rows = append(rows, [2]string{"Failed", strings.ReplaceAll(err.Error(), "|", `\|`)})
	}
	return table("Notarization", rows)
}

// throttledTransfer logs the upload's progress every few seconds.
func throttledTransfer(r report.Report, now func() time.Time) func(transfer.Progress) {
	p := throttledProgress(r, now)
	return func(t transfer.Progress) { p(upload.Progress(t)) }
}
