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

echo "== whole process, token step on the host"
bin=$(mktemp -d)/asc-auth
go build -trimpath -ldflags "-s -w" -o "$bin" .
dir=$(mktemp -d)
touch "$dir/out" "$dir/env" "$dir/summary"
hyperfine -N --warmup 5 --runs 300 --export-json "$dir/hf.json" \
	"env GITHUB_ACTIONS=true GITHUB_OUTPUT=$dir/out GITHUB_ENV=$dir/env GITHUB_STEP_SUMMARY=$dir/summary INPUT_KEY-ID=DEMOKEY001 INPUT_ISSUER-ID=69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1 INPUT_PRIVATE-KEY-PATH=$PWD/testdata/AuthKey_DEMOKEY001.p8 $bin" >/dev/null
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("median %.2f ms, mean %.2f ms, min %.2f ms over %d runs" % (r["median"]*1e3, r["mean"]*1e3, r["min"]*1e3, len(r["times"])))' "$dir/hf.json"
echo "binary: $(stat -c %s "$bin") bytes"

echo "== image size"
podman --storage-driver vfs image inspect --format '{{.Size}} bytes' localhost/asc-auth:test 2>/dev/null || echo "build it first: bash .ci/container.sh"
