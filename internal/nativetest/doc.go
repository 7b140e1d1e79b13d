// Package nativetest runs the native and setup actions (native/action.yml,
// setup/action.yml) here, without macOS or GitHub: their install script
// against a fake release server on loopback, and their composite steps with
// bash as the runner runs them, the native action's side by side with the
// container action's run of the same binary. It holds only tests.
package nativetest
