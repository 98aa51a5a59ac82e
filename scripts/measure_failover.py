#!/usr/bin/env python3
"""Measures how fast signpost notices a failing region, with real HTTP regions
on 127.0.0.10/11 (tests/support/backend.py), and prints the median and worst of
each over repeated runs, side by side for two checks with the shipped example's
hysteresis (interval 1 s, fall 3, rise 2, fast re-check 200 ms):

  reference  the example's check: timeout 1 s, a fresh connection per probe,
             brownout warning off (what signpost did before passive signals,
             adaptive timeouts and the brownout warning)
  detect     the same with keepalive = true and timeout = "auto" (and the
             brownout warning at its defaults)

Scenarios (time from the region's change to the first dig answer that shows the
secondary, polled every 20 ms):

  refused    the primary's process stops (connections refused)
  http 500   the primary answers 500
  hang       the primary accepts and reads requests but never answers
  reset      the primary resets every connection, kept ones included
  failback   time back to the primary once it answers 200 again
  slowing    the primary's latency climbs from 5 ms to 500 ms over 10 s, then
             it stops answering; the early warning's lead time = the move's
             event time minus the early-warning event's time (/v1/events)

--soak SECONDS instead runs the detect check against a primary with 1 %
random failures (HTTP 500) and ±50 % latency jitter around 5 ms for that long,
and counts moves of the answer (false flips) and early warnings.

Usage: scripts/measure_failover.py [--runs N] [--bin build/signpost]
                                   [--configs reference,detect] [--soak SECONDS]
       (--configs before --bin OLD/signpost: the example's check on an older build)
Not a test: figures for people. Every loop is bounded by count and time.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

import signpost_test as st  # noqa: E402
from regions import ApiSignpost, Region, answer_of  # noqa: E402

P, S = "127.0.0.10", "127.0.0.11"

ZONE = """\
origin = "example.com"
ttl = 300

[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"

[checks.health]
kind = "http"
path = "/health"
port = {port}
interval = "1s"
fall = 3
rise = 2
fast_interval = "200ms"
{check}

[pools.primary]
endpoints = ["{primary}"]
checks = ["health"]

[pools.secondary]
endpoints = ["{secondary}"]
checks = ["health"]

[services.site]
names = ["@", "www", "*"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
"""

CONFIGS = {
    # The example's check as a build from before this work understands it
    # (run with --bin of such a build: --configs before).
    "before": 'timeout = "1s"',
    "reference": 'timeout = "1s"\nwarn_latency = 0\nwarn_failures = 0',
    "detect": 'timeout = "auto"\nkeepalive = true',
}
KINDS = ("refused", "http 500", "hang", "reset")
GOALS = {"refused": "1.2", "http 500": "", "hang": "2.0", "reset": "1.2", "failback": "", "slowing lead": ">= 5"}


def wait(server, want, timeout=30.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if answer_of(server) == [want]:
            return time.monotonic() - start
        time.sleep(0.02)
    return float("inf")


class Setup:
    def __init__(self, config):
        port = st.free_port((P, S))
        self.regions = [Region(a, port, label=f"region {a}", keepalive=True).start() for a in (P, S)]
        self.zones = st.ZoneDir({"example.com.toml": ZONE.format(port=port, primary=P, secondary=S,
                                                                  check=CONFIGS[config])})
        self.server = ApiSignpost(self.zones, token=None, label=f"signpost ({config})").start()
        self.server.wait_api()

    @property
    def primary(self):
        return self.regions[0]

    def events(self, since):
        return self.server.get(f"/v1/events?since={since}&limit=1000")["events"]

    def close(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()


def flips(config, runs):
    out = {k: [] for k in KINDS + ("failback", "slowing lead")}
    s = Setup(config)
    try:
        for run in range(runs):
            for kind in KINDS:
                if wait(s.server, P) == float("inf"):
                    raise RuntimeError("the primary is not answered")
                time.sleep(1.3 + 0.37 * run)  # let the phase of the probe schedule vary between runs
                if kind == "refused":
                    s.primary.stop()
                else:
                    s.primary.set({"http 500": "500", "hang": "hang", "reset": "reset"}[kind])
                out[kind].append(wait(s.server, S))
                if kind == "refused":
                    s.primary.start()
                else:
                    s.primary.set("200")
                out["failback"].append(wait(s.server, P))
            print(f"{config}: run {run + 1}/{runs} done", file=sys.stderr)
    finally:
        s.close()
    # The slowing region, each run on a fresh signpost: its slow answers would
    # otherwise stay in the latency window the next runs' timeouts come from.
    for run in range(runs):
        out["slowing lead"].append(slowing(config))
        print(f"{config}: slowing run {run + 1}/{runs} done", file=sys.stderr)
    return out


def slowing(config):
    """The primary's latency climbs over 10 s, then it stops answering: seconds
    from the early-warning event to the move's event (NaN without a warning)."""
    s = Setup(config)
    try:
        if wait(s.server, P) == float("inf"):
            raise RuntimeError("the primary is not answered")
        # Enough fast answers for a latency baseline of the region's own.
        st.wait_until(lambda: s.server.endpoint("example.com/primary/127.0.0.10")["checks_run"] >= 15,
                      timeout=60, interval=0.2, what="15 probes of the primary")
        seen = s.server.get("/v1/events")["last_seq"]
        s.primary.set("ramp:5:500:10")
        wait(s.server, S, timeout=40)
        evs = s.events(seen)
        warn = [e for e in evs if e["kind"] == "early-warning"]
        move = [e for e in evs if e["kind"] == "service" and e["to"].startswith("failover:")]
        return (move[0]["time_ms"] - warn[0]["time_ms"]) / 1000 if warn and move else float("nan")
    finally:
        s.close()


def soak(seconds):
    s = Setup("detect")
    try:
        if wait(s.server, P) == float("inf"):
            raise RuntimeError("the primary is not answered")
        seen = s.server.get("/v1/events")["last_seq"]
        started = time.monotonic()
        s.primary.set("jitter:5:50:1")
        wrong = 0
        polls = 0
        while time.monotonic() - started < seconds:
            polls += 1
            if answer_of(s.server) != [P]:
                wrong += 1
            time.sleep(0.25)
        evs = s.events(seen)
        ep = s.server.endpoint("example.com/primary/127.0.0.10")
        kinds = {}
        for e in evs:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        print(f"soak: {seconds:.0f} s, primary with 1 % random HTTP 500 and 5 ms ± 50 % latency, "
              f"check: interval 1 s, timeout \"auto\", keepalive, fall 3")
        print(f"  probes of the primary:   {ep['checks_run']}")
        print(f"  false flips (moves):     {kinds.get('service', 0)}")
        print(f"  answers not the primary: {wrong} of {polls} polls")
        print(f"  endpoint events:         {kinds.get('endpoint', 0)}")
        print(f"  early warnings:          {kinds.get('early-warning', 0)} "
              f"(cleared: {kinds.get('warning-cleared', 0)})")
        print(f"  auto timeout now:        {ep['checks'][0]['timeout_ms']:.0f} ms "
              f"(baseline {ep['checks'][0]['baseline_ms']:.1f} ms)")
    finally:
        s.close()
    return 0


def fmt(v):
    good = [x for x in v if x == x and x != float("inf")]
    if not good:
        return f"{'-':>7} {'-':>7}"
    bad = len(v) - len(good)
    worst = "inf" if bad else f"{max(good):.2f}"
    return f"{statistics.median(good):>7.2f} {worst:>7}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=str(REPO / "build" / "signpost"))
    ap.add_argument("--configs", default="reference,detect")
    ap.add_argument("--soak", type=float, default=0, help="seconds of the false-flip run (0: flip times instead)")
    args = ap.parse_args()
    os.environ["SIGNPOST_BIN"] = str(Path(args.bin).resolve())
    if args.soak > 0:
        return soak(args.soak)

    configs = [c for c in args.configs.split(",") if c]
    results = {c: flips(c, args.runs) for c in configs}
    head = " ".join(f"{c + ' median':>15} {'worst':>7}" for c in configs)
    print(f"{'seconds':<13} {'runs':>4} {head} {'goal':>6}")
    for k in KINDS + ("failback", "slowing lead"):
        cols = " ".join(f"{'':>7} {fmt(results[c][k])}" for c in configs)
        print(f"{k:<13} {len(results[configs[0]][k]):>4} {cols} {GOALS[k]:>6}")
    print("(slowing lead: the early warning's lead over the move; its 'worst' column is the largest, "
          "see the minimum below)")
    for c in configs:
        v = [x for x in results[c]["slowing lead"] if x == x]
        print(f"  {c}: slowing lead min {min(v):.2f} s" if v else f"  {c}: no early warning before the move")
    return 0


if __name__ == "__main__":
    sys.exit(main())
