#!/usr/bin/env bash
# Installs asc-auth for the native action (native/action.yml) and the setup
# action (setup/action.yml), and prints the binary's path on standard output.
# Everything else goes to standard error, which the runner logs too.
#
# In a release, the release workflow pins the version and the release's
# SHA256SUMS into both action.yml files (pin-native-release.sh). The binary
# for the runner's OS and architecture is then downloaded once into the
# runner's tool cache, checked against the pinned SHA-256, and reused by
# later steps; a mismatch installs nothing. On main and in forks nothing is
# pinned, and the binary is built from the action's own source with the
# runner's Go.
#
# Environment (the runner sets the RUNNER_ variables):
#   RUNNER_OS, RUNNER_ARCH    Linux, macOS or Windows; X64 or ARM64
#   RUNNER_TOOL_CACHE         where downloaded binaries are kept
#   RUNNER_TEMP               where a source build goes
#   ASC_AUTH_VERSION          the pinned release (v1.2.3); empty: none
#   ASC_AUTH_SHA256SUMS       the pinned release's SHA256SUMS
#   ASC_AUTH_DOWNLOAD_URL     where the release's assets are; the default is
#                             the GitHub release, tests give a loopback server
#   ASC_AUTH_SOURCE_BUILD     true: build from source when nothing is pinned
#                             or the download fails; false: never
#   ASC_AUTH_SOURCE           the source to build (default $GITHUB_ACTION_PATH/..)
set -euo pipefail

log() { echo "asc-auth install: $*" >&2; }
fail() {
	echo "::error title=asc-auth install::$*" >&2
	exit 1
}
sha256() {
	if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

case ${RUNNER_OS:-} in
Linux) goos=linux ;;
macOS) goos=darwin ;;
Windows) fail "Windows runners are not supported; use the action on a Linux (ubuntu-*) or macOS (macos-*) runner" ;;
*) fail "unknown RUNNER_OS '${RUNNER_OS:-}'; want Linux or macOS" ;;
esac
# The tool cache names architectures as actions/tool-cache does.
case ${RUNNER_ARCH:-} in
X64) goarch=amd64 cache_arch=x64 ;;
ARM64) goarch=arm64 cache_arch=arm64 ;;
*) fail "unsupported RUNNER_ARCH '${RUNNER_ARCH:-}'; want X64 or ARM64" ;;
esac
asset=asc-auth-$goos-$goarch
version=${ASC_AUTH_VERSION:-}
source_build=${ASC_AUTH_SOURCE_BUILD:-false}

build_from_source() {
	[ "$source_build" = true ] || fail "$1, and source builds are off (ASC_AUTH_SOURCE_BUILD=$source_build)"
	local src=${ASC_AUTH_SOURCE:-${GITHUB_ACTION_PATH:?}/..}
	local out=${RUNNER_TEMP:?}/asc-auth-source/asc-auth
	command -v go >/dev/null || fail "$1, and there is no Go on PATH to build asc-auth from source; add actions/setup-go before this step"
	log "$1: building asc-auth from source ($src) with $(go version)"
	(cd "$src" && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -o "$out" .) >&2 ||
		fail "go build of asc-auth from $src failed"
	echo "$out"
	exit 0
}

[ -n "$version" ] || build_from_source "no release is pinned (main or a fork)"
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "the pinned version '$version' is not vX.Y.Z"
want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' <<<"${ASC_AUTH_SHA256SUMS:-}")
[[ $want =~ ^[0-9a-f]{64}$ ]] || fail "the pinned SHA256SUMS has no single entry for $asset"

dir=${RUNNER_TOOL_CACHE:?RUNNER_TOOL_CACHE is not set}/asc-auth/${version#v}/$cache_arch
bin=$dir/asc-auth
if [ -f "$dir.complete" ] && [ -f "$bin" ]; then
	if [ "$(sha256 "$bin")" = "$want" ]; then
		log "asc-auth $version ($goos/$goarch) from the tool cache, SHA-256 verified: $bin"
		echo "$bin"
		exit 0
	fi
	echo "::warning title=asc-auth install::the tool cache's $bin does not match the pinned SHA-256; downloading it again" >&2
	rm -f "$dir.complete" "$bin"
fi

url=${ASC_AUTH_DOWNLOAD_URL:-https://github.com/asc-auth/action/releases/download/$version}
# A release asset on GitHub, or a test's server on loopback: nowhere else.
if [[ $url =~ ^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/releases/download/ ]]; then
	proto='=https'
elif [[ $url =~ ^http://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+(/|$) ]]; then
	proto='=http'
else
	fail "ASC_AUTH_DOWNLOAD_URL must be a GitHub release download URL (or http on loopback for tests)"
fi

mkdir -p "$dir"
tmp=$(mktemp "$dir/.download.XXXXXX")
trap 'rm -f "$tmp"' EXIT
log "downloading $url/$asset"
if ! err=$(curl -fsSL --retry 3 --proto "$proto" --proto-redir =https -o "$tmp" "$url/$asset" 2>&1); then
	err=${err##*$'\n'} # curl's last line says why
	reason="downloading $asset of $version failed (${err#curl: })"
	[ "$source_build" != true ] || echo "::warning title=asc-auth install::$reason; building from source instead" >&2
	build_from_source "$reason"
fi
got=$(sha256 "$tmp")
[ "$got" = "$want" ] || fail "$asset of $version has SHA-256 $got, but the release pinned $want; nothing was installed or run"
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
touch "$dir.complete"
log "asc-auth $version ($goos/$goarch) downloaded, SHA-256 verified, cached: $bin"
echo "$bin"
