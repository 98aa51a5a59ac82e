"""Explain over DNS against the real signpost and real HTTP regions on
127.0.0.10/11: `dig CH TXT www.example.com.explain.signpost` for a failed-over
name says what the API says (the down pool, the chosen label), a type label and
a client subnet are honoured, malformed questions get a TXT saying why, and
clients outside explain_allow (dig -b 127.0.0.2) are REFUSED."""
import json
import re
import subprocess
import unittest

import signpost_test as st
from regions import ApiSignpost, region_pair, wait_for_answer

P, S = "127.0.0.10", "127.0.0.11"
OPS = st.FIXTURES / "ops"


def txt_lines(result):
    """The text of each TXT record in dig's answer section, its strings joined."""
    lines = []
    for rr in result.answer:
        strings = re.findall(r'"((?:[^"\\]|\\.)*)"', rr.rdata)
        text = "".join(strings)
        text = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1))), text)
        lines.append(re.sub(r"\\(.)", r"\1", text))
    return lines


class ExplainDnsScenario(unittest.TestCase):
    config_extra = ""

    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        zone = (OPS / "api.toml").read_text().replace("@PORT@", str(self.port))
        self.zones = st.ZoneDir({"example.com.toml": zone})
        self.server = ApiSignpost(self.zones, config_extra=self.config_extra, label=f"signpost ({self.id()})")
        self.server.start()
        self.server.wait_api()
        wait_for_answer(self.server, [P], timeout=10)

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()

    def explain(self, qname, **kw):
        return self.server.dig(qname, "TXT", qclass="CH", **kw)


class TestExplainOverDns(ExplainDnsScenario):
    def test_a_failed_over_name_shows_the_down_pool_and_the_chosen_label(self):
        self.regions[0].set("500")
        wait_for_answer(self.server, [S], timeout=10)
        r = self.explain("www.example.com.explain.signpost")
        print(f"\n{r.text}")
        self.assertEqual(r.status, "NOERROR")
        self.assertTrue(r.aa)
        self.assertEqual({(rr.cls, rr.type, rr.ttl) for rr in r.answer}, {("CH", "TXT", 0)})
        lines = txt_lines(r)
        self.assertEqual(lines[0], "01 query www.example.com. A for 127.0.0.1: NOERROR")
        self.assertEqual(lines[1], "02 answer www.example.com. 1 IN A 127.0.0.11")
        path = [l.split(" ", 2)[2] for l in lines if l.split(" ")[1] == "path"]
        self.assertIn("pool primary: down (0/1 healthy, needs 1): endpoint 127.0.0.10 down: HTTP 500", path)
        self.assertIn("pool secondary: up (1/1 healthy, needs 1): endpoint 127.0.0.11 up: HTTP 200", path)
        self.assertTrue(path[-1].startswith("decision failover:secondary "), path)
        # The same rule path as the HTTP API's explain (one function behind both).
        status, body, _ = self.server.http("GET", "/v1/explain?name=www.example.com&type=A&client=127.0.0.1")
        self.assertEqual(status, 200, body)
        self.assertEqual(path, body["path"])
        self.assertEqual([l.split(" ", 2)[2] for l in lines if l.split(" ")[1] == "answer"], body["answer"])
        # Over TCP: the same lines.
        self.assertEqual(txt_lines(self.explain("www.example.com.explain.signpost", tcp=True)), lines)

    def test_a_type_label_and_a_client_subnet_are_honoured(self):
        lines = txt_lines(self.explain("_aaaa.www.example.com.explain.signpost"))
        self.assertEqual(lines[0], "01 query www.example.com. AAAA for 127.0.0.1: NOERROR")
        self.assertTrue(any(l.split(" ")[1] == "authority" and " SOA " in l for l in lines), lines)
        for subnet, want in (("198.51.100.0/24", P), ("203.0.113.0/24", S)):
            r = self.explain("geo.example.com.explain.signpost", subnet=subnet)
            lines = txt_lines(r)
            self.assertEqual(lines[0], f"01 query geo.example.com. A for subnet {subnet}: NOERROR")
            self.assertRegex(lines[1], rf"^02 answer geo\.example\.com\. \d+ IN A {re.escape(want)}$")
            self.assertIn(f"path client {subnet.split('/')[0]} is in {subnet}", " ".join(lines))
            self.assertEqual(self.server.dig("geo.example.com", subnet=subnet).rdatas("answer", "A"), [want])

    def test_malformed_questions_get_a_txt_saying_why(self):
        lines = txt_lines(self.explain("_bogus.www.example.com.explain.signpost"))
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("01 error: '_bogus' is not a DNS type"), lines)
        lines = txt_lines(self.explain("www.example.org.explain.signpost"))
        self.assertEqual(lines, ["01 query www.example.org. A for 127.0.0.1: REFUSED",
                                 "02 path no served zone contains www.example.org.: REFUSED"])
        lines = txt_lines(self.explain("explain.signpost"))
        self.assertTrue(lines[0].startswith("01 error: no name to explain; use dig CH TXT"), lines)
        # Other CH questions take the normal path (version.bind is answered there:
        # test_dns_conventions.py; unknown names are refused), and the server is fine.
        self.assertEqual(self.server.dig("authors.bind", "TXT", qclass="CH").status, "REFUSED")
        self.assertEqual(self.server.dig("www.example.com").rdatas("answer", "A"), [P])

    def test_too_big_for_udp_is_truncated_and_whole_over_tcp(self):
        # No EDNS: 512 bytes, too small for the seven lines of www.
        r = self.explain("www.example.com.explain.signpost", edns=False)
        self.assertTrue(r.tc, r)
        self.assertEqual(r.answer, [])
        r = self.explain("www.example.com.explain.signpost", edns=False, tcp=True)
        self.assertFalse(r.tc)
        self.assertGreaterEqual(len(r.answer), 7)


class TestExplainAllowList(ExplainDnsScenario):
    config_extra = 'explain_allow = ["127.0.0.1/32"]'

    def test_a_client_outside_explain_allow_is_refused(self):
        r = self.explain("www.example.com.explain.signpost", extra=["-b", "127.0.0.2"])
        self.assertEqual(r.status, "REFUSED")
        self.assertEqual(r.answer, [])
        r = self.explain("www.example.com.explain.signpost", extra=["-b", "127.0.0.1"])
        self.assertEqual(r.status, "NOERROR")
        self.assertTrue(txt_lines(r)[0].startswith("01 query www.example.com. A for 127.0.0.1"))


class TestExplainDisabled(ExplainDnsScenario):
    config_extra = "explain_allow = []"

    def test_an_empty_allow_list_turns_it_off(self):
        self.assertEqual(self.explain("www.example.com.explain.signpost").status, "REFUSED")
        self.assertIn("explain over DNS disabled (explain_allow = [])", self.server.stderr())


class TestExplainAllowConfigErrors(unittest.TestCase):
    def test_a_bad_prefix_is_reported_with_file_line_and_column(self):
        zones = st.ZoneDir({"example.com.toml": 'origin = "example.com"\n[records."@"]\nNS = ["ns1"]\n'
                                                '[records.ns1]\nA = "192.0.2.53"\n'})
        conf = zones.path.parent / f"{zones.path.name}-signpost.toml"
        try:
            for text, want in (('explain_allow = ["127.0.0.1/33"]\n',
                                f"{conf}:1:18: error: 'explain_allow': not a prefix: expected \"192.0.2.0/24\" "
                                "or \"2001:db8::/32\""),
                               ('explain_allow = "127.0.0.1"\n',
                                f"{conf}:1:17: error: 'explain_allow' must be an array of prefixes such as "
                                "[\"127.0.0.0/8\", \"::1/128\"] ([] turns explain over DNS off)")):
                conf.write_text(text)
                p = subprocess.run([st.signpost_bin(), "serve", "--zones", str(zones.path), "--config", str(conf),
                                    "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(want, p.stderr)
        finally:
            if conf.exists():
                conf.unlink()
            zones.cleanup()


if __name__ == "__main__":
    st.main()
