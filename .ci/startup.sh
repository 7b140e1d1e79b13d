#!/usr/bin/env bash
# Whole-process start of the installed binary: `asc-auth --version` and the
# token step, side by side with a Go hello-world built the same way
# (-trimpath -ldflags "-s -w", CGO_ENABLED=0), over many runs with
# hyperfine. Not part of CI: the numbers go in closing notes.
#
#   .ci/startup.sh [RUNS]      (default 300; needs hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
build() { CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$@"; }

mkdir "$dir/hello"
cat >"$dir/hello/main.go" <<'GO'
package main

import "fmt"

func main() { fmt.Println("hello, world") }
GO
(cd "$dir/hello" && go mod init hello >/dev/null 2>&1 && build "$dir/hello-world" .)
build "$dir/asc-auth" .

touch "$dir/out" "$dir/env" "$dir/summary"
# Variables with a hyphen cannot be exported by a shell; env(1) passes them,
# so every command runs under env for a fair comparison.
envs="GITHUB_ACTIONS=true GITHUB_OUTPUT=$dir/out GITHUB_ENV=$dir/env GITHUB_STEP_SUMMARY=$dir/summary INPUT_KEY-ID=DEMOKEY001 INPUT_ISSUER-ID=69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1 INPUT_PRIVATE-KEY-PATH=$PWD/testdata/AuthKey_DEMOKEY001.p8"
hyperfine -N --warmup 10 --runs "$runs" --export-json "$dir/hf.json" \
	-n hello-world "env $envs $dir/hello-world" \
	-n "asc-auth --version" "env $envs $dir/asc-auth --version" \
	-n "token step" "env $envs $dir/asc-auth" >/dev/null
python3 - "$dir/hf.json" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
base = rs[0]["median"]
for r in rs:
    print("%-20s median %.2f ms  mean %.2f ms  min %.2f ms  (%.2fx hello-world)" % (r["command"], r["median"]*1e3, r["mean"]*1e3, r["min"]*1e3, r["median"]/base))
PY
echo "binary: $(stat -c %s "$dir/asc-auth") bytes; hello-world: $(stat -c %s "$dir/hello-world") bytes"
