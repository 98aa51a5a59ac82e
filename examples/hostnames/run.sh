#!/bin/bash
# Runs the hostnames example: knotd serves lb.test (the load balancers' names)
# on 127.0.0.1:5300, two "regions" answer /health on 127.0.0.10:8080 and
# 127.0.0.11:8080, and signpost serves example.com on 127.0.0.1:8053 with
# examples/hostnames/signpost.toml. Shows www (CNAME) and the apex (flattened)
# before, during and after a failover. Ctrl-C stops everything it started.
#
# Usage: examples/hostnames/run.sh [--once]    (from anywhere; needs knotd, dig)
#   --once   run the scripted failover and failback, then stop
# SIGNPOST_BIN=path picks the binary (default build/signpost).
set -euo pipefail
cd "$(dirname "$0")/../.."
once=0
[ "${1:-}" = "--once" ] && once=1
bin=${SIGNPOST_BIN:-build/signpost}
[ -x "$bin" ] || { echo "no signpost binary at $bin (scripts/build.sh, or set SIGNPOST_BIN)" >&2; exit 1; }
command -v knotd >/dev/null || { echo "knotd not found (apt-get install knot)" >&2; exit 1; }

state=$(mktemp -d /tmp/signpost-hostnames.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# 1. The load balancers' names, served by Knot DNS.
mkdir -p "$state/knot/run" "$state/knot/db"
cp examples/hostnames/lb.test.zone "$state/knot/lb.test.zone"
cat >"$state/knot/knot.conf" <<KNOT
server:
    rundir: "$state/knot/run"
    listen: 127.0.0.1@5300
database:
    storage: "$state/knot/db"
template:
  - id: default
    storage: "$state/knot"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: lb.test
    file: "lb.test.zone"
KNOT
knotd -c "$state/knot/knot.conf" >"$state/knotd.log" 2>&1 &
pids+=($!)

# 2. The two regions (each one a stand-in for what sits behind its load balancer).
python3 examples/failover/region.py primary 127.0.0.10 8080 "$state/primary.down" &
pids+=($!)
python3 examples/failover/region.py secondary 127.0.0.11 8080 "$state/secondary.down" &
pids+=($!)

q() { dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$@" 2>/dev/null; }
for _ in $(seq 100); do [ -n "$(q 5300 eu.lb.test A)" ] && break; sleep 0.1; done
[ -n "$(q 5300 eu.lb.test A)" ] || { echo "knotd did not serve lb.test:" >&2; cat "$state/knotd.log" >&2; exit 1; }
for addr in 127.0.0.10 127.0.0.11; do
  for _ in $(seq 100); do (echo >"/dev/tcp/$addr/8080") 2>/dev/null && break; sleep 0.1; done
  (echo >"/dev/tcp/$addr/8080") 2>/dev/null || { echo "region $addr:8080 did not start (port in use?)" >&2; exit 1; }
done

# 3. signpost.
"$bin" serve --config examples/hostnames/signpost.toml 2>"$state/signpost.log" &
signpost_pid=$!
pids+=($signpost_pid)
for _ in $(seq 100); do
  [ -n "$(q 8053 www.example.com A)" ] && break
  kill -0 "$signpost_pid" 2>/dev/null || { cat "$state/signpost.log" >&2; exit 1; }
  sleep 0.1
done

show() {
  echo "\$ dig @127.0.0.1 -p 8053 www.example.com A +noall +answer"
  dig @127.0.0.1 -p 8053 +norec +noall +answer www.example.com A
  echo "\$ dig @127.0.0.1 -p 8053 example.com A +noall +answer"
  dig @127.0.0.1 -p 8053 +norec +noall +answer example.com A
  echo "\$ dig @127.0.0.1 -p 8053 site._signpost.example.com TXT +short"
  q 8053 site._signpost.example.com TXT
}
# Waits (bounded, 10 s) until www answers `CNAME $1`.
wait_for() {
  for _ in $(seq 100); do
    [ "$(q 8053 www.example.com A | head -1)" = "$1" ] && return 0
    sleep 0.1
  done
  echo "www.example.com still answers $(q 8053 www.example.com A | head -1), not $1" >&2
  return 1
}

echo "== both regions up"
show
echo
echo "== the primary region fails (its /health answers 503)"
touch "$state/primary.down"
wait_for us.lb.test.
show
echo
echo "== the primary region recovers"
rm -f "$state/primary.down"
wait_for eu.lb.test.
show

if [ $once = 1 ]; then exit 0; fi
cat <<INFO

Still running (signpost log: $state/signpost.log). In another terminal:
  fail the primary:  touch $state/primary.down
  recover it:        rm $state/primary.down
  status:            $bin status
  explain:           $bin explain example.com A
Ctrl-C stops signpost, knotd and both regions.
INFO
wait "$signpost_pid"
