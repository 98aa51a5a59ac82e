#!/bin/bash
# Probe scheduler benchmark: N local HTTP endpoints at a 1 s interval.
# usage: bench/probes.sh [seconds=30] [build dir=build-probes-rel]
# Builds probe_bench (Release) and runs it for N = 100, 1000, 5000.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
build=${2:-$root/build-probes-rel}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j1 --target probe_bench >/dev/null
for n in 100 1000 5000; do
  echo "== $n endpoints =="
  "$build/probe_bench" "$n" "$secs" 8
done
