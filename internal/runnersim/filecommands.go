package runnersim

import (
	"fmt"
	"strings"
)

// KV is one entry of a file command such as GITHUB_OUTPUT or GITHUB_ENV.
type KV struct {
	Name  string
	Value string
}

// ParseFileCommands parses the contents of a GITHUB_OUTPUT or GITHUB_ENV file
// as the runner does on Linux (SetEnvFileCommand in actions/runner's
// FileCommandManager), but strictly: where the runner would accept something
// odd, this is an error.
//
// The data is split on "\n" and empty lines are skipped. A line whose first
// "=" comes before any "<<" is NAME=VALUE. Otherwise a line NAME<<DELIMITER
// starts a heredoc whose value is the following lines, joined by "\n", up to a
// line exactly equal to DELIMITER. An empty name or delimiter, a heredoc with
// no closing delimiter, and a line of neither form are errors. Entries are
// returned in file order; the runner lets a later entry override an earlier
// one of the same name.
func ParseFileCommands(data []byte) ([]KV, error) {
	lines := strings.Split(string(data), "\n")
	var kvs []KV
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		heredoc := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (heredoc < 0 || eq < heredoc):
			if eq == 0 {
				return nil, fmt.Errorf("file command line %d: empty name before '='", i+1)
			}
			kvs = append(kvs, KV{Name: line[:eq], Value: line[eq+1:]})
		case heredoc >= 0:
			name, delim := line[:heredoc], line[heredoc+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("file command line %d: empty name or delimiter around '<<'", i+1)
			}
			end := i + 1
			for end < len(lines) && lines[end] != delim {
				end++
			}
			if end == len(lines) {
				return nil, fmt.Errorf("file command line %d: %s: no line closing the heredoc with %q", i+1, name, delim)
			}
			kvs = append(kvs, KV{Name: name, Value: strings.Join(lines[i+1:end], "\n")})
			i = end
		default:
			return nil, fmt.Errorf("file command line %d: neither NAME=VALUE nor NAME<<DELIMITER", i+1)
		}
	}
	return kvs, nil
}
