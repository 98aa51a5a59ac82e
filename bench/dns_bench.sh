#!/usr/bin/env bash
# DNS benchmark: signpost side by side with gdnsd (simplefo failover) and Knot DNS,
# each pinned to core 0, the load generator to core 1. Prints figures, asserts nothing.
#
#   bench/dns_bench.sh [--quick] [--rounds N] [--duration S] [--perf-rounds N] [--no-scale|--scale-only] [--build DIR]
#
# (a) saturation with <build>/dnsblast (bench/dnsblast.cpp) in paired rounds (signpost, gdnsd, knot,
#     alternating) for a failover name, a static name and an NXDOMAIN name: medians;
# (b) a fixed 100k queries/s, in --perf-rounds paired rounds (default 3; --rounds 0 skips (a)):
#     dnsperf (one packet per syscall: at 100k/s its own core is ~95 % busy, so its
#     latencies include its own queueing), and dnsblast -r (open loop, latency to the
#     kernel's receive timestamp of each answer: p50/p99/p99.9/max of the server);
# (c) scale: 10,000 zones / 100,000 names (load time, RSS, CPU per query) and a
#     SIGHUP reload of that set under load.
# --quick: 2 rounds of 1 s, dnsperf 2 s, 1,000 zones in the scale case.
# --scale-only: only (c), signpost and Knot (memory and load time, about a minute).
# Every process it starts is stopped by PID on exit; every loop is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
ROUNDS=5
DUR=3
PERF_DUR=5
PERF_ROUNDS=3
SCALE=1
SCALE_ONLY=0
ZONES=10000
NAMES_PER_ZONE=10
# Queries in flight: below what a default 208 KiB receive buffer holds (~270
# small datagrams), so a saturated server queues instead of dropping.
WINDOW=200
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ROUNDS=2; DUR=1; PERF_DUR=2; ZONES=1000 ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --perf-rounds) PERF_ROUNDS=$2; shift ;;
    --no-scale) SCALE=0 ;;
    --scale-only) SCALE_ONLY=1 ;;
    --zones) ZONES=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    --build) BUILD=$2; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "dns_bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[dns_bench] $*" >&2; }

# --- build (only through cmake, only when missing) ----------------------------
if [ ! -x "$BUILD/signpost" ] || [ ! -x "$BUILD/dnsblast" ]; then
  log "building signpost and dnsblast in $BUILD (Release)"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target signpost dnsblast >/dev/null
fi
SIGNPOST=$BUILD/signpost
BLAST=$BUILD/dnsblast

# --- reference servers (apt only as root) -------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }
ensure() {  # ensure PACKAGE BINARY
  have "$2" && return 0
  if [ "$(id -u)" = 0 ]; then
    log "installing $1 with apt-get"
    timeout 600 apt-get install -y --no-install-recommends "$1" >/dev/null 2>&1 || true
  fi
  have "$2" || { log "$1 is not installed and we are not root: skipping it"; return 1; }
}
PATH=$PATH:/usr/sbin
HAVE_GDNSD=0; HAVE_KNOT=0; HAVE_DNSPERF=0
ensure gdnsd gdnsd && HAVE_GDNSD=1 || true
ensure knot knotd && HAVE_KNOT=1 || true
ensure dnsperf dnsperf && HAVE_DNSPERF=1 || true

# --- bookkeeping: temp dir, PIDs stopped on exit -------------------------------
TMP=$(mktemp -d /tmp/dns_bench.XXXXXX)
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

# wait_answer PORT NAME EXPECT TIMEOUT: polls every 10 ms until NAME/A answers with
# an A record equal to EXPECT (or any answer when EXPECT is "any"); prints seconds.
wait_answer() {
  python3 - "$@" <<'EOF'
import socket, struct, sys, time
port, name, expect, timeout = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
for l in name.rstrip(".").split("."):
    q += bytes([len(l)]) + l.encode()
q += b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.01)
t0 = time.monotonic()
while time.monotonic() - t0 < timeout:
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
        an = struct.unpack(">H", r[6:8])[0]
        if an and (expect == "any" or socket.inet_ntoa(r[-4:]) == expect):
            print("%.3f" % (time.monotonic() - t0)); sys.exit(0)
    except OSError:
        pass
    time.sleep(0.01)
print("timeout"); sys.exit(1)
EOF
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu_per_answer TICKS0 TICKS1 ANSWERED: server CPU microseconds per answer.
cpu_per_answer() { awk -v d=$(($2 - $1)) -v a="${3:-0}" -v t="$TCK" 'BEGIN {printf "%.2f", a ? d / t * 1e6 / a : 0}'; }
# paired_order ROUND: the servers, reversed every other round so drift favours none.
paired_order() {
  if [ $(($1 % 2)) = 0 ]; then printf '%s\n' "${SERVERS[@]}" | tac; else printf '%s\n' "${SERVERS[@]}"; fi
}
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
TCK=$(getconf CLK_TCK)
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

RESULTS=$TMP/results.tsv
: >"$RESULTS"
declare -A PORT PID

start_knot() {  # start_knot NAME ZONE_DIR ZONES_YAML
  local name=$1 dir=$TMP/$1
  mkdir -p "$dir/run/db"
  PORT[$name]=$(free_port)
  sed -e "s/@DNS_PORT@/${PORT[$name]}/" -e "s|@RUN_DIR@|$dir/run|" -e "s|@ZONE_DIR@|$2|" \
      "$ROOT/bench/configs/knot/knot.conf" | awk -v f="$3" '/^@ZONES@$/ {while ((getline l < f) > 0) print l; next} {print}' \
      >"$dir/knot.conf"
  taskset -c 0 knotd -c "$dir/knot.conf" 2>"$TMP/$name.log" &
  PID[$name]=$!; PIDS+=($!)
}

if [ $SCALE_ONLY = 0 ]; then
# --- the two regions -----------------------------------------------------------
# On the load generator's core: answering probes (signpost's and gdnsd's, both
# every second) must not take the server core from the server under test.
HPORT=$(free_port)
taskset -c 1 python3 "$ROOT/examples/failover/region.py" primary 127.0.0.10 "$HPORT" "$TMP/primary.down" 2>"$TMP/primary.log" &
PIDS+=($!)
taskset -c 1 python3 "$ROOT/examples/failover/region.py" secondary 127.0.0.11 "$HPORT" "$TMP/secondary.down" 2>"$TMP/secondary.log" &
PIDS+=($!)

SERVERS=()

# --- signpost ------------------------------------------------------------------
mkdir -p "$TMP/signpost/zones"
sed "s/@HTTP_PORT@/$HPORT/" "$ROOT/bench/configs/signpost/example.com.toml" >"$TMP/signpost/zones/example.com.toml"
cp "$ROOT/bench/configs/signpost/example.net.toml" "$TMP/signpost/zones/"
PORT[signpost]=$(free_port)
taskset -c 0 "$SIGNPOST" serve --zones "$TMP/signpost/zones" --listen "127.0.0.1:${PORT[signpost]}" \
  --workers 1 --no-api --log-level warning 2>"$TMP/signpost.log" &
PID[signpost]=$!; PIDS+=($!)
if wait_answer "${PORT[signpost]}" www.example.com 127.0.0.10 20 >/dev/null; then
  SERVERS+=(signpost)
else
  log "signpost did not answer www.example.com with 127.0.0.10:"; cat "$TMP/signpost.log" >&2; exit 1
fi

# --- gdnsd (simplefo + http_status on the same endpoints) ----------------------
if [ $HAVE_GDNSD = 1 ]; then
  mkdir -p "$TMP/gdnsd/zones" "$TMP/gdnsd/run" "$TMP/gdnsd/state"
  PORT[gdnsd]=$(free_port)
  sed -e "s/@DNS_PORT@/${PORT[gdnsd]}/" -e "s/@HTTP_PORT@/$HPORT/" -e "s|@RUN_DIR@|$TMP/gdnsd/run|" \
      -e "s|@STATE_DIR@|$TMP/gdnsd/state|" "$ROOT/bench/configs/gdnsd/config" >"$TMP/gdnsd/config"
  cp "$ROOT/bench/configs/gdnsd/zones/"* "$TMP/gdnsd/zones/"
  taskset -c 0 gdnsd -c "$TMP/gdnsd" start 2>"$TMP/gdnsd.log" &
  PID[gdnsd]=$!; PIDS+=($!)
  if wait_answer "${PORT[gdnsd]}" www.example.com 127.0.0.10 20 >/dev/null; then SERVERS+=(gdnsd)
  else log "gdnsd did not answer; skipping it:"; tail -5 "$TMP/gdnsd.log" >&2; fi
fi

# --- Knot DNS (static zones) ---------------------------------------------------
if [ $HAVE_KNOT = 1 ]; then
  mkdir -p "$TMP/knot-zones"
  cp "$ROOT/bench/configs/knot/"*.zone "$TMP/knot-zones/"
  printf '  - domain: example.com\n  - domain: example.net\n' >"$TMP/knot-zones.yaml"
  start_knot knot "$TMP/knot-zones" "$TMP/knot-zones.yaml"
  if wait_answer "${PORT[knot]}" www.example.com 127.0.0.10 20 >/dev/null; then SERVERS+=(knot)
  else log "knotd did not answer; skipping it:"; tail -5 "$TMP/knot.log" >&2; fi
fi

log "servers: ${SERVERS[*]} (ports: $(for s in "${SERVERS[@]}"; do printf '%s=%s ' "$s" "${PORT[$s]}"; done))"
log "machine load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- (a) saturation, paired rounds --------------------------------------------
declare -A QNAME=([failover]=www.example.com [static]=www.example.net [nxdomain]=nothing.example.net)
CASES=(failover static nxdomain)
blast() {  # blast SERVER CASE ROUND
  local s=$1 c=$2 r=$3 pid=${PID[$1]} t0 t1 out
  t0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 "$BLAST" -s "127.0.0.1:${PORT[$s]}" -n "${QNAME[$c]}" -d "$DUR" -w "$WINDOW" -b 32)
  t1=$(cpu_ticks "$pid")
  local cpu_us; cpu_us=$(cpu_per_answer "$t0" "$t1" "$(kv "$out" answered)")
  printf 'blast\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$s" "$r" "$(kv "$out" qps)" "$(kv "$out" lost)" \
    "$(kv "$out" avg_us)" "$(kv "$out" max_us)" "$cpu_us" >>"$RESULTS"
  log "round $r $c $s: $out cpu_us/answer=$cpu_us"
}
for r in $(seq "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    for s in $(paired_order "$r"); do blast "$s" "$c" "$r"; done
  done
done

# --- (b) dnsperf at 100k/s -------------------------------------------------------
if [ $HAVE_DNSPERF = 1 ]; then
  for c in "${CASES[@]}"; do echo "${QNAME[$c]} A"; done >"$TMP/dnsperf.txt"
  for pr in $(seq "$PERF_ROUNDS"); do
    for s in $(paired_order "$pr"); do
      pid=${PID[$s]}
      t0=$(cpu_ticks "$pid")
      # -b 4096: dnsperf's default receive buffer overflows at 100k/s and its "lost"
      # queries were answers the kernel dropped at the client (the server had
      # received and answered every query; /proc/net/snmp RcvbufErrors = lost).
      out=$(taskset -c 1 dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$TMP/dnsperf.txt" -l "$PERF_DUR" -Q 100000 \
              -q 1000 -t 2 -b 4096 2>&1 || true)
      t1=$(cpu_ticks "$pid")
      done_q=$(awk '/Queries completed:/ {print $3}' <<<"$out")
      lost=$(awk '/Queries lost:/ {print $3}' <<<"$out")
      qps=$(awk '/Queries per second:/ {print $4}' <<<"$out")
      avg=$(awk '/Average Latency/ {printf "%.1f", $4 * 1e6}' <<<"$out")
      max=$(awk '/Average Latency/ {gsub(/[(),]/, ""); printf "%.1f", $8 * 1e6}' <<<"$out")
      cpu_us=$(cpu_per_answer "$t0" "$t1" "$done_q")
      printf 'dnsperf\tmixed\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$pr" "${qps:-0}" "${lost:-0}" "${avg:-0}" "${max:-0}" \
        "$cpu_us" >>"$RESULTS"
      log "dnsperf round $pr $s: completed=$done_q lost=$lost qps=$qps avg_us=$avg max_us=$max cpu_us/answer=$cpu_us"
    done
  done
fi

# Open loop at the same rate with dnsblast: the kernel's receive timestamps time the
# server, not the client's queue.
for pr in $(seq "$PERF_ROUNDS"); do
  for s in $(paired_order "$pr"); do
    pid=${PID[$s]}
    t0=$(cpu_ticks "$pid")
    out=$(taskset -c 1 "$BLAST" -s "127.0.0.1:${PORT[$s]}" -n "${QNAME[failover]}" -n "${QNAME[static]}" \
            -n "${QNAME[nxdomain]}" -d "$PERF_DUR" -r 100000 -b 8)
    t1=$(cpu_ticks "$pid")
    cpu_us=$(cpu_per_answer "$t0" "$t1" "$(kv "$out" answered)")
    printf 'rate\tmixed\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$pr" "$(kv "$out" qps)" "$(kv "$out" lost)" \
      "$(kv "$out" avg_us)" "$(kv "$out" max_us)" "$cpu_us" "$(kv "$out" p50_us)" "$(kv "$out" p99_us)" \
      "$(kv "$out" p999_us)" >>"$RESULTS"
    log "open loop 100k/s round $pr $s: $out cpu_us/answer=$cpu_us"
  done
done
for s in "${SERVERS[@]}"; do printf 'rss\t-\t%s\t1\t%s\t0\t0\t0\t0\n' "$s" "$(hwm_kb "${PID[$s]}")" >>"$RESULTS"; done
for s in "${SERVERS[@]}"; do stop_pid "${PID[$s]}"; done
fi  # SCALE_ONLY = 0

# --- (c) scale: ZONES zones x NAMES_PER_ZONE names --------------------------------
if [ $SCALE = 1 ]; then
  log "generating $ZONES zones x $NAMES_PER_ZONE names"
  python3 "$ROOT/bench/scale_zones.py" "$TMP/scale" "$ZONES" "$NAMES_PER_ZONE"
  LAST=host0.zone$((ZONES - 1)).example

  declare -A LOAD_S SCALE_RSS SCALE_LOAD_HWM SCALE_CPU SCALE_QPS
  scale_measure() {  # scale_measure SERVER: load time, RSS, CPU per query
    local s=$1 pid=${PID[$1]} t0 t1 out
    SCALE_RSS[$s]=$(rss_kb "$pid")
    SCALE_LOAD_HWM[$s]=$(hwm_kb "$pid")  # the peak of the load itself (temporaries included)
    t0=$(cpu_ticks "$pid")
    out=$(taskset -c 1 "$BLAST" -s "127.0.0.1:${PORT[$s]}" -f "$TMP/scale/names.txt" -d "$DUR" -w "$WINDOW")
    t1=$(cpu_ticks "$pid")
    SCALE_QPS[$s]=$(kv "$out" qps)
    SCALE_CPU[$s]=$(cpu_per_answer "$t0" "$t1" "$(kv "$out" answered)")
    log "scale $s: load ${LOAD_S[$s]} s, RSS ${SCALE_RSS[$s]} kB, $out"
  }

  PORT[signpost-scale]=$(free_port)
  start=$(date +%s.%N)
  taskset -c 0 "$SIGNPOST" serve --zones "$TMP/scale/toml" --listen "127.0.0.1:${PORT[signpost-scale]}" \
    --workers 1 --no-api --log-level warning 2>"$TMP/signpost-scale.log" &
  PID[signpost-scale]=$!; PIDS+=($!)
  if wait_answer "${PORT[signpost-scale]}" "$LAST" any 300 >/dev/null; then
    LOAD_S[signpost-scale]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
    sleep 1
    scale_measure signpost-scale
    # Reload under load: SIGHUP in the middle of a dnsblast run.
    touch "$TMP/scale/toml/zone0.example.toml"
    taskset -c 1 "$BLAST" -s "127.0.0.1:${PORT[signpost-scale]}" -f "$TMP/scale/names.txt" -d $((DUR * 3)) -w "$WINDOW" \
      >"$TMP/reload.out" &
    bp=$!; PIDS+=($bp)
    sleep "$DUR"
    kill -HUP "${PID[signpost-scale]}"
    wait "$bp" || true
    RELOAD_OUT=$(cat "$TMP/reload.out")
    log "signpost reload under load: $RELOAD_OUT"
    SCALE_HWM_signpost=$(hwm_kb "${PID[signpost-scale]}")
  else
    log "signpost did not load the scale set:"; tail -5 "$TMP/signpost-scale.log" >&2
  fi
  stop_pid "${PID[signpost-scale]}"

  if [ $HAVE_KNOT = 1 ]; then
    start=$(date +%s.%N)
    start_knot knot-scale "$TMP/scale/knot" "$TMP/scale/knot.yaml"
    if wait_answer "${PORT[knot-scale]}" "$LAST" any 300 >/dev/null; then
      LOAD_S[knot-scale]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
      sleep 1
      scale_measure knot-scale
    else
      log "knotd did not load the scale set:"; tail -5 "$TMP/knot-scale.log" >&2
    fi
    stop_pid "${PID[knot-scale]}"
  fi
fi

# --- report ----------------------------------------------------------------------
echo
echo "# dns_bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -s "$RESULTS" ]; then  # empty with --scale-only
echo "# servers pinned to core 0, load generator to core 1; $ROUNDS paired rounds of ${DUR}s; medians"
python3 - "$RESULTS" <<'EOF'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
servers = []
for r in rows:
    if r[2] not in servers: servers.append(r[2])
refs = [s for s in servers if s != "signpost"]
def med(kind, case, server, col):
    v = [float(r[col]) for r in rows if r[0] == kind and r[1] == case and r[2] == server]
    return st.median(v) if v else None
def line(label, vals, ratio_of=None):
    cells = ["%12s" % ("-" if v is None else ("%.2f" % v if abs(v) < 100 else "%.0f" % v)) for v in vals]
    extra = ""
    if ratio_of is not None and vals[0]:
        extra = "  " + "  ".join("%s/%s=%.2f" % ("signpost", s, vals[0] / v) for s, v in zip(servers[1:], vals[1:]) if v)
    print("%-34s%s%s" % (label, "".join(cells), extra))
print("%-34s%s" % ("", "".join("%12s" % s for s in servers)))
# (label, column of the results row); the first one also gets the ratios.
BASIC = [("answers/s", 4), ("lost", 5), ("avg latency us", 6), ("max latency us", 7), ("server CPU us/answer", 8)]
RATE = BASIC[:3] + [("p50 latency us", 9), ("p99 latency us", 10), ("p99.9 latency us", 11)] + BASIC[3:]
def section(title, kind, case, fields, ratios=False):
    if not any(r[0] == kind and r[1] == case for r in rows): return
    print(title)
    for i, (label, col) in enumerate(fields):
        line("  " + label, [med(kind, case, s, col) for s in servers], True if ratios and i == 0 else None)
for case in ("failover", "static", "nxdomain"):
    section("saturation, %s (medians):" % case, "blast", case, BASIC, ratios=True)
section("dnsperf -Q 100000 (the three names round robin):", "dnsperf", "mixed", BASIC)
section("dnsblast -r 100000 (open loop, kernel receive timestamps; the three names round robin):", "rate", "mixed", RATE)
line("peak RSS kB (VmHWM)", [med("rss", "-", s, 4) for s in servers])
EOF
fi
if [ $SCALE = 1 ]; then
  echo "scale: $ZONES zones x $NAMES_PER_ZONE names ($((ZONES * NAMES_PER_ZONE)) names)"
  printf '%-34s%12s%12s\n' "" signpost knot
  printf '%-34s%12s%12s\n' "  load time s (until last zone answers)" "${LOAD_S[signpost-scale]:--}" "${LOAD_S[knot-scale]:--}"
  printf '%-34s%12s%12s\n' "  RSS kB after load (VmRSS)" "${SCALE_RSS[signpost-scale]:--}" "${SCALE_RSS[knot-scale]:--}"
  printf '%-34s%12s%12s\n' "  peak RSS kB of the load (VmHWM)" "${SCALE_LOAD_HWM[signpost-scale]:--}" "${SCALE_LOAD_HWM[knot-scale]:--}"
  if [ -n "${SCALE_RSS[knot-scale]:-}" ] && [ -n "${SCALE_RSS[signpost-scale]:-}" ]; then
    awk -v s="${SCALE_RSS[signpost-scale]}" -v k="${SCALE_RSS[knot-scale]}" -v sl="${LOAD_S[signpost-scale]}" \
        -v kl="${LOAD_S[knot-scale]}" 'BEGIN {printf "  signpost/knot: RSS %.2f, load time %.2f (target: both <= 1.5)\n", s / k, sl / kl}'
  fi
  printf '%-34s%12s%12s\n' "  answers/s (names over the set)" "${SCALE_QPS[signpost-scale]:--}" "${SCALE_QPS[knot-scale]:--}"
  printf '%-34s%12s%12s\n' "  server CPU us/answer" "${SCALE_CPU[signpost-scale]:--}" "${SCALE_CPU[knot-scale]:--}"
  echo "  signpost peak RSS kB incl. reload: ${SCALE_HWM_signpost:--}"
  echo "  signpost SIGHUP reload under load: ${RELOAD_OUT:--}"
fi
