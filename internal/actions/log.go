package actions

import "github.com/sethvargo/go-githubactions"

// Errorf issues an error annotation, ::error title=TITLE::MESSAGE, shown on
// the run's summary page. An empty title is left out. Printf-style
// formatting; go-githubactions escapes the title and message.
func (rt *Runtime) Errorf(title, format string, args ...any) {
	rt.titled(title).Errorf(format, args...)
}

// Warningf issues a warning annotation, like [Runtime.Errorf].
func (rt *Runtime) Warningf(title, format string, args ...any) {
	rt.titled(title).Warningf(format, args...)
}

// Noticef issues a notice annotation, like [Runtime.Errorf].
func (rt *Runtime) Noticef(title, format string, args ...any) {
	rt.titled(title).Noticef(format, args...)
}

// Debugf writes a line shown only when step debug logging is enabled.
func (rt *Runtime) Debugf(format string, args ...any) {
	rt.gha.Debugf(format, args...)
}

// Infof writes a plain line to the log. It is not escaped: a line of the
// message that starts with "::" is read by the runner as a workflow command.
func (rt *Runtime) Infof(format string, args ...any) {
	rt.gha.Infof(format, args...)
}

// Group starts a collapsible group of log lines, ended by [Runtime.EndGroup].
// Groups do not nest.
func (rt *Runtime) Group(title string) {
	rt.gha.Group(title)
}

// EndGroup ends the group started by [Runtime.Group].
func (rt *Runtime) EndGroup() {
	rt.gha.EndGroup()
}

func (rt *Runtime) titled(title string) *githubactions.Action {
	if title == "" {
		return rt.gha
	}
	return rt.gha.WithFieldsMap(map[string]string{"title": title})
}
