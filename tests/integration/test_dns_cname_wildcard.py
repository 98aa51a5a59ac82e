# CNAMEs (the CNAME, then the chain followed inside the zone) and wildcards per
# RFC 4592 (closest encloser, no match across an existing name or an empty
# non-terminal, synthesis with the query name as owner). Over UDP and TCP.
import signpost_test as st
from signpost_test import FIXTURES

WWW_A = [("www.example.com.", "A", 3600, "192.0.2.1"), ("www.example.com.", "A", 3600, "192.0.2.2")]


class Cname(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def test_cname_then_in_zone_target(self):
        for _, r in self.both("alias.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.answer[0][:4], ("alias.example.com.", 3600, "IN", "CNAME"), r)
            self.assertEqual(r.rrs(), sorted([("alias.example.com.", "CNAME", 3600, "www.example.com.")] + WWW_A))

    def test_cname_query_for_cname_type(self):
        for _, r in self.both("alias.example.com", "CNAME"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual(r.rrs(), [("alias.example.com.", "CNAME", 3600, "www.example.com.")])

    def test_cname_other_type_follows_to_target(self):
        for _, r in self.both("alias.example.com", "AAAA"):
            self.assertEqual(r.rrs(), [("alias.example.com.", "CNAME", 3600, "www.example.com."),
                                       ("www.example.com.", "AAAA", 3600, "2001:db8::1")])

    def test_cname_to_nodata_target(self):
        for _, r in self.both("alias.example.com", "MX"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("alias.example.com.", "CNAME", 3600, "www.example.com.")])
            self.assertEqual(r.types("authority"), ["SOA"], r)

    def test_chain_followed_in_order(self):
        for _, r in self.both("chain1.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            owners = [(rr.name, rr.type) for rr in r.answer]
            self.assertEqual(owners[:2], [("chain1.example.com.", "CNAME"), ("chain2.example.com.", "CNAME")], r)
            self.assertEqual(r.rrs(), sorted([("chain1.example.com.", "CNAME", 3600, "chain2.example.com."),
                                              ("chain2.example.com.", "CNAME", 3600, "www.example.com.")] + WWW_A))

    def test_cname_out_of_zone_not_followed(self):
        for _, r in self.both("outside.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("outside.example.com.", "CNAME", 3600, "www.example.org.")])

    def test_dangling_cname_is_nxdomain_rfc6604(self):
        for _, r in self.both("dangling.example.com", "A"):
            self.assertEqual(r.status, "NXDOMAIN", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("dangling.example.com.", "CNAME", 3600, "nothing-here.example.com.")])
            self.assertEqual(r.types("authority"), ["SOA"], r)

    def test_cname_loop_terminates(self):
        for _, r in self.both("loop1.example.com", "A"):
            self.assertIn(r.status, ("NOERROR", "SERVFAIL"), r)
            names = [rr.name for rr in r.answer]
            self.assertEqual(len(names), len(set(names)), f"loop repeated records\n{r}")
        self.assertAlive()


class Wildcard(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def test_synthesised_with_query_name_as_owner(self):
        for _, r in self.both("foo.wild.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.rrs(), [("foo.wild.example.com.", "A", 3600, "192.0.2.77")])

    def test_multi_label_match(self):
        for _, r in self.both("a.b.c.wild.example.com", "A"):
            self.assertEqual(r.rrs(), [("a.b.c.wild.example.com.", "A", 3600, "192.0.2.77")])

    def test_other_type_of_wildcard(self):
        for _, r in self.both("foo.wild.example.com", "TXT"):
            self.assertEqual(r.rrs(), [("foo.wild.example.com.", "TXT", 3600, '"wildcard"')])

    def test_wildcard_nodata(self):
        for _, r in self.both("foo.wild.example.com", "AAAA"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn("aa", r.flags, r)
            self.assertEqual(r.answer, [], r)
            self.assertEqual(r.types("authority"), ["SOA"], r)

    def test_existing_name_wins_over_wildcard(self):
        for _, r in self.both("host.wild.example.com", "A"):
            self.assertEqual(r.rrs(), [("host.wild.example.com.", "A", 3600, "192.0.2.78")])
        for _, r in self.both("host.wild.example.com", "TXT"):
            # host.wild exists: NODATA, the wildcard's TXT must not be used
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual(r.answer, [], r)

    def test_no_match_below_an_existing_name(self):
        # closest encloser is host.wild, and *.host.wild does not exist
        for _, r in self.both("x.host.wild.example.com", "A"):
            self.assertEqual(r.status, "NXDOMAIN", r)
            self.assertEqual(r.answer, [], r)
            self.assertEqual(r.types("authority"), ["SOA"], r)

    def test_empty_non_terminal_blocks_wildcard(self):
        # deep.wild exists as an empty non-terminal (a.deep.wild has data): RFC 4592 2.2.2
        for _, r in self.both("deep.wild.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual(r.answer, [], r)
        for _, r in self.both("q.deep.wild.example.com", "A"):
            self.assertEqual(r.status, "NXDOMAIN", r)
            self.assertEqual(r.answer, [], r)

    def test_wildcard_owner_queried_literally(self):
        for _, r in self.both("*.wild.example.com", "A"):
            self.assertEqual(r.rrs(), [("*.wild.example.com.", "A", 3600, "192.0.2.77")])

    def test_wildcard_parent_itself_is_not_matched(self):
        # wild.example.com is an empty non-terminal (only *.wild below it)
        for _, r in self.both("wild.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual(r.answer, [], r)

    def test_wildcard_cname_synthesis_then_target(self):
        for _, r in self.both("foo.cwild.example.com", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual(r.rrs(), sorted([("foo.cwild.example.com.", "CNAME", 3600, "www.example.com.")] + WWW_A))

    def test_mixed_case_wildcard_query(self):
        for _, r in self.both("FoO.WiLd.example.COM", "A"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertEqual([rr.name.lower() for rr in r.answer], ["foo.wild.example.com."])
            self.assertEqual(r.rdatas(), ["192.0.2.77"])

    def test_wildcard_any(self):
        for _, r in self.both("foo.wild.example.com", "ANY"):
            self.assertEqual(r.status, "NOERROR", r)
            self.assertTrue(r.answer, r)
            self.assertEqual(len({rr.type for rr in r.answer}), 1, r)
            self.assertEqual({rr.name.lower() for rr in r.answer}, {"foo.wild.example.com."})


if __name__ == "__main__":
    st.main()
