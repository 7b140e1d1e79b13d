package repotest

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/asc-auth/action/internal/config"
)

const root = "../.."

type actionYML struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

func readAction(t *testing.T, path string) actionYML { return readYAML[actionYML](t, path) }

// readYAML reads a YAML file into a T.
func readYAML[T any](t *testing.T, path string) T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestActionInputsMatchTheCode runs the input parser with every step
// switched on and records which inputs it reads: exactly those must be
// declared, each with a description.
func TestActionInputsMatchTheCode(t *testing.T) {
	t.Parallel()
	a := readAction(t, filepath.Join(root, "action.yml"))
	if a.Name == "" || a.Description == "" || a.Author == "" || a.Branding.Icon == "" || a.Branding.Color == "" {
		t.Errorf("action.yml lacks Marketplace metadata: %+v", a)
	}
	read := map[string]bool{}
	input := func(name string) string {
		read[name] = true
		if in, ok := a.Inputs[name]; ok && in.Default != nil && (*in.Default == "false" || *in.Default == "true") {
			return "true" // switch every optional step on, so its inputs are read too
		}
		return ""
	}
	config.Parse(config.Env{Input: input, ReadFile: os.ReadFile})

	declared := slices.Sorted(maps.Keys(a.Inputs))
	used := slices.Sorted(maps.Keys(read))
	if !slices.Equal(declared, used) {
		t.Errorf("action.yml declares inputs %q\nbut the code reads %q", declared, used)
	}
	for name, in := range a.Inputs {
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	for name, out := range a.Outputs {
		if strings.TrimSpace(out.Description) == "" {
			t.Errorf("output %s has no description", name)
		}
	}
}

// TestReleasePinsTheImage checks the release scheme: main runs the
// Dockerfile, and the release workflow's pin script turns that into the
// image the workflow pushes, by digest, changing nothing else.
func TestReleasePinsTheImage(t *testing.T) {
	t.Parallel()
	a := readAction(t, filepath.Join(root, "action.yml"))
	if a.Runs.Using != "docker" || a.Runs.Image != "Dockerfile" {
		t.Fatalf("action.yml on main runs %q %q, want docker and Dockerfile", a.Runs.Using, a.Runs.Image)
	}

	var wf struct {
		Env  map[string]string `yaml:"env"`
		Jobs map[string]struct {
			Outputs map[string]string `yaml:"outputs"`
			Steps   []struct {
				ID   string            `yaml:"id"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	data, err := os.ReadFile(filepath.Join(root, ".github/workflows/release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	const image = "ghcr.io/${{ github.repository }}"
	if wf.Env["IMAGE"] != image {
		t.Fatalf("release.yml pushes %q, want %q", wf.Env["IMAGE"], image)
	}
	var pushedTag, pinRun, pinDigest string
	for _, s := range wf.Jobs["image"].Steps {
		if s.ID == "build" {
			pushedTag = s.With["tags"]
		}
	}
	for _, s := range wf.Jobs["release"].Steps {
		if strings.Contains(s.Run, "pin-action-image.sh") {
			pinRun, pinDigest = s.Run, s.Env["DIGEST"]
		}
	}
	if !strings.HasPrefix(pushedTag, "${{ env.IMAGE }}:") {
		t.Errorf("the image job pushes %q, not ${{ env.IMAGE }}", pushedTag)
	}
	if wf.Jobs["image"].Outputs["digest"] != "${{ steps.build.outputs.digest }}" || pinDigest != "${{ needs.image.outputs.digest }}" {
		t.Errorf("the pinned digest is not the pushed image's digest")
	}
	if !strings.Contains(pinRun, `pin-action-image.sh action.yml "$IMAGE" "$DIGEST"`) {
		t.Errorf("the release job does not pin action.yml to $IMAGE and $DIGEST:\n%s", pinRun)
	}

	// Run the pin script on a copy, as the release job does.
	dir := t.TempDir()
	orig, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "action.yml")
	if err := os.WriteFile(copyPath, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	out, err := exec.Command("bash", filepath.Join(root, ".github/scripts/pin-action-image.sh"), copyPath, "ghcr.io/asc-auth/action", digest).CombinedOutput()
	if err != nil {
		t.Fatalf("pin script: %v\n%s", err, out)
	}
	pinned := readAction(t, copyPath)
	if want := "docker://ghcr.io/asc-auth/action@" + digest; pinned.Runs.Image != want {
		t.Errorf("pinned runs.image = %q, want %q", pinned.Runs.Image, want)
	}
	pinned.Runs.Image = a.Runs.Image
	if !yamlEqualAny(t, pinned, a) {
		t.Error("the pin script changed more than runs.image")
	}

	if out, err := exec.Command("bash", filepath.Join(root, ".github/scripts/pin-action-image.sh"), copyPath, "ghcr.io/asc-auth/action", "sha256:nothex").CombinedOutput(); err == nil {
		t.Errorf("the pin script accepted a bad digest: %s", out)
	}
}

// TestThirdPartyActionsArePinned checks that every action a workflow uses
// from another repository is pinned by a full commit SHA with its version
// in a comment, and that every job starts from read-only permissions.
func TestThirdPartyActionsArePinned(t *testing.T) {
	t.Parallel()
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	files, err := filepath.Glob(filepath.Join(root, ".github/workflows/*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(data), -1) {
			ref, rest := m[1], m[2]
			if strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "asc-auth/action") || strings.HasPrefix(ref, "docker://") {
				continue
			}
			if !pinned.MatchString(ref) || !regexp.MustCompile(`#\s*v\d`).MatchString(rest) {
				t.Errorf("%s: %s%s is not pinned by SHA with a version comment", filepath.Base(f), ref, rest)
			}
		}
		if !strings.Contains(string(data), "permissions:") {
			t.Errorf("%s sets no permissions", filepath.Base(f))
		}
	}
}

// TestReusableWorkflowsUseTheAction checks the reusable workflows'
// steps that run this action: every input they pass is declared in
// action.yml, and every output of such a step they read is declared too,
// so that a renamed input or output cannot silently become empty.
func TestReusableWorkflowsUseTheAction(t *testing.T) {
	t.Parallel()
	a := readAction(t, filepath.Join(root, "action.yml"))
	outputRef := regexp.MustCompile(`steps\.([\w-]+)\.outputs\.([\w-]+)`)
	for _, name := range []string{"testflight.yml", "notarize.yml"} {
		data, err := os.ReadFile(filepath.Join(root, ".github/workflows", name))
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					ID   string            `yaml:"id"`
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ours := map[string]bool{}
		for _, job := range wf.Jobs {
			for _, s := range job.Steps {
				if !strings.HasPrefix(s.Uses, "asc-auth/action@") {
					continue
				}
				ours[s.ID] = true
				for in := range s.With {
					if _, ok := a.Inputs[in]; !ok {
						t.Errorf("%s: step %s passes input %s, which action.yml does not declare", name, s.ID, in)
					}
				}
			}
		}
		if len(ours) == 0 {
			t.Errorf("%s runs no asc-auth/action step", name)
		}
		for _, m := range outputRef.FindAllStringSubmatch(string(data), -1) {
			if _, ok := a.Outputs[m[2]]; ours[m[1]] && !ok {
				t.Errorf("%s reads output %s of step %s, which action.yml does not declare", name, m[2], m[1])
			}
		}
	}
}
