package repotest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/config"
)

// update rewrites the generated files: go test ./internal/repotest -update.
var update = flag.Bool("update", false, "rewrite action.yml's inputs and outputs and the README's tables from the declarations")

// actionHeader is action.yml's top, which no declaration holds.
const actionHeader = `name: App Store Connect Auth (asc-auth)
description: >-
  Mint short-lived App Store Connect API tokens (ES256 JWTs) from a .p8 key
  as masked outputs, and write the key where fastlane and scripts expect it.
author: asc-auth
branding:
  icon: lock
  color: blue

# Inputs and outputs are generated from internal/config/inputs.go:
# edit the declarations there, then run go test ./internal/repotest -update.
`

// actionRuns is action.yml's end: main runs the Dockerfile, and the release
// pins it to the pushed image's digest.
const actionRuns = `
runs:
  using: docker
  image: Dockerfile
`

// renderAction renders action.yml from the declarations.
func renderAction() string {
	var b strings.Builder
	b.WriteString(actionHeader)
	writeInterface(&b, "")
	b.WriteString(actionRuns)
	return b.String()
}

// writeInterface writes the inputs and outputs sections from the
// declarations; outputValue, if not empty, is the format of each output's
// value (a composite action's), given the output's name.
func writeInterface(b *strings.Builder, outputValue string) {
	b.WriteString("\ninputs:\n")
	for _, in := range config.Inputs() {
		fmt.Fprintf(b, "  %s:\n", in.Name)
		writeFolded(b, "    ", "description", in.Description)
		b.WriteString("    required: false\n")
		if in.Default != "" {
			fmt.Fprintf(b, "    default: '%s'\n", strings.ReplaceAll(in.Default, "'", "''"))
		}
	}
	b.WriteString("\noutputs:\n")
	for _, out := range config.Outputs() {
		fmt.Fprintf(b, "  %s:\n", out.Name)
		writeFolded(b, "    ", "description", out.Description)
		if outputValue != "" {
			fmt.Fprintf(b, "    value: "+outputValue+"\n", out.Name)
		}
	}
}

// writeFolded writes key: >- and text folded at 76 columns: a folded block
// scalar takes any text without quoting, and reads back as one line.
func writeFolded(b *strings.Builder, indent, key, text string) {
	fmt.Fprintf(b, "%s%s: >-\n", indent, key)
	line := indent + "  "
	for i, w := range strings.Fields(text) {
		if i > 0 && len(line)+1+len(w) > 76 {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent + "  "
		} else if i > 0 {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
}

// renderInputTable and renderOutputTable render the README's tables.
func renderInputTable() string {
	var b strings.Builder
	b.WriteString("| input | default | read by | meaning |\n|---|---|---|---|\n")
	for _, in := range config.Inputs() {
		def := ""
		if in.Default != "" {
			def = "`" + in.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", in.Name, def, strings.Join(in.Steps, ", "), cell(in.Description))
	}
	return b.String()
}

func renderOutputTable() string {
	var b strings.Builder
	b.WriteString("| output | set by | meaning |\n|---|---|---|\n")
	for _, out := range config.Outputs() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", out.Name, strings.Join(out.Steps, ", "), cell(out.Description))
	}
	return b.String()
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;").Replace(s)
}

// between replaces what stands between two marker lines.
func between(doc, name, body string) (string, bool) {
	begin, end := "<!-- "+name+": generated -->\n", "<!-- end "+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return doc, false
	}
	return doc[:i+len(begin)] + body + doc[j:], true
}

// TestGeneratedFilesMatchDeclarations fails on any drift between the input
// and output declarations and what action.yml and the README say: a name,
// a description, a default, an output. Run with -update to regenerate.
func TestGeneratedFilesMatchDeclarations(t *testing.T) {
	wantAction := renderAction()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	wantReadme := string(readme)
	for _, part := range []struct{ name, body string }{{"inputs", renderInputTable()}, {"outputs", renderOutputTable()}} {
		var ok bool
		if wantReadme, ok = between(wantReadme, part.name, part.body); !ok {
			t.Fatalf("README.md has no <!-- %s: generated --> ... <!-- end %s --> markers", part.name, part.name)
		}
	}
	if *update {
		if err := os.WriteFile(filepath.Join(root, "action.yml"), []byte(wantAction), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "README.md"), []byte(wantReadme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gotAction, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(gotAction) != wantAction {
		t.Errorf("action.yml differs from the declarations in internal/config/inputs.go; run go test ./internal/repotest -update\n%s", firstDiff(string(gotAction), wantAction))
	}
	if string(readme) != wantReadme && !*update {
		t.Errorf("README.md's input or output table differs from the declarations; run go test ./internal/repotest -update\n%s", firstDiff(string(readme), wantReadme))
	}

	// The rendering itself: action.yml reads back as the declarations say.
	a := readAction(t, filepath.Join(root, "action.yml"))
	for _, in := range config.Inputs() {
		got, ok := a.Inputs[in.Name]
		if !ok || got.Description != in.Description || (got.Default == nil) != (in.Default == "") || (got.Default != nil && *got.Default != in.Default) {
			t.Errorf("action.yml input %s reads back as %+v, declared %+v", in.Name, got, in)
		}
	}
	for _, out := range config.Outputs() {
		if got, ok := a.Outputs[out.Name]; !ok || got.Description != out.Description {
			t.Errorf("action.yml output %s reads back as %+v, declared %+v", out.Name, got, out)
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  have %q\n  want %q", i+1, gl, wl)
		}
	}
	return ""
}

// TestInterfaceUnchanged compares the action's interface with the one it
// had before inputs were declared in code: the same inputs with the same
// defaults, and the same outputs. An input or output may be added; none
// may go or change its default.
func TestInterfaceUnchanged(t *testing.T) {
	t.Parallel()
	before := readAction(t, filepath.Join("testdata", "action-before-steps.yml"))
	now := readAction(t, filepath.Join(root, "action.yml"))
	for name, in := range before.Inputs {
		got, ok := now.Inputs[name]
		switch {
		case !ok:
			t.Errorf("input %s is gone", name)
		case (in.Default == nil) != (got.Default == nil) || (in.Default != nil && *in.Default != *got.Default):
			t.Errorf("input %s: default %v, was %v", name, deref(got.Default), deref(in.Default))
		}
	}
	for name := range before.Outputs {
		if _, ok := now.Outputs[name]; !ok {
			t.Errorf("output %s is gone", name)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "(none)"
	}
	return *s
}

// TestDeclarations checks the declarations themselves: unique kebab-case
// names, a description each, booleans with a boolean default, and steps
// that exist.
func TestDeclarations(t *testing.T) {
	t.Parallel()
	known := []string{config.StepSession, config.StepToken, config.StepBuildNumber, config.StepUpload, config.StepTestFlight, config.StepNotarize, config.GroupKey, config.GroupAPI}
	seen := map[string]bool{}
	for _, in := range config.Inputs() {
		if seen[in.Name] || in.Name != strings.ToLower(in.Name) || strings.ContainsAny(in.Name, " _") {
			t.Errorf("input %q: duplicate or not kebab-case", in.Name)
		}
		seen[in.Name] = true
		if strings.TrimSpace(in.Description) == "" || len(in.Steps) == 0 {
			t.Errorf("input %s has no description or no step", in.Name)
		}
		if in.Bool && in.Default != "true" && in.Default != "false" {
			t.Errorf("boolean input %s defaults to %q", in.Name, in.Default)
		}
		for _, s := range in.Steps {
			if !slices.Contains(known, s) {
				t.Errorf("input %s names unknown step %q", in.Name, s)
			}
		}
	}
	outs := map[string]bool{}
	for _, out := range config.Outputs() {
		if outs[out.Name] || strings.TrimSpace(out.Description) == "" || len(out.Steps) == 0 {
			t.Errorf("output %s: duplicate, or no description or step", out.Name)
		}
		outs[out.Name] = true
	}
}
