# Negative answers (RFC 2308): NXDOMAIN and NODATA carry the zone's SOA in the
# authority section with TTL min(SOA TTL, SOA minimum); empty non-terminals are
# NODATA; names in no served zone are REFUSED. Over UDP and TCP.
import signpost_test as st
from signpost_test import FIXTURES

EXAMPLE_SOA = "ns1.example.com. hostmaster.example.com. 2024010101"


class Negative(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def assertNegative(self, r, status, zone="example.com.", ttl=300):
        self.assertEqual(r.status, status, r)
        self.assertIn("aa", r.flags, r)
        self.assertNotIn("ra", r.flags, r)
        self.assertEqual(r.answer, [], r)
        soas = [rr for rr in r.authority if rr.type == "SOA"]
        self.assertEqual(len(soas), 1, f"expected one SOA in authority\n{r}")
        self.assertEqual(soas[0].name.lower(), zone, r)
        self.assertEqual(soas[0].ttl, ttl, f"negative TTL must be min(SOA TTL, minimum)\n{r}")
        self.assertEqual([rr for rr in r.authority if rr.type != "SOA"], [], r)

    def test_nxdomain(self):
        for _, r in self.both("nothing.example.com", "A"):
            self.assertNegative(r, "NXDOMAIN")
            self.assertTrue(r.authority[0].rdata.startswith(EXAMPLE_SOA), r)

    def test_nxdomain_deeper(self):
        for _, r in self.both("a.b.c.nothing.example.com", "AAAA"):
            self.assertNegative(r, "NXDOMAIN")

    def test_nodata(self):
        for _, r in self.both("www.example.com", "MX"):
            self.assertNegative(r, "NOERROR")
        for _, r in self.both("www.example.com", "TXT"):
            self.assertNegative(r, "NOERROR")

    def test_nodata_at_apex(self):
        for _, r in self.both("example.com", "SRV"):
            self.assertNegative(r, "NOERROR")

    def test_empty_non_terminals_are_nodata(self):
        for name in ("ent.example.com", "b.ent.example.com"):
            for qtype in ("A", "TXT"):
                for _, r in self.both(name, qtype):
                    self.assertNegative(r, "NOERROR")
        for _, r in self.both("a.b.ent.example.com", "A"):
            self.assertEqual(r.rdatas(), ["192.0.2.30"], r)

    def test_below_empty_non_terminal_is_nxdomain(self):
        for _, r in self.both("zz.b.ent.example.com", "A"):
            self.assertNegative(r, "NXDOMAIN")

    def test_negative_ttl_is_soa_ttl_when_below_minimum(self):
        # child.example.com: SOA ttl 120, minimum 600 -> 120
        for _, r in self.both("nothing.child.example.com", "A"):
            self.assertNegative(r, "NXDOMAIN", zone="child.example.com.", ttl=120)
        for _, r in self.both("www.child.example.com", "MX"):
            self.assertNegative(r, "NOERROR", zone="child.example.com.", ttl=120)

    def test_negative_ttl_is_minimum_when_below_soa_ttl(self):
        # example.net: SOA ttl 1800, minimum 60 -> 60
        for _, r in self.both("example.net", "MX"):
            self.assertNegative(r, "NOERROR", zone="example.net.", ttl=60)

    def test_refused_outside_served_zones(self):
        for name in ("example.org", "www.example.org", "com", ".", "notexample.com",
                     "xexample.com", "example.com.evil.test"):
            for qtype in ("A", "SOA", "NS"):
                for _, r in self.both(name, qtype):
                    self.assertEqual(r.status, "REFUSED", r)
                    self.assertNotIn("aa", r.flags, r)
                    self.assertNotIn("ra", r.flags, r)
                    self.assertEqual(r.answer, [], r)
                    self.assertEqual(r.authority, [], f"REFUSED must not refer upwards\n{r}")

    def test_refused_keeps_question_and_id(self):
        for tcp in (False, True):
            m = self.server.query("www.example.org", "A", qid=4242, tcp=tcp)
            self.assertIsNotNone(m)
            self.assertEqual(m.id, 4242)
            self.assertTrue(m.qr)
            self.assertEqual(m.rcode_name, "REFUSED")
            self.assertEqual(m.questions, [("www.example.org.", 1, 1)])


if __name__ == "__main__":
    st.main()
