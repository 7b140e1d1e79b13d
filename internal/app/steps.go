package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/asc"
	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/token"
)

// A Step is one unit of the action: session, token, build-number, upload,
// testflight.
// Its inputs are declared in internal/config (inputs.go) and checked there;
// its outputs are declared beside them.
//
// Every step's Check runs before any step's Run, so that a wrong input or
// a refused precondition fails the job before anything is written, sent or
// uploaded; Check only reads. Run does the step's work, reports it through
// r and leaves what later steps need in s.
type Step interface {
	Name() string
	Check(ctx context.Context, r report.Report, s *State) error
	Run(ctx context.Context, r report.Report, s *State) error
}

// State is what the steps share: the process's environment, the checked
// configuration, the API client, and the results of the steps before.
type State struct {
	Env    Env
	Config config.Config
	Minter *token.Minter // nil when no API key was given

	client *asc.Client // made on first use

	// Results handed on.
	AppID    string // the app's App Store Connect ID
	BuildID  string // the build the upload made
	BundleID string
}

// newState makes the shared state; the minter is made here, so that a key
// that cannot sign fails before any step runs.
func newState(e Env, cfg config.Config) (*State, error) {
	s := &State{Env: e, Config: cfg}
	if cfg.Token != nil {
		m, err := token.NewMinter(cfg.Token.Key.Private, cfg.Token.Minter, token.WithClock(e.Now))
		if err != nil {
			return nil, err
		}
		s.Minter = m
	}
	return s, nil
}

// Client returns the App Store Connect client, made on first use, whose
// tokens are minted when needed and masked in r before they can be logged.
func (s *State) Client(r report.Report) *asc.Client {
	if s.client == nil {
		s.client = s.newClient(r, s.Minter, s.Config.APIBaseURL)
	}
	return s.client
}

// newClient returns a client of the API at baseURL whose tokens m mints
// when needed, each masked in r before it can be logged.
func (s *State) newClient(r report.Report, m *token.Minter, baseURL string) *asc.Client {
	tokens := asc.NewTokenCache(func() (string, time.Time, error) {
		t, err := m.Mint()
		if err != nil {
			return "", time.Time{}, err
		}
		r.Mask(t.Value)
		return t.Value, t.ExpiresAt, nil
	}, s.Env.Now)
	return asc.NewClient(tokens,
		asc.WithBaseURL(baseURL),
		asc.WithUserAgent(s.userAgent()),
		asc.WithClock(s.Env.Now),
		asc.WithWarn(func(msg string) { r.Warningf("App Store Connect", "%s", msg) }),
	)
}

// HTTPClient is the client for requests outside the API (the session's
// live check).
func (s *State) HTTPClient() *http.Client { return &http.Client{} }

func (s *State) userAgent() string { return "asc-auth/" + s.Env.Version }

// plan returns the steps cfg switches on, in the order they run: the
// session step first, so that a dead session fails the job before anything
// else happens, then the token step and the steps that use the API.
func plan(cfg config.Config) []Step {
	var steps []Step
	if cfg.Session != nil {
		steps = append(steps, sessionStep{cfg.Session})
	}
	if cfg.Token != nil {
		steps = append(steps, &tokenStep{cfg: *cfg.Token})
	}
	if cfg.BuildNumber != nil {
		steps = append(steps, buildNumberStep{*cfg.BuildNumber})
	}
	if cfg.Upload != nil {
		steps = append(steps, &uploadStep{cfg: cfg.Upload})
	}
	if cfg.TestFlight != nil {
		steps = append(steps, &testFlightStep{cfg: cfg.TestFlight, dryRun: cfg.Upload != nil && cfg.Upload.DryRun})
	}
	if cfg.Notarize != nil {
		steps = append(steps, notarizeStep{cfg.Notarize})
	}
	return steps
}

// runSteps checks every step, then runs them in order, stopping at the
// first failure.
func runSteps(ctx context.Context, r report.Report, s *State, steps []Step) error {
	for _, st := range steps {
		if err := st.Check(ctx, r, s); err != nil {
			return err
		}
	}
	for _, st := range steps {
		if err := st.Run(ctx, r, s); err != nil {
			return err
		}
	}
	return nil
}

// declaredOutputs wraps a Report and refuses an output that no declaration
// in internal/config names, so that an output added in code only fails
// every test that sets it.
type declaredOutputs struct {
	report.Report
	names map[string]bool
}

func withDeclaredOutputs(r report.Report) report.Report {
	names := map[string]bool{}
	for _, o := range config.Outputs() {
		names[o.Name] = true
	}
	return declaredOutputs{r, names}
}

func (d declaredOutputs) SetOutput(name, value string) error {
	if !d.names[name] {
		return &undeclaredOutputError{name}
	}
	return d.Report.SetOutput(name, value)
}

type undeclaredOutputError struct{ name string }

func (e *undeclaredOutputError) Error() string {
	return "internal error: output " + e.name + " is not declared in internal/config"
}

// setOutputs sets outputs in order, stopping at the first failure.
func setOutputs(r report.Report, outputs [][2]string) error {
	for _, o := range outputs {
		if err := r.SetOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	return nil
}

// summary adds a step summary; a summary that cannot be written is worth
// a warning, not a failed step.
func summary(r report.Report, markdown string) {
	if err := r.AddStepSummary(markdown); err != nil {
		r.Warningf("Step summary", "could not write the step summary: %v", err)
	}
}

// table renders a two-column step-summary table under a heading.
func table(title string, rows [][2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n| | |\n|---|---|\n", title)
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	b.WriteString("\n") // so that the next step's heading starts apart
	return b.String()
}
