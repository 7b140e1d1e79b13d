package runnersim

import "strings"

// Command is a workflow command read from an action's standard output:
// ::name key=value,key=value::message.
type Command struct {
	Name       string
	Properties map[string]string // nil if none
	Message    string
}

// Annotation is an ::error, ::warning or ::notice command.
type Annotation struct {
	Level   string // "error", "warning" or "notice"
	Title   string // the title property, "" if none
	Message string
}

// ParseCommands returns the workflow commands in stdout, in order, read as the
// runner does (ActionCommand.TryParseV2): a line that, after leading white
// space, starts with "::" and has a second "::" is a command; the message and
// property values are unescaped. Other lines are log text and are skipped.
func ParseCommands(stdout []byte) []Command {
	// The inverses of go-githubactions' escapeData and escapeProperty.
	dataUnescaper := strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n")
	propertyUnescaper := strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",")
	var cmds []Command
	for line := range strings.Lines(string(stdout)) {
		line = strings.TrimLeft(strings.TrimRight(line, "\r\n"), " \t")
		rest, ok := strings.CutPrefix(line, "::")
		if !ok {
			continue
		}
		info, msg, ok := strings.Cut(rest, "::")
		if !ok {
			continue
		}
		name, props, _ := strings.Cut(info, " ")
		if name == "" {
			continue
		}
		cmd := Command{Name: name, Message: dataUnescaper.Replace(msg)}
		for prop := range strings.SplitSeq(strings.TrimSpace(props), ",") {
			k, v, ok := strings.Cut(prop, "=")
			if !ok || k == "" || v == "" {
				continue
			}
			if cmd.Properties == nil {
				cmd.Properties = make(map[string]string)
			}
			cmd.Properties[k] = propertyUnescaper.Replace(v)
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

// RenderLogLine returns line as the runner shows it in a job's log, and
// false for lines the log does not show (masks, debug messages, the end of
// a group). Annotations show with their level, as the runner prints them.
func RenderLogLine(line string) (string, bool) {
	cmds := ParseCommands([]byte(line))
	if len(cmds) == 0 {
		return line, true
	}
	c := cmds[0]
	prefix := map[string]string{"error": "Error: ", "warning": "Warning: ", "notice": "Notice: ", "group": "▸ "}
	p, shown := prefix[c.Name]
	if !shown {
		return "", false
	}
	if t := c.Properties["title"]; t != "" {
		p += t + ": "
	}
	return p + c.Message + "\n", true
}
