# Knot DNS (knotd) as a reference server for differential tests: a minimal config
# in a temp dir, an ephemeral port on 127.0.0.1, stopped by its own PID.
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import signpost_test as st


class Knot:
    """knotd serving `zones` ({origin: master file path}) on 127.0.0.1:<free port>."""

    def __init__(self, zones, label="knotd"):
        self.zones = {o.rstrip("."): str(Path(f).resolve()) for o, f in zones.items()}
        self.label = label
        self.dir = Path(tempfile.mkdtemp(prefix="signpost-knot-"))
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"

    def config(self):
        zones = "".join(f'  - domain: {o}\n    file: "{f}"\n' for o, f in self.zones.items())
        return (
            "server:\n"
            f'    rundir: "{self.dir}/run"\n'
            f"    listen: 127.0.0.1@{self.port}\n"
            "    udp-workers: 1\n"
            "    tcp-workers: 1\n"
            "    background-workers: 1\n"
            "log:\n"
            "  - target: stderr\n"
            "    any: info\n"
            "database:\n"
            f'    storage: "{self.dir}/db"\n'
            "template:\n"
            "  - id: default\n"
            f'    storage: "{self.dir}/zones"\n'
            "    zonefile-load: whole\n"
            "    zonefile-sync: -1\n"
            "    journal-content: none\n"
            "    semantic-checks: off\n"
            "zone:\n" + zones)

    @property
    def conf(self):
        return self.dir / "knot.conf"

    def start(self, timeout=15.0, port=None):
        """Starts knotd on a fresh free port, or on `port` (e.g. the port of an
        earlier start, to come back where clients expect it)."""
        if not shutil.which("knotd"):
            raise FileNotFoundError("knotd not installed (Debian package 'knot')")
        (self.dir / "run").mkdir(exist_ok=True)
        (self.dir / "db").mkdir(exist_ok=True)
        (self.dir / "zones").mkdir(exist_ok=True)
        self.port = port if port is not None else st.free_port()
        conf = self.conf
        conf.write_text(self.config())
        self.log_path = self.dir / "knotd.log"
        if not getattr(self, "_log_registered", False):
            st.register_log(self.label, self.log_path)
            self._log_registered = True
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(["knotd", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        st._LIVE.append(self.proc)
        deadline = time.monotonic() + timeout
        origins = list(self.zones)
        while origins:
            if self.proc.poll() is not None:
                raise st.StartError(f"knotd exited with {self.proc.returncode}\n{self.stderr()}")
            origins = [o for o in origins if not self._loaded(o)]
            if not origins:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise st.StartError(f"knotd did not serve {origins} within {timeout}s\n"
                                    f"{self.stderr()}")
            time.sleep(0.05)
        return self

    def _loaded(self, origin):
        for tcp in (False, True):
            try:
                m = st.query(self.port, origin, "SOA", tcp=tcp, timeout=0.5)
            except OSError:
                return False
            if m is None or m.rcode != 0 or not m.aa or not m.answer:
                return False
        return True

    def knotc(self, *args, timeout=10.0):
        """Runs `knotc -c <our config> ARGS...` against this knotd's control socket
        (rundir/knot.sock); raises with knotc's output when it fails."""
        p = subprocess.run(["knotc", "-c", str(self.conf), "-t", str(int(max(1, timeout))), *map(str, args)],
                           capture_output=True, text=True, timeout=timeout + 5)
        if p.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(map(str, args))} failed ({p.returncode}): "
                               f"{p.stdout}{p.stderr}\n{self.stderr()[-3000:]}")
        return p.stdout

    def serial(self, origin):
        """The SOA serial knotd serves for `origin` now (None when it does not answer)."""
        try:
            m = st.query(self.port, origin, "SOA", timeout=0.5)
        except OSError:
            return None
        if m is None or m.rcode != 0:
            return None
        for rr in m.answer:
            if rr.type == 6:
                data = st.expand_rdata(m.data, rr)
                return int.from_bytes(data[-20:-16], "big")
        return None

    def reload(self, origin, serial=None, timeout=10.0):
        """Reloads `origin` from its master file (`knotc zone-reload`); with `serial`,
        waits (bounded) until knotd serves that SOA serial."""
        origin = origin.rstrip(".")
        self.knotc("zone-reload", origin)
        if serial is not None:
            st.wait_until(lambda: self.serial(origin) == serial, timeout=timeout, interval=0.02,
                          what=f"{self.label} serving {origin} serial {serial}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc in st._LIVE:
            st._LIVE.remove(self.proc)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def dig(self, qname, qtype="A", **kw):
        return st.dig(self.port, qname, qtype, host=self.host, **kw)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
