# Real secondaries of signpost (the hidden-primary model): Knot DNS and NSD started
# with a temp config on 127.0.0.1, transferring example.com from signpost with TSIG,
# stopped by their own PID. Used by test_secondaries.py and test_dnssec_validation.py.
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import signpost_test as st

KEY_NAME = "transfer-key"
KEY_SECRET = "c2lnbnBvc3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="


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

    def dig(self, qname, qtype="A", **kw):
        return st.dig(self.port, qname, qtype, **kw)

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


def signed_axfr(port):
    """The zone example.com as a secondary receives it from signpost on `port` (with the
    transfer key), one line per record, the SOA once. AssertionError when no AXFR came."""
    p = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "example.com", "AXFR",
                        "+time=5", "+tries=1", "+noall", "+answer", "+nottlunits",
                        "-y", f"hmac-sha256:{KEY_NAME}:{KEY_SECRET}"],
                       capture_output=True, text=True, timeout=30)
    lines = [ln for ln in p.stdout.splitlines() if ln and not ln.startswith(";")]
    if not lines or " SOA " not in lines[0].replace("\t", " "):
        raise AssertionError(f"no AXFR:\n{p.stdout}{p.stderr}")
    return lines[:-1]  # the closing SOA repeats the first


def verify_zone(lines, path, what):
    """ldns-verify-zone over `lines` written to `path`: its last line; AssertionError on failure."""
    path.write_text("\n".join(lines) + "\n")
    p = subprocess.run(["ldns-verify-zone", str(path)], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"ldns-verify-zone on {what}:\n{p.stdout}{p.stderr}")
    return (p.stdout + p.stderr).strip().splitlines()[-1]
