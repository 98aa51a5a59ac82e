#!/bin/bash
# Probe throughput benchmark: N local HTTP endpoints at a 1 s interval, fresh
# connections vs keep-alive, side by side. Figures only, not a test.
# usage: bench/probes.sh [seconds=30] [build dir=build-probes-rel] [sizes="100 1000 5000"]
#        MODES="keepalive fresh" (default both; keepalive first: the TIME_WAIT sockets
#        a fresh run leaves behind make the next run's first connections slower) PRIORITY=-10 PROBER_CPU=0 RESPONDER_CPU=1
# Builds probe_bench and probe_responder (Release); the responder (one epoll
# thread, 127.1.0.1.. on one port) runs pinned to CPU 1 and probe_bench (the
# probe loop) to CPU 0, so the measurement is of the prober. CPU per 1,000
# checks is getrusage() of probe_bench alone.
# Both run in their own session (autogroup) at nice PRIORITY (default -10; 0
# turns it off): on a VM shared with builds, CFS otherwise splits the core
# between sessions and the figures measure the other builds, not the prober.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
build=${2:-$root/build-probes-rel}
sizes=${3:-100 1000 5000}
modes=${MODES:-keepalive fresh}
prober_cpu=${PROBER_CPU:-0}
priority=${PRIORITY:--10}
responder_cpu=${RESPONDER_CPU:-1}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j1 --target probe_bench probe_responder >/dev/null

# Runs "$@" pinned to CPU $1 in a new session whose autogroup has nice $priority.
# It execs: call it in a subshell, ( pinned ... ) or pinned ... &, so that the
# PID is the program's own.
pinned() {
  local cpu=$1; shift
  exec setsid bash -c 'p=$1; shift; [[ $p == 0 ]] || { echo "$p" >/proc/self/autogroup; renice -n "$p" -p $$; } >/dev/null 2>&1
                  exec "$@"' _ "$priority" taskset -c "$cpu" "$@"
}

max=0
for n in $sizes; do (( n > max )) && max=$n; done
out=$(mktemp)
pinned "$responder_cpu" "$build/probe_responder" "$max" >"$out" &
responder=$!
trap 'kill "$responder" 2>/dev/null; wait "$responder" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q '^PORT ' "$out" && break; sleep 0.1; done
port=$(sed -n 's/^PORT //p' "$out")
[[ -n $port ]] || { echo "probe_responder did not start" >&2; exit 1; }

echo "probe_bench: interval 1 s, ${secs} s measured after 2 s warm-up; prober on CPU $prober_cpu, responder on CPU $responder_cpu, nice $priority; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| connections | endpoints | checks/s (achieved / planned) | lateness p50 / p99 | CPU per 1,000 checks | prober CPU busy | endpoints up | lateness max |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for n in $sizes; do
  for mode in $modes; do
    flag=; [[ $mode == keepalive ]] && flag=--keepalive
    ( pinned "$prober_cpu" "$build/probe_bench" --port "$port" --endpoints "$n" --seconds "$secs" $flag )
  done
done
