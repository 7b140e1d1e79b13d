// Package runnersim plays the GitHub runner's side of an action's output:
// it reads workflow commands from the log, parses the GITHUB_OUTPUT and
// GITHUB_ENV file commands strictly by the runner's rules, and masks text
// as the runner would. The tests, the container check and the demo use it.
package runnersim
