#!/usr/bin/env bash
# Installs what the tests use beyond Go, from Debian's packages: openssl
# and ruby-jwt for the token cross-checks, buildah, podman, runc and a static
# busybox for building and running the container image as GitHub would,
# the shellcheck linter for the scripts, bsdtar and plistutil to check the
# .ipa/.pkg reader, python3-nacl (the system python's) to open the sealed
# boxes session store sends GitHub, ruby-http-cookie to load a stored
# session as spaceship does, and script(1) to type into a terminal.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v ruby >/dev/null && ruby -rjwt -e '' 2>/dev/null || need+=(ruby ruby-jwt)
command -v buildah >/dev/null || need+=(buildah)
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v bsdtar >/dev/null || need+=(libarchive-tools)
command -v plistutil >/dev/null || need+=(libplist-utils)
/usr/bin/python3 -c 'import nacl.public' 2>/dev/null || need+=(python3-nacl)
command -v ruby >/dev/null && ruby -rhttp-cookie -e '' 2>/dev/null || need+=(ruby ruby-http-cookie)
command -v script >/dev/null || need+=(bsdutils)
if [ ${#need[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	echo "installing: ${need[*]}"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
