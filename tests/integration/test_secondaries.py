"""signpost as a hidden primary: real Knot DNS and NSD secondaries transfer the
evaluated zone (AXFR, then IXFR on every change) with TSIG, follow NOTIFY within
seconds of signpost's own failover, and return with the primary. Transfers
without the key, or from an address outside the ACL, are refused. Times and
transfer sizes are printed (SECONDARY_RUNS=n repeats the failover cycle)."""
import os
import re
import statistics
import subprocess
import time
import unittest

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair
from secondaries import KEY_NAME, KEY_SECRET, KnotSecondary, NsdSecondary, addresses, signpost_config, soa_serial

P, S = "127.0.0.10", "127.0.0.11"
RUNS = int(os.environ.get("SECONDARY_RUNS", "2"))

# Short SOA timers: NOTIFY does the work, refresh is the fallback. Some static
# records make the zone a little more realistic, so an IXFR is smaller than an AXFR.
STATIC = "".join(f'[records.host{i}]\nA = "192.0.2.{100 + i}"\nTXT = "static record {i}"\n' for i in range(20))
ZONE_EXTRA_SOA = STATIC + """
[soa]
refresh = 60
retry = 10
expire = 86400
minimum = 30
"""


def transfer_sizes(log):
    """{(kind, bytes)} from signpost's transfer log lines."""
    out = []
    for m in re.finditer(r"xfr: (AXFR|IXFR)( \([^)]*\))? example\.com serial \S+ to \S+.*?: (\d+) record\(s\), "
                         r"(\d+) message\(s\), (\d+) bytes", log):
        kind = m.group(1) + (m.group(2) or "")
        out.append((kind.strip(), int(m.group(3)), int(m.group(5))))
    return out


class SecondaryScenario:
    secondary_class = None

    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port) + ZONE_EXTRA_SOA})
        sec_port = st.free_port()
        self.server = ApiSignpost(self.zones, token=None, config_extra=signpost_config(sec_port),
                                  label=f"signpost (primary for {self.secondary_class.label})").start()
        self.secondary = self.secondary_class(sec_port, self.server.port).start()

    def tearDown(self):
        try:
            self.secondary.cleanup()
            self.server.stop()
        finally:
            self.server.kill()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()
            self.server.cleanup()

    def measure_change(self, want):
        """Polls signpost and the secondary until both answer `want`; returns (signpost s, secondary s)."""
        t0 = time.monotonic()
        t_sp = t_sec = None
        deadline = t0 + 30
        while (t_sp is None or t_sec is None) and time.monotonic() < deadline:
            now = time.monotonic()
            if t_sp is None and addresses(self.server.port) == want:
                t_sp = now - t0
            if t_sec is None and addresses(self.secondary.port) == want:
                t_sec = now - t0
            time.sleep(0.02)
        self.assertIsNotNone(t_sp, f"signpost never answered {want}")
        self.assertIsNotNone(t_sec, f"{self.secondary.label} never answered {want}\n{self.secondary.log()}")
        return t_sp, t_sec

    def run_failover_cycles(self):
        self.assertEqual(addresses(self.secondary.port), [P])
        self.assertEqual(soa_serial(self.secondary.port), soa_serial(self.server.port))
        fail, back = [], []
        for run in range(RUNS):
            self.regions[0].set("500")
            sp, sec = self.measure_change([S])
            fail.append(sec)
            print(f"\n[{self.secondary.label}] run {run + 1}: endpoint 500 → signpost failover {sp:.2f} s, "
                  f"secondary {sec:.2f} s (secondary lag {sec - sp:.2f} s)")
            self.regions[0].set("200")
            sp, sec = self.measure_change([P])
            back.append(sec)
            print(f"[{self.secondary.label}] run {run + 1}: endpoint 200 → signpost failback {sp:.2f} s, "
                  f"secondary {sec:.2f} s (secondary lag {sec - sp:.2f} s)")
        print(f"[{self.secondary.label}] endpoint death → secondary's new answer: median {statistics.median(fail):.2f} s,"
              f" worst {max(fail):.2f} s over {RUNS} run(s); recovery: median {statistics.median(back):.2f} s, "
              f"worst {max(back):.2f} s")
        st.wait_until(lambda: soa_serial(self.secondary.port) == soa_serial(self.server.port), timeout=10,
                      what="secondary at the primary's serial")
        log = self.server.stderr()
        sizes = transfer_sizes(log)
        axfr = [b for k, _, b in sizes if k.startswith("AXFR") or "full" in k]
        self.assertFalse([k for k, _, _ in sizes if "not in history" in k], "every IXFR found its serial")
        ixfr = [b for k, _, b in sizes if k == "IXFR"]
        print(f"[{self.secondary.label}] transfers: AXFR {axfr} bytes, IXFR {ixfr} bytes")
        self.assertTrue(ixfr, f"no IXFR served:\n{log}")
        self.assertIn("acknowledged", log)
        # The secondary signs its answers to our signed NOTIFYs, and we verify them.
        self.assertNotIn("answer ignored", log)
        return log


class TestKnotSecondary(SecondaryScenario, unittest.TestCase):
    secondary_class = KnotSecondary

    def test_knot_follows_failover_and_recovery_with_ixfr(self):
        self.run_failover_cycles()
        klog = self.secondary.log()
        self.assertRegex(klog, r"IXFR, incoming", "Knot's log shows IXFR transfers")

    def test_transfers_need_the_key_and_an_allowed_address(self):
        base = ["dig", "@127.0.0.1", "-p", str(self.server.port), "example.com", "AXFR", "+time=3", "+tries=1"]
        no_key = subprocess.run(base, capture_output=True, text=True, timeout=20).stdout
        self.assertIn("Transfer failed", no_key)
        wrong = subprocess.run(base + ["-y", f"hmac-sha256:{KEY_NAME}:d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE="],
                               capture_output=True, text=True, timeout=20).stdout
        self.assertRegex(wrong, r"BADSIG|Transfer failed|tsig verify failure")
        other = subprocess.run(base + ["-b", "127.0.0.2", "-y", f"hmac-sha256:{KEY_NAME}:{KEY_SECRET}"],
                               capture_output=True, text=True, timeout=20).stdout
        self.assertIn("Transfer failed", other)
        good = subprocess.run(base + ["-y", f"hmac-sha256:{KEY_NAME}:{KEY_SECRET}"], capture_output=True, text=True,
                              timeout=20).stdout
        soas = [l for l in good.splitlines() if re.search(r"\sIN\s+SOA\s", l)]
        self.assertEqual(len(soas), 2, good)
        self.assertRegex(good, r"www\.example\.com\.\s+\d+\s+IN\s+A\s+127\.0\.0\.10")
        self.assertRegex(good, r'site\._signpost\.example\.com\.\s+\d+\s+IN\s+TXT\s+"primary"')
        log = self.server.stderr()
        self.assertRegex(log, r"refused AXFR of example\.com to 127\.0\.0\.1: no TSIG; key transfer-key\. required "
                              r"\(NOTAUTH\)")
        self.assertRegex(log, r"refused AXFR of example\.com to 127\.0\.0\.1: TSIG BADSIG")
        self.assertRegex(log, r"refused AXFR of example\.com to 127\.0\.0\.2: 127\.0\.0\.2 is not in "
                              r"allow_transfer_from of example\.com \(REFUSED\)")
        print(f"\nAXFR with the key: {len(good.splitlines())} lines of dig output; "
              f"{[l for l in good.splitlines() if 'XFR size' in l]}")


class TestNsdSecondary(SecondaryScenario, unittest.TestCase):
    secondary_class = NsdSecondary

    def test_nsd_follows_failover_and_recovery_with_ixfr(self):
        self.run_failover_cycles()


if __name__ == "__main__":
    st.main()
