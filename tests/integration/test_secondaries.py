"""signpost as a hidden primary: real Knot DNS and NSD secondaries transfer the
evaluated zone (AXFR, then IXFR on every change) with TSIG, follow NOTIFY within
seconds of signpost's own failover, and return with the primary. Transfers
without the key, or from an address outside the ACL, are refused. Times and
transfer sizes are printed (SECONDARY_RUNS=n repeats the failover cycle)."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair

P, S = "127.0.0.10", "127.0.0.11"
KEY_NAME = "transfer-key"
KEY_SECRET = "c2lnbnBvc3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
RUNS = int(os.environ.get("SECONDARY_RUNS", "2"))

# Short SOA timers: NOTIFY does the work, refresh is the fallback. Some static
# records make the zone a little more realistic, so an IXFR is smaller than an AXFR.
STATIC = "".join(f'[records.host{i}]\nA = "192.0.2.{100 + i}"\nTXT = "static record {i}"\n' for i in range(20))
ZONE_EXTRA_SOA = STATIC + """
[soa]
refresh = 60
retry = 10
expire = 86400
minimum = 30
"""


def addresses(port, name="www.example.com", host="127.0.0.1"):
    """The A addresses a server answers now (raw UDP query; [] on no answer)."""
    try:
        m = st.query(port, name, "A", host=host, timeout=0.5)
    except OSError:
        return []
    if m is None or m.rcode != 0:
        return []
    return sorted(socket.inet_ntoa(rr.rdata) for rr in m.answer if rr.type == 1)


def soa_serial(port, host="127.0.0.1"):
    r = st.dig(port, "example.com", "SOA", host=host)
    soa = r.rdatas("answer", "SOA")
    return int(soa[0].split()[2]) if soa else None


class Secondary:
    """A DNS server process started with a temp config on 127.0.0.1:<port>, stopped by PID."""

    label = "secondary"

    def __init__(self, port, primary_port):
        self.port, self.primary_port = port, primary_port
        self.dir = Path(tempfile.mkdtemp(prefix=f"signpost-{self.label}-"))
        self.proc = None
        self.log_path = self.dir / "server.log"

    def argv(self):
        raise NotImplementedError

    def start(self, timeout=20.0):
        self.write_config()
        st.register_log(self.label, self.log_path)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        st._LIVE.append(self.proc)
        st.wait_until(lambda: self.serves() or self.proc.poll() is not None, timeout=timeout, interval=0.05,
                      what=f"{self.label} serving example.com after its first transfer")
        if self.proc.poll() is not None:
            raise st.StartError(f"{self.label} exited with {self.proc.returncode}\n{self.log()}")
        return self

    def serves(self):
        try:
            m = st.query(self.port, "example.com", "SOA", timeout=0.3)
        except OSError:
            return False
        return m is not None and m.rcode == 0 and m.aa and bool(m.answer)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc in st._LIVE:
            st._LIVE.remove(self.proc)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class KnotSecondary(Secondary):
    label = "knotd (secondary)"

    def argv(self):
        return ["knotd", "-c", str(self.dir / "knot.conf")]

    def write_config(self):
        for d in ("run", "db", "zones"):
            (self.dir / d).mkdir(exist_ok=True)
        (self.dir / "knot.conf").write_text(f"""\
server:
    rundir: "{self.dir}/run"
    listen: 127.0.0.1@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{self.dir}/db"
key:
  - id: {KEY_NAME}
    algorithm: hmac-sha256
    secret: {KEY_SECRET}
remote:
  - id: signpost
    address: 127.0.0.1@{self.primary_port}
    key: {KEY_NAME}
acl:
  - id: notify_from_signpost
    address: 127.0.0.1
    key: {KEY_NAME}
    action: notify
template:
  - id: default
    storage: "{self.dir}/zones"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
    semantic-checks: off
zone:
  - domain: example.com
    master: signpost
    acl: notify_from_signpost
""")


class NsdSecondary(Secondary):
    label = "nsd (secondary)"

    def argv(self):
        return ["nsd", "-d", "-c", str(self.dir / "nsd.conf")]

    def write_config(self):
        (self.dir / "nsd.conf").write_text(f"""\
server:
    ip-address: 127.0.0.1@{self.port}
    port: {self.port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{self.dir}"
    pidfile: "{self.dir}/nsd.pid"
    xfrdfile: "{self.dir}/xfrd.state"
    xfrdir: "{self.dir}"
    zonelistfile: "{self.dir}/zone.list"
    database: ""
    server-count: 1
    verbosity: 2
    xfrd-reload-timeout: 0
remote-control:
    control-enable: no
key:
    name: "{KEY_NAME}"
    algorithm: hmac-sha256
    secret: "{KEY_SECRET}"
zone:
    name: "example.com"
    zonefile: "example.com.zone"
    request-xfr: 127.0.0.1@{self.primary_port} {KEY_NAME}
    allow-notify: 127.0.0.1 {KEY_NAME}
""")


def signpost_config(secondary_port, allow="127.0.0.1/32"):
    return f"""
[[tsig_keys]]
name = "{KEY_NAME}"
algorithm = "hmac-sha256"
secret = "{KEY_SECRET}"

[[secondaries]]
zones = ["example.com"]
address = "127.0.0.1:{secondary_port}"
allow_transfer_from = ["{allow}"]
key = "{KEY_NAME}"
"""


def transfer_sizes(log):
    """{(kind, bytes)} from signpost's transfer log lines."""
    out = []
    for m in re.finditer(r"xfr: (AXFR|IXFR)( \([^)]*\))? example\.com serial \S+ to \S+.*?: (\d+) record\(s\), "
                         r"(\d+) message\(s\), (\d+) bytes", log):
        kind = m.group(1) + (m.group(2) or "")
        out.append((kind.strip(), int(m.group(3)), int(m.group(5))))
    return out


class SecondaryScenario:
    secondary_class = None

    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port) + ZONE_EXTRA_SOA})
        sec_port = st.free_port()
        self.server = ApiSignpost(self.zones, token=None, config_extra=signpost_config(sec_port),
                                  label=f"signpost (primary for {self.secondary_class.label})").start()
        self.secondary = self.secondary_class(sec_port, self.server.port).start()

    def tearDown(self):
        try:
            self.secondary.cleanup()
            self.server.stop()
        finally:
            self.server.kill()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()
            self.server.cleanup()

    def measure_change(self, want):
        """Polls signpost and the secondary until both answer `want`; returns (signpost s, secondary s)."""
        t0 = time.monotonic()
        t_sp = t_sec = None
        deadline = t0 + 30
        while (t_sp is None or t_sec is None) and time.monotonic() < deadline:
            now = time.monotonic()
            if t_sp is None and addresses(self.server.port) == want:
                t_sp = now - t0
            if t_sec is None and addresses(self.secondary.port) == want:
                t_sec = now - t0
            time.sleep(0.02)
        self.assertIsNotNone(t_sp, f"signpost never answered {want}")
        self.assertIsNotNone(t_sec, f"{self.secondary.label} never answered {want}\n{self.secondary.log()}")
        return t_sp, t_sec

    def run_failover_cycles(self):
        self.assertEqual(addresses(self.secondary.port), [P])
        self.assertEqual(soa_serial(self.secondary.port), soa_serial(self.server.port))
        fail, back = [], []
        for run in range(RUNS):
            self.regions[0].set("500")
            sp, sec = self.measure_change([S])
            fail.append(sec)
            print(f"\n[{self.secondary.label}] run {run + 1}: endpoint 500 → signpost failover {sp:.2f} s, "
                  f"secondary {sec:.2f} s (secondary lag {sec - sp:.2f} s)")
            self.regions[0].set("200")
            sp, sec = self.measure_change([P])
            back.append(sec)
            print(f"[{self.secondary.label}] run {run + 1}: endpoint 200 → signpost failback {sp:.2f} s, "
                  f"secondary {sec:.2f} s (secondary lag {sec - sp:.2f} s)")
        print(f"[{self.secondary.label}] endpoint death → secondary's new answer: median {statistics.median(fail):.2f} s,"
              f" worst {max(fail):.2f} s over {RUNS} run(s); recovery: median {statistics.median(back):.2f} s, "
              f"worst {max(back):.2f} s")
        st.wait_until(lambda: soa_serial(self.secondary.port) == soa_serial(self.server.port), timeout=10,
                      what="secondary at the primary's serial")
        log = self.server.stderr()
        sizes = transfer_sizes(log)
        axfr = [b for k, _, b in sizes if k.startswith("AXFR") or "full" in k]
        self.assertFalse([k for k, _, _ in sizes if "not in history" in k], "every IXFR found its serial")
        ixfr = [b for k, _, b in sizes if k == "IXFR"]
        print(f"[{self.secondary.label}] transfers: AXFR {axfr} bytes, IXFR {ixfr} bytes")
        self.assertTrue(ixfr, f"no IXFR served:\n{log}")
        self.assertIn("acknowledged", log)
        # The secondary signs its answers to our signed NOTIFYs, and we verify them.
        self.assertNotIn("answer ignored", log)
        return log


class TestKnotSecondary(SecondaryScenario, unittest.TestCase):
    secondary_class = KnotSecondary

    def test_knot_follows_failover_and_recovery_with_ixfr(self):
        self.run_failover_cycles()
        klog = self.secondary.log()
        self.assertRegex(klog, r"IXFR, incoming", "Knot's log shows IXFR transfers")

    def test_transfers_need_the_key_and_an_allowed_address(self):
        base = ["dig", "@127.0.0.1", "-p", str(self.server.port), "example.com", "AXFR", "+time=3", "+tries=1"]
        no_key = subprocess.run(base, capture_output=True, text=True, timeout=20).stdout
        self.assertIn("Transfer failed", no_key)
        wrong = subprocess.run(base + ["-y", f"hmac-sha256:{KEY_NAME}:d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE="],
                               capture_output=True, text=True, timeout=20).stdout
        self.assertRegex(wrong, r"BADSIG|Transfer failed|tsig verify failure")
        other = subprocess.run(base + ["-b", "127.0.0.2", "-y", f"hmac-sha256:{KEY_NAME}:{KEY_SECRET}"],
                               capture_output=True, text=True, timeout=20).stdout
        self.assertIn("Transfer failed", other)
        good = subprocess.run(base + ["-y", f"hmac-sha256:{KEY_NAME}:{KEY_SECRET}"], capture_output=True, text=True,
                              timeout=20).stdout
        soas = [l for l in good.splitlines() if re.search(r"\sIN\s+SOA\s", l)]
        self.assertEqual(len(soas), 2, good)
        self.assertRegex(good, r"www\.example\.com\.\s+\d+\s+IN\s+A\s+127\.0\.0\.10")
        self.assertRegex(good, r'site\._signpost\.example\.com\.\s+\d+\s+IN\s+TXT\s+"primary"')
        log = self.server.stderr()
        self.assertRegex(log, r"refused AXFR of example\.com to 127\.0\.0\.1: no TSIG; key transfer-key\. required "
                              r"\(NOTAUTH\)")
        self.assertRegex(log, r"refused AXFR of example\.com to 127\.0\.0\.1: TSIG BADSIG")
        self.assertRegex(log, r"refused AXFR of example\.com to 127\.0\.0\.2: 127\.0\.0\.2 is not in "
                              r"allow_transfer_from of example\.com \(REFUSED\)")
        print(f"\nAXFR with the key: {len(good.splitlines())} lines of dig output; "
              f"{[l for l in good.splitlines() if 'XFR size' in l]}")


class TestNsdSecondary(SecondaryScenario, unittest.TestCase):
    secondary_class = NsdSecondary

    def test_nsd_follows_failover_and_recovery_with_ixfr(self):
        self.run_failover_cycles()


if __name__ == "__main__":
    st.main()
