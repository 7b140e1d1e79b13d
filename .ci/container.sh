#!/usr/bin/env bash
# Builds the action's image the way GitHub would, on a machine with no
# Docker daemon and no registry: buildah builds the Dockerfile, with the
# base images replaced by stand-ins assembled here from the machine's own Go
# toolchain and CA bundle (see ../shared/container/README.md).
#
#   .ci/container.sh            build localhost/asc-auth:test
#
# Needs root, buildah, podman, runc and busybox-static (.ci/deps.sh installs
# them). Prints the image name and its size.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${ASC_AUTH_IMAGE:-localhost/asc-auth:test}
go_image=localhost/asc-auth-go:stand-in
runtime_image=localhost/asc-auth-static:stand-in
bh=(buildah --storage-driver vfs)
goroot=$(go env GOROOT)

# stand_in NAME BUILD_FN builds an image FROM scratch unless it exists.
stand_in() {
	local name=$1
	shift
	if "${bh[@]}" inspect --type image "$name" >/dev/null 2>&1; then
		return
	fi
	local ctr tmp
	ctr=$("${bh[@]}" from scratch)
	tmp=$(mktemp -d)
	mkdir -m 1777 "$tmp/tmp"
	"${bh[@]}" copy "$ctr" "$tmp/tmp" /tmp >/dev/null
	"${bh[@]}" copy "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt >/dev/null
	"$@" "$ctr"
	"${bh[@]}" commit --quiet "$ctr" "$name" >/dev/null
	"${bh[@]}" rm "$ctr" >/dev/null
	rm -rf "$tmp"
}

# The Go toolchain image: the machine's Go (statically linked) and a static
# busybox as /bin/sh, standing in for golang:<version>.
go_toolchain() {
	local ctr=$1
	"${bh[@]}" copy "$ctr" "$goroot" /usr/local/go >/dev/null
	"${bh[@]}" copy "$ctr" /bin/busybox /bin/sh >/dev/null
	"${bh[@]}" config --env PATH=/usr/local/go/bin:/bin --env HOME=/root \
		--env GOCACHE=/tmp/gocache --env GOPATH=/tmp/gopath \
		--env GOPROXY="$(go env GOPROXY)" --env GOFLAGS=-mod=readonly "$ctr"
}

# The runtime image: scratch with the CA bundle, standing in for
# distroless/static, whose default user is root as here.
runtime_base() { :; }

stand_in "$go_image" go_toolchain
stand_in "$runtime_image" runtime_base

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
"${bh[@]}" bud --quiet --isolation chroot --network host \
	--build-arg GO_IMAGE="$go_image" --build-arg RUNTIME_IMAGE="$runtime_image" \
	--build-arg VERSION="$version" --build-arg TARGETARCH="$(go env GOARCH)" -t "$image" . >/dev/null
size=$(podman --storage-driver vfs image inspect --format "{{.Size}}" "$image")
echo "built $image ($version), size ${size} bytes"
