package actions_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/asc-auth/action/internal/actions"
	"github.com/asc-auth/action/internal/actions/actionstest"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestHostPath(t *testing.T) {
	t.Parallel()
	podman := readTestdata(t, "mountinfo-podman.txt")
	docker := readTestdata(t, "mountinfo-docker.txt")
	host := readTestdata(t, "mountinfo-host.txt")
	// An older runner (before 2.331) does not mount RUNNER_TEMP.
	oldRunner := []byte("1 0 8:1 / / rw - ext4 /dev/root rw\n" +
		"2 1 8:1 /home/runner/work/r/r /github/workspace rw - ext4 /dev/root rw\n")
	// A second mount on the same point hides the first.
	stacked := []byte("1 0 8:1 / / rw - ext4 /dev/root rw\n" +
		"2 1 8:1 /old /github/workspace rw - ext4 /dev/root rw\n" +
		"3 2 8:1 /new /github/workspace rw - ext4 /dev/root rw\n")

	tests := []struct {
		name      string
		mountInfo []byte
		readErr   error
		in        string
		want      string
		wantErr   error // matched with errors.Is; errAny for any error
	}{
		{name: "podman runner temp", mountInfo: podman, in: "/github/runner_temp/asc/key.json", want: "/tmp/xyz/runner_temp/asc/key.json"},
		{name: "podman workspace with escaped space", mountInfo: podman, in: "/github/workspace/out/token.txt", want: "/tmp/xyz/work/my repo/my repo/out/token.txt"},
		{name: "podman mount point itself", mountInfo: podman, in: "/github/workspace", want: "/tmp/xyz/work/my repo/my repo"},
		{name: "podman home", mountInfo: podman, in: "/github/home/.asc/key", want: "/tmp/xyz/runner_temp/_github_home/.asc/key"},
		{name: "podman unclean path", mountInfo: podman, in: "/github/runner_temp//a/./b/../key.json", want: "/tmp/xyz/runner_temp/a/key.json"},
		{name: "podman relative path unchanged", mountInfo: podman, in: "asc/key.json", want: "asc/key.json"},
		{name: "podman container tmp vanishes", mountInfo: podman, in: "/tmp/key.json", wantErr: actions.ErrNotShared},
		{name: "podman not a path prefix", mountInfo: podman, in: "/github/workspace2/key.json", wantErr: actions.ErrNotShared},
		{name: "podman dot-dot escapes the mount", mountInfo: podman, in: "/github/workspace/../key.json", wantErr: actions.ErrNotShared},
		{name: "podman docker.sock is not a runner mount", mountInfo: podman, in: "/var/run/docker.sock", wantErr: actions.ErrNotShared},
		{name: "docker runner temp", mountInfo: docker, in: "/github/runner_temp/asc/key.json", want: "/home/runner/work/_temp/asc/key.json"},
		{name: "docker file commands", mountInfo: docker, in: "/github/file_commands/set_output_1", want: "/home/runner/work/_temp/_runner_file_commands/set_output_1"},
		{name: "docker workflow", mountInfo: docker, in: "/github/workflow/event.json", want: "/home/runner/work/_temp/_github_workflow/event.json"},
		{name: "docker workspace", mountInfo: docker, in: "/github/workspace/key.json", want: "/home/runner/work/asc-demo/asc-demo/key.json"},
		{name: "old runner has no runner temp", mountInfo: oldRunner, in: "/github/runner_temp/key.json", wantErr: actions.ErrNotShared},
		{name: "stacked mounts: last wins", mountInfo: stacked, in: "/github/workspace/k", want: "/new/k"},
		{name: "host: unchanged", mountInfo: host, in: "/home/runner/work/_temp/key.json", want: "/home/runner/work/_temp/key.json"},
		{name: "host: unclean path unchanged", mountInfo: host, in: "/tmp//key.json", want: "/tmp//key.json"},
		{name: "no mountinfo file: unchanged", readErr: fs.ErrNotExist, in: "/tmp/key.json", want: "/tmp/key.json"},
		{name: "unreadable mountinfo", readErr: fs.ErrPermission, in: "/tmp/key.json", wantErr: fs.ErrPermission},
		{name: "garbled mountinfo", mountInfo: []byte("not a mount table\n"), in: "/tmp/key.json", wantErr: errAny},
		{name: "garbled mountinfo, relative path", mountInfo: []byte("garbage\n"), in: "key.json", want: "key.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := actionstest.New(t)
			rt := r.Runtime(actions.WithMountInfo(func() ([]byte, error) { return tt.mountInfo, tt.readErr }))
			got, err := rt.HostPath(tt.in)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("HostPath(%q) error: %v", tt.in, err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("HostPath(%q) = %q, %v; want error %v", tt.in, got, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("HostPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// errAny in a test table means any error will do.
var errAny = errors.New("any error")

func TestHostPathDefaultsToNoMounts(t *testing.T) {
	t.Parallel()
	// actionstest's Runtime must not depend on the mount table of the
	// machine running the tests.
	rt := actionstest.New(t).Runtime()
	if got, err := rt.HostPath("/github/runner_temp/x"); err != nil || got != "/github/runner_temp/x" {
		t.Errorf("HostPath() = %q, %v; want the path unchanged", got, err)
	}
}

func ExampleRuntime_HostPath() {
	mountInfo := func() ([]byte, error) {
		return []byte("1 0 8:1 / / rw - overlay overlay rw\n" +
			"2 1 8:1 /home/runner/work/_temp /github/runner_temp rw - ext4 /dev/root rw\n" +
			"3 1 8:1 /home/runner/work/app/app /github/workspace rw - ext4 /dev/root rw\n"), nil
	}
	rt := actions.New(func(string) string { return "" }, os.Stdout, actions.WithMountInfo(mountInfo))

	p, err := rt.HostPath("/github/runner_temp/asc/key.json")
	fmt.Println(p, err)
	_, err = rt.HostPath("/tmp/key.json")
	fmt.Println(errors.Is(err, actions.ErrNotShared))
	// Output:
	// /home/runner/work/_temp/asc/key.json <nil>
	// true
}
