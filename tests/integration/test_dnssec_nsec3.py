# NSEC3 end to end (issue 15, denial = "nsec3"): the failover example signed with an
# NSEC3 chain (salted, to exercise the salt on every path) behind a validating Unbound
# whose trust anchor is signpost's own key. www, the apex and a deep wildcard name come
# back validated (AD), and so do an NXDOMAIN (closest encloser proof, RFC 5155 7.2.2),
# AAAA NODATA at www and at the apex (7.2.3), a NODATA at an empty non-terminal and a
# wildcard NODATA (7.2.5), before a failover, after it and after the failback. An AXFR
# of the zone (signpost has a [[secondaries]] entry) passes ldns-verify-zone: every
# RRSIG, the NSEC3 chain whole, NSEC3PARAM present; before and after the failover.
import shutil
import tempfile
import unittest
from pathlib import Path

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair, wait_for_answer
from secondaries import signed_axfr, signpost_config, verify_zone
from unbound_server import Unbound, anchor_of

P, S = "127.0.0.10", "127.0.0.11"

EXTRA = """
[records.mail]
A = "192.0.2.25"
[records.deep.below]
A = "192.0.2.26"
[records.unsigned]
NS = "ns.unsigned.example.net."
[dnssec]
sign = true
denial = "nsec3"
nsec3_salt = "a1b2c3d4"
"""


class Nsec3Validation(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="signpost-dnssec-nsec3-"))
        self.keys = self.tmp / "keys"
        self.keys.mkdir(mode=0o700)
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port, extra=EXTRA)})
        # A secondary that is never there: it only makes the zone transferable.
        config = f'dnssec_key_dir = "{self.keys}"\n' + signpost_config(st.free_port())
        self.server = ApiSignpost(self.zones, token=None, config_extra=config,
                                  label="signpost, failover example signed with NSEC3").start()
        self.unbound = Unbound("example.com", self.server.port, anchor_of(self.keys)).start()

    def tearDown(self):
        try:
            self.unbound.stop()
            self.server.stop()
        finally:
            self.server.kill()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()
            self.server.cleanup()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def every_kind_validates(self, address, label):
        for name in ("www.example.com", "example.com", "a.deep.wildcard.name.example.com"):
            # Unbound keeps each name up to 1 s (cache-max-ttl): wait for each to move.
            wait_for_answer(self.unbound, [address], timeout=20, name=name, rd=True, do=True)
            self.assertEqual(self.unbound.validated(name, "A").rdatas("answer", "A"), [address], name)
        st.wait_until(lambda: label in " ".join(self.unbound.dig("site._signpost.example.com", "TXT")
                                                 .rdatas("answer", "TXT")),
                      timeout=20, interval=0.1, what=f"the state TXT through unbound says {label}")
        self.assertIn(label, " ".join(self.unbound.validated("site._signpost.example.com", "TXT").rdatas("answer", "TXT")))
        self.unbound.validated("nothing._signpost.example.com", "A", status="NXDOMAIN")
        self.unbound.validated("nothing.mail.example.com", "A", status="NXDOMAIN")
        self.unbound.validated("x.deep.below.example.com", "A", status="NXDOMAIN")
        for name, qtype in (("www.example.com", "AAAA"), ("example.com", "AAAA"), ("mail.example.com", "AAAA"),
                            ("below.example.com", "A"), ("deep.wildcard.example.com", "AAAA"),
                            ("deep.wildcard.example.com", "TXT"), ("unsigned.example.com", "DS")):
            self.assertEqual(self.unbound.validated(name, qtype).rdatas("answer", qtype), [], f"{name}/{qtype}")
        self.assertEqual(len(self.unbound.validated("example.com", "NSEC3PARAM").rdatas("answer", "NSEC3PARAM")), 1)

    def verify_zone(self, what):
        lines = signed_axfr(self.server.port)
        types = {ln.split()[3] for ln in lines}
        self.assertTrue({"DNSKEY", "NSEC3PARAM", "NSEC3", "RRSIG"} <= types, sorted(types))
        self.assertNotIn("NSEC", types)
        verdict = verify_zone(lines, self.tmp / "axfr.zone", what)
        print(f"\n[NSEC3 AXFR, {what}] {len(lines) + 1} records; ldns-verify-zone: {verdict}")

    def test_every_answer_validates_before_and_after_failover_and_failback(self):
        wait_for_answer(self.server, [P], timeout=15)
        self.every_kind_validates(P, "primary")
        self.verify_zone("primary")
        self.regions[0].stop()
        wait_for_answer(self.unbound, [S], timeout=20, rd=True, do=True)
        self.every_kind_validates(S, "failover:secondary")
        st.wait_until(lambda: any(ln.split()[0] == "www.example.com." and ln.split()[3] == "A" and ln.split()[4] == S
                                  for ln in signed_axfr(self.server.port)),
                      timeout=15, interval=0.1, what="the AXFR after the failover")
        self.verify_zone("after the failover")
        self.regions[0].start()
        wait_for_answer(self.unbound, [P], timeout=20, rd=True, do=True)
        self.every_kind_validates(P, "primary")
        self.assertNotIn("validation failure", self.unbound.log())


if __name__ == "__main__":
    st.main()
