// Package report is the seam between a step and whoever reads what it did.
// A step writes its log, annotations, masks, outputs, exported variables
// and summary to a [Report]; the GitHub runner adapter (actions.Runtime)
// is one, and [Terminal] is the other, for a person at a shell.
//
// Both take every known secret out of what they print, through one
// redact.Set: a secret is registered once, with Mask, wherever it is shown.
package report

// Report receives everything a step shows or hands on.
type Report interface {
	// Infof writes one log line.
	Infof(format string, args ...any)
	// Noticef, Warningf and Errorf issue annotations with a title.
	Noticef(title, format string, args ...any)
	Warningf(title, format string, args ...any)
	Errorf(title, format string, args ...any)
	// Group and EndGroup bracket a run of log lines.
	Group(title string)
	EndGroup()
	// Mask registers secrets: they are hidden from everything printed
	// from now on.
	Mask(values ...string)
	// SetOutput hands a value to later steps (or prints it, on a shell).
	SetOutput(name, value string) error
	// ExportEnv sets an environment variable for the job's later steps.
	ExportEnv(name, value string) error
	// AddStepSummary appends Markdown to the step summary.
	AddStepSummary(markdown string) error
	// HostPath turns a path as this process sees it into the path later
	// steps see (they differ inside a container action).
	HostPath(path string) (string, error)
}
