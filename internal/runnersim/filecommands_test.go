package runnersim_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/asc-auth/action/internal/runnersim"
)

func TestParseFileCommands(t *testing.T) {
	t.Parallel()
	type kv = runnersim.KV
	tests := []struct {
		name    string
		in      string
		want    []kv
		wantErr bool
	}{
		{name: "empty", in: ""},
		{name: "blank lines", in: "\n\n"},
		{name: "name=value", in: "a=1\nb=x=y<<z\n", want: []kv{{Name: "a", Value: "1"}, {Name: "b", Value: "x=y<<z"}}},
		{name: "empty value", in: "a=\n", want: []kv{{Name: "a", Value: ""}}},
		{name: "CR kept", in: "a=1\r\n", want: []kv{{Name: "a", Value: "1\r"}}},
		{name: "heredoc", in: "a<<EOF\nline 1\n\nline 3\nEOF\nb=2", want: []kv{{Name: "a", Value: "line 1\n\nline 3"}, {Name: "b", Value: "2"}}},
		{name: "heredoc empty value", in: "a<<EOF\nEOF\nb<<EOF\n\nEOF\n", want: []kv{{Name: "a", Value: ""}, {Name: "b", Value: ""}}},
		{name: "heredoc value with newline only", in: "a<<EOF\n\n\nEOF\n", want: []kv{{Name: "a", Value: "\n"}}},
		{name: "heredoc delimiter with = after <<", in: "a<<x=y\nv\nx=y\n", want: []kv{{Name: "a", Value: "v"}}},
		{name: "heredoc without final newline", in: "a<<EOF\nv\nEOF", want: []kv{{Name: "a", Value: "v"}}},
		{name: "delimiter must match exactly", in: "a<<EOF\nEOF \nEOF\r\nEOF\n", want: []kv{{Name: "a", Value: "EOF \nEOF\r"}}},
		{name: "duplicates kept in order", in: "a=1\na=2\n", want: []kv{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}},
		{name: "empty name", in: "=1\n", wantErr: true},
		{name: "empty heredoc name", in: "<<EOF\nv\nEOF\n", wantErr: true},
		{name: "empty delimiter", in: "a<<\nv\n\n", wantErr: true},
		{name: "unclosed heredoc", in: "a<<EOF\nv\n", wantErr: true},
		{name: "neither form", in: "a=1\njunk\n", wantErr: true},
		{name: "stray delimiter", in: "a<<EOF\nv\nEOF\nEOF\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := runnersim.ParseFileCommands([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFileCommands(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseFileCommands(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzParseFileCommands checks that ParseFileCommands never panics and that
// what it parses, written back, parses to the same entries.
func FuzzParseFileCommands(f *testing.F) {
	f.Add([]byte("a=1\nb<<EOF\nx\ny\nEOF\n"))
	f.Add([]byte("a<<EOF\n\nEOF\n=\n"))
	f.Add([]byte("token<<_D_\nx\n_D_\nEVIL=1\nY<<_D_\n_D_\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kvs, err := runnersim.ParseFileCommands(data)
		if err != nil {
			return
		}
		// Names hold no '=' and no "<<", and only heredoc names, which
		// cannot end in '<', have values with newlines.
		var b strings.Builder
		for _, kv := range kvs {
			if !strings.Contains(kv.Value, "\n") {
				b.WriteString(kv.Name + "=" + kv.Value + "\n")
				continue
			}
			delim := "D"
			for strings.Contains(kv.Value, delim) {
				delim += "D"
			}
			b.WriteString(kv.Name + "<<" + delim + "\n" + kv.Value + "\n" + delim + "\n")
		}
		again, err := runnersim.ParseFileCommands([]byte(b.String()))
		if err != nil {
			t.Fatalf("re-encoded entries do not parse: %v\n%q", err, b.String())
		}
		if !reflect.DeepEqual(kvs, again) {
			t.Fatalf("round trip changed entries:\n%q\n%q", kvs, again)
		}
	})
}
