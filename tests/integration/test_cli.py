# The command line: `check` (exit codes, every problem with file:line:col),
# `serve` (refuses broken zones, SIGTERM/SIGINT exit 0 with sockets closed,
# IPv6 and several --listen addresses, --config with flags on top, bind
# failures) and `import` (its TOML loads and serves).
import re
import shutil
import signal
import socket
import unittest
from pathlib import Path

import signpost_test as st
from signpost_test import FIXTURES

BAD = FIXTURES / "bad"


def line_of(path, needle, nth=1):
    """1-based line (and 1-based column of `needle`) of the nth line containing needle."""
    seen = 0
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return i, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in {path}")


class Check(unittest.TestCase):
    def check(self, path):
        return st.run_cli("check", path)

    def assertDiag(self, out, file, line, what, cols=None):
        """A diagnostic `...file:line:col: error: ...what...` is in `out`."""
        pat = re.compile(rf"(^|[/\s]){re.escape(file)}:{line}:(\d+): error: (.*)$", re.M)
        hits = [m for m in pat.finditer(out) if re.search(what, m.group(3), re.I)]
        self.assertTrue(hits, f"no diagnostic {file}:{line}:<col>: error: ~/{what}/ in:\n{out}")
        if cols is not None:
            self.assertIn(int(hits[0].group(2)), cols, f"column of {hits[0].group(0)!r}")

    def test_good_directory(self):
        p = self.check(FIXTURES / "basic")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertNotIn("error", (p.stdout + p.stderr).lower())

    def test_good_single_file(self):
        p = self.check(FIXTURES / "basic" / "example.com.toml")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)

    def test_example_config_is_good(self):
        p = self.check(st.REPO / "examples" / "failover")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)

    def test_syntax_error(self):
        p = self.check(BAD / "bad_syntax.toml")
        self.assertEqual(p.returncode, 1, p.stderr + p.stdout)
        out = p.stdout + p.stderr
        self.assertRegex(out, r"bad_syntax\.toml:3:\d+: error: ", out)

    def test_every_error_reported_with_position(self):
        f = BAD / "bad_values.toml"
        p = self.check(f)
        self.assertEqual(p.returncode, 1, p.stderr + p.stdout)
        out = p.stdout + p.stderr
        ln, col = line_of(f, '"192.0.2.300"')
        self.assertDiag(out, "bad_values.toml", ln, r"192\.0\.2\.300", cols={1, col, col + 1})
        self.assertDiag(out, "bad_values.toml", ln, r"www")
        ln, col = line_of(f, '"not-an-address"')
        self.assertDiag(out, "bad_values.toml", ln, r"not-an-address", cols={1, col, col + 1})
        ln, _ = line_of(f, 'MX = "mail"')
        self.assertDiag(out, "bad_values.toml", ln, r"MX")
        # CNAME and other data at one name (RFC 1034 3.6.2): reported at one of the two lines
        l1, _ = line_of(f, 'CNAME = "www"')
        l2, _ = line_of(f, 'A = "192.0.2.8"')
        self.assertTrue(re.search(rf"bad_values\.toml:({l1}|{l2}|{l1 - 1}):\d+: error: .*CNAME", out),
                        f"CNAME-and-other-data not reported:\n{out}")
        ln, _ = line_of(f, "NOSUCHTYPE")
        self.assertDiag(out, "bad_values.toml", ln, r"NOSUCHTYPE")
        ln, _ = line_of(f, "ttl = -5")
        self.assertDiag(out, "bad_values.toml", ln, r"ttl|-5")
        errors = re.findall(r"bad_values\.toml:\d+:\d+: error:", out)
        self.assertGreaterEqual(len(errors), 6, f"not every problem reported:\n{out}")

    def test_missing_origin(self):
        p = self.check(BAD / "missing_origin.toml")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stdout + p.stderr, r"missing_origin\.toml(:\d+:\d+)?: error: .*origin")

    def test_missing_include(self):
        p = self.check(BAD / "bad_include.toml")
        self.assertEqual(p.returncode, 1)
        out = p.stdout + p.stderr
        self.assertRegex(out, r"bad_include\.toml:2:\d+: error: .*does-not-exist\.zone", out)

    def test_error_inside_included_master_file(self):
        p = self.check(BAD / "broken_master.toml")
        self.assertEqual(p.returncode, 1)
        out = p.stdout + p.stderr
        self.assertRegex(out, r"broken_master\.zone:4(:\d+)?: error: ", out)

    def test_directory_reports_every_file(self):
        p = self.check(BAD)
        self.assertEqual(p.returncode, 1)
        out = p.stdout + p.stderr
        for name in ("bad_syntax.toml", "bad_values.toml", "missing_origin.toml", "bad_include.toml",
                     "broken_master"):
            self.assertIn(name, out)

    def test_warning_only_exits_zero(self):
        # an in-zone NS target without an address is a warning (docs/zones.md), not an error
        with st.ZoneDir({"example.com.toml": """
                origin = "example.com"
                [records."@"]
                NS = ["ns1", "ns2"]
                [records.ns1]
                A = "192.0.2.53"
                """}) as zd:
            p = self.check(zd.path)
            out = p.stdout + p.stderr
            self.assertEqual(p.returncode, 0, out)
            self.assertRegex(out, r"example\.com\.toml:\d+:\d+: warning: .*ns2", out)

    def test_duplicate_origin_is_an_error(self):
        with st.ZoneDir({"a.toml": 'origin = "example.com"\n[records."@"]\nNS = "ns1.example.net."\n',
                         "b.toml": 'origin = "example.com."\n[records."@"]\nNS = "ns2.example.net."\n'}) as zd:
            p = self.check(zd.path)
            out = p.stdout + p.stderr
            self.assertEqual(p.returncode, 1, out)
            self.assertRegex(out, r"b\.toml(:\d+:\d+)?: error: .*example\.com", out)

    def test_missing_path(self):
        p = self.check(BAD / "no-such-file.toml")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no-such-file.toml", p.stdout + p.stderr)

    def test_server_config_and_the_zones_it_names(self):
        p = st.run_cli("check", "--config", "examples/hostnames/signpost.toml")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertIn("signpost.toml: ok: listen 127.0.0.1:8053", p.stdout)
        self.assertIn("examples/hostnames/zones: ok: 1 zone(s)", p.stdout)

    def test_server_config_errors_with_position_and_bad_zones(self):
        with st.ZoneDir({"example.com.toml": 'origin = "example.com"\n[records."@"]\nNS = "ns1.example.net."\nA = "1.2.3.999"\n'}) as zd:
            conf = Path(zd.path) / "server.conf"
            conf.write_text('zones = "%s"\nresolvers = ["10.0.0.300"]\nresolve_timeout = "forever"\n' % zd.path)
            p = st.run_cli("check", "--config", conf)
            out = p.stdout + p.stderr
            self.assertEqual(p.returncode, 1, out)
            self.assertDiag(out, "server.conf", 2, "resolvers.*10\\.0\\.0\\.300", cols=[14])
            self.assertDiag(out, "server.conf", 3, "resolve_timeout", cols=[19])
            # A good config still checks the zones it names (here: --zones), and their errors count.
            conf.write_text("listen = [\"127.0.0.1:8053\"]\n")
            p = st.run_cli("check", "--config", conf, "--zones", zd.path)
            out = p.stdout + p.stderr
            self.assertEqual(p.returncode, 1, out)
            self.assertIn("server.conf: ok", out)
            self.assertDiag(out, "example.com.toml", 4, "cannot parse")


class Serve(unittest.TestCase):
    def test_refuses_broken_zones(self):
        with st.ZoneDir(copy_from=FIXTURES / "basic") as zd:
            shutil.copy(BAD / "bad_values.toml", zd.path / "example.org.toml")
            s = st.Signpost(zd.path, label="signpost with a broken zone")
            s._pick()
            p = st.subprocess.run(s.argv(), capture_output=True, text=True, timeout=20)
            self.assertNotEqual(p.returncode, 0, "serve started with a broken zone")
            ln, _ = line_of(BAD / "bad_values.toml", '"192.0.2.300"')
            self.assertRegex(p.stderr, rf"example\.org\.toml:{ln}:\d+: error: .*192\.0\.2\.300")
            ln, _ = line_of(BAD / "bad_values.toml", '"not-an-address"')
            self.assertRegex(p.stderr, rf"example\.org\.toml:{ln}:\d+: error: .*not-an-address")
            self.assertIsNone(st.udp_exchange(s.port, st.build_query("example.com", "SOA"), timeout=0.3))

    def test_zones_may_be_one_file(self):
        with st.Signpost(FIXTURES / "basic" / "child.example.com.toml", label="signpost (one file)") as s:
            self.assertEqual(s.dig("www.child.example.com").rdatas(), ["192.0.2.201"])
            self.assertEqual(s.dig("www.example.com").status, "REFUSED")

    def test_missing_zones_dir(self):
        p = st.run_cli("serve", "--zones", FIXTURES / "no-such-dir", "--listen", f"127.0.0.1:{st.free_port()}",
                       timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no-such-dir", p.stderr)

    def test_a_listen_address_in_use_stops_the_start_before_any_probe(self):
        # The failover example probes 127.0.0.10/11:8080; nobody answers there, so a
        # start that probed first would wait for the first round's timeouts.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("127.0.0.1", 0))
            port = taken.getsockname()[1]
            p = st.run_cli("serve", "--zones", st.REPO / "examples" / "failover", "--listen", f"127.0.0.1:{port}",
                           "--no-api", timeout=20)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertRegex(p.stderr, rf"127\.0\.0\.1:{port}.*not starting")
        self.assertNotIn("first probe round", p.stderr)

    def test_a_listen_port_in_the_ephemeral_range_is_warned_about(self):
        # A client of the same user with SO_REUSEPORT (dig) may be given such a port as
        # its source port and then read back its own queries (docs/dns.md).
        for attempt in range(3):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind(("127.0.0.1", 0))  # the kernel hands out ephemeral ports
                port = probe.getsockname()[1]
            s = st.Signpost(FIXTURES / "basic", listen=(("127.0.0.1", port),), label="signpost (ephemeral port)")
            try:
                s.start()
            except st.StartError:
                if "in use" in s.stderr() and attempt < 2:
                    continue
                raise
            try:
                self.assertRegex(s.stderr(), rf"warning dns: listen port {port} of 127\.0\.0\.1:{port} is in the "
                                             r"kernel's ephemeral range \(\d+-\d+\)")
            finally:
                s.stop()
            break
        with st.Signpost(FIXTURES / "basic", label="signpost (port outside the range)") as s:
            self.assertNotIn("ephemeral range", s.stderr())

    def assertClosed(self, host, port):
        with self.assertRaises(OSError, msg=f"TCP {host}:{port} still accepts after exit"):
            st.tcp_connect(port, host, timeout=1.0).close()
        self.assertIsNone(st.udp_exchange(port, st.build_query("example.com", "SOA"), host, timeout=0.3),
                          f"UDP {host}:{port} still answers after exit")

    def test_sigterm_exits_zero_and_closes_sockets(self):
        s = st.Signpost(FIXTURES / "basic", label="signpost (SIGTERM)").start()
        try:
            self.assertEqual(s.dig("www.example.com", "A").status, "NOERROR")
            c = st.tcp_connect(s.port)  # an open client connection must not block the exit
            self.assertEqual(s.stop(signal.SIGTERM, timeout=10), 0)
            c.close()
            self.assertClosed(s.host, s.port)
            # the port can be bound again right away
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET, kind) as b:
                    b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    b.bind(("127.0.0.1", s.port))
        finally:
            s.kill()

    def test_sigint_exits_zero(self):
        s = st.Signpost(FIXTURES / "basic", label="signpost (SIGINT)").start()
        try:
            self.assertEqual(s.stop(signal.SIGINT, timeout=10), 0)
            self.assertClosed(s.host, s.port)
        finally:
            s.kill()

    @unittest.skipUnless(st.ipv6_loopback_available(), "no IPv6 loopback")
    def test_ipv6_listen(self):
        with st.Signpost(FIXTURES / "basic", listen=("::1",), label="signpost [::1]") as s:
            for tcp in (False, True):
                r = st.dig(s.port, "www.example.com", "A", host="::1", tcp=tcp)
                self.assertEqual(r.status, "NOERROR", r)
                self.assertEqual(r.rdatas(), ["192.0.2.1", "192.0.2.2"])
                m = st.query(s.port, "WwW.example.com", "AAAA", host="::1", tcp=tcp)
                self.assertEqual([rr.rdata for rr in m.answer], [socket.inet_pton(socket.AF_INET6, "2001:db8::1")])

    def test_several_listen_addresses(self):
        hosts = ["127.0.0.1", "127.0.0.1"] + (["::1"] if st.ipv6_loopback_available() else [])
        with st.Signpost(FIXTURES / "basic", listen=hosts, label="signpost (several --listen)") as s:
            self.assertEqual(len({p for _, p in s.listen}), len(hosts))
            for host, port in s.listen:
                for tcp in (False, True):
                    with self.subTest(host=host, port=port, tcp=tcp):
                        r = st.dig(port, "www.example.com", "A", host=host, tcp=tcp)
                        self.assertEqual(r.rdatas(), ["192.0.2.1", "192.0.2.2"], r)
        for host, port in s.listen:
            self.assertClosed(host, port)

    def test_malformed_listen_rejected(self):
        # (a missing port means 53, and a bare IPv6 address is allowed: not tested here,
        # since they would bind the real port 53)
        for bad in ("127.0.0.1:", "127.0.0.1:99999", "999.1.1.1:53", "[::1:53", "[::1]53", "[::1]:",
                    "localhost:abc", "127.0.0.1:-1", "not an address"):
            with self.subTest(listen=bad):
                p = st.run_cli("serve", "--zones", FIXTURES / "basic", "--listen", bad, timeout=10)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(bad, p.stderr)

    def test_bind_failure_names_the_address(self):
        # Hold one port number on both UDP and TCP. A free UDP port's number may be
        # taken on TCP by another test running at the same time: try a few (bounded).
        for _ in range(50):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                u.bind(("127.0.0.1", 0))
                port = u.getsockname()[1]
                t.bind(("127.0.0.1", port))
                t.listen()
                break
            except OSError:
                u.close()
                t.close()
        else:
            self.fail("no port number free on both UDP and TCP in 50 tries")
        with u, t:
            p = st.run_cli("serve", "--zones", FIXTURES / "basic", "--listen", f"127.0.0.1:{port}",
                           timeout=15)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(f"127.0.0.1:{port}", p.stderr)

    def test_config_file_and_flags_on_top(self):
        cfg_port = st.free_port()
        with st.ZoneDir({"server.toml": f"""
                zones = "{FIXTURES / 'basic'}"
                listen = ["127.0.0.1:{cfg_port}"]
                workers = 1
                """}) as zd:
            conf = str(zd.path / "server.toml")
            # the config alone
            s = st.Signpost(FIXTURES / "basic", listen=[("127.0.0.1", cfg_port)], label="signpost --config")
            s.argv = lambda: [st.signpost_bin(), "serve", "--config", conf]
            with s:
                self.assertEqual(s.dig("www.example.com").rdatas(), ["192.0.2.1", "192.0.2.2"])
            # --listen overrides the file's listen
            with st.Signpost(FIXTURES / "basic", extra_args=["--config", conf],
                             label="signpost --config --listen") as s2:
                self.assertNotEqual(s2.port, cfg_port)
                self.assertEqual(s2.dig("www.example.com").status, "NOERROR")
                self.assertIsNone(st.udp_exchange(cfg_port, st.build_query("example.com", "SOA"),
                                                  timeout=0.3), "config listen not overridden")

    def test_config_file_errors(self):
        with st.ZoneDir({"server.toml": f"""
                listen = ["127.0.0.1:{st.free_port()}"]
                colour = "blue"
                """}) as zd:
            p = st.run_cli("serve", "--config", zd.path / "server.toml", "--zones", FIXTURES / "basic",
                           timeout=10)
            self.assertNotEqual(p.returncode, 0)
            self.assertRegex(p.stderr, r"server\.toml:2:\d+: error: .*colour")


class Import(unittest.TestCase):
    def test_import_loads_and_serves(self):
        p = st.run_cli("import", "--origin", "example.com", FIXTURES / "import" / "example.com.zone")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("example.com", p.stdout)
        with st.ZoneDir({"example.com.toml": p.stdout}) as zd:
            c = st.run_cli("check", zd.path)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr + "\n--- imported ---\n" + p.stdout)
            with st.Signpost(zd.path, label="signpost (imported)") as s:
                r = s.dig("www.example.com", "A")
                self.assertEqual(r.rrs(), [("www.example.com.", "A", 3600, "192.0.2.1")], r)
                r = s.dig("example.com", "SOA")
                self.assertEqual(r.answer[0].rdata.split()[:3],
                                 ["ns1.example.com.", "hostmaster.example.com.", "2024010101"], r)
                r = s.dig("mail.example.com", "MX")
                self.assertEqual(r.rdatas(), ["10 www.example.com."], r)

    def test_import_broken_master_file(self):
        p = st.run_cli("import", "--origin", "example.com", FIXTURES / "import" / "broken.zone")
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr, r"broken\.zone:5(:\d+)?: error: ")
        self.assertEqual(p.stdout.strip(), "", "no TOML printed for a broken master file")

    def test_import_missing_file(self):
        p = st.run_cli("import", "--origin", "example.com", FIXTURES / "import" / "nope.zone")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("nope.zone", p.stderr)


if __name__ == "__main__":
    st.main()
