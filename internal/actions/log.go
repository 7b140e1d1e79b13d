package actions

import (
	"fmt"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Errorf issues an error annotation, ::error title=TITLE::MESSAGE, shown on
// the run's summary page. An empty title is left out. Printf-style
// formatting; go-githubactions escapes the title and message. Every message
// this file prints has the known secrets taken out first (see
// [Runtime.Mask]): a server that echoes a token back never gets it printed,
// even where the runner's own masking is off.
func (rt *Runtime) Errorf(title, format string, args ...any) {
	rt.titled(title).Errorf("%s", rt.secrets.Redact(fmt.Sprintf(format, args...)))
}

// Warningf issues a warning annotation, like [Runtime.Errorf].
func (rt *Runtime) Warningf(title, format string, args ...any) {
	rt.titled(title).Warningf("%s", rt.secrets.Redact(fmt.Sprintf(format, args...)))
}

// Noticef issues a notice annotation, like [Runtime.Errorf].
func (rt *Runtime) Noticef(title, format string, args ...any) {
	rt.titled(title).Noticef("%s", rt.secrets.Redact(fmt.Sprintf(format, args...)))
}

// Infof writes one plain line to the log. Its arguments may carry text from
// elsewhere (a server's answer, a file name), so the line is defused: line
// breaks become spaces, and a line that would start with "::" once leading
// white space is trimmed (as the runner trims it) gets "> " before it, so
// that the runner never reads it as a workflow command (which could stop
// the runner's command processing, and with it later masks).
func (rt *Runtime) Infof(format string, args ...any) {
	rt.gha.Infof("%s", defuse(rt.secrets.Redact(fmt.Sprintf(format, args...))))
}

// lineBreaks turns every line break into a space.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

func defuse(s string) string {
	s = lineBreaks.Replace(s)
	if strings.HasPrefix(strings.TrimSpace(s), "::") {
		s = "> " + s
	}
	return s
}

// Group starts a collapsible group of log lines, ended by [Runtime.EndGroup].
// Groups do not nest.
func (rt *Runtime) Group(title string) {
	rt.gha.Group(defuse(rt.secrets.Redact(title)))
}

// EndGroup ends the group started by [Runtime.Group].
func (rt *Runtime) EndGroup() {
	rt.gha.EndGroup()
}

func (rt *Runtime) titled(title string) *githubactions.Action {
	if title == "" {
		return rt.gha
	}
	return rt.gha.WithFieldsMap(map[string]string{"title": rt.secrets.Redact(title)})
}
