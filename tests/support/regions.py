# Controllable "regions" for failover tests: tests/support/backend.py processes
# on 127.0.0.x whose behaviour (200, 500, hang, close, ...) a test switches at
# run time through a mode file. Every process is stopped by its own PID.
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import signpost_test as st

BACKEND = Path(__file__).resolve().parent / "backend.py"


class Region:
    """One backend on `address`:`port`; `set(mode)` changes how it answers."""

    def __init__(self, address, port, mode="200", label=None):
        self.address, self.port = address, port
        self.label = label or f"backend {address}"
        self.dir = tempfile.mkdtemp(prefix="signpost-region-")
        self.mode_file = os.path.join(self.dir, "mode")
        self.proc = None
        self.set(mode)

    def set(self, mode):
        tmp = self.mode_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(mode)
        os.replace(tmp, self.mode_file)  # atomic: a probe never reads half a mode

    def start(self):
        fd, log = tempfile.mkstemp(prefix="signpost-region-", suffix=".log")
        st.register_log(self.label, log)
        self.proc = subprocess.Popen(
            [sys.executable, str(BACKEND), "--bind", self.address, "--port", str(self.port),
             "--mode-file", self.mode_file],
            stdout=subprocess.PIPE, stderr=fd, text=True)
        os.close(fd)
        st._LIVE.append(self.proc)
        line = self.proc.stdout.readline()  # "PORT n" once listening (bounded by the test timeout)
        if not line.startswith("PORT"):
            raise RuntimeError(f"{self.label} did not start: {line!r}")
        return self

    def stop(self):
        """Stops the process (connections are then refused)."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc in st._LIVE:
            st._LIVE.remove(self.proc)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


def region_pair(addresses=("127.0.0.10", "127.0.0.11")):
    """Two regions on one shared free port (the zone's check has one port)."""
    port = st.free_port(addresses)
    return port, [Region(a, port, label=f"region {a}").start() for a in addresses]


FAILOVER_ZONE = """\
origin = "example.com"
ttl = 300

[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"

[checks.health]
kind = "http"
path = "/health"
port = {port}
interval = "1s"
timeout = "1s"
fall = 3
rise = 2
fast_interval = "200ms"

[pools.primary]
endpoints = ["{primary}"]
checks = ["health"]

[pools.secondary]
endpoints = ["{secondary}"]
checks = ["health"]

[services.site]
names = ["@", "www", "*"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
{extra}
"""


def failover_zone(port, primary="127.0.0.10", secondary="127.0.0.11", extra=""):
    return FAILOVER_ZONE.format(port=port, primary=primary, secondary=secondary, extra=extra)


def answer_of(server, name="www.example.com", qtype="A", **kw):
    """The sorted addresses the server answers now (empty on error/no data)."""
    try:
        r = server.dig(name, qtype, **kw)
    except st.DigError:
        return []
    return sorted(r.rdatas("answer", qtype))


def wait_for_answer(server, want, timeout=15.0, name="www.example.com", qtype="A", **kw):
    """Polls until the answer equals `want` (list); returns seconds waited."""
    start = time.monotonic()
    st.wait_until(lambda: answer_of(server, name, qtype, **kw) == sorted(want), timeout=timeout,
                  interval=0.05, what=f"{name}/{qtype} -> {want}")
    return time.monotonic() - start
