#!/usr/bin/env bash
# gofmt, go vet, staticcheck, and actionlint over every workflow (with
# the shellcheck linter on their scripts when installed) and on this repository's
# shell scripts. Linters are Go modules at pinned versions.
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
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
if command -v shellcheck >/dev/null; then
	shellcheck .ci/* .github/scripts/*.sh
fi
echo "lint: ok"
