#!/bin/bash
# Sets up, builds and runs every test: unit tests and integration tests that
# start the real build/signpost with real clients and peers on loopback.
# Then runs each libFuzzer target for a bounded time (clang, build-fuzz/), then
# the whole suite again under AddressSanitizer + UBSan, then under ThreadSanitizer.
# Usage: scripts/test.sh [--no-sanitizers]
# SIGNPOST_FUZZ_SECONDS: seconds per fuzz target (default 10; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The probes' HTTPS keep-alive tests (tests/integration/probes/tls_*) link
# OpenSSL; without libssl-dev the build leaves them out.
if ! dpkg-query -W -f='${Status}' libssl-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "test.sh: installing libssl-dev" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libssl-dev >/dev/null
fi
jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build and tests"
stage_start=$SECONDS
bash scripts/build.sh -DSIGNPOST_DEBUG_LINES=ON -DSIGNPOST_UNITY=ON
ctest --test-dir build --output-on-failure -j"$jobs"
echo "release stage: $((SECONDS - stage_start))s"

fuzz_seconds="${SIGNPOST_FUZZ_SECONDS:-10}"
if [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzzing: each target for ${fuzz_seconds}s (libFuzzer + ASan + UBSan, clang)"
  stage_start=$SECONDS
  if ! command -v clang++ >/dev/null; then
    echo "fuzzing needs clang++ and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev);" \
         "set SIGNPOST_FUZZ_SECONDS=0 to skip" >&2
    exit 1
  fi
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DSIGNPOST_FUZZ=ON -DSIGNPOST_TESTS=OFF -DSIGNPOST_BENCH=OFF -DSIGNPOST_DEBUG_LINES=ON -DSIGNPOST_UNITY=ON >/dev/null
  fuzz_targets=()
  for src in tests/fuzz/fuzz_*.cpp; do
    t=${src#tests/fuzz/fuzz_}
    fuzz_targets+=("${t%.cpp}")
  done
  cmake --build build-fuzz -j"$jobs" --target "${fuzz_targets[@]/#/fuzz_}"
  mkdir -p build-fuzz/artifacts
  for t in "${fuzz_targets[@]}"; do
    # New inputs go to build-fuzz/corpus/<t> (the first directory); the repo's seeds
    # and regressions are read, never written.
    mkdir -p "build-fuzz/corpus/$t" "tests/fuzz/regressions/$t"
    if ! "./build-fuzz/fuzz_$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" \
        "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" >"build-fuzz/$t.log" 2>&1; then
      tail -60 "build-fuzz/$t.log"
      echo "fuzz_$t failed: the reproducer is in build-fuzz/artifacts/; keep it in tests/fuzz/regressions/$t/" >&2
      exit 1
    fi
    grep -E "^Done|stat::number_of_executed_units" "build-fuzz/$t.log" | sed "s/^/fuzz_$t: /"
  done
  echo "fuzzing stage: $((SECONDS - stage_start))s"
fi

if [ "${1:-}" != "--no-sanitizers" ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
  stage_start=$SECONDS
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSIGNPOST_SANITIZE=ON -DSIGNPOST_BENCH=OFF -DSIGNPOST_DEBUG_LINES=ON -DSIGNPOST_UNITY=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"
  echo "AddressSanitizer stage: $((SECONDS - stage_start))s"

  # The whole suite again under ThreadSanitizer: the unit tests, the probes'
  # integration binary, the fuzz replays (single-threaded; cheap, so kept) and
  # the Python integration tests, which start build-tsan/signpost (ctest passes
  # it as SIGNPOST_BIN; TSAN_OPTIONS reaches the daemon through the
  # environment). halt_on_error makes a racing daemon exit 66 at once, so its
  # test fails and prints the daemon's stderr with the report.
  # tests/tsan.supp holds suppressions for third-party libraries only; libuv's
  # closes, invisible to TSan, are reported to it by tests/tsan/libuv_close.cpp.
  echo "== ThreadSanitizer build and tests"
  tsan_start=$SECONDS
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGNPOST_TSAN=ON -DSIGNPOST_BENCH=OFF -DSIGNPOST_DEBUG_LINES=ON -DSIGNPOST_UNITY=ON >/dev/null
  cmake --build build-tsan -j"$jobs"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
    ctest --test-dir build-tsan --output-on-failure -j"$jobs"
  echo "ThreadSanitizer stage: $((SECONDS - tsan_start))s"
fi
