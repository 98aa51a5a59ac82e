# DNS conventions (docs/dns.md, "Identity, version and NSID", "Classes and meta types"):
# the real signpost with `identity` and `version` from its server config answers
# dig CH TXT id.server / hostname.bind / version.bind / version.server and dig +nsid;
# class ANY queries and the meta types as qtype get the answers Knot DNS gives
# for the same zone (knotd started beside it, compared reply by reply).
import socket
import subprocess
import sys
import unittest

import knot_server
import signpost_test as st
from signpost_test import FIXTURES

MASTER = FIXTURES / "differential" / "example.com.zone"


def signpost_version():
    """What `signpost --version` prints ("signpost 0.1.0"): version.bind answers the same."""
    p = st.run_cli("--version")
    return p.stdout.strip()


def config(zd, text):
    return str(zd.write("server.toml", text))


class Conventions(unittest.TestCase):
    """One signpost with identity = "ns1.test" (version left at its default), one with
    version = "" (identity left at the host name)."""

    @classmethod
    def setUpClass(cls):
        p = st.run_cli("import", "--origin", "example.com", MASTER)
        if p.returncode != 0:
            raise AssertionError(f"signpost import failed:\n{p.stderr}")
        cls.zones = st.ZoneDir({"example.com.toml": p.stdout})
        cls.conf = st.ZoneDir()
        named = config(cls.conf, 'identity = "ns1.test"\nworkers = 1\n[api]\nenabled = false\n')
        hidden = cls.conf.write("hidden.toml", 'version = ""\nworkers = 1\n[api]\nenabled = false\n')
        cls.server = st.Signpost(cls.zones.path, extra_args=["--config", named], label="signpost identity=ns1.test")
        cls.hidden = st.Signpost(cls.zones.path, extra_args=["--config", str(hidden)],
                                 label="signpost version=\"\"")
        try:
            cls.server.start()
            cls.hidden.start()
        except BaseException:
            cls.server.kill()
            cls.hidden.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in (cls.server, cls.hidden):
            try:
                s.stop()
            finally:
                s.kill()
        cls.zones.cleanup()
        cls.conf.cleanup()

    def test_id_server_and_hostname_bind_answer_the_identity(self):
        for name in ("id.server", "hostname.bind", "ID.SERVER"):
            for tcp in (False, True):
                r = self.server.dig(name, "TXT", qclass="CH", tcp=tcp)
                self.assertEqual(r.status, "NOERROR", r)
                self.assertNotIn("aa", r.flags, r)
                self.assertEqual(r.answer, [st.DigRR(st.absolute(name), 0, "CH", "TXT", '"ns1.test"')], r)
                self.assertEqual(r.authority, [], r)

    def test_version_bind_answers_the_version_signpost_reports(self):
        version = signpost_version()
        self.assertRegex(version, r"^signpost \d+\.\d+\.\d+")
        for name in ("version.bind", "version.server"):
            for tcp in (False, True):
                r = self.server.dig(name, "TXT", qclass="CH", tcp=tcp)
                self.assertEqual(r.status, "NOERROR", r)
                self.assertEqual(r.rdatas(), [f'"{version}"'], r)
                self.assertEqual(r.answer[0].ttl, 0, r)

    def test_version_hidden_is_refused_and_identity_defaults_to_the_host_name(self):
        for name in ("version.bind", "version.server"):
            r = self.hidden.dig(name, "TXT", qclass="CH")
            self.assertEqual(r.status, "REFUSED", r)
            self.assertEqual(r.answer, [], r)
        r = self.hidden.dig("id.server", "TXT", qclass="CH")
        self.assertEqual(r.rdatas(), [f'"{socket.gethostname()}"'], r)

    def test_other_chaos_names_and_types_are_refused(self):
        for name, qtype in (("authors.bind", "TXT"), ("example.com", "TXT"), ("www.example.com", "A"),
                            ("id.server", "A"), ("version.bind", "ANY"), ("hostname.bind", "SOA")):
            r = self.server.dig(name, qtype, qclass="CH")
            self.assertEqual(r.status, "REFUSED", r)
            self.assertEqual(r.answer, [], r)
        r = self.server.dig("id.server", "TXT", qclass="HS")
        self.assertEqual(r.status, "REFUSED", r)

    def test_nsid_only_when_asked(self):
        for tcp in (False, True):
            r = self.server.dig("www.example.com", "A", tcp=tcp, extra=["+nsid"])
            self.assertEqual(r.status, "NOERROR", r)
            self.assertIn('NSID: 6e 73 31 2e 74 65 73 74 ("ns1.test")', r.edns["options"], r)
            self.assertEqual(len(r.answer), 2, r)
            plain = self.server.dig("www.example.com", "A", tcp=tcp)
            self.assertEqual(plain.edns["options"], [], plain)
            self.assertEqual(plain.answer, r.answer, plain)
        # on NXDOMAIN, REFUSED and the CH answer too
        for name, qtype, qclass in (("nothing.example.com", "A", None), ("example.org", "A", None),
                                    ("id.server", "TXT", "CH")):
            r = self.server.dig(name, qtype, qclass=qclass, extra=["+nsid"])
            self.assertTrue(any(o.startswith("NSID:") and '("ns1.test")' in o for o in r.edns["options"]), r)

    def test_nsid_with_kdig_and_raw(self):
        p = subprocess.run(["kdig", f"@{self.server.host}", "-p", str(self.server.port), "+nsid", "+norec",
                            "www.example.com", "A"], capture_output=True, text=True, timeout=10)
        self.assertIn("ns1.test", p.stdout, p.stdout)
        m = self.server.query("www.example.com", "A", edns={"options": [(3, b"")]})
        self.assertEqual(m.opt["options"], [(3, b"ns1.test")])
        m = self.server.query("www.example.com", "A", edns={})
        self.assertEqual(m.opt["options"], [])
        # a large answer truncated over UDP keeps its OPT with the NSID and fits 1232 bytes
        m = self.server.query("big.example.com", "TXT", edns={"size": 1232, "options": [(3, b"")]})
        self.assertTrue(m.tc)
        self.assertLessEqual(len(m.data), 1232)
        self.assertEqual(m.opt["options"], [(3, b"ns1.test")])

    def test_identity_over_255_bytes_is_a_config_error(self):
        with st.ZoneDir() as zd:
            conf = zd.write("server.toml", 'workers = 1\nidentity = "' + "x" * 256 + '"\n')
            p = st.run_cli("serve", "--config", conf, "--zones", self.zones.path,
                           "--listen", f"127.0.0.1:{st.free_port()}", timeout=10)
            self.assertNotEqual(p.returncode, 0)
            self.assertRegex(p.stderr, r"server\.toml:2:12: error: 'identity': at most 255 bytes")


# Knot DNS as the reference for class ANY and the meta types.
NAMES = ["example.com.", "www.example.com.", "alias.example.com.", "nothing.example.com.",
         "x.deleg.example.com.", "deleg.example.com.", "foo.wild.example.com.", "WwW.ExAmPlE.cOm.",
         "example.org.", "id.server."]
# (qtype, qclass, transports); 249 TKEY, 250 TSIG, 253 MAILB, 254 MAILA
CASES = [(t, "ANY", ("udp", "tcp")) for t in ("A", "AAAA", "SOA", "NS", "MX", "TXT", "CNAME")] + \
        [(t, c, ("udp", "tcp")) for t in (41, 249, 250, 253, 254) for c in ("IN", "ANY")] + \
        [("AXFR", c, ("udp",)) for c in ("IN", "ANY", "CH")] + \
        [("SOA", c, ("udp", "tcp")) for c in ("HS", 254, 2)] + \
        [(t, "CH", ("udp", "tcp")) for t in ("A", "ANY", 41, "SOA", 254)]


def differences(ref, got):
    diffs = []
    for what, a, b in (("rcode", ref.rcode_name, got.rcode_name), ("AA", ref.aa, got.aa),
                       ("TC", ref.tc, got.tc), ("question", ref.question_bytes, got.question_bytes),
                       ("OPT", ref.opt is None, got.opt is None)):
        if a != b:
            diffs.append(f"{what}: knot {a} vs signpost {b}")
    if ref.tc and got.tc:
        return diffs
    for sec in ("answer", "authority", "additional"):
        a = sorted((rr.name.lower(), rr.type, rr.cls, rr.ttl, st.expand_rdata(ref.data, rr).lower())
                   for rr in ref.records(sec))
        b = sorted((rr.name.lower(), rr.type, rr.cls, rr.ttl, st.expand_rdata(got.data, rr).lower())
                   for rr in got.records(sec))
        if a != b:
            diffs.append(f"{sec}:\n    knot {a}\n    signpost {b}")
    return diffs


class KnotDifferential(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        p = st.run_cli("import", "--origin", "example.com", MASTER)
        if p.returncode != 0:
            raise AssertionError(f"signpost import failed:\n{p.stderr}")
        cls.zones = st.ZoneDir({"example.com.toml": p.stdout})
        cls.knot = knot_server.Knot({"example.com": MASTER})
        cls.signpost = st.Signpost(cls.zones.path, label="signpost (beside knotd)")
        try:
            cls.knot.start()
            cls.signpost.start()
        except BaseException:
            cls.knot.cleanup()
            cls.signpost.kill()
            cls.zones.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.signpost.stop()
        finally:
            cls.signpost.kill()
            cls.knot.cleanup()
            cls.zones.cleanup()

    def test_class_any_and_meta_types_as_knot(self):
        total, failures = 0, []
        for qtype, qclass, transports in CASES:
            for name in NAMES:
                for transport in transports:
                    for edns in ({"size": 1232}, None):
                        kw = dict(qid=777, edns=edns, tcp=transport == "tcp")
                        ref = st.query(self.knot.port, name, qtype, qclass, **kw)
                        got = st.query(self.signpost.port, name, qtype, qclass, **kw)
                        total += 1
                        label = f"{name} {qclass} {qtype} {transport} edns={edns is not None}"
                        if ref is None or got is None:
                            failures.append(f"{label}: no reply from {'knot' if ref is None else 'signpost'}")
                            continue
                        d = differences(ref, got)
                        if d:
                            failures.append(f"{label}:\n  " + "\n  ".join(d))
        print(f"\nconventions differential: {total} queries, {total - len(failures)} identical",
              file=sys.stderr)
        if failures:
            self.fail(f"{len(failures)} of {total} differ from Knot:\n" + "\n".join(failures[:30]))

    def test_chaos_identity_queries_have_knots_shape(self):
        # Knot answers with its own identity and version; the shape must be the same.
        for name in ("id.server.", "hostname.bind.", "version.bind.", "version.server.", "Version.Bind."):
            ref = st.query(self.knot.port, name, "TXT", "CH", edns={})
            got = st.query(self.signpost.port, name, "TXT", "CH", edns={})
            self.assertEqual((got.rcode_name, got.aa, got.tc, got.question_bytes),
                             (ref.rcode_name, ref.aa, ref.tc, ref.question_bytes), name)
            self.assertEqual([(rr.name, rr.type, rr.cls, rr.ttl) for rr in got.answer],
                             [(rr.name, rr.type, rr.cls, rr.ttl) for rr in ref.answer], name)
            self.assertEqual((len(got.authority), len(got.records("additional"))),
                             (len(ref.authority), len(ref.records("additional"))), name)


if __name__ == "__main__":
    st.main()
