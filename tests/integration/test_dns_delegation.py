# Delegations: referrals with the NS RRset in authority, glue in additional and
# AA clear; DS at the cut answered authoritatively from the parent side;
# glue itself is not authoritative data. Over UDP and TCP.
import signpost_test as st
from signpost_test import FIXTURES

DELEG_NS = [("deleg.example.com.", "NS", 3600, "ns.example.org."),
            ("deleg.example.com.", "NS", 3600, "ns1.deleg.example.com.")]
DELEG_GLUE = ("ns1.deleg.example.com.", "A", 3600, "192.0.2.54")
DS = "12345 13 2 ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"


class Delegation(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def assertReferral(self, r):
        self.assertEqual(r.status, "NOERROR", r)
        self.assertNotIn("aa", r.flags, f"a referral must have AA clear\n{r}")
        self.assertNotIn("ra", r.flags, r)
        self.assertEqual(r.answer, [], r)
        self.assertEqual(r.rrs("authority"), DELEG_NS, r)
        self.assertIn(DELEG_GLUE, r.rrs("additional"), f"glue missing\n{r}")
        self.assertFalse([x for x in r.rrs("additional") if x[0] == "ns.example.org."],
                         f"no out-of-zone addresses in additional\n{r}")

    def test_referral_below_cut(self):
        for _, r in self.both("www.deleg.example.com", "A"):
            self.assertReferral(r)
        for _, r in self.both("a.b.c.deleg.example.com", "MX"):
            self.assertReferral(r)

    def test_referral_at_cut(self):
        for qtype in ("A", "NS", "SOA", "TXT"):
            for _, r in self.both("deleg.example.com", qtype):
                self.assertReferral(r)

    def test_glue_name_is_referred_not_answered(self):
        for _, r in self.both("ns1.deleg.example.com", "A"):
            self.assertReferral(r)

    def test_ds_at_cut_answered_from_parent(self):
        for _, r in self.both("deleg.example.com", "DS"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("deleg.example.com.", "DS", 3600, DS)])

    def test_ds_mixed_case(self):
        for _, r in self.both("DeLeG.example.com", "DS"):
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rdatas("answer", "DS"), [DS])

    def test_no_ds_at_cut_is_nodata_from_parent(self):
        for _, r in self.both("nods.example.com", "DS"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.answer, [], r)
            self.assertEqual([(x.name, x.type, x.ttl) for x in r.authority],
                             [("example.com.", "SOA", 300)], r)

    def test_ds_below_cut_is_referral(self):
        for _, r in self.both("x.deleg.example.com", "DS"):
            self.assertReferral(r)

    def test_referral_without_glue(self):
        for _, r in self.both("www.nods.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertNotIn("aa", r.flags, r)
            self.assertEqual(r.rrs("authority"), [("nods.example.com.", "NS", 3600, "ns.example.org.")])
            self.assertEqual(r.answer, [], r)

    def test_referral_over_udp_without_edns_fits(self):
        r = self.dig("www.deleg.example.com", "A", edns=False)
        self.assertReferral(r)
        self.assertNotIn("tc", r.flags, r)


if __name__ == "__main__":
    st.main()
