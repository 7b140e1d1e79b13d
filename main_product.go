//go:build !dev

package main

import "github.com/asc-auth/action/internal/app"

// devCommands is empty in the product: the demo and the simulator carry the
// test world (see main_dev.go).
func devCommands() []app.Command { return nil }
