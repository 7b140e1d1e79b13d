package actions

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ErrNotShared is wrapped by [Runtime.HostPath] when, inside a container
// action, a path lies in no directory shared with the runner.
var ErrNotShared = errors.New("not in a directory the runner shares with the container, " +
	"so the file would vanish with the container; use a path under ${{ runner.temp }} or ${{ github.workspace }}")

// isRunnerMount reports whether dir is one of the directories the runner
// bind-mounts into a container action (ContainerActionHandler in
// actions/runner); /github/runner_temp since runner 2.331.
func isRunnerMount(dir string) bool {
	switch dir {
	case "/github/workspace", "/github/runner_temp", "/github/home",
		"/github/workflow", "/github/file_commands":
		return true
	}
	return false
}

// NativeEnv is the variable the native action (native/action.yml) sets to
// "true" on its run step. The step then runs where the job's other steps
// run, on the runner's host or in the job's container, so a path means the
// same to it as to them. In a job's container (jobs.<id>.container) the
// runner mounts /github/home and /github/workflow too, so without this the
// mount table would look like a container action's and a path under
// runner.temp (/__w/_temp) would be refused.
const NativeEnv = "ASC_AUTH_NATIVE"

// HostPath returns the runner's (host) path for containerPath, a path seen
// inside this container action. The runner rewrites host paths in inputs to
// container paths (${{ runner.temp }}/key.json arrives as
// /github/runner_temp/key.json) but does not translate outputs or exported
// variables back, so a path handed to later steps must go through HostPath.
//
// A relative path is returned unchanged, as is any path in the native action
// ([NativeEnv] is "true") or when not running in a container (no runner mount in /proc/self/mountinfo, or no such file). An
// absolute path under a runner mount is translated with that bind mount's
// root; in a container, any other path is an error wrapping [ErrNotShared].
//
// The mount's root is the source directory relative to its own file system,
// so the result is the host path only when that file system is mounted at
// the host's "/", as on GitHub-hosted runners. A self-hosted runner whose
// work directory lives on a separately mounted volume gets a path relative to
// that volume.
func (rt *Runtime) HostPath(containerPath string) (string, error) {
	if !path.IsAbs(containerPath) || rt.getenv(NativeEnv) == "true" {
		return containerPath, nil
	}
	data, err := rt.mountInfo()
	if errors.Is(err, fs.ErrNotExist) {
		return containerPath, nil
	}
	if err != nil {
		return "", fmt.Errorf("actions: reading mount table: %w", err)
	}
	mounts, err := parseMountInfo(data)
	if err != nil {
		return "", fmt.Errorf("actions: reading mount table: %w", err)
	}

	p := path.Clean(containerPath)
	inContainer := false
	var found *mount
	for i := range mounts {
		m := &mounts[i]
		if !isRunnerMount(m.MountPoint) {
			continue
		}
		inContainer = true
		// A later line for the same mount point is mounted over earlier ones.
		if p == m.MountPoint || strings.HasPrefix(p, m.MountPoint+"/") {
			found = m
		}
	}
	switch {
	case !inContainer:
		return containerPath, nil
	case found == nil:
		return "", fmt.Errorf("actions: %s: %w", containerPath, ErrNotShared)
	}
	return path.Join(found.Root, strings.TrimPrefix(p, found.MountPoint)), nil
}
