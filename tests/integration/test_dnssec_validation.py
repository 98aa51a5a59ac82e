# DNSSEC end to end (issue 15): the failover example with [dnssec] sign = true behind
# a validating Unbound whose trust anchor is signpost's own key. www, the apex, a deep
# wildcard name, the state TXT, an NXDOMAIN below _signpost and AAAA NODATA all come
# back validated (AD) before a failover, after it and after the failback. And the
# answers signpost gives directly: RRSIGs only with DO, NSEC proofs in negative
# answers, an unsigned delegation proven by its NSEC, a signed one by its DS.
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import signpost_test as st
from regions import failover_zone, region_pair, wait_for_answer
from unbound_server import Unbound, anchor_of

P, S = "127.0.0.10", "127.0.0.11"


class SignedFailover(unittest.TestCase):
    """signpost serving the failover example signed, with `extra` zone text (more
    services), behind a validating Unbound whose trust anchor is signpost's key."""
    EXTRA = ""
    LABEL = "signpost, signed failover example"

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="signpost-dnssec-val-"))
        self.keys = self.tmp / "keys"
        self.keys.mkdir(mode=0o700)
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port, extra=self.EXTRA + "[dnssec]\nsign = true\n")})
        self.server = st.Signpost(self.zones, extra_args=["--no-api", "--state", str(self.keys / "state.json")],
                                  label=self.LABEL).start()
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
            shutil.rmtree(self.tmp, ignore_errors=True)


class Validation(SignedFailover):
    def every_kind_validates(self, address, label):
        for name in ("www.example.com", "example.com", "a.deep.wildcard.name.example.com"):
            # Unbound keeps each name up to 1 s (cache-max-ttl): wait for each to move.
            wait_for_answer(self.unbound, [address], timeout=20, name=name, rd=True, do=True)
            self.assertEqual(self.unbound.validated(name, "A").rdatas("answer", "A"), [address], name)
        st.wait_until(lambda: label in " ".join(self.unbound.dig("site._signpost.example.com", "TXT")
                                                 .rdatas("answer", "TXT")),
                      timeout=20, interval=0.1, what=f"the state TXT through unbound says {label}")
        txt = " ".join(self.unbound.validated("site._signpost.example.com", "TXT").rdatas("answer", "TXT"))
        self.assertIn(label, txt)
        self.unbound.validated("nothing._signpost.example.com", "A", status="NXDOMAIN")
        for name in ("www.example.com", "example.com", "deep.wildcard.example.com"):
            self.assertEqual(self.unbound.validated(name, "AAAA").rdatas("answer", "AAAA"), [], name)
        self.assertEqual(len(self.unbound.validated("example.com", "DNSKEY").rdatas("answer", "DNSKEY")), 1)

    def test_every_answer_validates_before_and_after_failover_and_failback(self):
        wait_for_answer(self.server, [P], timeout=15)
        self.every_kind_validates(P, "primary")
        self.regions[0].stop()
        wait_for_answer(self.unbound, [S], timeout=20, rd=True, do=True)
        self.every_kind_validates(S, "failover:secondary")
        self.regions[0].start()
        wait_for_answer(self.unbound, [P], timeout=20, rd=True, do=True)
        self.every_kind_validates(P, "primary")
        self.assertNotIn("validation failure", self.unbound.log())
        # The failover's answers were signed before it happened: no signature was made
        # for them at the flip (the cache's figures are in the log at debug level only;
        # the rule is checked in tests/unit/dns/signing_test.cpp).


class ManyServicesFlip(SignedFailover):
    """A flip of more services than a View signs new state TXT records for while it is
    built (control/controller.hpp kStateSignatureBudget, 128): every address answer
    flips at once and validates; each state TXT keeps its previous, still signed text
    until the control loop has signed the new one, then follows, validated too. And
    more names change than a View renders anew (control::Options::prerender_budget,
    1,000): the general renderer answers the rest, validated alike, until the next
    tick pre-renders them."""
    N = 1000
    SAMPLE = (0, 500, 999)
    EXTRA = "".join(f'[services.s{i}]\nnames = ["s{i}"]\npolicy = "failover"\n'
                    f'pools = ["primary", "secondary"]\nttl = 30\n' for i in range(N))
    LABEL = f"signpost, {N} signed failover services"

    def all_validate(self, address, label):
        for i in self.SAMPLE:
            name = f"s{i}.example.com"
            wait_for_answer(self.unbound, [address], timeout=20, name=name, rd=True, do=True)
            self.assertEqual(self.unbound.validated(name, "A").rdatas("answer", "A"), [address], name)
        for i in self.SAMPLE:
            txt_name = f"s{i}._signpost.example.com"
            st.wait_until(lambda: label in " ".join(self.unbound.dig(txt_name, "TXT").rdatas("answer", "TXT")),
                          timeout=20, interval=0.1, what=f"{txt_name} through unbound says {label}")
            self.assertIn(label, " ".join(self.unbound.validated(txt_name, "TXT").rdatas("answer", "TXT")))

    def test_addresses_flip_at_once_and_every_state_txt_follows_validated(self):
        wait_for_answer(self.server, [P], timeout=15, name="s0.example.com")
        self.all_validate(P, "primary")
        self.regions[0].stop()
        self.all_validate(S, "failover:secondary")
        # The View of the flip signed 128 state TXT records; the rest followed. It rendered
        # 1,000 changed names; the next tick rendered the others.
        st.wait_until(lambda: "state TXT record(s) signed after the flip" in self.server.stderr(), timeout=10,
                      interval=0.1, what="the log says the state TXT records followed the flip")
        self.assertIn("answered by the general renderer since the flip", self.server.stderr())
        self.regions[0].start()
        self.all_validate(P, "primary")
        self.assertNotIn("validation failure", self.unbound.log())


class DirectAnswers(unittest.TestCase):
    ZONE = """
origin = "example.com"
ttl = 300
[records."@"]
NS = "ns1.example.com."
[records.ns1]
A = "192.0.2.53"
[records.www]
A = "192.0.2.10"
[records.unsigned]
NS = "ns.unsigned.example.net."
[records.secure]
NS = "ns.secure.example.net."
DS = "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
[dnssec]
sign = true
"""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="signpost-dnssec-direct-"))
        self.keys = self.tmp / "keys"
        self.keys.mkdir(mode=0o700)
        self.zones = st.ZoneDir({"example.com.toml": self.ZONE})
        self.server = st.Signpost(self.zones, extra_args=["--no-api", "--state", str(self.keys / "state.json")],
                                  label="signpost, signed zone").start()

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.zones.cleanup()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def types(self, r, section="authority"):
        return sorted(rr.type for rr in getattr(r, section))

    def test_rrsigs_only_with_do(self):
        plain = self.server.dig("www.example.com")
        self.assertEqual(self.types(plain, "answer"), ["A"])
        signed = self.server.dig("www.example.com", do=True)
        self.assertEqual(self.types(signed, "answer"), ["A", "RRSIG"])
        self.assertIn("do", signed.edns["flags"])

    def test_negative_answers_carry_their_nsec_proofs(self):
        nx = self.server.dig("nope.example.com", do=True)
        self.assertEqual(nx.status, "NXDOMAIN")
        # SOA + its RRSIG; the NSEC covering the name (example.com -> ns1) also covers
        # the wildcard *.example.com, so one NSEC and its RRSIG.
        self.assertEqual(self.types(nx), ["NSEC", "RRSIG", "RRSIG", "SOA"])
        nodata = self.server.dig("www.example.com", "AAAA", do=True)
        self.assertEqual(nodata.status, "NOERROR")
        nsec = [rr for rr in nodata.authority if rr.type == "NSEC"]
        self.assertEqual(len(nsec), 1)
        self.assertEqual(nsec[0].name, "www.example.com.")
        self.assertRegex(nsec[0].rdata, r"^example\.com\. A RRSIG NSEC$")

    def test_delegations_unsigned_by_nsec_signed_by_ds(self):
        r = self.server.dig("host.unsigned.example.com", do=True)
        self.assertFalse(r.aa)
        nsec = [rr for rr in r.authority if rr.type == "NSEC"]
        self.assertEqual(len(nsec), 1, r)
        self.assertRegex(nsec[0].rdata, r" NS RRSIG NSEC$")
        r = self.server.dig("host.secure.example.com", do=True)
        self.assertEqual(self.types(r), ["DS", "NS", "RRSIG"])
        ds = self.server.dig("unsigned.example.com", "DS", do=True)
        self.assertEqual(ds.status, "NOERROR")
        self.assertEqual(ds.rdatas("answer"), [])
        self.assertIn("NSEC", self.types(ds))


if __name__ == "__main__":
    st.main()
