# Unbound as a validating resolver in front of signpost: a minimal config in a temp
# dir, an ephemeral port on 127.0.0.1, a stub zone pointing at signpost, a trust
# anchor for the zone (signpost's key), stopped by its own PID. Its outgoing queries
# leave from 127.0.0.1 and its root hints name 127.0.0.1, so nothing it asks can leave
# the machine.
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import signpost_test as st


class Unbound:
    """unbound validating `zone` (served by signpost on 127.0.0.1:`upstream_port`) with
    `anchor` ("example.com. DNSKEY 257 3 13 ...") as its trust anchor. The cache keeps
    nothing longer than a second, so answers follow signpost's changes at once."""

    def __init__(self, zone, upstream_port, anchor, label="unbound"):
        self.zone = zone.rstrip(".")
        self.upstream_port = upstream_port
        self.anchor = anchor
        self.label = label
        self.dir = Path(tempfile.mkdtemp(prefix="signpost-unbound-"))
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"

    def config(self):
        return (
            "server:\n"
            f"  interface: 127.0.0.1@{self.port}\n"
            "  outgoing-interface: 127.0.0.1\n"
            "  do-daemonize: no\n"
            "  use-syslog: no\n"
            '  logfile: ""\n'
            '  username: ""\n'
            '  chroot: ""\n'
            f'  directory: "{self.dir}"\n'
            '  pidfile: ""\n'
            f'  root-hints: "{self.dir}/root.hints"\n'
            "  access-control: 127.0.0.0/8 allow\n"
            "  do-not-query-localhost: no\n"
            '  module-config: "validator iterator"\n'
            "  val-log-level: 2\n"
            "  verbosity: 1\n"
            "  num-threads: 1\n"
            "  cache-max-ttl: 1\n"
            "  cache-max-negative-ttl: 1\n"
            "  prefetch: no\n"
            f'  trust-anchor: "{self.anchor}"\n'
            "stub-zone:\n"
            f'  name: "{self.zone}"\n'
            f"  stub-addr: 127.0.0.1@{self.upstream_port}\n"
            "remote-control:\n"
            "  control-enable: no\n")

    def start(self, timeout=15.0):
        if not shutil.which("unbound"):
            raise FileNotFoundError("unbound not installed (Debian package 'unbound')")
        self.port = st.free_port()
        (self.dir / "root.hints").write_text(". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n")
        conf = self.dir / "unbound.conf"
        conf.write_text(self.config())
        check = subprocess.run(["unbound-checkconf", str(conf)], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise st.StartError(f"unbound-checkconf: {check.stdout}{check.stderr}")
        self.log_path = self.dir / "unbound.log"
        st.register_log(self.label, self.log_path)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(["unbound", "-d", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        st._LIVE.append(self.proc)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise st.StartError(f"unbound exited with {self.proc.returncode}\n{self.log()}")
            try:
                st.dig(self.port, self.zone, "SOA", rd=True, timeout=1)
                return self
            except st.DigError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise st.StartError(f"unbound did not answer within {timeout}s\n{self.log()}")
            time.sleep(0.1)

    def dig(self, qname, qtype="A", **kw):
        kw.setdefault("rd", True)
        kw.setdefault("do", True)
        return st.dig(self.port, qname, qtype, **kw)

    def validated(self, qname, qtype, status="NOERROR"):
        """The answer to qname/qtype, which must have `status` and be validated (AD)."""
        r = self.dig(qname, qtype)
        if r.status != status:
            raise AssertionError(f"{qname}/{qtype}: {r.status}, expected {status}\n{r}\n{self.log()[-3000:]}")
        if "ad" not in r.flags:
            raise AssertionError(f"{qname}/{qtype} not validated\n{r}\n{self.log()[-3000:]}")
        return r

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def anchor_of(keys):
    """The DNSKEY record of the one .key file in `keys`, as one line."""
    files = list(keys.glob("Kexample.com.+*.key"))
    assert len(files) == 1, files
    for line in files[0].read_text().splitlines():
        if line and not line.startswith(";"):
            return " ".join(line.replace(" IN ", " ").split())
    raise AssertionError(f"no DNSKEY in {files[0]}")
