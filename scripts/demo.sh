#!/bin/bash
# Sets up, builds and starts signpost on the bundled failover example
# (examples/failover/) with two local "regions", then shows a failover and a
# failback you can watch with dig. Ctrl-C stops everything it started.
#
# Usage: scripts/demo.sh [--port N] [--once]
#   --port N   DNS port on 127.0.0.1 (default 8053)
#   --once     run the scripted failover and failback, then stop (no waiting)
# SIGNPOST_BIN=path skips the set-up and build and uses that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
port=8053
once=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --once) once=1; shift ;;
    *) echo "usage: scripts/demo.sh [--port N] [--once]" >&2; exit 2 ;;
  esac
done

if [ -z "${SIGNPOST_BIN:-}" ]; then
  bash scripts/setup.sh
  bash scripts/build.sh
  SIGNPOST_BIN=build/signpost
fi

state=$(mktemp -d /tmp/signpost-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

python3 examples/failover/region.py primary 127.0.0.10 8080 "$state/primary.down" &
pids+=($!)
python3 examples/failover/region.py secondary 127.0.0.11 8080 "$state/secondary.down" &
pids+=($!)

# Both regions must listen before signpost's first probe round decides.
for addr in 127.0.0.10 127.0.0.11; do
  for _ in $(seq 100); do
    (echo >"/dev/tcp/$addr/8080") 2>/dev/null && break
    sleep 0.1
  done
  (echo >"/dev/tcp/$addr/8080") 2>/dev/null || { echo "region $addr:8080 did not start (port in use?)" >&2; exit 1; }
done

"$SIGNPOST_BIN" serve --zones examples/failover --listen "127.0.0.1:$port" 2>"$state/signpost.log" &
signpost_pid=$!
pids+=($signpost_pid)

q() { dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$port" "$@" 2>/dev/null | head -1; }

for _ in $(seq 100); do
  [ -n "$(q www.example.com A)" ] && break
  if ! kill -0 "$signpost_pid" 2>/dev/null; then cat "$state/signpost.log" >&2; exit 1; fi
  sleep 0.1
done
[ -n "$(q www.example.com A)" ] || { echo "signpost did not answer; its log:" >&2; cat "$state/signpost.log" >&2; exit 1; }

# Waits (bounded) until www.example.com answers $1; prints how long it took.
wait_for() {
  local want=$1 start now got
  start=$(date +%s.%N)
  for _ in $(seq 100); do
    got=$(q www.example.com A)
    if [ "$got" = "$want" ]; then
      now=$(date +%s.%N)
      echo "    www.example.com -> $got after $(python3 -c "print(f'{$now - $start:.1f}')") s"
      return 0
    fi
    sleep 0.1
  done
  echo "    still $got after 10 s" >&2
  return 1
}

cat <<INFO
signpost is serving examples/failover/ on 127.0.0.1:$port (log: $state/signpost.log)
  primary region   127.0.0.10:8080/health
  secondary region 127.0.0.11:8080/health

Try:
  dig @127.0.0.1 -p $port www.example.com A
  dig @127.0.0.1 -p $port example.com A
  dig @127.0.0.1 -p $port anything.example.com A
  dig @127.0.0.1 -p $port site._signpost.example.com TXT

INFO
echo "now: www.example.com -> $(q www.example.com A)   state: $(q site._signpost.example.com TXT)"
echo
echo "== the primary region fails (its /health answers 503)"
touch "$state/primary.down"
wait_for 127.0.0.11
echo "   state: $(q site._signpost.example.com TXT)"
echo "== the primary region recovers"
rm -f "$state/primary.down"
wait_for 127.0.0.10
echo "   state: $(q site._signpost.example.com TXT)"
echo
echo "signpost's log of it:"
grep -E "policy|probes" "$state/signpost.log" | sed 's/^/  /' || true

if [ $once = 1 ]; then exit 0; fi
cat <<INFO

Still running. In another terminal:
  fail the primary:    touch $state/primary.down
  recover it:          rm $state/primary.down
  watch:               watch -n 0.5 dig +short @127.0.0.1 -p $port www.example.com
Ctrl-C stops signpost and both regions.
INFO
wait "$signpost_pid"
