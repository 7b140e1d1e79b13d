# Make targets wrap the scripts in .ci/, so `make X` and the README's
# commands run the same thing.
FUZZTIME ?= 10s

.PHONY: test lint fuzz image demo simulator bench

test:           ## everything CI runs: vet, tests, cross-checks, the image as the runner runs it
	bash .ci/test

lint:           ## gofmt, go vet, staticcheck, actionlint over the workflows and action.yml
	bash .ci/lint.sh

fuzz:           ## every fuzz target for FUZZTIME
	bash .ci/fuzz.sh $(FUZZTIME)

image:          ## build the container image with buildah (no Docker daemon needed)
	bash .ci/container.sh

demo:           ## the main job on the bundled test key and the local simulator (the dev build)
	go run -tags dev . demo

simulator:      ## serve the local App Store Connect simulator (the dev build)
	go run -tags dev . simulator

bench:          ## the figures the issues ask for
	bash .ci/bench.sh
