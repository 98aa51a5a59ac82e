#!/usr/bin/env bash
# Memory benchmark: signpost side by side with Knot DNS in the same run, both on
# the same data, each with one DNS worker and pinned to core 0. Prints markdown
# tables with the ratios signpost / Knot; asserts nothing.
#
#   bench/memory_bench.sh [--signpost PATH] [--names N] [--zones-case] [--signed] [--keep DIR]
#
# Case 1: one zone bench.example. with N names (default 100000), h<i> IN A 10.x.y.z
#   (distinct addresses), from one master file: Knot reads it as is, signpost reads
#   the TOML `signpost import` makes of it.
# Case 2 (--zones-case): 10,000 zones x 10 names, the same set as the scale case of
#   bench/dns_bench.sh (same generator).
# Case 3 (--signed): case 1's zone signed by both, an ECDSA P-256 CSK made at start
#   and NSEC (signpost: [dnssec] sign = true; Knot: dnssec-signing with a CSK policy,
#   bench/configs/knot/knot.conf plus that policy). Its load time includes signing.
# For each server: load time (start until the last name answers), VmRSS, RssAnon and
# VmHWM 3 s after the load, then a reload of the same data (signpost: SIGHUP; Knot: knotc -b
# zone-reload), the peak during that reload and VmRSS once VmHWM has been still for 3 s.
# RssAnon is the part no other process shares: VmRSS also counts the pages of the binary
# and of the shared libraries it maps (their page-cache pages, shared with every process
# that maps them).
# Before the reload the kernel's peak (VmHWM) is reset (echo 5 > /proc/PID/clear_refs),
# so "peak during the reload" is the reload's own peak, not the load's. Reload time:
# from the signal/command until signpost logs "reloaded N zone(s)" (polled every 50 ms)
# or `knotc -b` returns; both include ~50 ms of the measurement's own overhead.
#
# Units: "MB" is 10^6 bytes, computed from /proc's kB values (which are KiB):
# kB x 1024 / 10^6. Not MiB.
#
# --signpost PATH  the binary (default build/signpost under the repo root; never built here)
# --names N        names in case 1 (default 100000)
# --zones-case     also case 2
# --signed         also case 3
# --keep DIR       work in DIR (created) and leave it there; default a temp dir, removed
# Traffic to 127.0.0.1 only, ports outside the ephemeral range (free_port); every
# process it starts is stopped by PID on exit; every loop is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIGNPOST=$ROOT/build/signpost
NAMES=100000
ZONES_CASE=0
SIGNED_CASE=0
KEEP=
ZONES=10000
NAMES_PER_ZONE=10
LOAD_TIMEOUT=300  # seconds for a load or a reload
while [ $# -gt 0 ]; do
  case "$1" in
    --signpost) SIGNPOST=$2; shift ;;
    --names) NAMES=$2; shift ;;
    --zones-case) ZONES_CASE=1 ;;
    --signed) SIGNED_CASE=1 ;;
    --keep) KEEP=$2; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "memory_bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$SIGNPOST" in /*) ;; *) SIGNPOST=$ROOT/$SIGNPOST ;; esac
[ -x "$SIGNPOST" ] || { echo "memory_bench: no signpost binary at $SIGNPOST (build it, or --signpost PATH)" >&2; exit 2; }
if ! [[ "$NAMES" =~ ^[0-9]+$ ]] || [ "$NAMES" -lt 2 ]; then echo "memory_bench: --names wants a number >= 2" >&2; exit 2; fi

log() { echo "[memory_bench] $*" >&2; }
PATH=$PATH:/usr/sbin
for b in knotd knotc dig python3 taskset; do
  command -v "$b" >/dev/null 2>&1 || { log "$b is not installed (knotd/knotc: Debian package knot; dig: bind9-dnsutils)"; exit 2; }
done

# --- bookkeeping: work dir, PIDs stopped on exit --------------------------------
if [ -n "$KEEP" ]; then
  mkdir -p "$KEEP"; TMP=$(cd "$KEEP" && pwd)
else
  TMP=$(mktemp -d /tmp/memory_bench.XXXXXX)
fi
chmod 755 "$TMP"
PIDS=()
stop_pid() {
  local pid=$1 _
  kill "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [ -z "$KEEP" ]; then rm -rf "$TMP"; else log "kept $TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {  # tests/support/signpost_test.py's: free for UDP and TCP, outside the ephemeral range (dig could draw it)
  PYTHONPATH="$ROOT/tests/support" python3 -c 'import signpost_test; print(signpost_test.free_port())'
}

hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }

# wait_answer PORT NAME EXPECT TIMEOUT PID: dig every 50 ms until NAME/A answers EXPECT;
# fails when TIMEOUT seconds (or a bounded number of tries) pass or PID exits.
wait_answer() {
  local port=$1 name=$2 expect=$3 timeout=$4 pid=$5 t0 _ ans
  t0=$(date +%s)
  for _ in $(seq $((timeout * 20))); do
    kill -0 "$pid" 2>/dev/null || return 1
    ans=$(dig +short +tries=1 +time=1 -p "$port" @127.0.0.1 "$name" A 2>/dev/null || true)
    [ "$ans" = "$expect" ] && return 0
    [ $(($(date +%s) - t0)) -ge "$timeout" ] && return 1
    sleep 0.05
  done
  return 1
}

# settle PID: waits (bounded to 120 s) until VmHWM has not moved for 3 s.
settle() {
  local pid=$1 last cur still=0 _
  last=$(hwm_kb "$pid")
  for _ in $(seq 240); do
    sleep 0.5
    cur=$(hwm_kb "$pid")
    if [ "$cur" = "$last" ]; then still=$((still + 1)); else still=0; last=$cur; fi
    [ $still -ge 6 ] && return 0
  done
  log "VmHWM of $pid still moving after 120 s; reading it anyway"
}

# reset_hwm PID: the kernel's peak RSS back to the current RSS (Linux >= 4.0).
reset_hwm() {
  if ! { echo 5 >"/proc/$1/clear_refs"; } 2>/dev/null; then
    log "cannot reset VmHWM of $1 (clear_refs): the reload peak includes the load's"
  fi
}

# Figures per server and case: R[case.server.key] with key load_s, rss, hwm,
# reload_hwm, reload_rss, reload_s (kB or seconds).
declare -A R

# measure CASE SERVER PID PORT NAME EXPECT START RELOAD_FN: the whole sequence.
measure() {
  local c=$1 s=$2 pid=$3 port=$4 name=$5 expect=$6 start=$7 reload_fn=$8 t
  if ! wait_answer "$port" "$name" "$expect" "$LOAD_TIMEOUT" "$pid"; then
    log "$s did not answer $name with $expect within $LOAD_TIMEOUT s:"; tail -5 "$TMP/$c.$s.log" >&2
    return 1
  fi
  R[$c.$s.load_s]=$(since "$start")
  sleep 3
  R[$c.$s.rss]=$(rss_kb "$pid"); R[$c.$s.hwm]=$(hwm_kb "$pid"); R[$c.$s.anon]=$(anon_kb "$pid")
  log "$c $s: loaded in ${R[$c.$s.load_s]} s, VmRSS ${R[$c.$s.rss]} kB, VmHWM ${R[$c.$s.hwm]} kB; reloading"
  reset_hwm "$pid"
  t=$(now)
  if ! "$reload_fn" "$c" "$pid"; then log "$s: the reload did not finish"; return 1; fi
  R[$c.$s.reload_s]=$(since "$t")
  wait_answer "$port" "$name" "$expect" 30 "$pid" || { log "$s does not answer $name after the reload"; return 1; }
  sleep 3  # signpost trims the heap (malloc_trim) 2 s after a reload
  settle "$pid"
  R[$c.$s.reload_hwm]=$(hwm_kb "$pid"); R[$c.$s.reload_rss]=$(rss_kb "$pid"); R[$c.$s.reload_anon]=$(anon_kb "$pid")
  log "$c $s: reloaded in ${R[$c.$s.reload_s]} s, VmHWM ${R[$c.$s.reload_hwm]} kB, VmRSS ${R[$c.$s.reload_rss]} kB"
}

# --- signpost -------------------------------------------------------------------
# The log line of a finished reload (control/controller.cpp: "reloaded N zone(s), ...").
signpost_reloads() { grep -c 'reloaded [0-9]* zone' "$1" || true; }
reload_signpost() {  # reload_signpost CASE PID: SIGHUP, then waits for one more "reloaded" line
  local logf=$TMP/$1.signpost.log n _
  n=$(signpost_reloads "$logf")
  kill -HUP "$2"
  for _ in $(seq $((LOAD_TIMEOUT * 20))); do
    [ "$(signpost_reloads "$logf")" -gt "$n" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
run_signpost() {  # run_signpost CASE TOML_DIR NAME EXPECT
  local c=$1 port pid start
  port=$(free_port)
  start=$(now)
  # Room for a million names in one zone ([limits] max_records_per_zone is 1,000,000 by default).
  printf '[limits]\nmax_records_per_zone = 0\nmax_file_bytes = 0\n' >"$TMP/$c.signpost.toml"
  # A state file of its own: signed zones keep their keys beside it (dnssec_key_dir's default).
  mkdir -p "$TMP/$c.state"
  taskset -c 0 "$SIGNPOST" serve --config "$TMP/$c.signpost.toml" --zones "$2" --listen "127.0.0.1:$port" \
    --workers 1 --no-api --log-level info --state "$TMP/$c.state/state.json" 2>"$TMP/$c.signpost.log" &
  pid=$!; PIDS+=("$pid")
  measure "$c" signpost "$pid" "$port" "$3" "$4" "$start" reload_signpost || true
  stop_pid "$pid"
}

# --- Knot DNS: bench/configs/knot/knot.conf, as bench/dns_bench.sh fills it ---------
reload_knot() {  # reload_knot CASE PID: knotc -b (blocking) zone-reload of every zone
  timeout "$LOAD_TIMEOUT" knotc -s "$TMP/$1.knot/run/knot.sock" -b -t "$LOAD_TIMEOUT" zone-reload \
    >>"$TMP/$1.knotc.log" 2>&1
}
run_knot() {  # run_knot CASE ZONE_DIR ZONES_YAML NAME EXPECT [signed]
  local c=$1 dir=$TMP/$1.knot port pid start signed=${6:-}
  mkdir -p "$dir/run/db"
  port=$(free_port)
  sed -e "s/@DNS_PORT@/$port/" -e "s|@RUN_DIR@|$dir/run|" -e "s|@ZONE_DIR@|$2|" \
      "$ROOT/bench/configs/knot/knot.conf" | awk -v f="$3" -v signed="$signed" '
        /^@ZONES@$/ {while ((getline l < f) > 0) print l; next}
        # Signed: a CSK policy as bench/configs/knot-signed/knot.conf has, used by the template.
        signed && /^template:/ {print "policy:\n  - id: csk\n    algorithm: ecdsap256sha256\n    single-type-signing: on\n    nsec3: off\n"}
        {print}
        signed && /journal-content: none/ {print "    dnssec-signing: on\n    dnssec-policy: csk"}' \
      >"$dir/knot.conf"
  start=$(now)
  taskset -c 0 knotd -c "$dir/knot.conf" 2>"$TMP/$c.knot.log" &
  pid=$!; PIDS+=("$pid")
  measure "$c" knot "$pid" "$port" "$4" "$5" "$start" reload_knot || true
  stop_pid "$pid"
}

# --- report -----------------------------------------------------------------------
mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN {printf "%.1f MB", k * 1024 / 1e6}' || echo -; }
secs() { [ -n "$1" ] && echo "$1 s" || echo -; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}' || echo -; }
thousands() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$1"; }
table() {  # table CASE TITLE
  local c=$1 row key label fmt
  printf '| %-36s | %-10s | %-10s | %-15s |\n' "$2" signpost "Knot DNS" "signpost / Knot"
  printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 38))" "$(printf -- '-%.0s' $(seq 12))" \
    "$(printf -- '-%.0s' $(seq 12))" "$(printf -- '-%.0s' $(seq 17))"
  for row in "rss|RSS after load (VmRSS)|mb" "anon|of it private (RssAnon)|mb" "hwm|peak during load (VmHWM)|mb" \
             "reload_hwm|peak during the reload (VmHWM)|mb" "reload_rss|RSS after the reload (VmRSS)|mb" \
             "reload_anon|of it private (RssAnon)|mb" \
             "load_s|load time (start to last name)|secs" "reload_s|reload time|secs"; do
    IFS='|' read -r key label fmt <<<"$row"
    printf '| %-36s | %-10s | %-10s | %-15s |\n' "$label" "$($fmt "${R[$c.signpost.$key]:-}")" \
      "$($fmt "${R[$c.knot.$key]:-}")" "$(ratio "${R[$c.signpost.$key]:-}" "${R[$c.knot.$key]:-}")"
  done
}

# --- case 1: N names in one zone ------------------------------------------------------
log "generating bench.example. with $NAMES names"
mkdir -p "$TMP/one/master" "$TMP/one/toml"
awk -v n="$NAMES" 'BEGIN {
  print "$ORIGIN bench.example.\n$TTL 300"
  print "@ IN SOA ns1 hostmaster 1 7200 1800 259200 300\n@ IN NS ns1\nns1 IN A 192.0.2.2"
  for (i = 0; i < n; i++)
    printf "h%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' >"$TMP/one/master/bench.example.zone"
"$SIGNPOST" import --origin bench.example "$TMP/one/master/bench.example.zone" >"$TMP/one/toml/bench.example.toml"
printf '  - domain: bench.example\n' >"$TMP/one/knot.yaml"
LAST1=h$((NAMES - 1)).bench.example
I=$((NAMES - 1))
EXPECT1=10.$(((I / 65536) % 256)).$(((I / 256) % 256)).$((I % 256))

log "machine load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
run_signpost one "$TMP/one/toml" "$LAST1" "$EXPECT1"
run_knot one "$TMP/one/master" "$TMP/one/knot.yaml" "$LAST1" "$EXPECT1"

# --- case 2: 10,000 zones x 10 names (bench/dns_bench.sh's scale generator) ------------
if [ $ZONES_CASE = 1 ]; then
  log "generating $ZONES zones x $NAMES_PER_ZONE names"
  python3 "$ROOT/bench/scale_zones.py" "$TMP/scale" "$ZONES" "$NAMES_PER_ZONE"
  LAST2=host0.zone$((ZONES - 1)).example
  run_signpost scale "$TMP/scale/toml" "$LAST2" 198.51.100.1
  run_knot scale "$TMP/scale/knot" "$TMP/scale/knot.yaml" "$LAST2" 198.51.100.1
fi

# --- case 3: case 1's zone signed -------------------------------------------------------
if [ $SIGNED_CASE = 1 ]; then
  mkdir -p "$TMP/signed/toml" "$TMP/signed/master"
  cp "$TMP/one/master/bench.example.zone" "$TMP/signed/master/"
  { cat "$TMP/one/toml/bench.example.toml"; printf '\n[dnssec]\nsign = true\n'; } >"$TMP/signed/toml/bench.example.toml"
  run_signpost signed "$TMP/signed/toml" "$LAST1" "$EXPECT1"
  run_knot signed "$TMP/signed/master" "$TMP/one/knot.yaml" "$LAST1" "$EXPECT1" signed
fi

echo
echo "# memory_bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# signpost $("$SIGNPOST" --version 2>/dev/null | head -1 || true), $(knotd --version | head -1); one DNS worker each, pinned to core 0; MB = 10^6 bytes"
echo
table one "$(thousands "$NAMES") names in one zone"
if [ $ZONES_CASE = 1 ]; then
  echo
  table scale "$(thousands "$ZONES") zones x $NAMES_PER_ZONE names"
fi
if [ $SIGNED_CASE = 1 ]; then
  echo
  table signed "$(thousands "$NAMES") names, signed"
fi
