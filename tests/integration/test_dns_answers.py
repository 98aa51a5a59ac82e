# Positive authoritative answers from static TOML zones, over UDP and TCP:
# AA, RD copied, no RA, TTLs, every record type, apex NS/SOA with additional data,
# ANY per RFC 8482, several zones at once (most specific zone answers), includes.
import signpost_test as st
from signpost_test import FIXTURES


class Answers(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def assertAuthoritative(self, r, status="NOERROR"):
        self.assertEqual(r.status, status, r)
        self.assertIn("qr", r.flags, r)
        self.assertIn("aa", r.flags, r)
        self.assertNotIn("ra", r.flags, r)
        self.assertNotIn("tc", r.flags, r)

    def test_a_record_set(self):
        for _, r in self.both("www.example.com", "A"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rrs(), [("www.example.com.", "A", 3600, "192.0.2.1"),
                                       ("www.example.com.", "A", 3600, "192.0.2.2")])
            self.assertEqual(r.question, [("www.example.com.", "IN", "A")])

    def test_aaaa(self):
        for _, r in self.both("www.example.com", "AAAA"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rrs(), [("www.example.com.", "AAAA", 3600, "2001:db8::1")])

    def test_per_rrset_ttl(self):
        for _, r in self.both("api.example.com", "A"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rrs(), [("api.example.com.", "A", 60, "192.0.2.9")])

    def test_name_lookup_is_case_insensitive(self):
        for _, r in self.both("WWW.ExAmPlE.CoM", "A"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas(), ["192.0.2.1", "192.0.2.2"])

    def test_apex_soa(self):
        for _, r in self.both("example.com", "SOA"):
            self.assertAuthoritative(r)
            self.assertEqual(len(r.answer), 1, r)
            soa = r.answer[0]
            self.assertEqual((soa.name, soa.type, soa.ttl), ("example.com.", "SOA", 3600))
            f = soa.rdata.split()
            self.assertEqual(f[:3], ["ns1.example.com.", "hostmaster.example.com.", "2024010101"])
            self.assertEqual(f[6], "300")

    def test_apex_ns_with_additional_addresses(self):
        for _, r in self.both("example.com", "NS"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas("answer", "NS"), ["ns1.example.com.", "ns2.example.com."])
            extra = r.rrs("additional")
            self.assertIn(("ns1.example.com.", "A", 3600, "192.0.2.53"), extra)
            self.assertIn(("ns1.example.com.", "AAAA", 3600, "2001:db8::53"), extra)
            self.assertIn(("ns2.example.com.", "A", 3600, "198.51.100.53"), extra)

    def test_mx_with_additional_for_in_zone_target_only(self):
        for _, r in self.both("example.com", "MX"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas("answer", "MX"), ["10 mail.example.com.", "20 mx.example.org."])
            extra = r.rrs("additional")
            self.assertIn(("mail.example.com.", "A", 3600, "192.0.2.25"), extra)
            self.assertIn(("mail.example.com.", "AAAA", 3600, "2001:db8::25"), extra)
            self.assertFalse([x for x in extra if x[0] == "mx.example.org."], r)

    def test_txt_single_and_multi_string(self):
        for _, r in self.both("example.com", "TXT"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas("answer", "TXT"), ['"two" "strings"', '"v=spf1 -all"'])

    def test_caa(self):
        for _, r in self.both("example.com", "CAA"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas("answer", "CAA"), ['0 issue "letsencrypt.org"'])

    def test_srv_relative_target_completed(self):
        for _, r in self.both("_sip._tcp.example.com", "SRV"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas("answer", "SRV"), ["10 60 5060 sip.example.com."])

    def test_ptr(self):
        for _, r in self.both("ptr.example.com", "PTR"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas("answer", "PTR"), ["www.example.com."])

    def test_unknown_type_rfc3597(self):
        for _, r in self.both("x.example.com", "TYPE65534"):
            self.assertAuthoritative(r)
            self.assertEqual(r.rdatas("answer"), ["\\# 4 0A000001"])
            self.assertEqual(r.answer[0].type, "TYPE65534")

    def test_delegation_ds_type_query_at_apex_is_nodata(self):
        for _, r in self.both("example.com", "DS"):
            # we are not authoritative for the parent (com.): no DS data, but no referral either
            self.assertIn(r.status, ("NOERROR", "REFUSED"), r)
            self.assertEqual(r.answer, [], r)

    def test_rd_copied_and_ra_never_set(self):
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                r = self.dig("www.example.com", "A", rd=True, tcp=tcp)
                self.assertIn("rd", r.flags, r)
                self.assertNotIn("ra", r.flags, r)
                r = self.dig("www.example.com", "A", rd=False, tcp=tcp)
                self.assertNotIn("rd", r.flags, r)
                self.assertNotIn("ra", r.flags, r)

    def test_any_returns_one_rrset_rfc8482(self):
        for _, r in self.both("www.example.com", "ANY"):
            self.assertAuthoritative(r)
            self.assertTrue(r.answer, f"ANY must not be empty for a name with data\n{r}")
            types = {(rr.name.lower(), rr.type) for rr in r.answer}
            self.assertEqual(len(types), 1, f"ANY answered with several RRsets {types}\n{r}")
        for _, r in self.both("example.com", "ANY"):
            self.assertAuthoritative(r)
            types = {(rr.name.lower(), rr.type) for rr in r.answer}
            self.assertEqual(len(types), 1, f"ANY at the apex dumped {types}\n{r}")

    def test_any_for_missing_name_is_nxdomain(self):
        for _, r in self.both("missing.example.com", "ANY"):
            self.assertAuthoritative(r, "NXDOMAIN")
            self.assertEqual(r.types("authority"), ["SOA"])


class SeveralZones(st.ServerTestCase):
    """example.com, child.example.com (delegated by example.com and served too) and
    example.net (apex wildcard, records partly from an included master file)."""
    zones_dir = FIXTURES / "basic"

    def test_most_specific_zone_answers(self):
        for _, r in self.both("www.child.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("www.child.example.com.", "A", 600, "192.0.2.201")])

    def test_child_apex_soa_and_ns_come_from_child_zone(self):
        for _, r in self.both("child.example.com", "SOA"):
            self.assertIn("aa", r.flags, r)
            self.assertEqual([rr.rdata.split()[0] for rr in r.answer], ["ns1.child.example.com."])
        for _, r in self.both("child.example.com", "NS"):
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rdatas("answer", "NS"), ["ns1.child.example.com."])

    def test_child_nxdomain_carries_child_soa(self):
        for _, r in self.both("nothing.child.example.com", "A"):
            self.assertEqual(r.status, "NXDOMAIN", r)
            self.assertEqual([(rr.name, rr.type) for rr in r.authority],
                             [("child.example.com.", "SOA")])

    def test_ds_for_child_apex_answered_from_parent(self):
        # RFC 4035 3.1.4.1: a server authoritative for both sides answers DS from the parent.
        for _, r in self.both("child.example.com", "DS"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rdatas("answer", "DS"),
                             ["54321 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"])

    def test_second_zone_apex_wildcard(self):
        for _, r in self.both("anything.example.net", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("anything.example.net.", "A", 1800, "198.51.100.77")])
        for _, r in self.both("exact.example.net", "A"):
            # exact exists (TXT only): NODATA, not a wildcard match
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual(r.answer, [], r)
            self.assertEqual(r.types("authority"), ["SOA"])

    def test_records_from_included_master_file(self):
        for _, r in self.both("fromfile.example.net", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("fromfile.example.net.", "A", 900, "198.51.100.10")])
        for _, r in self.both("mx.example.net", "MX"):
            self.assertEqual(r.rdatas("answer", "MX"), ["5 fromfile.example.net."])
            self.assertIn(("fromfile.example.net.", "A", 900, "198.51.100.10"), r.rrs("additional"))
            self.assertIn(("fromfile.example.net.", "AAAA", 900, "2001:db8:1::10"), r.rrs("additional"))

    def test_auto_serial_is_a_number(self):
        r = self.dig("example.net", "SOA")
        self.assertEqual(r.status, "NOERROR", r)
        serial = int(r.answer[0].rdata.split()[2])
        self.assertGreater(serial, 0)


if __name__ == "__main__":
    st.main()
