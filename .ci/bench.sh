#!/usr/bin/env bash
# Measures the figures the issues ask for; not part of CI (the numbers go in
# closing notes, never into timed assertions). Needs hyperfine for the
# whole-process figure (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== minting next to a raw ecdsa.Sign"
go test -run '^$' -bench 'Mint|RawSign' -benchmem -count 5 ./internal/token/ | grep Benchmark

echo "== build-number step on the simulator (requests and wall time)"
go test -run '^$' -bench Find -benchtime 5x ./internal/buildnum/ | grep Benchmark

echo "== upload throughput and peak RSS next to one sequential PUT (ASC_AUTH_BENCH_SIZE, default 1GiB)"
# A compiled test binary, so that /usr/bin/time's peak RSS is the upload's,
# not the compiler's.
upload_test=$(mktemp -d)/upload.test
go test -c -o "$upload_test" ./internal/upload/
for case in parallel baseline; do
	(cd internal/upload && ASC_AUTH_BENCH_SIZE=${ASC_AUTH_BENCH_SIZE:-1GiB} /usr/bin/time -v "$upload_test" \
		-test.run '^$' -test.bench "Upload/$case" -test.benchtime 3x 2>&1 | grep -E 'Benchmark|Maximum resident')
done

echo "== notarize: upload to the S3 stand-in and peak RSS next to one sequential signed PUT (1 GiB and 4 GiB)"
# The stand-in verifies every signature and hashes every body in the same
# process, so the peak RSS bounds the client's from above.
notary_test=$(mktemp -d)/notary.test
go test -c -o "$notary_test" ./internal/notary/
for size in 1GiB 4GiB; do
	for case in notary baseline; do
		(cd internal/notary && ASC_AUTH_BENCH_SIZE=$size /usr/bin/time -v "$notary_test" \
			-test.run '^$' -test.bench "Upload/$case" -test.benchtime 2x 2>&1 | grep -E 'Benchmark|Maximum resident')
	done
done

echo "== whole process: --version and the token step next to a Go hello-world"
bash .ci/startup.sh 300

echo "== testflight: requests in preflight and from processed to distributed (10 groups, 5 locales)"
go test -run TestRequestCounts -v ./internal/testflight/ | grep -iE 'requests|preflight' || true

echo "== a log line with and without known secrets (the cost of redaction)"
go test -run '^$' -bench Infof -benchmem ./internal/actions/ | grep Benchmark

echo "== image size"
podman --storage-driver vfs image inspect --format '{{.Size}} bytes' localhost/asc-auth:test 2>/dev/null || echo "build it first: bash .ci/container.sh"
