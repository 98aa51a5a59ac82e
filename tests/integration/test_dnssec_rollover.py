# DNSSEC key rollovers as commands (issue 15), with TTLs and margins of seconds so a
# whole rollover takes seconds:
# - ZSK pre-publish (RFC 7583 3.2): `signpost dnssec rollover example.com --zsk` while a
#   validating Unbound whose trust anchor is the zone's KSK keeps returning AD for www
#   and for an NXDOMAIN at every poll; the new ZSK signs only once it has been in the
#   DNSKEY set for DNSKEY TTL + propagation, the old one leaves the DNSKEY set only
#   after its signatures' TTL.
# - KSK double-DS with CDS (RFC 7583 3.3.2, RFC 7344): after `rollover --ksk` both DS
#   come out of `signpost dnssec ds` and CDS/CDNSKEY hold both keys while the old KSK
#   alone signs DNSKEY; after `ds-seen` CDS holds the new key alone, then only the new
#   KSK signs DNSKEY, and an Unbound with the new KSK as its trust anchor validates.
# - CSK double-DS (`rollover --csk`; --zsk refused): the new CSK signs nothing until
#   ds-seen, then everything beside the old one, then alone; an Unbound anchored on
#   the new CSK validates.
# Every wait is a poll with a deadline; the time assertions are lower bounds that
# hold whatever the machine's speed (a key file's time is a whole second).
import base64
import re
import shutil
import struct
import tempfile
import time
import unittest
from pathlib import Path

import signpost_test as st
from unbound_server import Unbound

TTL = 2          # SOA TTL (the DNSKEY TTL) and every record's TTL: the largest TTL
PROPAGATION = 2  # [dnssec] propagation
DS_TTL = 2       # [dnssec] ds_ttl

ZONE_TEMPLATE = f"""
origin = "example.com"
ttl = {TTL}
[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
ttl = {TTL}
minimum = {TTL}
[records."@"]
NS = "ns1.example.com."
[records.ns1]
A = "192.0.2.53"
[records.www]
A = "192.0.2.10"
[dnssec]
sign = true
keys = "KEYS"
lifetime = "2d"
refresh = "1d"
propagation = "{PROPAGATION}s"
ds_ttl = "{DS_TTL}s"
"""


def key_tag(rdata_text):
    """RFC 4034 appendix B over "FLAGS PROTO ALG BASE64"."""
    f = rdata_text.split()
    wire = struct.pack("!HBB", int(f[0]), int(f[1]), int(f[2])) + base64.b64decode("".join(f[3:]))
    acc = 0
    for i, b in enumerate(wire):
        acc += b if i & 1 else b << 8
    acc += acc >> 16
    return acc & 0xFFFF


def key_files(keys):
    """{tag: (flags, "example.com. DNSKEY ..." anchor line)} of the .key files."""
    out = {}
    for p in keys.glob("Kexample.com.+*.key"):
        for line in p.read_text().splitlines():
            if line and not line.startswith(";"):
                rdata = line.split("DNSKEY", 1)[1].strip()
                out[key_tag(rdata)] = (int(rdata.split()[0]), " ".join(line.replace(" IN ", " ").split()))
    return out


def rrsig_tags(r, covered):
    """Key tags of the RRSIGs over `covered` in the answer."""
    return sorted(int(d.split()[6]) for d in r.rdatas("answer", "RRSIG") if d.split()[0] == covered)


class Base(unittest.TestCase):
    KEYS = "ksk+zsk"

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="signpost-rollover-"))
        self.keys = self.tmp / "keys"
        self.keys.mkdir(mode=0o700)
        self.zones = st.ZoneDir({"example.com.toml": ZONE_TEMPLATE.replace("KEYS", self.KEYS)})
        self.api_port = st.free_port()
        self.cfg = self.tmp / "signpost.toml"
        self.cfg.write_text(f'zones = "{self.zones.path}"\ndnssec_key_dir = "{self.keys}"\n'
                            f'[api]\nlisten = "127.0.0.1:{self.api_port}"\ntoken = "rollover-test-token"\n')
        p = self.cli("ds", "--create")
        self.assertEqual(p.returncode, 0, p.stderr)
        files = key_files(self.keys)
        self.assertEqual(sorted(f for f, _ in files.values()), [256, 257] if self.KEYS == "ksk+zsk" else [257])
        self.ksk = next(t for t, (f, _) in files.items() if f == 257)
        self.zsk = next((t for t, (f, _) in files.items() if f == 256), None)
        self.server = st.Signpost(self.zones, extra_args=["--config", str(self.cfg)],
                                  label="signpost, rollover").start()
        self.unbounds = []

    def tearDown(self):
        try:
            for u in self.unbounds:
                u.stop()
            self.server.stop()
        finally:
            self.server.kill()
            self.zones.cleanup()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def cli(self, cmd, *args):
        return st.run_cli("dnssec", cmd, "example.com", *args, "--config", self.cfg)

    def unbound(self, tag):
        u = Unbound("example.com", self.server.port, key_files(self.keys)[tag][1], label=f"unbound, anchor {tag}")
        self.unbounds.append(u)
        return u.start()

    def validates(self, u):
        r = u.dig("www.example.com", "A")
        self.assertEqual((r.status, r.rdatas("answer", "A")), ("NOERROR", ["192.0.2.10"]), f"{r}\n{u.log()[-3000:]}")
        self.assertIn("ad", r.flags, f"www not validated\n{r}\n{u.log()[-3000:]}")
        r = u.dig("nothing.example.com", "A")
        self.assertEqual(r.status, "NXDOMAIN", f"{r}\n{u.log()[-3000:]}")
        self.assertIn("ad", r.flags, f"NXDOMAIN not validated\n{r}\n{u.log()[-3000:]}")

    def apex(self, qtype):
        return self.server.dig("example.com", qtype, do=True)

    def dnskey_tags(self):
        return sorted(key_tag(d) for d in self.apex("DNSKEY").rdatas("answer", "DNSKEY"))


class Rollover(Base):
    def test_zsk_rollover_keeps_validating_throughout(self):
        u = self.unbound(self.ksk)
        st.wait_until(lambda: self.server.dig("www.example.com", "A", do=True).rdatas("answer", "RRSIG"),
                      timeout=10, what="signed answers")
        self.validates(u)
        before = int(time.time())  # the new key's Publish is at least this (whole seconds)
        p = self.cli("rollover", "--zsk")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        print(f"\n[rollover --zsk]\n{p.stdout}", end="")
        m = re.search(r"new ZSK (\d+) ", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        new = int(m.group(1))
        self.assertIn("reload:", p.stdout)
        self.assertIn(f"old ZSK {self.zsk}: signs until ", p.stdout)
        # The rule in the key files: Activate - Publish = DNSKEY TTL + propagation.
        priv = next(self.keys.glob(f"Kexample.com.+013+{new:05d}.private")).read_text()
        pub_t = int(re.search(r"^Publish: (\d+)$", priv, re.M).group(1))
        act_t = int(re.search(r"^Activate: (\d+)$", priv, re.M).group(1))
        self.assertEqual(time.mktime(time.strptime(str(act_t), "%Y%m%d%H%M%S")) -
                         time.mktime(time.strptime(str(pub_t), "%Y%m%d%H%M%S")), TTL + PROPAGATION)

        seen_published = None  # when the new ZSK was first seen in DNSKEY
        last_old_signing = None  # the send time of the last answer the old ZSK signed
        new_signed = False
        deadline = time.monotonic() + 60
        while True:
            self.assertLess(time.monotonic(), deadline, "the rollover did not end within 60 s\n" + self.server.stderr())
            sent = time.time()
            tags = self.dnskey_tags()
            www = self.server.dig("www.example.com", "A", do=True)
            nx = self.server.dig("nothing.example.com", "A", do=True)
            got = time.time()
            signers = set(rrsig_tags(www, "A"))
            # One ZSK signs at a time, every signer is in the DNSKEY set, and the
            # denial is signed by the same key.
            self.assertEqual(len(signers), 1, www)
            self.assertTrue(signers <= set(tags), (signers, tags))
            nx_signers = {int(d.split()[6]) for d in nx.rdatas("authority", "RRSIG")}
            self.assertEqual(len(nx_signers), 1, nx)
            if nx_signers != signers:
                # The server switched keys between the two queries (www was asked first).
                self.assertEqual((signers, nx_signers), ({self.zsk}, {new}), nx)
            if new in tags and seen_published is None:
                seen_published = sent
            if self.zsk in signers:
                self.assertFalse(new_signed, "the old ZSK signs again")
                last_old_signing = sent
            if new in signers or new in nx_signers:
                new_signed = True
                # Published at `before` at the earliest, signing at Activate at the earliest.
                self.assertGreaterEqual(got - before, TTL + PROPAGATION, "the new ZSK signed too early")
            if self.zsk not in tags:
                # The old ZSK left the DNSKEY set: its last signatures are at least TTL old.
                self.assertTrue(new_signed)
                self.assertGreaterEqual(got - last_old_signing, TTL, "the old ZSK left DNSKEY too early")
                break
            self.validates(u)
        self.assertIsNotNone(seen_published)
        self.validates(u)
        self.assertEqual(self.dnskey_tags(), sorted([self.ksk, new]))
        self.assertNotIn("validation failure", u.log())
        # The status shows each key's state.
        st.wait_until(lambda: "ZSK" in st.run_cli("status", "--api", f"127.0.0.1:{self.api_port}").stdout, timeout=10)
        status = st.run_cli("status", "--api", f"127.0.0.1:{self.api_port}").stdout
        print(f"[status]\n{status}", end="")
        self.assertIn(f"ZSK {new}", status)

    def test_zsk_refused_for_a_csk_zone_and_while_running(self):
        p = self.cli("rollover", "--zsk", "--no-reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.cli("rollover", "--zsk", "--no-reload")
        self.assertEqual(p.returncode, 1)
        self.assertIn("a ZSK rollover is running", p.stderr)
        p = self.cli("rollover", "--csk")
        self.assertEqual(p.returncode, 1)
        self.assertIn('has keys = "ksk+zsk": there is no CSK', p.stderr)
        p = self.cli("ds-seen", "12345" if self.ksk != 12345 and self.zsk != 12345 else "12346")
        self.assertEqual(p.returncode, 1)
        self.assertIn("has no key with tag", p.stderr)
        p = st.run_cli("dnssec", "rollover", "nowhere.example", "--zsk", "--config", self.cfg)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no zone nowhere.example", p.stderr)

    def test_a_reload_with_bad_timing_keeps_the_running_keys(self):
        st.wait_until(lambda: self.server.dig("www.example.com", "A", do=True).rdatas("answer", "RRSIG"),
                      timeout=10, what="signed answers")
        priv = next(self.keys.glob(f"Kexample.com.+013+{self.zsk:05d}.private"))
        good = priv.read_text()
        api = ["--api", f"127.0.0.1:{self.api_port}", "--token", "rollover-test-token"]
        # The only ZSK would stop signing in an hour: the zone would go unsigned then.
        later = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 3600))
        for text, expect in ((good + f"Inactive: {later}\n", "no ZSK signs the zone's data"),
                             (good + "Inactive: tomorrow\n",
                              f"{priv}:{good.count(chr(10)) + 1}:11: error: Inactive must be a time")):
            priv.chmod(0o600)
            priv.write_text(text)
            priv.chmod(0o400)
            p = st.run_cli("reload", *api)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn(expect, p.stdout + p.stderr)
            self.assertEqual(rrsig_tags(self.server.dig("www.example.com", "A", do=True), "A"), [self.zsk])
        status = st.run_cli("status", "--api", f"127.0.0.1:{self.api_port}").stdout
        self.assertIn("last reload: FAILED", status)
        priv.chmod(0o600)
        priv.write_text(good)
        priv.chmod(0o400)
        self.assertEqual(st.run_cli("reload", *api).returncode, 0)

    def test_ksk_double_ds(self):
        old_u = self.unbound(self.ksk)
        self.validates(old_u)
        p = self.cli("rollover", "--ksk")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        print(f"\n[rollover --ksk]\n{p.stdout}", end="")
        new = int(re.search(r"new KSK (\d+) ", p.stdout).group(1))
        self.assertIn(f"signpost dnssec ds-seen example.com {new}", p.stdout)
        ds = self.cli("ds")
        self.assertEqual(ds.returncode, 0, ds.stderr)
        print(f"[ds, rollover running]\n{ds.stdout}", end="")
        self.assertEqual(sorted(int(m) for m in re.findall(r"IN DS (\d+) ", ds.stdout)), sorted([self.ksk, new]))
        # The daemon reloaded: CDS and CDNSKEY hold both, the old KSK alone signs DNSKEY.
        st.wait_until(lambda: len(self.apex("CDS").rdatas("answer", "CDS")) == 2, timeout=10, what="two CDS")
        self.assertEqual(sorted(int(d.split()[0]) for d in self.apex("CDS").rdatas("answer", "CDS")),
                         sorted([self.ksk, new]))
        self.assertEqual(sorted(key_tag(d) for d in self.apex("CDNSKEY").rdatas("answer", "CDNSKEY")),
                         sorted([self.ksk, new]))
        self.assertEqual(rrsig_tags(self.apex("DNSKEY"), "DNSKEY"), [self.ksk])
        self.assertIn(new, self.dnskey_tags())
        self.validates(old_u)

        p = self.cli("ds-seen", str(new))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        print(f"[ds-seen]\n{p.stdout}", end="")
        ds = self.cli("ds")
        print(f"[ds, after ds-seen]\n{ds.stdout}", end="")
        self.assertEqual([int(m) for m in re.findall(r"IN DS (\d+) ", ds.stdout)], [new])
        st.wait_until(lambda: [int(d.split()[0]) for d in self.apex("CDS").rdatas("answer", "CDS")] == [new],
                      timeout=10, what="CDS with the new KSK alone")
        self.assertEqual([key_tag(d) for d in self.apex("CDNSKEY").rdatas("answer", "CDNSKEY")], [new])
        # Both sign DNSKEY until resolvers dropped the old DS (DS TTL + propagation),
        # then the new KSK alone.
        st.wait_until(lambda: rrsig_tags(self.apex("DNSKEY"), "DNSKEY") == [new], timeout=30,
                      what="DNSKEY signed by the new KSK alone")
        new_u = self.unbound(new)
        self.validates(new_u)
        # The old KSK leaves the DNSKEY set after the DNSKEY TTL + propagation.
        st.wait_until(lambda: self.ksk not in self.dnskey_tags(), timeout=30, what="the old KSK gone")
        self.validates(new_u)
        self.assertEqual(self.dnskey_tags(), sorted([new, self.zsk]))
        self.assertNotIn("validation failure", new_u.log())
        p = self.cli("ds-seen", str(new))
        self.assertEqual(p.returncode, 1)
        self.assertIn("signs already", p.stderr)



class CskRollover(Base):
    KEYS = "csk"

    def test_csk_double_ds(self):
        old_u = self.unbound(self.ksk)
        self.validates(old_u)
        p = self.cli("rollover", "--zsk")
        self.assertEqual(p.returncode, 1)
        self.assertIn('has keys = "csk"', p.stderr)
        p = self.cli("rollover", "--csk")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        print(f"\n[rollover --csk]\n{p.stdout}", end="")
        new = int(re.search(r"new CSK (\d+) ", p.stdout).group(1))
        st.wait_until(lambda: len(self.apex("CDS").rdatas("answer", "CDS")) == 2, timeout=10, what="two CDS")
        www = self.server.dig("www.example.com", "A", do=True)
        self.assertEqual(rrsig_tags(www, "A"), [self.ksk])  # the new CSK signs nothing yet
        self.validates(old_u)
        p = self.cli("ds-seen", str(new))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        st.wait_until(lambda: [int(d.split()[0]) for d in self.apex("CDS").rdatas("answer", "CDS")] == [new],
                      timeout=10, what="CDS with the new CSK alone")
        # Both sign everything, then the new CSK alone; the old one leaves DNSKEY.
        st.wait_until(lambda: rrsig_tags(self.server.dig("www.example.com", "A", do=True), "A") == [new],
                      timeout=30, what="www signed by the new CSK alone")
        self.assertEqual(rrsig_tags(self.apex("DNSKEY"), "DNSKEY"), [new])
        new_u = self.unbound(new)
        self.validates(new_u)
        st.wait_until(lambda: self.dnskey_tags() == [new], timeout=30, what="the old CSK gone")
        self.validates(new_u)
        self.assertNotIn("validation failure", new_u.log())


if __name__ == "__main__":
    st.main()
