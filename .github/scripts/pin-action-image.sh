#!/usr/bin/env bash
# Rewrites action.yml for a release: runs.image "Dockerfile" becomes the
# prebuilt image "docker://IMAGE@DIGEST", so that users of a release tag
# only pull it. main keeps "image: Dockerfile" so that "uses: ./" tests the
# code in the tree.
#
#   .github/scripts/pin-action-image.sh ACTION_YML IMAGE DIGEST
#   .github/scripts/pin-action-image.sh action.yml ghcr.io/asc-auth/action sha256:0123…
set -euo pipefail
file=$1 image=$2 digest=$3
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "pin-action-image: digest must be sha256:<64 hex>" >&2; exit 2; }
[[ $image =~ ^[a-z0-9./_-]+$ ]] || { echo "pin-action-image: bad image name" >&2; exit 2; }
[ "$(grep -c '^  image: Dockerfile$' "$file")" = 1 ] || { echo "pin-action-image: $file has no single '  image: Dockerfile' line" >&2; exit 1; }
sed -i "s|^  image: Dockerfile\$|  image: docker://${image}@${digest}|" "$file"
