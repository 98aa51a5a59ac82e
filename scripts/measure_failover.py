#!/usr/bin/env python3
"""Measures failover and failback times of the bundled example's settings
(interval 1 s, timeout 1 s, fall 3, rise 2, fast re-check 200 ms) over
repeated runs, with real HTTP regions on 127.0.0.10/11, and prints the median
and worst of each. Not a test: figures for people.

Usage: scripts/measure_failover.py [--runs N] [--bin build/signpost]

Time is measured from the moment the region changes (mode file written or
process stopped) to the first dig answer that shows the new region, polling
every 20 ms. Every loop is bounded by count and time.
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
from regions import answer_of, failover_zone, region_pair  # noqa: E402

P, S = "127.0.0.10", "127.0.0.11"


def wait(server, want, timeout=15.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if answer_of(server) == [want]:
            return time.monotonic() - start
        time.sleep(0.02)
    return float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=str(REPO / "build" / "signpost"))
    args = ap.parse_args()
    os.environ["SIGNPOST_BIN"] = str(Path(args.bin).resolve())

    port, regions = region_pair((P, S))
    primary = regions[0]
    zones = st.ZoneDir({"example.com.toml": failover_zone(port)})
    server = st.Signpost(zones, label="signpost").start()
    results = {k: [] for k in ("refused", "http 500", "hang", "failback")}
    try:
        for run in range(args.runs):
            for kind in ("refused", "http 500", "hang"):
                if wait(server, P) == float("inf"):
                    print("primary not answered; aborting", file=sys.stderr)
                    return 1
                time.sleep(1.3)  # let the phase of the probe schedule vary between runs
                if kind == "refused":
                    primary.stop()
                else:
                    primary.set("500" if kind == "http 500" else "hang")
                results[kind].append(wait(server, S))
                if kind == "refused":
                    primary.start()
                else:
                    primary.set("200")
                results["failback"].append(wait(server, P))
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    finally:
        server.stop()
        server.kill()
        for r in regions:
            r.stop()
        zones.cleanup()

    goals = {"refused": 1.6, "http 500": 1.6, "hang": 3.5, "failback": 3.0}
    print(f"{'what':<12} {'runs':>4} {'median s':>9} {'worst s':>8} {'goal s':>7}")
    for k, v in results.items():
        print(f"{k:<12} {len(v):>4} {statistics.median(v):>9.2f} {max(v):>8.2f} {goals[k]:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
