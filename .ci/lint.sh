#!/usr/bin/env bash
# gofmt, go vet, staticcheck, and actionlint over every workflow (with
# the shellcheck linter on their scripts when installed) and on this repository's
# shell scripts and the composite actions' scripts. Linters are Go modules at pinned versions.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" "$unformatted"
	exit 1
fi
go vet ./...
go vet -tags dev ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.0 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.0 -tags dev .
# actionlint reads native/action.yml and setup/action.yml too, through
# ci.yml's uses: ./native and ./setup (unknown inputs, bad metadata).
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
if command -v shellcheck >/dev/null; then
	shellcheck .ci/* .github/scripts/*.sh
	# The composite actions' run: scripts, which actionlint does not check.
	go test -count=1 -run '^TestCompositeScriptsPassShellcheck$' ./internal/nativetest
fi
echo "lint: ok"
