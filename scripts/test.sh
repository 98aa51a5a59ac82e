#!/bin/bash
# Sets up, builds and runs every test: unit tests and integration tests that
# start the real build/signpost with real clients and peers on loopback.
# Then runs the whole suite again under AddressSanitizer + UBSan.
# Usage: scripts/test.sh [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build and tests"
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${1:-}" != "--no-sanitizers" ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSIGNPOST_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"
fi
