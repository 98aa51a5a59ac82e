"""Runtime TXT records for ACME DNS-01 against the real signpost: `signpost txt
set/del` and POST/DELETE /v1/txt are answered by dig at once, names the zone's
runtime_txt does not allow are refused, values expire, survive a SIGTERM and
restart with the same state file, and reach a Knot DNS secondary by NOTIFY and
IXFR with a new serial. The certbot manual hooks and the lego exec script of
examples/acme/ run with the environment and arguments certbot and lego give them."""
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_secondaries as secondaries  # noqa: E402  (its Knot secondary and signpost config)

P, S = "127.0.0.10", "127.0.0.11"
ACME = st.REPO / "examples" / "acme"
NAME = "_acme-challenge.example.com"
# Two challenges at one name, as ACME asks for example.com and *.example.com.
V1 = "MsijOYZxqyjGnFGwhjrhfg-Xgbl5r68WPda0J9EgqqI"
V2 = "kD9n3T0p4Xk1eYw6QwXqV3sS8mR2uJ7hL5cB0aZ9yFo"


def zone(port):
    return 'runtime_txt = ["_acme-challenge"]\n' + failover_zone(port)


def txt(server_port, name, host="127.0.0.1"):
    """The TXT values a server answers for `name` (sorted, unquoted); [] on NODATA/NXDOMAIN."""
    r = st.dig(server_port, name, "TXT", host=host)
    return sorted(v.strip('"') for v in r.rdatas("answer", "TXT"))


def soa_serial(server_port):
    r = st.dig(server_port, "example.com", "SOA")
    soa = r.rdatas("answer", "SOA")
    return int(soa[0].split()[2]) if soa else None


class Base(unittest.TestCase):
    config_extra = ""

    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": zone(self.port)})
        self.dir = Path(tempfile.mkdtemp(prefix="signpost-txt-"))
        self.state = self.dir / "state.json"
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.kill()
            s.cleanup()
        for r in self.regions:
            r.stop()
        self.zones.cleanup()
        for f in self.dir.iterdir():
            f.unlink()
        self.dir.rmdir()

    def start(self, label="signpost"):
        s = ApiSignpost(self.zones, state=self.state, config_extra=self.config_extra, label=label).start()
        s.wait_api()
        self.servers.append(s)
        return s

    def env(self, server):
        e = dict(os.environ)
        e.update({"SIGNPOST": st.signpost_bin(), "SIGNPOST_API": server.api, "SIGNPOST_TOKEN": server.token})
        return e

    def script(self, server, name, *args, extra_env=None):
        env = self.env(server)
        env.update(extra_env or {})
        r = subprocess.run([str(ACME / name), *args], capture_output=True, text=True, timeout=180, env=env)
        print(f"\n$ {name} {' '.join(args)}\n{r.stdout}{r.stderr}", end="")
        return r


class TestRuntimeTxt(Base):
    def test_cli_set_and_del_are_answered_at_once(self):
        s = self.start()
        self.assertEqual(txt(s.port, NAME), [])
        r = s.cli("txt", "set", NAME, V1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f'{NAME} TXT "{V1}" set (ttl 60 s, for 1h)\n')
        self.assertEqual(txt(s.port, NAME), [V1])  # no waiting: the View is published before the reply
        r = s.cli("txt", "set", NAME + ".", V2, "--ttl", "30", "--for", "10m")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = s.dig(NAME, "TXT")
        self.assertTrue(d.aa)
        self.assertEqual(sorted(v.strip('"') for v in d.rdatas("answer", "TXT")), sorted([V1, V2]))
        self.assertEqual({int(rr[2]) for rr in d.rrs("answer")}, {30}, "one RRset, the lowest TTL")
        # The same value again renews it and changes nothing.
        r = s.cli("txt", "set", NAME, V1)
        self.assertIn("was set already: renewed", r.stdout)
        listing = s.cli("txt", "list")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        print("\n$ signpost txt list\n" + listing.stdout, end="")
        self.assertEqual(len(re.findall(rf"^  {re.escape(NAME)} ", listing.stdout, re.M)), 2)
        status = s.cli("status")
        self.assertIn("runtime TXT records", status.stdout)

        r = s.cli("txt", "del", NAME, V1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f'{NAME} TXT "{V1}" deleted\n')
        self.assertEqual(txt(s.port, NAME), [V2])
        r = s.cli("txt", "del", NAME)
        self.assertEqual(r.stdout, f"{NAME}: 1 runtime TXT value(s) deleted\n")
        self.assertEqual(txt(s.port, NAME), [])
        # The wildcard service answers the name again.
        self.assertEqual(s.dig(NAME, "A").rdatas("answer", "A"), [P])
        log = s.stderr()
        self.assertIn(f'txt set: {NAME} TXT "{V1}" set (ttl 60 s, for 1h)', log)
        self.assertIn(f'txt del: {NAME} TXT "{V1}" deleted', log)

    def test_refusals_exit_non_zero_with_the_servers_message(self):
        s = self.start()
        r = s.cli("txt", "set", "www.example.com", V1)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "signpost: zone example.com allows runtime TXT records only at "
                                   "_acme-challenge.<name> (runtime_txt in " + str(self.zones) +
                                   "/example.com.toml), not at www.example.com\n")
        r = s.cli("txt", "set", "_acme-challenge.example.org", V1)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "signpost: no zone of this server contains _acme-challenge.example.org\n")
        r = s.cli("txt", "set", NAME, "x" * 256)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the value is 256 bytes; at most 255", r.stderr)
        r = s.cli("txt", "set", NAME, V1, token=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing token", r.stderr)
        self.assertEqual(txt(s.port, "www.example.com"), [])
        self.assertEqual(txt(s.port, NAME), [])

    def test_api_routes(self):
        s = self.start()
        code, body, _ = s.http("POST", "/v1/txt", {"name": NAME, "value": V1, "ttl": 120, "for": "5m"}, token=s.token)
        self.assertEqual(code, 200, body)
        self.assertTrue(body["ok"])
        self.assertEqual(txt(s.port, NAME), [V1])
        code, body, _ = s.http("GET", "/v1/txt")
        self.assertEqual(code, 200)
        self.assertEqual(len(body["records"]), 1)
        rec = body["records"][0]
        self.assertEqual((rec["name"], rec["zone"], rec["value"], rec["ttl"]), (NAME, "example.com", V1, 120))
        self.assertRegex(rec["expires"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(s.status()["runtime_txt"], body["records"])
        code, body, _ = s.http("POST", "/v1/txt", {"name": "www.example.com", "value": V1}, token=s.token)
        self.assertEqual(code, 403, body)
        code, body, _ = s.http("POST", "/v1/txt", {"name": "_acme-challenge.example.net", "value": V1}, token=s.token)
        self.assertEqual(code, 404, body)
        code, body, _ = s.http("POST", "/v1/txt", {"name": NAME, "value": V2})
        self.assertEqual(code, 401, body)
        code, body, headers = s.http("PUT", "/v1/txt", {"name": NAME, "value": V2}, token=s.token)
        self.assertEqual(code, 405, body)
        self.assertEqual(headers["Allow"], "GET, HEAD, POST, DELETE")
        code, body, _ = s.http("DELETE", f"/v1/txt?name={NAME}&value={V1}", token=s.token)
        self.assertEqual(code, 200, body)
        self.assertEqual(txt(s.port, NAME), [])
        code, body, _ = s.http("DELETE", f"/v1/txt?name={NAME}", token=s.token)
        self.assertEqual((code, body["message"]), (200, f"no runtime TXT records at {NAME}: nothing to delete"))

    def test_expiry_and_restart_with_the_state_file(self):
        s = self.start("signpost run 1")
        self.assertEqual(s.cli("txt", "set", NAME, V1, "--for", "1h").returncode, 0)
        self.assertEqual(s.cli("txt", "set", "_acme-challenge.www.example.com", V2, "--for", "2s").returncode, 0)
        self.assertEqual(txt(s.port, "_acme-challenge.www.example.com"), [V2])
        st.wait_until(lambda: txt(s.port, "_acme-challenge.www.example.com") == [], timeout=30, interval=0.1,
                      what="the 2 s value expired")
        self.assertIn(f'txt expired: _acme-challenge.www.example.com TXT "{V2}"', s.stderr())
        serial = soa_serial(s.port)
        s.stop()
        # Started again with the same state file: the first answer has it, the serial is kept.
        s2 = self.start("signpost run 2")
        self.assertEqual(txt(s2.port, NAME), [V1])
        self.assertEqual(soa_serial(s2.port), serial)
        self.assertRegex(s2.stderr(), r"state file: .*1 runtime TXT record\(s\)")
        # A reload whose zone no longer allows the name drops the record, logged.
        self.zones.write("example.com.toml", failover_zone(self.port))
        self.assertEqual(s2.cli("reload").returncode, 0)
        st.wait_until(lambda: txt(s2.port, NAME) == [], timeout=30, interval=0.1, what="the record dropped")
        self.assertIn(f"txt dropped: {NAME} (1 value(s)): zone example.com allows no runtime TXT records", s2.stderr())

    def test_certbot_hooks_and_lego_exec_script(self):
        s = self.start()
        servers = {"SIGNPOST_ACME_SERVERS": f"127.0.0.1:{s.port}", "SIGNPOST_ACME_WAIT": "30"}
        # certbot -d example.com -d '*.example.com': two auth hook runs for one name.
        for value in (V1, V2):
            r = self.script(s, "certbot-auth-hook",
                            extra_env={"CERTBOT_DOMAIN": "example.com", "CERTBOT_VALIDATION": value,
                                       "CERTBOT_REMAINING_CHALLENGES": "0", **servers})
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(txt(s.port, NAME), sorted([V1, V2]))
        for value in (V1, V2):
            r = self.script(s, "certbot-cleanup-hook", extra_env={"CERTBOT_DOMAIN": "example.com",
                                                                  "CERTBOT_VALIDATION": value})
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(txt(s.port, NAME), [])
        # A second cleanup (certbot retried) succeeds: the value is gone already.
        r = self.script(s, "certbot-cleanup-hook", extra_env={"CERTBOT_DOMAIN": "example.com",
                                                              "CERTBOT_VALIDATION": V1})
        self.assertEqual(r.returncode, 0, r.stderr)
        # Without certbot's variables the hook says what is missing.
        r = self.script(s, "certbot-auth-hook")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("CERTBOT_DOMAIN", r.stderr)

        # lego --dns exec, default mode: present|cleanup FQDN VALUE.
        fqdn = "_acme-challenge.www.example.com."
        r = self.script(s, "signpost-acme", "present", fqdn, V1, extra_env=servers)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(txt(s.port, fqdn), [V1])
        r = self.script(s, "signpost-acme", "cleanup", fqdn, V1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(txt(s.port, fqdn), [])
        # A name the zone does not allow: the script fails with the server's message.
        r = self.script(s, "signpost-acme", "present", "www.example.com.", V1)
        self.assertEqual(r.returncode, 1)
        self.assertIn("allows runtime TXT records only at _acme-challenge.<name>", r.stderr)
        r = self.script(s, "signpost-acme", "remove", fqdn, V1)
        self.assertEqual(r.returncode, 2)


class TestRuntimeTxtSecondary(Base):
    """A Knot DNS secondary transfers the runtime records with a new serial (NOTIFY + IXFR)."""

    def setUp(self):
        super().setUp()
        self.sec_port = st.free_port()
        self.config_extra = secondaries.signpost_config(self.sec_port)
        self.server = self.start("signpost (primary for knotd)")
        self.secondary = secondaries.KnotSecondary(self.sec_port, self.server.port).start()

    def tearDown(self):
        try:
            self.secondary.cleanup()
        finally:
            super().tearDown()

    def test_secondary_sees_runtime_records_with_a_new_serial(self):
        s, sec = self.server, self.secondary
        st.wait_until(lambda: soa_serial(sec.port) == soa_serial(s.port), timeout=30, interval=0.1,
                      what="the secondary at the primary's serial")
        before = soa_serial(s.port)
        t0 = time.monotonic()
        # lego's exec script waits until the secondary answers too.
        r = self.script(s, "signpost-acme", "present", NAME + ".", V1,
                        extra_env={"SIGNPOST_ACME_SERVERS": f"127.0.0.1:{s.port} 127.0.0.1:{sec.port}",
                                   "SIGNPOST_ACME_WAIT": "60"})
        self.assertEqual(r.returncode, 0, r.stderr + sec.log())
        took = time.monotonic() - t0
        self.assertEqual(txt(sec.port, NAME), [V1])
        after = soa_serial(s.port)
        self.assertGreater(after, before)
        st.wait_until(lambda: soa_serial(sec.port) == after, timeout=30, interval=0.1, what="secondary's serial")
        print(f"\nruntime TXT on the secondary {took:.2f} s after `present` started; serial {before} -> {after}")
        r = self.script(s, "signpost-acme", "cleanup", NAME + ".", V1)
        self.assertEqual(r.returncode, 0, r.stderr)
        st.wait_until(lambda: txt(sec.port, NAME) == [], timeout=30, interval=0.1, what="the secondary drops it")
        self.assertGreater(soa_serial(s.port), after)
        log = s.stderr()
        self.assertRegex(log, r"IXFR\S* example\.com serial")
        self.assertRegex(sec.log(), r"IXFR, incoming")


if __name__ == "__main__":
    st.main()
