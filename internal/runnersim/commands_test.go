package runnersim_test

import (
	"reflect"
	"testing"

	"github.com/asc-auth/action/internal/runnersim"
)

func TestParseCommands(t *testing.T) {
	t.Parallel()
	type cmd = runnersim.Command
	tests := []struct {
		name string
		in   string
		want []cmd
	}{
		{name: "empty", in: ""},
		{name: "log text skipped", in: "hello\nnot :: a command\n::no-end\n", want: nil},
		{name: "mask", in: "::add-mask::a%25b%0D%0Ac\n", want: []cmd{{Name: "add-mask", Message: "a%b\r\nc"}}},
		{name: "leading white space and CRLF", in: "  \t::endgroup::\r\n", want: []cmd{{Name: "endgroup"}}},
		{
			name: "properties",
			in:   "::error title=a%3A b%2C c,file=x.go,,bad,=v,k=::msg::with colons\n",
			want: []cmd{{Name: "error", Properties: map[string]string{"title": "a: b, c", "file": "x.go"}, Message: "msg::with colons"}},
		},
		{name: "empty name skipped", in: "::::x\n", want: nil},
		{name: "no final newline", in: "a\n::notice::n", want: []cmd{{Name: "notice", Message: "n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := runnersim.ParseCommands([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCommands(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}
