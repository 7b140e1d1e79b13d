package actions_test

import (
	"os"
	"slices"
	"testing"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/actions/actionstest"
)

func TestMask(t *testing.T) {
	t.Parallel()
	pem := "-----BEGIN PRIVATE KEY-----\r\nMIGTAgEAMBMGByqGSM49\r\n  AgEGCCqGSM49AwEHBHkw  \r\n\r\n-----END PRIVATE KEY-----\r\n"
	tests := []struct {
		name  string
		calls [][]string
		want  []string
	}{
		{
			name:  "single value",
			calls: [][]string{{"s3cr3t"}},
			want:  []string{"s3cr3t"},
		},
		{
			name:  "multi-line value is masked whole and per trimmed line",
			calls: [][]string{{pem}},
			want: []string{
				pem,
				"-----BEGIN PRIVATE KEY-----",
				"MIGTAgEAMBMGByqGSM49",
				"AgEGCCqGSM49AwEHBHkw",
				"-----END PRIVATE KEY-----",
			},
		},
		{
			name:  "duplicates are sent once, across calls and across lines",
			calls: [][]string{{"a1", "a1"}, {"a1\nb2"}, {"b2", "a1\nb2"}},
			want:  []string{"a1", "a1\nb2", "b2"},
		},
		{
			name:  "empty and blank values are skipped",
			calls: [][]string{{"", " ", "\t\n", "\r\n \n"}},
			want:  nil,
		},
		{
			name:  "surrounding white space kept on the whole value, trimmed on its line",
			calls: [][]string{{" padded "}},
			want:  []string{" padded ", "padded"},
		},
		{
			name:  "escaping survives the log",
			calls: [][]string{{"100%25 %0A:,=::"}},
			want:  []string{"100%25 %0A:,=::"},
		},
		{
			name:  "short values are masked too",
			calls: [][]string{{"x"}},
			want:  []string{"x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			rt := r.Runtime()
			for _, values := range tt.calls {
				rt.Mask(values...)
			}
			if got := r.Masks(); !slices.Equal(got, tt.want) {
				t.Errorf("Masks() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMaskEscapesRawOutput(t *testing.T) {
	t.Parallel()
	r := actionstest.New(t)
	r.Runtime().Mask("a%b\r\nc")
	want := "::add-mask::a%25b%0D%0Ac\n::add-mask::a%25b\n::add-mask::c\n"
	if got := r.Stdout.String(); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func ExampleRuntime_Mask() {
	rt := actions.New(func(string) string { return "" }, os.Stdout)
	rt.Mask("line one\nline two", "line two")
	// Output:
	// ::add-mask::line one%0Aline two
	// ::add-mask::line one
	// ::add-mask::line two
}
