package app

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/demo"
	"github.com/asc-auth/action/internal/session"
)

// sessionNow is the fixed "now" the session fixtures were made for.
var sessionNow = time.Date(2026, 11, 22, 9, 42, 18, 549512137, time.UTC)

func readSession(t testing.TB, name string) (string, *session.Session) {
	t.Helper()
	raw := strings.TrimSpace(string(readTestdata(t, "session/"+name)))
	s, err := session.Parse(raw)
	if err != nil && !strings.HasPrefix(name, "noauth") {
		t.Fatalf("%s: %v", name, err)
	}
	return raw, s
}

func myacinfo(s *session.Session) string {
	for _, c := range s.Cookies {
		if c.Name == "myacinfo" {
			return c.Value
		}
	}
	return ""
}

// sessionSimulator starts a simulator dated at sessionNow, for the live
// check of sessions, and stops it when the test ends.
func sessionSimulator(t *testing.T) (*ascsim.Server, string) {
	t.Helper()
	sim, err := ascsim.New(ascsim.WithClock(func() time.Time { return sessionNow }))
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, url
}

func TestActionSession(t *testing.T) {
	t.Parallel()
	sim, url := sessionSimulator(t)
	valid, validS := readSession(t, "valid.session")
	validYAML, _ := readSession(t, "valid.yaml")
	expiring, expiringS := readSession(t, "expiring.session")
	expired, _ := readSession(t, "expired.session")
	sim.RegisterSession(myacinfo(validS), true)
	sim.RegisterSession(myacinfo(expiringS), false) // dead on the server while its cookies live on

	tests := []struct {
		name        string
		inputs      map[string]string
		wantCode    int
		wantOutputs map[string]string
		wantEnv     map[string]string
		wantWarning string
		wantError   string
	}{
		{
			name:        "valid session, checked live",
			inputs:      map[string]string{"session": valid},
			wantOutputs: map[string]string{"session-expires-at": "2026-12-20T09:42:18Z", "session-days-left": "27"},
			wantEnv:     map[string]string{"FASTLANE_SESSION": valid, "SPACESHIP_SESSION": valid},
		},
		{
			name:    "real-newline form is exported escaped",
			inputs:  map[string]string{"session": validYAML},
			wantEnv: map[string]string{"FASTLANE_SESSION": valid},
		},
		{
			name:        "three days left warns",
			inputs:      map[string]string{"session": expiring, "session-check": "false"},
			wantOutputs: map[string]string{"session-days-left": "3"},
			wantEnv:     map[string]string{"FASTLANE_SESSION": expiring},
			wantWarning: "expires on 2026-11-25T09:42:18Z, in 3 day(s); renew it on a Mac with `fastlane spaceauth -u <your Apple ID> | asc-auth session store --repo octo-org/octo-repo`",
		},
		{
			name:      "expired session fails with instructions",
			inputs:    map[string]string{"session": expired},
			wantCode:  exitFailure,
			wantError: "expired on 2026-10-31T08:00:00Z; renew it on a Mac with `fastlane spaceauth -u <your Apple ID> | asc-auth session store --repo octo-org/octo-repo`",
		},
		{
			name:        "dead on the server although its cookies are valid",
			inputs:      map[string]string{"session": expiring},
			wantCode:    exitFailure,
			wantError:   "App Store Connect refused the session (HTTP 401), whatever its cookies claim; renew it on a Mac with `fastlane spaceauth -u <your Apple ID> | asc-auth session store --repo octo-org/octo-repo`",
			wantWarning: "in 3 day(s)",
		},
		{
			name:        "unreachable check is a warning, not a failure",
			inputs:      map[string]string{"session": valid, "session-base-url": "http://127.0.0.1:1"},
			wantEnv:     map[string]string{"FASTLANE_SESSION": valid},
			wantWarning: "could not verify the session",
		},
		{
			name:    "app-specific password alone",
			inputs:  map[string]string{"app-specific-password": "abcd-efgh-ijkl-mnop"},
			wantEnv: map[string]string{"FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD": "abcd-efgh-ijkl-mnop"},
		},
		{
			name:      "malformed app-specific password",
			inputs:    map[string]string{"app-specific-password": "ABCD-efgh-ijkl-mnop"},
			wantCode:  exitFailure,
			wantError: "input app-specific-password: is not an app-specific password",
		},
		{
			name:      "a key pasted into the session input",
			inputs:    map[string]string{"session": string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))},
			wantCode:  exitFailure,
			wantError: "input session:",
		},
		{
			name:      "YAML that is not a cookie list",
			inputs:    map[string]string{"session": "---\\n- just: text\\n"},
			wantCode:  exitFailure,
			wantError: "input session:",
		},
		{
			name: "session, password and API key together",
			inputs: map[string]string{"session": valid, "app-specific-password": "abcd-efgh-ijkl-mnop",
				"private-key": string(readTestdata(t, "AuthKey_DEMOKEY001.p8")), "key-id": demo.KeyID},
			wantEnv:     map[string]string{"FASTLANE_SESSION": valid, "FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD": "abcd-efgh-ijkl-mnop"},
			wantOutputs: map[string]string{"session-days-left": "27"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			r.SetInput("session-base-url", url)
			for k, v := range tc.inputs {
				r.SetInput(k, v)
			}
			code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout,
				Now: func() time.Time { return sessionNow }, ReadFile: os.ReadFile, Version: "test"})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, logText(r))
			}
			out, env := r.Outputs(), r.Env()
			for k, v := range tc.wantOutputs {
				if out[k] != v {
					t.Errorf("output %s = %q, want %q", k, out[k], v)
				}
			}
			for k, v := range tc.wantEnv {
				if env[k] != v {
					t.Errorf("exported %s = %.40q…, want %.40q…", k, env[k], v)
				}
			}
			var warnings, errs []string
			for _, a := range r.Annotations() {
				switch a.Level {
				case "warning":
					warnings = append(warnings, a.Message)
				case "error":
					errs = append(errs, a.Message)
				}
			}
			if tc.wantWarning != "" && !strings.Contains(strings.Join(warnings, "\n"), tc.wantWarning) {
				t.Errorf("warnings %q lack %q", warnings, tc.wantWarning)
			}
			if tc.wantWarning == "" && len(warnings) > 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
			if tc.wantError != "" && !strings.Contains(strings.Join(errs, "\n"), tc.wantError) {
				t.Errorf("errors %q lack %q", errs, tc.wantError)
			}
			if tc.wantCode != 0 && len(env) != 0 {
				t.Errorf("a failed step exported %v", env)
			}
			// No cookie value reaches the log or the summary.
			for _, s := range []*session.Session{validS, expiringS} {
				for _, c := range s.Cookies {
					if len(c.Value) > 8 && (strings.Contains(logText(r), c.Value) || strings.Contains(r.Summary(), c.Value)) {
						t.Errorf("cookie %s's value reached the log or the summary", c.Name)
					}
				}
			}
			if code == 0 && tc.inputs["session"] != "" && !strings.Contains(r.Summary(), "`myacinfo` (") {
				t.Errorf("summary does not list the cookies:\n%s", r.Summary())
			}
		})
	}
}
