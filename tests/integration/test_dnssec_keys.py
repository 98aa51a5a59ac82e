# DNSSEC keys (issue 15): `signpost dnssec ds` generates a zone's keys only with
# --create, writes them owner-read-only in BIND's format, prints the same DS as
# ldns-key2ds, finds the same keys again; `signpost serve` generates a signed zone's
# missing key and keeps it across restarts; a zone with [dnssec] sign = true is never
# served unsigned: the start stops when the key directory is missing or not a
# directory, and a reload with a broken key keeps the running signed zone.
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

import signpost_test as st

ZONE = """
origin = "example.com"
[records."@"]
NS = "ns1.example.com."
[records.ns1]
A = "192.0.2.53"
[records.www]
A = "192.0.2.10"
"""


def signed(extra=""):
    return ZONE + "[dnssec]\nsign = true\n" + extra


def ds_lines(text):
    """(tag, alg, digest type, digest upper case) of every DS line."""
    out = []
    for m in re.finditer(r"^example\.com\.\s+\d+\s+IN\s+DS\s+(\d+) (\d+) (\d+) ([0-9A-Fa-f]+)$", text, re.M):
        out.append((int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4).upper()))
    return out


class Ds(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="signpost-dnssec-"))
        self.zones = st.ZoneDir({"example.com.toml": signed()})
        self.keys = self.tmp / "keys"

    def tearDown(self):
        self.zones.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ds(self, *extra):
        return st.run_cli("dnssec", "ds", "example.com", "--zones", self.zones.path, "--key-dir", self.keys, *extra)

    def test_keys_only_with_create_then_the_same_keys_and_ldns_agrees(self):
        p = self.ds()
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("has no keys: the key directory", p.stderr)
        self.assertIn("add --create to generate them", p.stderr)
        self.assertFalse(self.keys.exists())

        p = self.ds("--create")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stderr, r"generated CSK \d+ \(ECDSAP256SHA256\) for example\.com: .*Kexample\.com\.\+013\+\d{5}\.key and \.private")
        first = ds_lines(p.stdout)
        self.assertEqual(len(first), 1, p.stdout)
        tag, alg, dtype, digest = first[0]
        self.assertEqual((alg, dtype), (13, 2))
        self.assertRegex(p.stdout, r"(?m)^example\.com\. \d+ IN DNSKEY 257 3 13 [A-Za-z0-9+/=]+$")
        # The files: BIND's names, owner-read-only, a 0700 directory, nothing else.
        base = self.keys / f"Kexample.com.+013+{tag:05d}"
        self.assertEqual(sorted(f.name for f in self.keys.iterdir()), [base.name + ".key", base.name + ".private"])
        for f in (base.with_name(base.name + ".key"), base.with_name(base.name + ".private")):
            self.assertEqual(stat.S_IMODE(f.stat().st_mode), 0o400, f)
        self.assertEqual(stat.S_IMODE(self.keys.stat().st_mode), 0o700)
        # The secret is in the .private file only: not printed, not logged.
        secret = re.search(r"PrivateKey: (\S+)", (self.keys / (base.name + ".private")).read_text()).group(1)
        self.assertNotIn(secret, p.stdout + p.stderr)

        # ldns-key2ds computes the same DS from the .key file.
        if shutil.which("ldns-key2ds"):
            q = subprocess.run(["ldns-key2ds", "-n", "-2", str(base) + ".key"], capture_output=True, text=True, timeout=20)
            self.assertEqual(q.returncode, 0, q.stderr)
            self.assertEqual(ds_lines(q.stdout), first, q.stdout)
        else:
            print("ldns-key2ds not installed (ldnsutils): DS not cross-checked", flush=True)

        # Again (a restart): the same key, nothing generated.
        p = self.ds()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(ds_lines(p.stdout), first)
        self.assertNotIn("generated", p.stderr)

    def test_ksk_and_zsk_give_one_ds_for_the_ksk(self):
        self.zones.write("example.com.toml", signed('keys = "ksk+zsk"\nalgorithm = "ed25519"\n'))
        p = self.ds("--create")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(re.findall(r"generated (KSK|ZSK) \d+ \(ED25519\)", p.stderr)), 2, p.stderr)
        lines = ds_lines(p.stdout)
        self.assertEqual(len(lines), 1, p.stdout)
        self.assertEqual(lines[0][1], 15)
        self.assertEqual(len(list(self.keys.glob("*.private"))), 2)

    def test_key_directory_from_the_config_state_file(self):
        state_dir = self.tmp / "state"
        state_dir.mkdir(mode=0o700)
        cfg = self.tmp / "signpost.toml"
        cfg.write_text(f'zones = "{self.zones.path}"\nstate_file = "{state_dir}/state.json"\n')
        p = st.run_cli("dnssec", "ds", "example.com", "--config", cfg, "--create")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(list(state_dir.glob("Kexample.com.+013+*.private"))), 1)
        cfg.write_text(f'zones = "{self.zones.path}"\ndnssec_key_dir = "{self.keys}"\n')
        p = st.run_cli("dnssec", "ds", "example.com", "--config", cfg, "--create")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(list(self.keys.glob("*.private"))), 1)

    def test_refusals(self):
        self.zones.write("example.com.toml", ZONE)
        p = self.ds("--create")
        self.assertEqual(p.returncode, 1)
        self.assertIn("zone example.com is not signed ([dnssec] sign = true is not set in", p.stderr)
        self.assertIn("a DS record at the parent of an unsigned zone makes it fail validation", p.stderr)
        self.assertFalse(self.keys.exists())
        p = st.run_cli("dnssec", "ds", "example.net", "--zones", self.zones.path, "--key-dir", self.keys)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"no zone example.net in {self.zones.path}", p.stderr)
        # A world-readable private key is refused.
        self.zones.write("example.com.toml", signed())
        self.assertEqual(self.ds("--create").returncode, 0)
        priv = next(self.keys.glob("*.private"))
        priv.chmod(0o644)
        p = self.ds()
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{priv}: group or others may access this private key (mode 0644); only its owner may: chmod 0400", p.stderr)


class Serve(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="signpost-dnssec-"))
        self.zones = st.ZoneDir({"example.com.toml": signed()})

    def tearDown(self):
        self.zones.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def refused(self, *extra):
        s = st.Signpost(self.zones.path, extra_args=["--no-api", *map(str, extra)], label="signpost with a signed zone")
        s._pick()
        p = subprocess.run(s.argv(), capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0, "served a zone with sign = true unsigned")
        self.assertIsNone(st.udp_exchange(s.port, st.build_query("example.com", "SOA"), timeout=0.3))
        self.assertIn("error dnssec: not starting", p.stderr)
        return p.stderr

    def test_no_key_directory(self):
        err = self.refused()
        self.assertRegex(err, r"example\.com\.toml:\d+:1: error: zone 'example\.com' \[dnssec\]: sign = true needs a key "
                              r"directory: set dnssec_key_dir \(or state_file\) in the server config")

    def test_key_directory_missing_or_not_a_directory(self):
        err = self.refused("--state", self.tmp / "missing" / "state.json")
        self.assertIn(f"dnssec_key_dir {self.tmp}/missing: No such file or directory; create it (mode 0700, owned by the "
                      "user signpost runs as) or set dnssec_key_dir", err)
        afile = self.tmp / "afile"
        afile.write_text("")
        cfg = self.tmp / "signpost.toml"
        cfg.write_text(f'dnssec_key_dir = "{afile}"\n')
        err = self.refused("--config", cfg)
        self.assertIn(f"dnssec_key_dir {afile}: not a directory", err)
        if os.geteuid() != 0:  # root reads and writes any directory
            ro = self.tmp / "ro"
            ro.mkdir(mode=0o500)
            cfg.write_text(f'dnssec_key_dir = "{ro}"\n')
            err = self.refused("--config", cfg)
            self.assertIn(f"dnssec_key_dir {ro}: cannot be read and written by uid", err)

    def test_check_config_reports_what_serve_would_refuse_and_writes_nothing(self):
        keys = self.tmp / "keys"
        keys.mkdir(mode=0o700)
        cfg = self.tmp / "signpost.toml"
        cfg.write_text(f'zones = "{self.zones.path}"\ndnssec_key_dir = "{keys}"\n')
        p = st.run_cli("check", "--config", cfg)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(list(keys.iterdir()), [])  # serve makes the key, check does not
        self.zones.write("example.com.toml", signed('denial = "nsec3"\n'))  # served since issue 15's NSEC3 work
        p = st.run_cli("check", "--config", cfg)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(list(keys.iterdir()), [])
        self.zones.write("example.com.toml", signed())
        cfg.write_text(f'zones = "{self.zones.path}"\ndnssec_key_dir = "{self.tmp}/missing"\n')
        p = st.run_cli("check", "--config", cfg)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"dnssec_key_dir {self.tmp}/missing: No such file or directory", p.stderr)

    def test_a_signed_zone_starts_with_a_generated_key_and_keeps_it(self):
        keys = self.tmp / "keys"
        keys.mkdir(mode=0o700)
        args = ["--no-api", "--state", str(keys / "state.json")]
        with st.Signpost(self.zones.path, extra_args=args, label="signpost, signed") as s:
            m = re.search(r"info dnssec: generated key (\S+Kexample\.com\.\+013\+(\d{5})) \(\.key and \.private, mode 0400\)",
                          s.stderr())
            self.assertIsNotNone(m, s.stderr())
            tag = int(m.group(2))
            self.assertIn(f"zone example.com signs with CSK {tag}", s.stderr())
            r = s.dig("www.example.com", do=True)
            self.assertEqual(r.rdatas("answer", "A"), ["192.0.2.10"])
            sigs = r.rdatas("answer", "RRSIG")
            self.assertEqual(len(sigs), 1, r.text)
            self.assertRegex(sigs[0], rf"^A 13 3 3600 \d{{14}} \d{{14}} {tag} example\.com\. ")
            # Without DO: no RRSIG, as for an unsigned zone.
            self.assertEqual(s.dig("www.example.com").rdatas("answer", "RRSIG"), [])
        with st.Signpost(self.zones.path, extra_args=args, label="signpost, signed, restarted") as s:
            self.assertNotIn("generated key", s.stderr())
            self.assertIn(f"zone example.com signs with CSK {tag}", s.stderr())
            dnskey = s.dig("example.com", "DNSKEY", do=True)
            self.assertEqual(len(dnskey.rdatas("answer", "DNSKEY")), 1)
            self.assertIn(f" {tag} example.com. ", dnskey.rdatas("answer", "RRSIG")[0])
        self.assertEqual(len(list(keys.glob("*.private"))), 1)

    def test_a_reload_turns_signing_on_and_a_broken_key_keeps_the_signed_zone(self):
        keys = self.tmp / "keys"
        keys.mkdir(mode=0o700)
        self.zones.write("example.com.toml", ZONE)
        with st.Signpost(self.zones.path, extra_args=["--no-api", "--state", str(keys / "state.json")],
                         label="signpost, unsigned") as s:
            self.assertEqual(s.dig("www.example.com", do=True).rdatas("answer", "RRSIG"), [])
            self.zones.write("example.com.toml", signed())
            s.send_signal(signal.SIGHUP)
            st.wait_until(lambda: s.dig("www.example.com", do=True).rdatas("answer", "RRSIG"), timeout=15,
                          what="signed answers after the reload that turned signing on")
            tag = re.search(r"zone example\.com signs with CSK (\d+)", s.stderr()).group(1)
            # A key file others may read: the reload fails, the signed zone stays as it was.
            priv = next(keys.glob("*.private"))
            priv.chmod(0o644)
            self.zones.write("example.com.toml", signed().replace("192.0.2.10", "192.0.2.11"))
            s.send_signal(signal.SIGHUP)
            st.wait_until(lambda: "group or others may access this private key" in s.stderr(), timeout=15,
                          what="the reload refused for the broken key")
            self.assertTrue(s.alive())
            r = s.dig("www.example.com", do=True)
            self.assertEqual(r.rdatas("answer", "A"), ["192.0.2.10"])
            self.assertIn(f" {tag} example.com. ", r.rdatas("answer", "RRSIG")[0])

    def test_a_reload_keeps_the_signatures_of_what_did_not_change(self):
        # ECDSA signatures differ each time one is made, so an RRSIG that is the same
        # bytes after the reload was not made again: the View after the reload found it
        # in the View before by what it signs (owner, type, TTL, rdata).
        keys = self.tmp / "keys"
        keys.mkdir(mode=0o700)
        self.zones.write("example.com.toml", signed('denial = "nsec3"\n'))
        with st.Signpost(self.zones.path, extra_args=["--no-api", "--state", str(keys / "state.json")],
                         label="signpost, signed, reloaded") as s:
            def sigs(name, rtype="A"):
                return s.dig(name, rtype, do=True).rdatas("answer", "RRSIG")
            ns1, www, nodata = sigs("ns1.example.com"), sigs("www.example.com"), s.dig("ns1.example.com", "AAAA", do=True)
            self.assertEqual((len(ns1), len(www)), (1, 1))
            denial = sorted(nodata.rdatas("authority", "RRSIG"))
            self.assertGreaterEqual(len(denial), 2)  # the SOA's and the NSEC3's
            # The same text again, then one record changed.
            s.send_signal(signal.SIGHUP)
            st.wait_until(lambda: "reloaded 1 zone(s)" in s.stderr(), timeout=15, what="the first reload")
            self.assertEqual(sigs("ns1.example.com"), ns1)
            self.assertEqual(sigs("www.example.com"), www)
            self.zones.write("example.com.toml", signed('denial = "nsec3"\n').replace("192.0.2.10", "192.0.2.11"))
            s.send_signal(signal.SIGHUP)
            st.wait_until(lambda: s.dig("www.example.com", do=True).rdatas("answer", "A") == ["192.0.2.11"],
                          timeout=15, what="the changed record served after the second reload")
            self.assertEqual(sigs("ns1.example.com"), ns1)  # unchanged: the same signature
            changed = sigs("www.example.com")
            self.assertEqual(len(changed), 1)
            self.assertNotEqual(changed, www)  # changed data: signed anew
            # ns1's NSEC3 (its types did not change) keeps its signature too.
            after = s.dig("ns1.example.com", "AAAA", do=True)
            nsec3_sigs = [r for r in after.rdatas("authority", "RRSIG") if r.startswith("NSEC3 ")]
            self.assertTrue(nsec3_sigs)
            for r in nsec3_sigs:
                self.assertIn(r, denial)


if __name__ == "__main__":
    st.main()
