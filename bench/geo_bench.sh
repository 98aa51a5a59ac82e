#!/usr/bin/env bash
# Geo benchmark: answers/s of a geo name with EDNS Client Subnet from many
# different /24s, signpost (policy "geo") side by side with gdnsd's geoip plugin
# on the same MaxMind DB and the same rules; then RSS with a Country and a City
# database. Each server pinned to core 0, dnsblast (-S) to core 1. Then the
# per-query work in-process (<build>/answer_bench on the City database: the fast
# path vs the general renderer, shared vs per-thread answer counters). Prints
# figures, asserts nothing.
#
#   bench/geo_bench.sh [--rounds N] [--duration S] [--subnets N] [--networks N] [--build DIR]
#
# The databases are synthetic (tests/support/make_mmdb.pl): --networks /24s of
# 10.0.0.0/8 (default 4096) spread over DE, FR, US, JP, BR, AU with coordinates;
# the rules: Europe -> eu, us; JP -> ap, us; everyone else us, eu, ap.
# Every process it starts is stopped by PID on exit; every loop is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
ROUNDS=5
DUR=3
SUBNETS=65536
NETWORKS=4096
WINDOW=200
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --subnets) SUBNETS=$2; shift ;;
    --networks) NETWORKS=$2; shift ;;
    --build) BUILD=$2; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "geo_bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[geo_bench] $*" >&2; }
if [ ! -x "$BUILD/signpost" ] || [ ! -x "$BUILD/dnsblast" ] || [ ! -x "$BUILD/answer_bench" ]; then
  log "building signpost, dnsblast and answer_bench in $BUILD (Release)"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target signpost dnsblast answer_bench >/dev/null
fi
SIGNPOST=$BUILD/signpost
BLAST=$BUILD/dnsblast
PATH=$PATH:/usr/sbin
command -v gdnsd >/dev/null || log "gdnsd is not installed: signpost only"

TMP=$(mktemp -d /tmp/geo_bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() { local pid; for pid in "${PIDS[@]}"; do stop_pid "$pid"; done; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() {  # tests/support/signpost_test.py's: free for UDP and TCP, outside the ephemeral range (dig could draw it)
  PYTHONPATH="$ROOT/tests/support" python3 -c 'import signpost_test; print(signpost_test.free_port())'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
TCK=$(getconf CLK_TCK)
wait_answer() {  # wait_answer PORT: dig until www.example.com answers (10 s)
  local i
  for i in $(seq 100); do
    [ -n "$(dig @127.0.0.1 -p "$1" +norec +short +time=1 +tries=1 www.example.com A 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

# --- databases -------------------------------------------------------------------
make_db() {  # make_db TYPE(City|Country) OUT
  python3 - "$1" "$NETWORKS" >"$TMP/$1.json" <<'EOF'
import json, sys
kind, n = sys.argv[1], int(sys.argv[2])
places = [("EU", "DE", 50.11, 8.68), ("EU", "FR", 48.86, 2.35), ("NA", "US", 37.77, -122.42),
          ("AS", "JP", 35.68, 139.69), ("SA", "BR", -23.55, -46.63), ("OC", "AU", -33.87, 151.21)]
nets = []
for i in range(n):
    c, cc, lat, lon = places[i % len(places)]
    rec = {"network": f"10.{(i >> 8) & 255}.{i & 255}.0/24", "continent": c, "country": cc}
    if kind == "City":
        rec.update(latitude=lat, longitude=lon)
    nets.append(rec)
print(json.dumps({"type": "GeoLite2-" + kind, "ip_version": 6, "networks": nets}))
EOF
  perl "$ROOT/tests/support/make_mmdb.pl" "$TMP/$1.json" "$2"
}
log "writing synthetic databases ($NETWORKS networks each)"
make_db City "$TMP/city.mmdb"
make_db Country "$TMP/country.mmdb"
log "city.mmdb $(stat -c %s "$TMP/city.mmdb") bytes, country.mmdb $(stat -c %s "$TMP/country.mmdb") bytes"

# --- signpost --------------------------------------------------------------------
start_signpost() {  # start_signpost DB -> sets SP_PORT SP_PID
  mkdir -p "$TMP/sp/zones"
  cat >"$TMP/sp/zones/example.com.toml" <<'EOF'
origin = "example.com"
ttl = 300
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "127.0.0.1"
[pools.eu]
endpoints = ["127.0.0.21"]
[pools.us]
endpoints = ["127.0.0.22"]
[pools.ap]
endpoints = ["127.0.0.23"]
[services.site]
names = ["www"]
policy = "geo"
pools = ["us", "eu", "ap"]
ttl = 30
rules = [
  { continents = ["EU"], pools = ["eu", "us"] },
  { countries = ["JP"], pools = ["ap", "us"] },
]
EOF
  printf 'geoip_databases = ["%s"]\n' "$1" >"$TMP/sp/signpost.toml"
  SP_PORT=$(free_port)
  taskset -c 0 "$SIGNPOST" serve --config "$TMP/sp/signpost.toml" --zones "$TMP/sp/zones" \
    --listen "127.0.0.1:$SP_PORT" --workers 1 --no-api --log-level warning 2>"$TMP/signpost.log" &
  SP_PID=$!; PIDS+=($!)
  wait_answer "$SP_PORT" || { log "signpost did not answer"; cat "$TMP/signpost.log" >&2; exit 1; }
}

# --- gdnsd (plugin_geoip, the same map) ------------------------------------------
start_gdnsd() {  # start_gdnsd DB -> sets GD_PORT GD_PID (empty when gdnsd is missing)
  GD_PID=""
  command -v gdnsd >/dev/null || return 0
  rm -rf "$TMP/gd"; mkdir -p "$TMP/gd/zones" "$TMP/gd/run" "$TMP/gd/state"
  GD_PORT=$(free_port)
  cat >"$TMP/gd/config" <<EOF
options => {
  listen => [ 127.0.0.1:$GD_PORT ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => $TMP/gd/run
  state_dir => $TMP/gd/state
}
plugins => {
  geoip => {
    maps => {
      m => {
        geoip2_db => $1
        datacenters => [us, eu, ap]
        map => { default => [us, eu, ap], EU => [eu, us], AS => { JP => [ap, us] } }
      }
    }
    resources => {
      site => { map => m, dcmap => { us => 127.0.0.22, eu => 127.0.0.21, ap => 127.0.0.23 } }
    }
  }
}
EOF
  printf '$TTL 300\n@ SOA ns1 hostmaster 1 7200 1800 259200 300\n@ NS ns1\nns1 A 127.0.0.1\nwww 30 DYNA geoip!site\n' \
    >"$TMP/gd/zones/example.com"
  taskset -c 0 gdnsd -c "$TMP/gd" start 2>"$TMP/gdnsd.log" &
  GD_PID=$!; PIDS+=($!)
  wait_answer "$GD_PORT" || { log "gdnsd did not answer; skipping it"; tail -5 "$TMP/gdnsd.log" >&2; GD_PID=""; }
}

blast() {  # blast NAME PORT PID -> prints "qps cpu_us"
  local t0 t1 out
  t0=$(cpu_ticks "$3")
  out=$(taskset -c 1 "$BLAST" -s "127.0.0.1:$2" -n www.example.com -S "$SUBNETS" -d "$DUR" -w "$WINDOW" -b 32)
  t1=$(cpu_ticks "$3")
  local qps; qps=$(kv "$out" qps)
  log "$1: $out"
  awk -v q="$qps" -v d=$((t1 - t0)) -v a="$(kv "$out" answered)" -v t="$TCK" \
    'BEGIN {printf "%s %.2f\n", q, a ? d / t * 1e6 / a : 0}'
}

start_signpost "$TMP/city.mmdb"
start_gdnsd "$TMP/city.mmdb"
# The same answers for the same subnets (a sample): the comparison is fair.
for s in 10.0.0.0/24 10.0.1.0/24 10.0.2.0/24 10.0.3.0/24 10.0.4.0/24 10.0.5.0/24 10.99.0.0/24; do
  a=$(dig @127.0.0.1 -p "$SP_PORT" +norec +short +subnet=$s www.example.com A)
  b=$([ -n "$GD_PID" ] && dig @127.0.0.1 -p "$GD_PORT" +norec +short +subnet=$s www.example.com A || echo -)
  log "subnet $s: signpost $a, gdnsd $b"
done
declare -a SQ GQ SC GC
for r in $(seq "$ROUNDS"); do
  read -r q c < <(blast signpost "$SP_PORT" "$SP_PID"); SQ+=("$q"); SC+=("$c")
  if [ -n "$GD_PID" ]; then read -r q c < <(blast gdnsd "$GD_PORT" "$GD_PID"); GQ+=("$q"); GC+=("$c"); fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR + 1) / 2)] : 0}'; }
SPQ=$(median "${SQ[@]}"); SPC=$(median "${SC[@]}")
echo "geo name, ECS from $SUBNETS /24s, $ROUNDS rounds of ${DUR}s (medians):"
printf '  %-9s %9s answers/s  %6s us CPU/answer\n' signpost "$SPQ" "$SPC"
if [ ${#GQ[@]} -gt 0 ]; then
  GDQ=$(median "${GQ[@]}"); GDC=$(median "${GC[@]}")
  printf '  %-9s %9s answers/s  %6s us CPU/answer\n' gdnsd "$GDQ" "$GDC"
  awk -v a="$SPQ" -v b="$GDQ" 'BEGIN {printf "  signpost / gdnsd: %.2f x\n", b ? a / b : 0}'
fi
echo "RSS after the load (kB): signpost $(rss_kb "$SP_PID") (city db)${GD_PID:+, gdnsd $(rss_kb "$GD_PID") (city db)}"
stop_pid "$SP_PID"; [ -n "$GD_PID" ] && stop_pid "$GD_PID"
start_signpost "$TMP/country.mmdb"
blast signpost-country "$SP_PORT" "$SP_PID" >/dev/null
echo "RSS after the load (kB): signpost $(rss_kb "$SP_PID") (country db)"
stop_pid "$SP_PID"
"$BUILD/answer_bench" --db "$TMP/city.mmdb" --subnets "$SUBNETS" --rounds "$ROUNDS"
