#!/usr/bin/env bash
# What the native action costs a job, next to the container action's start.
# Builds the release binaries, serves them on loopback as a fake release,
# and times with hyperfine the native action's two steps as the runner runs
# them (bash --noprofile --norc -eo pipefail on each step's run: script,
# taken from native/action.yml): the install step on a warm tool cache, the
# token step, and both; then a download into an empty tool cache; then
# `podman run` of the image for the token step, as internal/containertest
# starts it. Not part of CI: the numbers go in closing notes.
#
#   .ci/native-bench.sh [RUNS]   (default 100; needs hyperfine and python3,
#                                 and for the container podman and the image
#                                 that .ci/container.sh builds)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
image=${ASC_AUTH_IMAGE:-localhost/asc-auth:test}
dir=$(mktemp -d)
server=
trap '[ -z "$server" ] || kill "$server"; rm -rf "$dir"' EXIT

version=v0.0.0
bash .github/scripts/build-release.sh "$version" "$dir/www/$version"
echo "== release binaries (bytes)"
(cd "$dir/www/$version" && wc -c asc-auth-*-* | grep -v total)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$dir/www" "$port" >/dev/null 2>&1 &
server=$!
until curl -fso /dev/null "http://127.0.0.1:$port/$version/SHA256SUMS"; do sleep 0.1; done

# step ID prints the run: script of native/action.yml's step ID.
step() {
	awk -v id="$1" '
		$0 == "    - id: " id { in_step = 1; next }
		in_step && /^    - id: / { exit }
		in_step && $0 == "      run: |" { in_run = 1; next }
		in_run && /^        / { print substr($0, 9); next }
		in_run { exit }' native/action.yml
}
step install >"$dir/install.sh"
step run >"$dir/run.sh"
if [ ! -s "$dir/install.sh" ] || [ ! -s "$dir/run.sh" ]; then
	echo "no install and run steps in native/action.yml" >&2
	exit 1
fi

case $(uname -m) in x86_64) arch=X64 cache_arch=x64 ;; aarch64 | arm64) arch=ARM64 cache_arch=arm64 ;; esac
mkdir -p "$dir/temp" "$dir/toolcache" "$dir/fc"
touch "$dir/fc/out" "$dir/fc/env" "$dir/fc/summary"
# Variables for hyperfine's command lines, which it splits on spaces.
job="GITHUB_ACTIONS=true RUNNER_OS=Linux RUNNER_ARCH=$arch RUNNER_TEMP=$dir/temp RUNNER_TOOL_CACHE=$dir/toolcache GITHUB_ACTION_PATH=$PWD/native GITHUB_OUTPUT=$dir/fc/out GITHUB_ENV=$dir/fc/env GITHUB_STEP_SUMMARY=$dir/fc/summary"
pinned="ASC_AUTH_VERSION=$version ASC_AUTH_DOWNLOAD_URL=http://127.0.0.1:$port/$version ASC_AUTH_SOURCE_BUILD=false"
sums=$(cat "$dir/www/$version/SHA256SUMS")
bin=$dir/toolcache/asc-auth/${version#v}/$cache_arch/asc-auth
inputs="ASC_AUTH_NATIVE=true ASC_AUTH_BIN=$bin INPUT_KEY-ID=DEMOKEY001 INPUT_ISSUER-ID=69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1 INPUT_PRIVATE-KEY-PATH=$PWD/testdata/AuthKey_DEMOKEY001.p8 INPUT_IN-HOUSE=false INPUT_EXPORT-ENV=false"
run_step="bash --noprofile --norc -eo pipefail"
# Each step is its own process, as on the runner; a small script runs both.
cat >"$dir/job.sh" <<EOF
env $job $pinned ASC_AUTH_SHA256SUMS="\$SUMS" $run_step $dir/install.sh
env $job $inputs $run_step $dir/run.sh >/dev/null
EOF

echo "== native action on a warm tool cache ($runs runs)"
# shellcheck disable=SC2086 # split on purpose, as hyperfine splits them
env $job $pinned ASC_AUTH_SHA256SUMS="$sums" $run_step "$dir/install.sh" 2>/dev/null # fills the tool cache
SUMS=$sums hyperfine -N --warmup 5 --runs "$runs" --export-json "$dir/warm.json" \
	-n "install step (warm)" "env $job $pinned ASC_AUTH_SHA256SUMS='$sums' $run_step $dir/install.sh" \
	-n "token step (native)" "env $job $inputs $run_step $dir/run.sh" \
	-n "install + token" "env SUMS='$sums' bash $dir/job.sh" >/dev/null 2>&1
echo "== the first install in a job: download from loopback into an empty tool cache (20 runs)"
hyperfine -N --runs 20 --prepare "rm -rf $dir/toolcache/asc-auth" --export-json "$dir/cold.json" \
	-n "install step (download)" "env $job $pinned ASC_AUTH_SHA256SUMS='$sums' $run_step $dir/install.sh" >/dev/null 2>&1

results=("$dir/warm.json" "$dir/cold.json")
if command -v podman >/dev/null && podman --storage-driver vfs image exists "$image" 2>/dev/null; then
	echo "== container action: podman run of $image for the token step ($((runs / 5)) runs)"
	mkdir -p "$dir/ctr/work" "$dir/ctr/temp/_runner_file_commands"
	touch "$dir/ctr/temp/_runner_file_commands/out" "$dir/ctr/temp/_runner_file_commands/env" "$dir/ctr/temp/_runner_file_commands/summary"
	cp testdata/AuthKey_DEMOKEY001.p8 "$dir/ctr/work/"
	podman_run="podman --runtime runc --storage-driver vfs --cgroup-manager cgroupfs run --rm --network=host
		--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --workdir /github/workspace
		-v $dir/ctr/work:/github/workspace -v $dir/ctr/temp:/github/runner_temp
		-v $dir/ctr/temp/_runner_file_commands:/github/file_commands
		-e GITHUB_ACTIONS=true -e GITHUB_OUTPUT=/github/file_commands/out -e GITHUB_ENV=/github/file_commands/env
		-e GITHUB_STEP_SUMMARY=/github/file_commands/summary -e RUNNER_TEMP=/github/runner_temp
		-e INPUT_KEY-ID=DEMOKEY001 -e INPUT_ISSUER-ID=69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1
		-e INPUT_PRIVATE-KEY-PATH=/github/workspace/AuthKey_DEMOKEY001.p8 -e INPUT_IN-HOUSE=false -e INPUT_EXPORT-ENV=false
		$image"
	hyperfine -N --warmup 2 --runs $((runs / 5)) --export-json "$dir/podman.json" \
		-n "token step (podman run)" "$(echo "$podman_run" | tr -s '\t\n' '  ')" >/dev/null 2>&1
	results+=("$dir/podman.json")
else
	echo "(no podman or no $image: run .ci/container.sh for the container figure)"
fi

echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
python3 - "${results[@]}" <<'PY'
import json, sys
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        # CPU time (user + system, children included) moves less than wall
        # time when the machine is busy.
        print("%-26s wall median %7.2f ms  min %7.2f ms  max %7.2f ms   cpu mean %7.2f ms  (%d runs)" % (
            r["command"], r["median"] * 1e3, r["min"] * 1e3, r["max"] * 1e3, (r["user"] + r["system"]) * 1e3, len(r["times"])))
PY
