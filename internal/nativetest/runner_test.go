package nativetest

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/asc-auth/action/internal/runnersim"
)

// repoRoot is the repository, seen from this package.
const repoRoot = "../.."

// composite is a composite action's metadata, as far as the runner reads it.
type composite struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`

	dir string // GITHUB_ACTION_PATH
}

type step struct {
	ID    string            `yaml:"id"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
	Run   string            `yaml:"run"`
}

func loadComposite(t *testing.T, path string) *composite {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c composite
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if c.Runs.Using != "composite" {
		t.Fatalf("%s runs %q, not composite", path, c.Runs.Using)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	c.dir = abs
	return &c
}

// jobRunner is one job's worth of a runner's folders and environment.
type jobRunner struct {
	t                          *testing.T
	temp, toolCache, workspace string
	os, arch                   string
	path                       string // PATH for the steps
	n                          int    // file commands made so far
}

func newJobRunner(t *testing.T) *jobRunner {
	t.Helper()
	root := t.TempDir()
	arch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH] // the runner's name for this machine
	r := &jobRunner{t: t, os: "Linux", arch: arch, path: os.Getenv("PATH"),
		temp: filepath.Join(root, "work", "_temp"), toolCache: filepath.Join(root, "hostedtoolcache"),
		workspace: filepath.Join(root, "work", "repo", "repo")}
	for _, d := range []string{r.temp, r.toolCache, r.workspace} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// fileCommands are the files the runner makes for one step.
type fileCommands struct{ output, env, summary, path string }

func (r *jobRunner) newFileCommands() fileCommands {
	r.t.Helper()
	r.n++
	dir := filepath.Join(r.temp, "_runner_file_commands")
	fc := fileCommands{
		output:  filepath.Join(dir, fmt.Sprintf("set_output_%d", r.n)),
		env:     filepath.Join(dir, fmt.Sprintf("set_env_%d", r.n)),
		summary: filepath.Join(dir, fmt.Sprintf("step_summary_%d", r.n)),
		path:    filepath.Join(dir, fmt.Sprintf("add_path_%d", r.n)),
	}
	for _, f := range []string{fc.output, fc.env, fc.summary, fc.path} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	return fc
}

// env is what the runner gives every step: its own environment (this
// process's, without anything a runner or an action would set), its
// variables, and the step's file commands.
func (r *jobRunner) env(fc fileCommands) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "GITHUB_") && !strings.HasPrefix(k, "RUNNER_") && !strings.HasPrefix(k, "INPUT_") && !strings.HasPrefix(k, "ASC_AUTH_") {
			env[k] = v
		}
	}
	maps.Copy(env, map[string]string{
		"PATH": r.path, "CI": "true", "GITHUB_ACTIONS": "true",
		"RUNNER_OS": r.os, "RUNNER_ARCH": r.arch, "RUNNER_TEMP": r.temp, "RUNNER_TOOL_CACHE": r.toolCache,
		"GITHUB_WORKSPACE": r.workspace,
		"GITHUB_OUTPUT":    fc.output, "GITHUB_ENV": fc.env, "GITHUB_STEP_SUMMARY": fc.summary, "GITHUB_PATH": fc.path,
	})
	return env
}

// stepResult is what one step did.
type stepResult struct {
	id      string
	log     string // standard output and error, as the job's log has them
	exit    int
	outputs map[string]string
	env     map[string]string // GITHUB_ENV
	summary string
	path    string // GITHUB_PATH
}

// actionResult is what a composite action did.
type actionResult struct {
	steps   []stepResult
	outputs map[string]string
	failed  bool
}

func (a actionResult) step(id string) (stepResult, bool) {
	for _, s := range a.steps {
		if s.id == id {
			return s, true
		}
	}
	return stepResult{}, false
}

// expr matches a ${{ }} expression.
var expr = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// run runs the composite action c with inputs as the runner would: each
// step's ${{ inputs.x }} and ${{ steps.id.outputs.y }} expressions
// evaluated, then its script run with bash --noprofile --norc -eo pipefail
// in the step's environment, stopping at the first step that fails. Any
// other expression fails the test. override replaces step variables after
// evaluation, as a test's stand-in for a pinned value (a loopback URL).
func (r *jobRunner) run(c *composite, inputs map[string]string, override map[string]map[string]string) actionResult {
	r.t.Helper()
	stepOutputs := map[string]map[string]string{}
	eval := func(s string) string {
		return expr.ReplaceAllStringFunc(s, func(m string) string {
			e := expr.FindStringSubmatch(m)[1]
			if name, ok := strings.CutPrefix(e, "inputs."); ok {
				in, declared := c.Inputs[name]
				if !declared {
					r.t.Fatalf("expression %s names an undeclared input", m)
				}
				if v, ok := inputs[name]; ok {
					return v
				}
				return in.Default
			}
			if parts := strings.Split(e, "."); len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs" {
				return stepOutputs[parts[1]][parts[3]]
			}
			r.t.Fatalf("expression %s: the test's runner knows inputs.x and steps.id.outputs.y only", m)
			return ""
		})
	}
	for name := range inputs {
		if _, ok := c.Inputs[name]; !ok {
			r.t.Fatalf("input %s is not declared", name)
		}
	}

	var res actionResult
	for _, s := range c.Runs.Steps {
		if s.Shell != "bash" {
			r.t.Fatalf("step %s: shell %q; the test's runner runs bash only", s.ID, s.Shell)
		}
		if expr.MatchString(s.Run) {
			r.t.Fatalf("step %s: an expression in run: is pasted into the script; pass it through env:", s.ID)
		}
		fc := r.newFileCommands()
		env := r.env(fc)
		env["GITHUB_ACTION_PATH"] = c.dir
		for k, v := range s.Env {
			env[k] = eval(v)
		}
		maps.Copy(env, override[s.ID])
		sr := r.bash(s, env)
		sr.outputs, sr.env, sr.summary, sr.path = r.parse(fc.output), r.parse(fc.env), r.read(fc.summary), r.read(fc.path)
		stepOutputs[s.ID] = sr.outputs
		res.steps = append(res.steps, sr)
		if sr.exit != 0 {
			res.failed = true
			return res
		}
	}
	res.outputs = map[string]string{}
	for name, out := range c.Outputs {
		res.outputs[name] = eval(out.Value)
	}
	return res
}

// bash runs one step's script as the runner's bash template does.
func (r *jobRunner) bash(s step, env map[string]string) stepResult {
	r.t.Helper()
	script := filepath.Join(r.temp, fmt.Sprintf("step_%d.sh", r.n))
	if err := os.WriteFile(script, []byte(s.Run), 0o644); err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = r.workspace
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	sr := stepResult{id: s.ID}
	if err := cmd.Run(); err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			r.t.Fatalf("step %s: %v", s.ID, err)
		}
		sr.exit = exit.ExitCode()
	}
	sr.log = log.String()
	return sr
}

func (r *jobRunner) read(path string) string {
	r.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(data)
}

func (r *jobRunner) parse(path string) map[string]string {
	r.t.Helper()
	kvs, err := runnersim.ParseFileCommands([]byte(r.read(path)))
	if err != nil {
		r.t.Fatalf("%s breaks the runner's rules: %v", filepath.Base(path), err)
	}
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv.Name] = kv.Value
	}
	return m
}
