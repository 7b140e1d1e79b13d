#!/usr/bin/env bash
# Builds the release binaries of asc-auth for the native and setup actions,
# the way the release workflow publishes them: macOS and Linux, arm64 and
# amd64, static (CGO_ENABLED=0), -trimpath, stamped with the version, plus a
# SHA256SUMS file. .ci/test runs it too, so that a build break on any target
# fails here rather than at release time.
#
#   .github/scripts/build-release.sh VERSION OUTDIR
#   .github/scripts/build-release.sh v1.2.3 dist
set -euo pipefail
[ $# = 2 ] || {
	echo "usage: build-release.sh VERSION OUTDIR" >&2
	exit 2
}
version=$1 out=$2
[[ $version =~ ^[A-Za-z0-9._+-]+$ ]] || {
	echo "build-release: bad version '$version'" >&2
	exit 2
}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
for target in darwin/arm64 darwin/amd64 linux/amd64 linux/arm64; do
	goos=${target%/*} goarch=${target#*/}
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
		go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out/asc-auth-$goos-$goarch" .
done
(cd "$out" && sha256sum asc-auth-darwin-arm64 asc-auth-darwin-amd64 asc-auth-linux-amd64 asc-auth-linux-arm64 >SHA256SUMS)
