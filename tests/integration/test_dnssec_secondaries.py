# A signed zone with a hidden primary (issue 15): signpost serves the failover example
# with [dnssec] sign = true and transfers it to a real Knot DNS secondary. What the
# secondary receives is signed: an AXFR passes ldns-verify-zone (every RRSIG against
# the zone's DNSKEY, the NSEC chain whole), and a validating Unbound whose only
# upstream is the Knot secondary gets AD answers before a failover, after it (the new
# answers and their signatures came by IXFR) and after the failback.
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair, wait_for_answer
from secondaries import KnotSecondary, signed_axfr, signpost_config, soa_serial, verify_zone
from unbound_server import Unbound, anchor_of

P, S = "127.0.0.10", "127.0.0.11"

STATIC = """
[records.mail]
A = "192.0.2.25"
TXT = "v=spf1 -all"
[records.unsigned]
NS = "ns.unsigned.example.net."
[soa]
refresh = 60
retry = 10
expire = 86400
minimum = 30
[dnssec]
sign = true
"""


class SignedSecondary(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="signpost-dnssec-sec-"))
        self.keys = self.tmp / "keys"
        self.keys.mkdir(mode=0o700)
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port, extra=STATIC)})
        sec_port = st.free_port()
        config = f'dnssec_key_dir = "{self.keys}"\n' + signpost_config(sec_port)
        self.server = ApiSignpost(self.zones, token=None, config_extra=config,
                                  label="signpost (signed hidden primary)").start()
        self.secondary = KnotSecondary(sec_port, self.server.port).start()
        self.unbound = None

    def tearDown(self):
        try:
            if self.unbound:
                self.unbound.stop()
            self.secondary.cleanup()
            self.server.stop()
        finally:
            self.server.kill()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()
            self.server.cleanup()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def test_the_transferred_zone_is_signed_and_validates_through_the_secondary(self):
        wait_for_answer(self.server, [P], timeout=15)
        lines = signed_axfr(self.server.port)
        types = {ln.split()[3] for ln in lines}
        self.assertTrue({"DNSKEY", "CDS", "CDNSKEY", "NSEC", "RRSIG"} <= types, sorted(types))
        verdict = verify_zone(lines, self.tmp / "axfr.zone", "the first AXFR")
        print(f"\n[signed AXFR] {len(lines) + 1} records; ldns-verify-zone: {verdict}")
        # The child's NS and glue are not signed (RFC 4035 2.2).
        self.assertFalse([ln for ln in lines if ln.split()[0] == "unsigned.example.com." and
                          ln.split()[3] == "RRSIG" and ln.split()[4] != "NSEC"], "\n".join(lines))

        self.unbound = Unbound("example.com", self.secondary.port, anchor_of(self.keys),
                               label="unbound (validating via the Knot secondary)").start()

        def all_validate(address, label):
            st.wait_until(lambda: label in " ".join(self.unbound.dig("site._signpost.example.com", "TXT")
                                                     .rdatas("answer", "TXT")),
                          timeout=20, interval=0.1, what=f"the state TXT through unbound says {label}")
            self.assertEqual(self.unbound.validated("www.example.com", "A").rdatas("answer", "A"), [address])
            self.assertEqual(self.unbound.validated("example.com", "A").rdatas("answer", "A"), [address])
            self.assertIn(label, " ".join(self.unbound.validated("site._signpost.example.com", "TXT").rdatas("answer", "TXT")))
            self.unbound.validated("nothing.mail.example.com", "A", status="NXDOMAIN")
            self.assertEqual(self.unbound.validated("mail.example.com", "AAAA").rdatas("answer", "AAAA"), [])

        all_validate(P, "primary")
        serial = soa_serial(self.secondary.port)
        self.regions[0].stop()
        wait_for_answer(self.secondary, [S], timeout=30)
        for name in ("www.example.com", "example.com"):  # its cache may hold each for 1 s
            wait_for_answer(self.unbound, [S], timeout=20, name=name, rd=True, do=True)
        all_validate(S, "failover:secondary")
        self.assertNotEqual(soa_serial(self.secondary.port), serial)
        verify_zone(signed_axfr(self.server.port), self.tmp / "axfr.zone", "the AXFR after the failover")
        self.regions[0].start()
        wait_for_answer(self.secondary, [P], timeout=30)
        for name in ("www.example.com", "example.com"):  # its cache may hold each for 1 s
            wait_for_answer(self.unbound, [P], timeout=20, name=name, rd=True, do=True)
        all_validate(P, "primary")
        self.assertNotIn("validation failure", self.unbound.log())
        log = self.server.stderr()
        self.assertRegex(log, r"xfr: IXFR example\.com serial \d+→\d+", "the changes went by IXFR")
        sizes = re.findall(r"xfr: (AXFR|IXFR) example\.com serial (\S+) to \S+.*?: (\d+) record\(s\), "
                           r"\d+ message\(s\), (\d+) bytes", log)
        print("[signed transfers] " + "; ".join(f"{k} {s}: {n} records, {b} bytes" for k, s, n, b in sizes))
        self.assertRegex(self.secondary.log(), r"IXFR, incoming", "Knot applied them as IXFR")
        self.assertNotIn("semantic", self.secondary.log().lower())


if __name__ == "__main__":
    unittest.main(verbosity=2)
