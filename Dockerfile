# asc-auth container action: a static Go binary on a distroless base.
#
# The base images are build arguments so that machines without a registry
# can substitute locally assembled stand-ins (.ci/container.sh does).
ARG GO_IMAGE=golang:1.26.8-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:latest

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY main.go ./
COPY internal/ internal/
COPY testdata/AuthKey_DEMOKEY001.p8 testdata/
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/asc-auth .

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/asc-auth /asc-auth
# No USER line on purpose: GitHub runs a container action as the image's user,
# and only root may write the runner's file-command files mounted at
# /github/file_commands ("Docker actions must be run by the default Docker
# user (root)", GitHub's Dockerfile support docs). distroless/static's default
# user is root.
ENTRYPOINT ["/asc-auth"]
