package actions

import (
	"strings"

	"github.com/asc-auth/action/internal/redact"
)

// Mask asks the runner to show each value as *** in the log from now on, with
// ::add-mask::. Call it as soon as a secret is known, before it can be logged.
//
// The runner masks the log line by line, so a multi-line value (a PEM key) is
// masked whole and also line by line, each line trimmed of surrounding white
// space. Blank values and lines are skipped: the runner refuses them, and
// masking white space would blank the log. Each string is sent once per
// Runtime however often it is passed. Short values are masked too, wherever
// they appear in the log. A token is masked by each of its segments too
// (redact.Forms). The values also join the Runtime's secrets, which
// it takes out of every message it prints itself.
func (rt *Runtime) Mask(values ...string) {
	rt.secrets.Add(values...)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, v := range redact.Forms(values...) {
		rt.maskOne(v)
		for line := range strings.Lines(v) {
			rt.maskOne(strings.TrimSpace(line))
		}
	}
}

// maskOne sends one add-mask command for s unless s is blank or was sent
// before. rt.mu must be held.
func (rt *Runtime) maskOne(s string) {
	if strings.TrimSpace(s) == "" || rt.masked[s] {
		return
	}
	rt.masked[s] = true
	rt.gha.AddMask(s)
}
