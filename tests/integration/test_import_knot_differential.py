# Differential test: Knot DNS serves a master file; signpost serves the TOML that
# `signpost import` made of it; a corpus of queries must get the same rcode, the
# same AA/TC flags and the same RRsets in answer, authority and additional.
# Intended differences are listed in SKIP with a reason.
import os
import sys
import unittest
from pathlib import Path

import knot_server
import signpost_test as st
from signpost_test import FIXTURES

MASTER = FIXTURES / "differential" / "example.com.zone"
MASTER_NET = FIXTURES / "differential" / "example.net.zone"
MASTERS = {"example.com": MASTER, "example.net": MASTER_NET}

TYPES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "SRV", "DS", "CAA", "PTR", "HINFO",
         "SSHFP", "TLSA", "NAPTR", "TYPE65534", "ANY"]

EXTRA_NAMES = [
    # non-existent names
    "nothing.example.com.", "a.b.nothing.example.com.", "nothing.svc.example.com.",
    # empty non-terminals
    "ent.example.com.", "b.ent.example.com.", "deep.wild.example.com.", "wild.example.com.",
    "_tcp.example.com.", "cwild.example.com.",
    # names matched by wildcards, and names the wildcards must not match
    "foo.wild.example.com.", "a.b.c.wild.example.com.", "x.host.wild.example.com.",
    "q.deep.wild.example.com.", "foo.cwild.example.com.", "foo.mxwild.example.com.",
    "something.wild.example.com.",
    # below the cuts
    "www.deleg.example.com.", "x.y.deleg.example.com.", "www.nods.example.com.",
    # mixed case
    "WwW.ExAmPlE.cOm.", "FOO.WILD.example.com.", "DeLeG.example.com.", "www2.EXAMPLE.com.",
    "EXAMPLE.COM.", "MAIL.example.com.",
    # outside the zones
    "example.org.", "www.example.org.", "com.", ".",
]

EXTRA_NAMES_NET = [
    "anything.example.net.", "a.b.c.example.net.", "ANYTHING.Example.NET.", "upper.example.net.",
    "deep.ent.example.net.", "ent.example.net.", "x.sub.deep.ent.example.net.",
    "x.exact.example.net.", "dotted.example.net.", "label.example.net.", "_udp.example.net.",
]

# (qname lowercase or None for any, qtype or None for any): reason. Only header fields
# (rcode, AA) are compared for these.
SKIP = {
    (None, "ANY"): "RFC 8482: both answer ANY with one RRset, but which RRset is the server's choice",
}


def owner_names(path, origin):
    """Every owner name of a master file (absolute, as written: case kept)."""
    names, last = [], None
    for raw in Path(path).read_text().splitlines(True):
        line = raw.rstrip("\n")
        if line.lstrip().startswith(";"):
            continue
        if not line.strip():
            continue
        if line.startswith("$ORIGIN"):
            origin = line.split()[1]
            continue
        if line.startswith("$") or line[0] in " \t":
            continue  # a directive, or the same owner (or a continued record) as before
        owner = line.split()[0]
        if owner == "@":
            owner = origin
        elif not owner.endswith("."):
            owner = f"{owner}.{origin}"
        if owner != last:
            names.append(owner)
        last = owner
    return list(dict.fromkeys(names))


NAME_TYPES = {2, 5, 12, 39}


def canon_rdata(msg, rr):
    """Rdata with compressed names expanded and the names of well-known types lowercased."""
    data = st.expand_rdata(msg.data, rr)
    if rr.type in NAME_TYPES:
        return data.lower()
    if rr.type == 15:
        return data[:2] + data[2:].lower()
    if rr.type == 6:
        m, o, _ = st.read_name(data, 0)
        r, o2, _ = st.read_name(data, o)
        return st.encode_name(m.lower()) + st.encode_name(r.lower()) + data[o2:]
    if rr.type == 33:
        return data[:6] + data[6:].lower()
    return data


def section_set(msg, section):
    return sorted({(rr.name.lower(), rr.type, rr.cls, rr.ttl, canon_rdata(msg, rr))
                   for rr in getattr(msg, section) if rr.type != 41})


def fmt(rows):
    return "\n".join(f"    {name} {ttl} {st.TYPE_NAMES.get(t, f'TYPE{t}')} {rdata.hex()}"
                     for name, t, _cls, ttl, rdata in rows) or "    (empty)"


def compare(ref, got, skip_sections):
    """Returns a list of differences between two parsed replies (ref = Knot)."""
    diffs = []
    if ref.rcode != got.rcode:
        diffs.append(f"rcode {ref.rcode_name} vs {got.rcode_name}")
    if ref.aa != got.aa:
        diffs.append(f"AA {ref.aa} vs {got.aa}")
    if ref.tc != got.tc:
        diffs.append(f"TC {ref.tc} vs {got.tc}")
    if (ref.opt is None) != (got.opt is None):
        diffs.append(f"OPT present {ref.opt is not None} vs {got.opt is not None}")
    if got.question_bytes != ref.question_bytes:
        diffs.append("question not echoed the same")
    if skip_sections or (ref.tc and got.tc):
        return diffs
    for sec in ("answer", "authority", "additional"):
        a, b = section_set(ref, sec), section_set(got, sec)
        if a != b:
            diffs.append(f"{sec} differs:\n  knot:\n{fmt(a)}\n  signpost:\n{fmt(b)}")
    return diffs


class KnotDifferential(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.toml = {}
        for origin, master in MASTERS.items():
            p = st.run_cli("import", "--origin", origin, master)
            if p.returncode != 0:
                raise AssertionError(f"signpost import of {master} failed ({p.returncode}):\n{p.stderr}")
            cls.toml[origin] = p.stdout
        cls.zones = st.ZoneDir({f"{o}.toml": t for o, t in cls.toml.items()})
        cls.knot = knot_server.Knot(MASTERS)
        cls.signpost = st.Signpost(cls.zones.path, label="signpost (imported zones)")
        try:
            cls.knot.start()
            cls.signpost.start()
        except BaseException:
            for o, t in cls.toml.items():
                print(f"--- imported TOML for {o} ---\n{t}", file=sys.stderr)
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

    def run_corpus(self, names, transport, edns):
        total = identical = 0
        failures = []
        for qname in names:
            for qtype in TYPES:
                skip = SKIP.get((qname.lower(), qtype)) or SKIP.get((None, qtype)) \
                    or SKIP.get((qname.lower(), None))
                kw = dict(qid=4321, edns=edns, tcp=(transport == "tcp"))
                ref = st.query(self.knot.port, qname, qtype, **kw)
                got = st.query(self.signpost.port, qname, qtype, **kw)
                total += 1
                if ref is None or got is None:
                    failures.append(f"{qname} {qtype} ({transport}): no reply from "
                                    f"{'knot' if ref is None else 'signpost'}")
                    continue
                diffs = compare(ref, got, bool(skip))
                if diffs:
                    failures.append(f"{qname} {qtype} ({transport}, edns={bool(edns)}):\n  "
                                    + "\n  ".join(diffs))
                else:
                    identical += 1
        return total, identical, failures

    def differential(self, label, names):
        total = identical = 0
        failures = []
        for transport, edns in (("udp", {"size": 1232}), ("udp", None), ("tcp", {"size": 1232})):
            t, i, f = self.run_corpus(names, transport, edns)
            total, identical, failures = total + t, identical + i, failures + f
        print(f"\ndifferential: {total} queries, {identical} identical ({label})", file=sys.stderr)
        if failures:
            shown = "\n".join(failures[:40])
            more = f"\n... and {len(failures) - 40} more" if len(failures) > 40 else ""
            self.fail(f"{len(failures)} of {total} queries differ from Knot:\n{shown}{more}\n"
                      f"--- imported TOML ---\n{self.toml[label]}")

    def test_same_answers(self):
        self.differential("example.com", owner_names(MASTER, "example.com.") + EXTRA_NAMES)

    def test_same_answers_for_master_file_syntax_variety(self):
        self.differential("example.net", owner_names(MASTER_NET, "example.net.") + EXTRA_NAMES_NET)

    def test_any_is_one_rrset(self):
        for name in ("example.com.", "www.example.com.", "foo.wild.example.com."):
            for tcp in (False, True):
                m = st.query(self.signpost.port, name, "ANY", tcp=tcp)
                self.assertEqual(m.rcode_name, "NOERROR")
                self.assertEqual(len({(rr.name.lower(), rr.type) for rr in m.answer}), 1,
                                 f"ANY {name}: {m.answer}")

    def test_import_output_is_stable(self):
        # importing the same file twice gives the same TOML
        for origin, master in MASTERS.items():
            p = st.run_cli("import", "--origin", origin, master)
            self.assertEqual(p.stdout, self.toml[origin])


if __name__ == "__main__":
    st.main()
