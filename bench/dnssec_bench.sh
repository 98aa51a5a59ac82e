#!/usr/bin/env bash
# DNSSEC benchmark (issue 15): answers/s with DO=1 from signpost serving the failover
# example signed ([dnssec] sign = true) and from Knot DNS signing the same zone
# (ECDSA P-256 CSK, NSEC), each pinned to core 0 with one UDP worker, the load
# generator (<build>/dnsblast -D) on core 1, in paired rounds (order reversed every
# other round): medians for the failover name, a static name and an NXDOMAIN below
# _signpost. Also the same names without DO on signpost, and the RSS of both.
# Prints figures, asserts nothing.
#
#   bench/dnssec_bench.sh [--rounds N] [--duration S] [--build DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
ROUNDS=5
DUR=3
WINDOW=200
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --build) BUILD=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "dnssec_bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[dnssec_bench] $*" >&2; }

log "building signpost and dnsblast in $BUILD (Release)"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target signpost dnsblast >/dev/null
SIGNPOST=$BUILD/signpost
BLAST=$BUILD/dnsblast
PATH=$PATH:/usr/sbin
command -v knotd >/dev/null || { log "knotd is not installed (Debian package knot)"; exit 1; }

TMP=$(mktemp -d /tmp/dnssec_bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {  # tests/support/signpost_test.py's: free for UDP and TCP, outside the ephemeral range (dig could draw it)
  PYTHONPATH="$ROOT/tests/support" python3 -c 'import signpost_test; print(signpost_test.free_port())'
}
# signed PORT NAME TIMEOUT: polls until NAME/A answers with an RRSIG (DO=1); bounded.
signed() {
  local i
  for i in $(seq $(($3 * 10))); do
    if dig @127.0.0.1 -p "$1" +dnssec +norec +time=1 +tries=1 "$2" A 2>/dev/null | grep -q "RRSIG"; then return 0; fi
    sleep 0.1
  done
  return 1
}
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
declare -A PORT PID

# --- the two regions, on the load generator's core ---------------------------------
HPORT=$(free_port)
taskset -c 1 python3 "$ROOT/examples/failover/region.py" primary 127.0.0.10 "$HPORT" "$TMP/primary.down" 2>"$TMP/primary.log" &
PIDS+=($!)
taskset -c 1 python3 "$ROOT/examples/failover/region.py" secondary 127.0.0.11 "$HPORT" "$TMP/secondary.down" 2>"$TMP/secondary.log" &
PIDS+=($!)

# --- signpost, signed ----------------------------------------------------------------
mkdir -p "$TMP/signpost/zones" "$TMP/signpost/keys"
chmod 700 "$TMP/signpost/keys"
{ sed "s/@HTTP_PORT@/$HPORT/" "$ROOT/bench/configs/signpost/example.com.toml"; printf '\n[dnssec]\nsign = true\n'; } \
  >"$TMP/signpost/zones/example.com.toml"
PORT[signpost]=$(free_port)
cat >"$TMP/signpost/signpost.toml" <<CONF
zones = "$TMP/signpost/zones"
listen = ["127.0.0.1:${PORT[signpost]}"]
workers = 1
dnssec_key_dir = "$TMP/signpost/keys"
log_level = "warning"
[api]
enabled = false
CONF
taskset -c 0 "$SIGNPOST" serve --config "$TMP/signpost/signpost.toml" 2>"$TMP/signpost.log" &
PID[signpost]=$!; PIDS+=($!)
signed "${PORT[signpost]}" www.example.com 20 || { log "signpost did not answer signed:"; cat "$TMP/signpost.log" >&2; exit 1; }

# --- Knot DNS, signing the same zone --------------------------------------------------
mkdir -p "$TMP/knot/run/db" "$TMP/knot/zones"
cp "$ROOT/bench/configs/knot-signed/example.com.zone" "$TMP/knot/zones/"
PORT[knot]=$(free_port)
sed -e "s/@DNS_PORT@/${PORT[knot]}/" -e "s|@RUN_DIR@|$TMP/knot/run|" -e "s|@ZONE_DIR@|$TMP/knot/zones|" \
  "$ROOT/bench/configs/knot-signed/knot.conf" >"$TMP/knot/knot.conf"
taskset -c 0 knotd -c "$TMP/knot/knot.conf" 2>"$TMP/knot.log" &
PID[knot]=$!; PIDS+=($!)
signed "${PORT[knot]}" www.example.com 20 || { log "knotd did not answer signed:"; cat "$TMP/knot.log" >&2; exit 1; }

log "signpost port ${PORT[signpost]}, knot port ${PORT[knot]}; load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A QNAME=([failover]=www.example.com [static]=ns1.example.com [nxdomain]=nothing._signpost.example.com)
CASES=(failover static nxdomain)
RESULTS=$TMP/results.tsv
: >"$RESULTS"
blast() {  # blast SERVER CASE FLAG ROUND
  local out
  out=$(taskset -c 1 "$BLAST" -s "127.0.0.1:${PORT[$1]}" -n "${QNAME[$2]}" -d "$DUR" -w "$WINDOW" -b 32 "$3")
  printf '%s\t%s\t%s\t%s\n' "$2" "$1$3" "$(kv "$out" qps)" "$(kv "$out" lost)" >>"$RESULTS"
  log "round $4 $2 $1 $3: $out"
}
for r in $(seq "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    if [ $((r % 2)) = 0 ]; then order=(knot signpost); else order=(signpost knot); fi
    for s in "${order[@]}"; do blast "$s" "$c" -D "$r"; done
    blast signpost "$c" -e "$r"
  done
done

echo
echo "DNSSEC answers/s (DO=1), median of $ROUNDS paired rounds of ${DUR}s, one UDP worker each on core 0"
printf '%-10s %14s %14s %10s %22s\n' case signpost knot ratio "signpost without DO"
for c in "${CASES[@]}"; do
  med() { awk -F'\t' -v c="$c" -v s="$1" '$1 == c && $2 == s {print $3}' "$RESULTS" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  sp=$(med signpost-D); kn=$(med knot-D); plain=$(med signpost-e)
  printf '%-10s %14.0f %14.0f %9.2fx %22.0f\n' "$c" "$sp" "$kn" "$(awk -v a="$sp" -v b="$kn" 'BEGIN {print b ? a / b : 0}')" "$plain"
done
echo "RSS: signpost $(rss_kb "${PID[signpost]}") kB, knot $(rss_kb "${PID[knot]}") kB"
