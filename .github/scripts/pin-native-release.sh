#!/usr/bin/env bash
# Pins a release into the native and setup actions' install step: the
# version, where its assets are, and their SHA-256 sums, and turns source
# builds off, so that users of the release tag run only the binary whose
# sum is in the tagged action.yml. main keeps these empty and builds from
# source (see install-asc-auth.sh).
#
#   .github/scripts/pin-native-release.sh ACTION_YML REPOSITORY VERSION SHA256SUMS
#   .github/scripts/pin-native-release.sh native/action.yml asc-auth/action v1.2.3 dist/SHA256SUMS
set -euo pipefail
die() {
	echo "pin-native-release: $*" >&2
	exit 2
}
[ $# = 4 ] || die "usage: pin-native-release.sh ACTION_YML REPOSITORY VERSION SHA256SUMS"
file=$1 repo=$2 version=$3 sums=$4
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "version must be vX.Y.Z"
[[ $repo =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "repository must be owner/name"
# Exactly the four binaries, each once, as sha256sum writes them.
targets='asc-auth-(darwin|linux)-(amd64|arm64)'
if grep -Evq "^[0-9a-f]{64}  $targets\$" "$sums" ||
	! awk 'END { exit NR != 4 }' "$sums" || [ "$(cut -d' ' -f3 "$sums" | sort -u | wc -l)" != 4 ]; then
	die "$sums must list the four binaries, one '<sha256>  asc-auth-<os>-<arch>' line each"
fi
for key in ASC_AUTH_VERSION ASC_AUTH_DOWNLOAD_URL ASC_AUTH_SHA256SUMS; do
	[ "$(grep -Ec "^ +$key: ''\$" "$file")" = 1 ] || die "$file has no single unpinned '$key: ''' line"
done
[ "$(grep -Ec "^ +ASC_AUTH_SOURCE_BUILD: 'true'\$" "$file")" = 1 ] || die "$file has no single 'ASC_AUTH_SOURCE_BUILD: 'true'' line"

url="https://github.com/$repo/releases/download/$version"
# q is a single quote: the unpinned lines read KEY: '' and KEY: 'true'.
awk -v version="$version" -v url="$url" -v q="'" '
	FNR == NR { sums[++n] = $0; next }
	{ indent = $0; sub(/[^ ].*$/, "", indent); line = substr($0, length(indent) + 1) }
	line == "ASC_AUTH_VERSION: " q q { print indent "ASC_AUTH_VERSION: " version; next }
	line == "ASC_AUTH_DOWNLOAD_URL: " q q { print indent "ASC_AUTH_DOWNLOAD_URL: " url; next }
	line == "ASC_AUTH_SOURCE_BUILD: " q "true" q { print indent "ASC_AUTH_SOURCE_BUILD: " q "false" q; next }
	line == "ASC_AUTH_SHA256SUMS: " q q {
		print indent "ASC_AUTH_SHA256SUMS: |"
		for (i = 1; i <= n; i++) print indent "  " sums[i]
		next
	}
	{ print }
' "$sums" "$file" >"$file.pinned"
mv "$file.pinned" "$file"
