//go:build dev

package main

import (
	_ "embed"

	"github.com/asc-auth/action/internal/app"
	"github.com/asc-auth/action/internal/devcmd"
)

// demoKey is the generated throwaway key the demo signs with. Only the
// development build embeds it: image scanners rightly flag a private key
// in a product binary.
//
//go:embed testdata/AuthKey_DEMOKEY001.p8
var demoKey []byte

func devCommands() []app.Command { return devcmd.Commands(demoKey) }
