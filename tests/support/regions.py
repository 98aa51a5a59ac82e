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

    def __init__(self, address, port, mode="200", label=None, log_requests=False, keepalive=False):
        self.address, self.port = address, port
        self.keepalive = keepalive  # keep connections open between requests (backend.py --keepalive)
        self.label = label or f"backend {address}"
        self.dir = tempfile.mkdtemp(prefix="signpost-region-")
        self.mode_file = os.path.join(self.dir, "mode")
        # log_requests: the backend appends "METHOD PATH HOST UA" per request (see requests()).
        self.request_log = os.path.join(self.dir, "requests") if log_requests else None
        self.proc = None
        self.set(mode)

    def requests(self):
        """Requests received so far (needs log_requests=True)."""
        try:
            with open(self.request_log) as f:
                return f.read().splitlines()
        except OSError:
            return []

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
             "--mode-file", self.mode_file] + (["--log", self.request_log] if self.request_log else [])
            + (["--keepalive"] if self.keepalive else []),
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


def region_pair(addresses=("127.0.0.10", "127.0.0.11"), keepalive=False):
    """Two regions on one shared free port (the zone's check has one port)."""
    port = st.free_port(addresses)
    return port, [Region(a, port, label=f"region {a}", keepalive=keepalive).start() for a in addresses]


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


# --------------------------------------------------------------------------
# Operations: a signpost with the status/control API, a token and a state file,
# clients for the API (urllib) and the CLI, and a DNS load generator.

import json as _json
import re
import threading as _threading
import urllib.error as _urlerror
import urllib.request as _urlrequest


class ApiSignpost(st.Signpost):
    """signpost serve with `--api 127.0.0.1:<free port>`, a `--config` file holding
    `[api] token` (when `token` is given) plus `config_extra` TOML lines, and
    `--state FILE` when `state` is given. The API binds port 0 and the test reads
    the port signpost got from its log ("api: listening on http://127.0.0.1:PORT"):
    no port is picked free and then lost to a test running in parallel."""

    def __init__(self, zones, token="ops-token", state=None, config_extra="", extra_args=(),
                 label="signpost (api)"):
        super().__init__(zones, extra_args=extra_args, label=label)
        self.token = token
        self.state = str(state) if state else None
        self.conf_dir = tempfile.mkdtemp(prefix="signpost-conf-")
        self.config = os.path.join(self.conf_dir, "signpost.toml")
        text = config_extra.strip() + "\n" if config_extra.strip() else ""
        if token is not None:
            text += f'\n[api]\ntoken = "{token}"\n'
        with open(self.config, "w") as f:
            f.write(text)
        self.api_port = None

    def _pick(self):
        super()._pick()
        self.api_port = None

    def argv(self):
        a = super().argv() + ["--config", self.config, "--api", "127.0.0.1:0"]
        if self.state:
            a += ["--state", self.state]
        return a

    _API_LINE = re.compile(r"api: listening on http://127\.0\.0\.1:(\d+)")

    def start(self, timeout=10.0):
        super().start(timeout)
        self.api_port = None
        st.wait_until(lambda: self._api_port_from_log() is not None, timeout=timeout, interval=0.02,
                      what=f"{self.label}: the API's listening line")
        self.api_port = self._api_port_from_log()
        return self

    def _api_port_from_log(self):
        found = self._API_LINE.findall(self.stderr())
        return int(found[-1]) if found else None

    @property
    def api(self):
        return f"http://127.0.0.1:{self.api_port}"

    def wait_api(self, timeout=10.0):
        """Polls until GET /v1/status answers 200 (the API starts with serving)."""
        st.wait_until(lambda: self.http("GET", "/v1/status")[0] == 200, timeout=timeout,
                      interval=0.05, what=f"{self.label}: API on {self.api}")
        return self

    def http(self, method, path, body=None, token=None, timeout=5.0):
        """One request with urllib; returns (status, parsed JSON or text, headers).
        Connection errors come back as status 0 with the error text."""
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else _json.dumps(body).encode()
        req = _urlrequest.Request(self.api + path, data=data, method=method)
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with _urlrequest.urlopen(req, timeout=timeout) as r:
                raw, status, headers = r.read(), r.status, r.headers
        except _urlerror.HTTPError as e:
            raw, status, headers = e.read(), e.code, e.headers
        except (_urlerror.URLError, OSError) as e:
            return 0, str(e), {}
        text = raw.decode(errors="replace")
        try:
            return status, _json.loads(text), headers
        except ValueError:
            return status, text, headers

    def get(self, path):
        status, body, _ = self.http("GET", path)
        if status != 200:
            raise AssertionError(f"GET {path}: {status} {body}")
        return body

    def post(self, path, body=None, token=""):
        """POST with the server's token unless another `token` (None: no header) is given."""
        return self.http("POST", path, body if body is not None else {},
                         token=self.token if token == "" else token)

    def status(self):
        return self.get("/v1/status")

    def endpoint(self, key):
        return next(e for e in self.status()["endpoints"] if e["key"] == key)

    def service(self, key):
        return next(s for s in self.status()["services"] if s["key"] == key)

    def metrics_text(self):
        return self.get("/metrics")

    def metrics(self):
        """{'name{labels}': float} of every sample in /metrics."""
        return parse_metrics(self.metrics_text())

    def cli(self, *args, token=True, timeout=30):
        """`signpost ARGS... --api URL [--token T]` run to completion."""
        extra = ["--api", self.api]
        if token and self.token:
            extra += ["--token", self.token]
        return st.run_cli(*args, *extra, timeout=timeout)

    def cleanup(self):
        import shutil
        shutil.rmtree(self.conf_dir, ignore_errors=True)


def parse_metrics(text):
    """Prometheus text format → {'family{label="v",...}': value}; comments skipped."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


class DnsLoad:
    """Threads that query `names` (A over UDP, one socket each, one query in flight)
    without pause until stop(). `classify(name, rcode, addresses, ttl)` returns a
    label for the reply ('old', 'new', 'both'...) or None when the reply is wrong.
    Counts sent, answered, lost (no reply within `timeout`) and wrong, and keeps
    every thread's sequence of (name, label) for ordering checks."""

    def __init__(self, port, names, classify, threads=2, host="127.0.0.1", timeout=2.0):
        self.port, self.names, self.classify = port, list(names), classify
        self.host, self.timeout = host, timeout
        self.lock = _threading.Lock()
        self.sent = self.answered = self.lost = 0
        self.wrong = []          # (time, name, rcode, addresses, ttl)
        self.sequences = [[] for _ in range(threads)]
        self._stop = _threading.Event()
        self._threads = [_threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 5)
        return self

    def counts(self):
        with self.lock:
            return {"sent": self.sent, "answered": self.answered, "lost": self.lost, "wrong": len(self.wrong)}

    def wait_answered(self, n, timeout=10.0):
        """Polls until at least n more answers than now have arrived."""
        base = self.counts()["answered"]
        st.wait_until(lambda: self.counts()["answered"] >= base + n, timeout=timeout, interval=0.01,
                      what=f"{n} more answers from the load")

    def _run(self, idx):
        import socket as _socket
        import struct as _struct
        seq = self.sequences[idx]
        s = _socket.socket(_socket.AF_INET6 if ":" in self.host else _socket.AF_INET, _socket.SOCK_DGRAM)
        s.settimeout(self.timeout)
        qid = idx * 20000
        try:
            i = 0
            while not self._stop.is_set():
                name = self.names[i % len(self.names)]
                i += 1
                qid = (qid + 1) & 0xFFFF
                s.sendto(st.build_query(name, "A", qid=qid), (self.host, self.port))
                with self.lock:
                    self.sent += 1
                deadline = time.monotonic() + self.timeout
                msg = None
                while msg is None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    s.settimeout(left)
                    try:
                        data, _ = s.recvfrom(65535)
                    except (_socket.timeout, ConnectionRefusedError):
                        break
                    m = st.Message(data)
                    if m.id == qid:
                        msg = m
                if msg is None:
                    with self.lock:
                        self.lost += 1
                    continue
                addrs = sorted(_socket.inet_ntoa(rr.rdata) for rr in msg.answer if rr.type == 1)
                ttls = {rr.ttl for rr in msg.answer if rr.type == 1}
                ttl = min(ttls) if ttls else None
                label = self.classify(name, msg.rcode_name, addrs, ttl)
                with self.lock:
                    self.answered += 1
                    if label is None:
                        self.wrong.append((time.monotonic(), name, msg.rcode_name, addrs, ttl))
                    else:
                        seq.append((name, label))
        finally:
            s.close()
