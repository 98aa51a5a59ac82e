# EDNS(0) per RFC 6891 (OPT echoed with our size 1232, DO echoed, BADVERS, no OPT
# when none was sent, one OPT only) and UDP truncation (TC=1 within the client's
# limit, the full answer over TCP).
import struct

import signpost_test as st
from signpost_test import FIXTURES


class Edns(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def test_opt_echoed_with_our_size(self):
        for bufsize in (None, 512, 1232, 4096, 65535):
            for tcp in (False, True):
                with self.subTest(bufsize=bufsize, tcp=tcp):
                    r = self.dig("www.example.com", "A", bufsize=bufsize, tcp=tcp)
                    self.assertEqual(r.status, "NOERROR", r)
                    self.assertIsNotNone(r.edns, f"reply to an EDNS query lacks OPT\n{r}")
                    self.assertEqual(r.edns["version"], 0, r)
                    self.assertEqual(r.edns["udp"], 1232, r)
                    self.assertNotIn("do", r.edns["flags"], r)

    def test_do_bit_echoed(self):
        for tcp in (False, True):
            r = self.dig("www.example.com", "A", do=True, tcp=tcp)
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("do", r.edns["flags"], r)
            self.assertEqual(r.rdatas(), ["192.0.2.1", "192.0.2.2"])

    def test_no_opt_without_edns(self):
        for _, r in self.both("www.example.com", "A", edns=False):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIsNone(r.edns, f"OPT in reply to a query without EDNS\n{r}")
        for _, r in self.both("nothing.example.com", "A", edns=False):
            self.assertEqual(r.status, "NXDOMAIN", r)
            self.assertIsNone(r.edns, r)
        for _, r in self.both("example.org", "A", edns=False):
            self.assertEqual(r.status, "REFUSED", r)
            self.assertIsNone(r.edns, r)

    def test_opt_on_negative_and_refused(self):
        for name, status in (("nothing.example.com", "NXDOMAIN"), ("example.org", "REFUSED")):
            for _, r in self.both(name, "A"):
                self.assertEqual(r.status, status, r)
                self.assertIsNotNone(r.edns, r)

    def test_badvers(self):
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                r = self.dig("www.example.com", "A", tcp=tcp,
                             extra=["+edns=1", "+noednsnegotiation"])
                self.assertEqual(r.status, "BADVERS", r)
                self.assertEqual(r.answer, [], r)
                self.assertIsNotNone(r.edns, r)
                self.assertEqual(r.edns["version"], 0, f"BADVERS must carry our version 0\n{r}")

    def test_badvers_raw_extended_rcode(self):
        m = self.server.query("www.example.com", "A", edns={"size": 1232, "version": 3})
        self.assertIsNotNone(m)
        self.assertEqual(m.rcode, 16, f"rcode {m.rcode_name}")
        self.assertEqual(m.rcode_low, 0)
        self.assertEqual(m.opt["ext_rcode"], 1)
        self.assertEqual(m.opt["version"], 0)
        self.assertEqual(m.answer, [])

    def test_unknown_option_ignored(self):
        r = self.dig("www.example.com", "A", extra=["+ednsopt=65001:c0ffee"])
        self.assertEqual(r.status, "NOERROR", r)
        self.assertEqual(r.rdatas(), ["192.0.2.1", "192.0.2.2"])

    def test_cookie_and_subnet_options_accepted(self):
        r = self.dig("www.example.com", "A", extra=["+cookie"])
        self.assertEqual(r.status, "NOERROR", r)
        self.assertEqual(r.rdatas(), ["192.0.2.1", "192.0.2.2"])
        for subnet in ("192.0.2.0/24", "2001:db8::/48", "0.0.0.0/0"):
            r = self.dig("www.example.com", "A", subnet=subnet)
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual(r.rdatas(), ["192.0.2.1", "192.0.2.2"])

    def test_two_opt_records_formerr(self):
        # RFC 6891 6.1.1: more than one OPT RR -> FORMERR
        q = st.build_query("www.example.com", "A", edns={"size": 1232}, qid=77)
        opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
        q = q[:10] + struct.pack("!H", 2) + q[12:] + opt
        for tcp in (False, True):
            data = self.server.tcp(q) if tcp else self.server.udp(q)
            self.assertIsNotNone(data, "no reply to a query with two OPT RRs")
            m = st.Message(data)
            self.assertEqual(m.id, 77)
            self.assertEqual(m.rcode_name, "FORMERR")

    def test_small_advertised_size_treated_as_512(self):
        # RFC 6891 6.2.5: values below 512 are treated as 512
        m = self.server.query("medium.example.com", "TXT", edns={"size": 100})
        self.assertTrue(m.tc)
        self.assertLessEqual(len(m.data), 512)
        m = self.server.query("www.example.com", "A", edns={"size": 100})
        self.assertFalse(m.tc)
        self.assertEqual(len(m.answer), 2)


class Truncation(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def raw(self, qname, qtype, **kw):
        m = self.server.query(qname, qtype, **kw)
        self.assertIsNotNone(m, f"no reply for {qname}/{qtype} {kw}")
        return m

    def test_large_rrset_truncated_without_edns(self):
        m = self.raw("big.example.com", "TXT")
        self.assertTrue(m.tc, "TC must be set")
        self.assertTrue(m.aa)
        self.assertEqual(m.rcode_name, "NOERROR")
        self.assertLessEqual(len(m.data), 512)
        self.assertEqual(m.questions, [("big.example.com.", 16, 1)])
        self.assertIsNone(m.opt)

    def test_large_rrset_truncated_with_edns_1232(self):
        m = self.raw("big.example.com", "TXT", edns={"size": 1232})
        self.assertTrue(m.tc)
        self.assertLessEqual(len(m.data), 1232)
        self.assertIsNotNone(m.opt, "truncated EDNS reply keeps OPT")
        self.assertEqual(m.opt["size"], 1232)

    def test_client_bigger_than_ours_capped_at_1232(self):
        m = self.raw("big.example.com", "TXT", edns={"size": 65000})
        self.assertTrue(m.tc, "answer above 1232 bytes must be truncated at our 1232 limit")
        self.assertLessEqual(len(m.data), 1232)

    def test_full_answer_over_tcp(self):
        for edns in (None, {"size": 1232}):
            m = self.raw("big.example.com", "TXT", tcp=True, edns=edns)
            self.assertFalse(m.tc)
            self.assertEqual(len(m.answer), 30)
            self.assertGreater(len(m.data), 6000)
        r = self.dig("big.example.com", "TXT", tcp=True)
        self.assertEqual(len(r.answer), 30, r)
        self.assertNotIn("tc", r.flags, r)

    def test_dig_retries_over_tcp(self):
        # without +ignore dig falls back to TCP on TC=1 and gets all 30 records
        r = st.dig(self.server.port, "big.example.com", "TXT", extra=["+noignore"], edns=False)
        self.assertEqual(len(r.answer), 30, r)

    def test_medium_answer_fits_with_edns_not_without(self):
        m = self.raw("medium.example.com", "TXT")
        self.assertTrue(m.tc, f"{len(m.data)} bytes")
        self.assertLessEqual(len(m.data), 512)
        m = self.raw("medium.example.com", "TXT", edns={"size": 1232})
        self.assertFalse(m.tc)
        self.assertEqual(len(m.answer), 5)
        self.assertGreater(len(m.data), 512)
        m = self.raw("medium.example.com", "TXT", edns={"size": 700})
        self.assertTrue(m.tc)
        self.assertLessEqual(len(m.data), 700)

    def test_referral_whose_glue_does_not_fit_sets_tc(self):
        # RFC 9471 3: in-domain glue is not optional; if it does not all fit, set TC
        m = self.raw("www.manyns.example.com", "A")
        self.assertTrue(m.tc, f"referral of {len(m.data)} bytes lost glue without TC "
                              f"({len(m.additional)} of 24 glue records)")
        self.assertLessEqual(len(m.data), 512)
        self.assertFalse(m.aa)
        for edns, tcp in (({"size": 1232}, False), (None, True)):
            m = self.raw("www.manyns.example.com", "A", edns=edns, tcp=tcp)
            self.assertFalse(m.tc)
            self.assertFalse(m.aa)
            self.assertEqual(len(m.records("authority")), 12)
            self.assertEqual(len(m.records("additional")), 24)

    def test_additional_that_does_not_fit_keeps_tc_clear(self):
        # RFC 2181 9: TC only when the answer itself does not fit; extra data may be dropped
        m = self.raw("mxmany.example.com", "MX")
        self.assertFalse(m.tc, "TC set although only additional data was dropped")
        self.assertLessEqual(len(m.data), 512)
        self.assertEqual(len(m.answer), 10)
        self.assertLess(len(m.additional), 20)
        m = self.raw("mxmany.example.com", "MX", edns={"size": 1232})
        self.assertFalse(m.tc)
        self.assertEqual(len(m.records("additional")), 20)

    def test_dig_sees_tc(self):
        r = self.dig("big.example.com", "TXT", edns=False)
        self.assertIn("tc", r.flags, r)
        r = self.dig("big.example.com", "TXT", bufsize=1232)
        self.assertIn("tc", r.flags, r)
        r = self.dig("medium.example.com", "TXT", bufsize=1232)
        self.assertNotIn("tc", r.flags, r)
        self.assertEqual(len(r.answer), 5, r)


if __name__ == "__main__":
    st.main()
