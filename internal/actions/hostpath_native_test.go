package actions_test

import (
	"testing"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/actions/actionstest"
)

// TestHostPathNative checks that the native action's signal turns the
// mapping off: in a job's container the runner mounts /github/home, which
// alone would make every path outside the runner's mounts an error.
func TestHostPathNative(t *testing.T) {
	t.Parallel()
	jobContainer := []byte("1 0 0:50 / / rw - overlay overlay rw\n" +
		"2 1 8:1 /home/runner/work /__w rw - ext4 /dev/root rw\n" +
		"3 1 8:1 /home/runner/work/_temp/_github_home /github/home rw - ext4 /dev/root rw\n" +
		"4 1 8:1 /home/runner/work/_temp/_github_workflow /github/workflow rw - ext4 /dev/root rw\n")
	tests := []struct {
		name, native, in, want string
		wantErr                bool
	}{
		{name: "native in a job container", native: "true", in: "/__w/_temp/asc/key.json", want: "/__w/_temp/asc/key.json"},
		{name: "native, a runner mount is not mapped", native: "true", in: "/github/home/key.json", want: "/github/home/key.json"},
		{name: "container action in the same mounts", in: "/__w/_temp/asc/key.json", wantErr: true},
		{name: "only true counts", native: "1", in: "/__w/_temp/asc/key.json", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			r.Setenv(actions.NativeEnv, tt.native)
			rt := r.Runtime(actions.WithMountInfo(func() ([]byte, error) { return jobContainer, nil }))
			got, err := rt.HostPath(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("HostPath(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
