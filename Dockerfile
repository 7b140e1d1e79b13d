# asc-auth container action: a static Go binary on a distroless base.
#
# The base images are build arguments, pinned by digest (Dependabot keeps
# them current), so that machines without a registry can substitute
# locally assembled stand-ins (.ci/container.sh does).
ARG GO_IMAGE=golang:1.26@sha256:9edf71320ef8a791c4c33ec79f90496d641f306a91fb112d3d060d5c1cee4e20
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2

# The build stage runs on the builder's own platform and cross-compiles, so
# a multi-architecture release needs no emulation.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY *.go ./
COPY internal/ internal/
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/asc-auth .

FROM ${RUNTIME_IMAGE}
# The product build: no demo, no simulator, no OpenAPI validator, no key
# (those need -tags dev, which only the repository's own commands use).
COPY --from=build /out/asc-auth /asc-auth
# No USER line on purpose: GitHub runs a container action as the image's user,
# and only root may write the runner's file-command files mounted at
# /github/file_commands ("Docker actions must be run by the default Docker
# user (root)", GitHub's Dockerfile support docs). distroless/static's default
# user is root.
ENTRYPOINT ["/asc-auth"]
