package app

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/actions/actionstest"
	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/demo"
	"github.com/asc-auth/action/internal/notarysim"
	"github.com/asc-auth/action/internal/staple"
)

// notarySimulator starts the notary stand-in for one test, trusting the
// demo key and making a ticket for every accepted .pkg or .dmg, and
// returns it with the inputs that point the notarize step at it.
func notarySimulator(t *testing.T, now func() time.Time, opts ...notarysim.Option) (*notarysim.Server, map[string]string) {
	t.Helper()
	sim := notarysim.New(append([]notarysim.Option{notarysim.WithClock(now),
		notarysim.WithRecordName(func(name string, data []byte) (string, error) {
			return staple.RecordName(bytes.NewReader(data), int64(len(data)), name)
		})}, opts...)...)
	sim.RegisterKey(demo.KeyID, demoPublicKey(t))
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim, map[string]string{"notary-base-url": sim.NotaryURL(), "s3-endpoint-url": sim.S3URL(), "ticket-base-url": sim.NotaryURL()}
}

// notarizeKey is the demo key as the action's inputs give it.
func notarizeKey(t *testing.T) map[string]string {
	return map[string]string{"key-id": demo.KeyID, "issuer-id": demo.IssuerID, "private-key": string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))}
}

// writeNotarizeFile writes a file to submit: a generated .pkg for a .pkg
// name, a generated signed .dmg for a .dmg name, and otherwise arbitrary
// bytes under that name.
func writeNotarizeFile(t *testing.T, name string) string {
	t.Helper()
	var data []byte
	var err error
	switch filepath.Ext(name) {
	case ".pkg":
		data, err = bundletest.PKG(bundletest.PKGOptions{})
	case ".dmg":
		data, err = bundletest.DMG(bundletest.DMGOptions{})
	default:
		data = bytes.Repeat([]byte("PK\x03\x04 not really a zip "), 4096)
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runNotarize runs the action with inputs on a fresh runner.
func runNotarize(t *testing.T, inputs ...map[string]string) (*actionstest.Runner, int) {
	t.Helper()
	r := actionstest.New(t)
	for _, in := range inputs {
		for k, v := range in {
			r.SetInput(k, v)
		}
	}
	code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout,
		Now: func() time.Time { return fixedNow }, ReadFile: os.ReadFile, Version: "test", PollInterval: 10 * time.Millisecond})
	return r, code
}

var appIssues = []notarysim.Issue{
	{Severity: "error", Path: "App.zip/App.app/Contents/MacOS/App", Message: "The signature of the binary is invalid.",
		DocURL: "https://developer.apple.com/documentation/security/resolving_common_notarization_issues#3087735", Architecture: "x86_64"},
	{Severity: "error", Path: "App.zip/App.app/Contents/MacOS/App", Message: "The executable does not have the hardened runtime enabled.", Architecture: "arm64"},
	{Severity: "warning", Path: "App.zip/App.app/Contents/Frameworks/X.framework/X", Message: "The binary uses an SDK older than the 10.9 SDK."},
}

// TestActionNotarize runs the notarize step on the stand-in as the action
// and checks its outputs, annotations, summary and the stapled file.
func TestActionNotarize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		file     string
		opts     []notarysim.Option
		inputs   map[string]string
		wantCode int
		status   string
		stapled  bool
		lag      int // lookups answered "not found" before the ticket
		// annotations wanted, as level|title|message
		annotations []string
		wantLog     string // in the step's log
	}{
		{name: "pkg accepted and stapled after the ticket shows up", file: "Demo.pkg", opts: []notarysim.Option{notarysim.WithTicketLag(2)},
			status: "Accepted", stapled: true, lag: 2, wantLog: "Stapled the ticket"},
		{name: "dmg accepted and stapled", file: "Demo.dmg", status: "Accepted", stapled: true, wantLog: "Stapled the ticket"},
		{name: "pkg accepted, staple false", file: "Demo.pkg", inputs: map[string]string{"staple": "false"}, status: "Accepted"},
		{name: "zip accepted, not stapled", file: "App.zip", status: "Accepted", wantLog: "a .zip cannot be stapled: staple the item inside it"},
		{name: "invalid, issues as annotations", file: "App.zip", opts: []notarysim.Option{notarysim.WithOutcome("Invalid", appIssues...)},
			wantCode: exitFailure, status: "Invalid",
			annotations: []string{
				"error|Notarization (x86_64)|App.zip/App.app/Contents/MacOS/App: The signature of the binary is invalid. " + appIssues[0].DocURL,
				"error|Notarization (arm64)|App.zip/App.app/Contents/MacOS/App: The executable does not have the hardened runtime enabled.",
				"warning|Notarization (all)|App.zip/App.app/Contents/Frameworks/X.framework/X: The binary uses an SDK older than the 10.9 SDK.",
				"error|asc-auth failed|notarize: submission <id> is Invalid: Archive contains critical validation errors",
			}},
		{name: "rejected, not stapled", file: "Demo.pkg", opts: []notarysim.Option{notarysim.WithOutcome("Rejected")},
			wantCode: exitFailure, status: "Rejected",
			annotations: []string{"error|asc-auth failed|notarize: submission <id> is Rejected: Team is not yet configured for notarization"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, urls := notarySimulator(t, func() time.Time { return fixedNow }, tc.opts...)
			path := writeNotarizeFile(t, tc.file)
			before, _ := os.ReadFile(path)
			r, code := runNotarize(t, notarizeKey(t), urls, map[string]string{"notarize-file": path}, tc.inputs)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, logText(r))
			}
			if v := sim.Violations(); len(v) > 0 {
				t.Errorf("violations: %q", v)
			}
			subs := sim.Submissions()
			if len(subs) != 1 || !subs[0].Uploaded || subs[0].Name != tc.file {
				t.Fatalf("submissions: %+v", subs)
			}
			id := subs[0].ID
			out := r.Outputs()
			if out["notarization-id"] != id || out["notarization-status"] != tc.status || out["stapled"] != map[bool]string{true: "true", false: "false"}[tc.stapled] {
				t.Errorf("outputs %q; want id %s, status %s, stapled %v", out, id, tc.status, tc.stapled)
			}
			// The log is the developer log, saved under RUNNER_TEMP.
			raw, err := os.ReadFile(out["notarization-log"])
			if err != nil || filepath.Dir(out["notarization-log"]) != r.Getenv("RUNNER_TEMP") {
				t.Fatalf("notarization-log %q: %v", out["notarization-log"], err)
			}
			var log struct{ JobID, Status, ArchiveFilename string }
			if err := json.Unmarshal(raw, &log); err != nil || log.JobID != id || log.Status != tc.status || log.ArchiveFilename != tc.file {
				t.Errorf("log %s (%v)", raw, err)
			}
			var got []string
			for _, a := range r.Annotations() {
				got = append(got, a.Level+"|"+a.Title+"|"+strings.ReplaceAll(a.Message, id, "<id>"))
			}
			if strings.Join(got, "\n") != strings.Join(tc.annotations, "\n") {
				t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.annotations, "\n"))
			}
			summary := r.Summary()
			for _, want := range []string{"Notarization", "`" + id + "`", tc.status, "`" + out["notarization-log"] + "`"} {
				if !strings.Contains(summary, want) {
					t.Errorf("summary lacks %q:\n%s", want, summary)
				}
			}
			if tc.wantLog != "" && !strings.Contains(logText(r), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, logText(r))
			}
			after, _ := os.ReadFile(path)
			if !tc.stapled {
				if !bytes.Equal(before, after) {
					t.Error("the file changed though nothing was stapled")
				}
				return
			}
			rec, err := staple.RecordName(bytes.NewReader(before), int64(len(before)), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			ticket := sim.Ticket(rec)
			if len(ticket) == 0 || !bytes.Contains(after, ticket) {
				t.Errorf("the file does not hold the ticket of %s", rec)
			}
			if sim.Lookups(rec) != tc.lag+1 {
				t.Errorf("%d lookups of %s, want %d (not found %d times, then found)", sim.Lookups(rec), rec, tc.lag+1, tc.lag)
			}
		})
	}
}

// TestActionNotarizeRefusals checks what is refused before anything is
// sent: the simulator sees no request.
func TestActionNotarizeRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	appDir := filepath.Join(dir, "Demo.app")
	if err := os.MkdirAll(filepath.Join(appDir, "Contents"), 0o755); err != nil {
		t.Fatal(err)
	}
	noKoly := bytes.Repeat([]byte{0}, 4096)
	tests := []struct {
		name   string
		inputs map[string]string
		want   []string
	}{
		{name: "individual key", inputs: map[string]string{"issuer-id": "", "notarize-file": writeNotarizeFile(t, "Demo.pkg")},
			want: []string{"individual key cannot use the notary service", "use a team key"}},
		{name: "app folder", inputs: map[string]string{"notarize-file": appDir},
			want: []string{"input notarize-file", "is an .app folder", "ditto -c -k --keepParent"}},
		{name: "unknown extension", inputs: map[string]string{"notarize-file": write("App.exe", []byte("MZ"))},
			want: []string{"input notarize-file", `".exe"`, "zip an .app"}},
		{name: "pkg that is not xar", inputs: map[string]string{"notarize-file": write("Bad.pkg", []byte("PK\x03\x04 a zip named .pkg"))},
			want: []string{"input notarize-file", "not a xar archive"}},
		{name: "dmg without koly", inputs: map[string]string{"notarize-file": write("Bad.dmg", noKoly)},
			want: []string{"input notarize-file", "does not end with a koly trailer", "hdiutil"}},
		{name: "staple a zip", inputs: map[string]string{"notarize-file": writeNotarizeFile(t, "App.zip"), "staple": "true"},
			want: []string{"input staple", "a .zip cannot be stapled", "staple the item inside it"}},
		{name: "bad wait id", inputs: map[string]string{"notarize-wait-id": "12345"},
			want: []string{"input notarize-wait-id", "is not a submission ID"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, urls := notarySimulator(t, func() time.Time { return fixedNow })
			r, code := runNotarize(t, notarizeKey(t), urls, tc.inputs)
			if code != exitFailure {
				t.Fatalf("exit %d:\n%s", code, logText(r))
			}
			var msgs []string
			for _, a := range r.Annotations() {
				if a.Level == "error" {
					msgs = append(msgs, a.Message)
				}
			}
			all := strings.Join(msgs, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors lack %q:\n%s", w, all)
				}
			}
			if n := len(sim.Submissions()) + sim.S3Requests() + sim.Tokens(); n != 0 {
				t.Errorf("%d submissions, S3 requests or tokens reached the simulator", n)
			}
			if _, ok := r.Outputs()["notarization-id"]; ok {
				t.Errorf("outputs set: %v", r.Outputs())
			}
		})
	}
}

// TestActionNotarizeAgreementMissing shows Apple's reason for a 403 on
// the submission, with what to do, and sends nothing to S3.
func TestActionNotarizeAgreementMissing(t *testing.T) {
	t.Parallel()
	sim, urls := notarySimulator(t, func() time.Time { return fixedNow }, notarysim.WithFault(notarysim.FaultSubmitAgreement, 1))
	r, code := runNotarize(t, notarizeKey(t), urls, map[string]string{"notarize-file": writeNotarizeFile(t, "Demo.pkg")})
	if code != exitFailure {
		t.Fatalf("exit %d:\n%s", code, logText(r))
	}
	var msgs []string
	for _, a := range r.Annotations() {
		msgs = append(msgs, a.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"403 Forbidden: A required agreement is missing or has expired.", "Account Holder must accept it"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
	if n := len(sim.Submissions()) + sim.S3Requests(); n != 0 {
		t.Errorf("%d submissions or S3 requests after a refused submission", n)
	}
}

// TestActionNotarizeTimeout lets the wait run out: the step fails with the
// resume command, and the outputs say In Progress.
func TestActionNotarizeTimeout(t *testing.T) {
	t.Parallel()
	sim, urls := notarySimulator(t, time.Now, notarysim.WithDecideAfter(1<<30))
	path := writeNotarizeFile(t, "Demo.pkg")
	r := actionstest.New(t)
	for _, in := range []map[string]string{notarizeKey(t), urls, {"notarize-file": path, "notarize-timeout": "1s"}} {
		for k, v := range in {
			r.SetInput(k, v)
		}
	}
	code := Main(t.Context(), Env{Getenv: r.Getenv, Stdout: r.Stdout, Stderr: r.Stdout, Now: time.Now, ReadFile: os.ReadFile, PollInterval: 50 * time.Millisecond})
	if code != exitFailure {
		t.Fatalf("exit %d:\n%s", code, logText(r))
	}
	subs := sim.Submissions()
	if len(subs) != 1 {
		t.Fatalf("submissions %+v", subs)
	}
	resume := "asc-auth notarize --wait " + subs[0].ID
	if !strings.Contains(logText(r), resume) || !strings.Contains(r.Summary(), resume) {
		t.Errorf("the log or the summary lacks %q:\n%s\n%s", resume, logText(r), r.Summary())
	}
	if out := r.Outputs(); out["notarization-id"] != subs[0].ID || out["notarization-status"] != "In Progress" || out["stapled"] != "false" {
		t.Errorf("outputs %q", out)
	}
}

// notarizeCLI runs asc-auth notarize with the demo key file against the
// stand-in.
func notarizeCLI(t *testing.T, urls map[string]string, args ...string) (int, string, string) {
	t.Helper()
	full := []string{"notarize", "--issuer-id", demo.IssuerID, "--private-key-path", filepath.Join("..", "..", "testdata", "AuthKey_DEMOKEY001.p8")}
	for _, k := range []string{"notary-base-url", "s3-endpoint-url", "ticket-base-url"} {
		full = append(full, "--"+k, urls[k])
	}
	var stdout, stderr strings.Builder
	code := Main(t.Context(), Env{Args: append(full, args...), Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr,
		Now: time.Now, ReadFile: os.ReadFile, PollInterval: 20 * time.Millisecond})
	return code, stdout.String(), stderr.String()
}

// TestCLINotarize submits from the command line, lets the wait run out,
// and resumes it with --wait, which staples the file.
func TestCLINotarize(t *testing.T) {
	t.Parallel()
	sim, urls := notarySimulator(t, time.Now, notarysim.WithDecideAfter(1<<30))
	path := writeNotarizeFile(t, "Demo.pkg")
	before, _ := os.ReadFile(path)

	code, stdout, stderr := notarizeCLI(t, urls, "--notarize-timeout", "1s", path)
	subs := sim.Submissions()
	if code != exitFailure || len(subs) != 1 {
		t.Fatalf("exit %d, %d submissions:\n%s%s", code, len(subs), stdout, stderr)
	}
	id := subs[0].ID
	resume := "asc-auth notarize --wait " + id
	if !strings.Contains(stderr+stdout, resume) {
		t.Fatalf("no resume command %q in:\n%s%s", resume, stdout, stderr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the file changed before the ticket was stapled")
	}

	sim.SetDecideAfter(0)
	code, stdout, stderr = notarizeCLI(t, urls, "--wait", id, path)
	if code != exitOK {
		t.Fatalf("--wait: exit %d:\n%s%s", code, stdout, stderr)
	}
	if n := len(sim.Submissions()); n != 1 {
		t.Errorf("--wait made %d submissions in all, want the one", n)
	}
	for _, want := range []string{"Accepted", "Stapled the ticket"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("output lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
	rec, err := staple.RecordName(bytes.NewReader(before), int64(len(before)), "Demo.pkg")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	ticket := sim.Ticket(rec)
	if len(ticket) == 0 || !bytes.Equal(after[:len(before)], before) || !bytes.Contains(after[len(before):], ticket) {
		t.Errorf("the .pkg was not stapled with the ticket of %s (%d → %d bytes)", rec, len(before), len(after))
	}
	if binary.LittleEndian.Uint16(after[len(after)-10:]) != 2 || string(after[len(after)-16:len(after)-12]) != "t8lr" {
		t.Errorf("the .pkg does not end with a ticket trailer record: % x", after[len(after)-16:])
	}

	// --wait alone reads the decision and staples nothing.
	code, stdout, stderr = notarizeCLI(t, urls, "--wait", id)
	if code != exitOK || !strings.Contains(stdout, "notarization-status=Accepted") || !strings.Contains(stdout, "stapled=false") {
		t.Errorf("--wait without a file: exit %d:\n%s%s", code, stdout, stderr)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, after) {
		t.Error("--wait without a file changed the file")
	}
	logPath := filepath.Join(os.TempDir(), "notarization-"+id+".json")
	if !strings.Contains(stdout, "notarization-log="+logPath+"\n") {
		t.Errorf("--wait without a file outside Actions: the log is not %s:\n%s", logPath, stdout)
	}
	os.Remove(logPath)
	// Neither a file nor --wait is a usage error.
	if code, _, stderr := notarizeCLI(t, urls); code != exitUsage || !strings.Contains(stderr, "nothing to do") {
		t.Errorf("no file, no --wait: exit %d, %s", code, stderr)
	}

	// From the command line, submit and wait in one run.
	t.Run("submit and wait", func(t *testing.T) {
		sim, urls := notarySimulator(t, time.Now)
		code, stdout, stderr := notarizeCLI(t, urls, writeNotarizeFile(t, "Demo.dmg"))
		if code != exitOK || !strings.Contains(stdout+stderr, "Stapled the ticket") || len(sim.Submissions()) != 1 {
			t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
		}
	})
}

// TestNotarizeSecretsNotPrinted sends the action and the command line to
// a stand-in that quotes the token, the temporary AWS credentials and the
// presigned log URL back in its errors, and checks that none of them
// (nor the key) reaches what is printed: the action's log outside its
// ::add-mask:: lines, and the terminal.
func TestNotarizeSecretsNotPrinted(t *testing.T) {
	t.Parallel()
	keyLines := func() []string {
		var out []string
		for line := range strings.Lines(string(readTestdata(t, "AuthKey_DEMOKEY001.p8"))) {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "-----") {
				out = append(out, l)
			}
		}
		return out
	}()
	check := func(t *testing.T, sim *notarysim.Server, printed, hit string) {
		t.Helper()
		if !strings.Contains(printed, hit) {
			t.Fatalf("the fault's answer (%q) did not reach the output, so the test proves nothing:\n%s", hit, printed)
		}
		secrets := append(append([]string(nil), keyLines...), notarysim.LogSecrets...)
		for _, sub := range sim.Submissions() {
			secrets = append(secrets, sub.Secret, sub.Token)
		}
		for _, s := range secrets {
			// Whole, or its first or last 12 characters (cut short).
			for _, part := range []string{s, s[:12], s[len(s)-12:]} {
				if strings.Contains(printed, part) {
					t.Errorf("%.8s… reaches the output:\n%s", s, printed)
				}
			}
		}
		if m := jwtSegment.FindString(printed); m != "" {
			t.Errorf("a token reaches the output: %s\n%s", m, printed)
		}
		for _, q := range []string{"X-Amz-Signature=", "X-Amz-Credential=ASIA", "X-Amz-Security-Token=F"} {
			if strings.Contains(printed, q) {
				t.Errorf("the presigned log URL's %s reaches the output", q)
			}
		}
	}
	// Each fault, with what shows that its answer reached the output: the
	// S3 error is quoted, the others are reported by status only.
	faults := map[string]struct {
		opt notarysim.Option
		hit string
	}{
		"token":          {notarysim.WithFault(notarysim.FaultEchoToken, 3), notarysim.EchoMarker},
		"s3 credentials": {notarysim.WithFault(notarysim.FaultEchoS3Credentials, 1), notarysim.EchoMarker},
		"log url":        {notarysim.WithFault(notarysim.FaultEchoLogURL, 1), "HTTP 403"},
	}
	for name, fault := range faults {
		t.Run("action, "+name, func(t *testing.T) {
			t.Parallel()
			sim, urls := notarySimulator(t, func() time.Time { return fixedNow }, fault.opt)
			r, _ := runNotarize(t, notarizeKey(t), urls, map[string]string{"notarize-file": writeNotarizeFile(t, "Demo.pkg")})
			check(t, sim, logText(r)+r.Summary(), fault.hit)
		})
		t.Run("command line, "+name, func(t *testing.T) {
			t.Parallel()
			sim, urls := notarySimulator(t, time.Now, fault.opt)
			_, stdout, stderr := notarizeCLI(t, urls, writeNotarizeFile(t, "Demo.pkg"))
			check(t, sim, stdout+stderr, fault.hit)
		})
	}
}
