package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/asc-auth/action/internal/config"
	"github.com/asc-auth/action/internal/fastlane"
	"github.com/asc-auth/action/internal/report"
	"github.com/asc-auth/action/internal/token"
)

// defaultKeyFile is where export-env writes the key JSON when no
// api-key-json-path is given, below RUNNER_TEMP, which the runner empties
// after every job.
const defaultKeyFile = "asc-auth/api-key.json"

// tokenResult is what the token step produced.
type tokenResult struct {
	Token    token.Token
	KeyFile  string   // the API key JSON's path for later steps, or ""
	Exported []string // names of the exported environment variables
}

// keyFile is where the token step writes the API key JSON: the path as the
// action sees it, and as later steps on the host see it.
type keyFile struct{ path, hostPath string }

// tokenStep mints a token and writes the key in the forms asked for.
type tokenStep struct {
	cfg config.Token
	kf  keyFile // planned by Check
}

func (*tokenStep) Name() string { return config.StepToken }

// Check works out where the key JSON goes, before any step writes
// anything, so that a path later steps could not read fails the job first.
func (t *tokenStep) Check(_ context.Context, r report.Report, s *State) error {
	kf, err := planKeyFile(r, t.cfg, s.Env.Getenv)
	t.kf = kf
	return err
}

func (t *tokenStep) Run(_ context.Context, r report.Report, s *State) error {
	_, err := runTokenStep(r, t.cfg, s.Minter, t.kf)
	return err
}

func planKeyFile(r report.Report, cfg config.Token, getenv func(string) string) (keyFile, error) {
	path := cfg.APIKeyJSONPath
	if path == "" && cfg.ExportEnv && getenv("RUNNER_TEMP") != "" {
		path = filepath.Join(getenv("RUNNER_TEMP"), defaultKeyFile)
	}
	if path == "" {
		return keyFile{}, nil
	}
	hostPath, err := r.HostPath(path)
	if err != nil {
		return keyFile{}, fmt.Errorf("input %s: %w", config.InputAPIKeyJSONPath, err)
	}
	return keyFile{path, hostPath}, nil
}

// runTokenStep mints a token, writes the key in the forms asked for and
// reports all of it as outputs and in the step summary.
func runTokenStep(rt report.Report, cfg config.Token, m *token.Minter, kf keyFile) (tokenResult, error) {
	var res tokenResult
	tok, err := m.Mint()
	if err != nil {
		return res, err
	}
	rt.Mask(tok.Value)
	res.Token = tok
	apiKey := apiKeyFor(cfg, m.Config().Lifetime)
	if kf.path != "" {
		if err := fastlane.WriteAPIKeyFile(kf.path, apiKey); err != nil {
			return res, fmt.Errorf("input %s: %w", config.InputAPIKeyJSONPath, err)
		}
		res.KeyFile = kf.hostPath
	}

	outputs := [][2]string{
		{"token", tok.Value},
		{"token-expires-at", tok.ExpiresAt.Format(time.RFC3339)},
	}
	if res.KeyFile != "" {
		outputs = append(outputs, [2]string{"api-key-json-path", res.KeyFile})
	}
	if err := setOutputs(rt, outputs); err != nil {
		return res, err
	}
	if cfg.ExportEnv {
		for _, v := range fastlane.Env(apiKey, res.KeyFile) {
			if err := rt.ExportEnv(v.Name, v.Value); err != nil {
				return res, err
			}
			res.Exported = append(res.Exported, v.Name)
		}
	}

	rt.Infof("Minted a %s-key token for App Store Connect (%s), valid until %s.",
		cfg.Minter.Kind(), cfg.Minter.Audience(), tok.ExpiresAt.Format(time.RFC3339))
	summary(rt, tokenSummary(m.Config(), res))
	return res, nil
}

// tokenSummary renders the step summary. It names what was done and where,
// never a secret: not the token, the key, its ID or the issuer ID.
func tokenSummary(c token.Config, res tokenResult) string {
	kinds := map[string]string{
		"team":       "team key (tokens carry the issuer ID)",
		"individual": "individual key (tokens carry `sub: user`)",
		"enterprise": "enterprise (in-house) key",
	}
	scope := "every operation the key's role allows"
	if len(c.Scope) > 0 {
		scope = "`" + strings.Join(c.Scope, "`<br>`") + "`"
	}
	rows := [][2]string{
		{"Key", kinds[c.Kind()]},
		{"Audience", "`" + c.Audience() + "`"},
		{"Expires", fmt.Sprintf("%s (exp − iat = %d s; Apple's limit is %d s)",
			res.Token.ExpiresAt.Format(time.RFC3339), int(c.Lifetime/time.Second), int(token.MaxLifetime/time.Second))},
		{"Scope", scope},
		{"Token", "output `token` (masked)"},
	}
	if res.KeyFile != "" {
		rows = append(rows, [2]string{"Key file", "`" + res.KeyFile + "` (fastlane API key JSON, mode 0600)"})
	}
	if len(res.Exported) > 0 {
		rows = append(rows, [2]string{"Environment", "`" + strings.Join(res.Exported, "`, `") + "`"})
	}
	return table("App Store Connect token", rows)
}

// apiKeyFor is the fastlane API key JSON for cfg's key, with the PEM in
// canonical PKCS#8 form whatever form it was given in.
func apiKeyFor(cfg config.Token, lifetime time.Duration) fastlane.APIKey {
	return fastlane.APIKey{
		KeyID:    cfg.Minter.KeyID,
		IssuerID: cfg.Minter.IssuerID,
		Key:      string(cfg.Key.PKCS8PEM()),
		InHouse:  cfg.Minter.InHouse,
		Duration: fastlane.DurationFor(lifetime),
	}
}
