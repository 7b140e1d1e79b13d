// Package containertest runs the action's built image the way the GitHub
// runner runs a container action (actions/runner's ContainerActionHandler):
// as root, with --workdir /github/workspace, INPUT_* variables, the
// runner's bind mounts and its file-command files, and host paths in inputs
// rewritten to container paths. Its tests run only when ASC_AUTH_IMAGE names
// a built image; .ci/run builds one and sets it.
package containertest
