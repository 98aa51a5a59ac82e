"""Running under systemd, without systemd: the real signpost with NOTIFY_SOCKET
pointing at an AF_UNIX datagram socket this test binds, as systemd would for
Type=notify. READY=1 comes once DNS answers (after the first probe round), with
a STATUS= line; the STATUS= changes with a failover; RELOADING=1 (with
MONOTONIC_USEC) then READY=1 wrap every reload (SIGHUP, `signpost reload`, the
zones directory watcher, a failed reload: then `signpost reload` exits 1 and the
status says so); WATCHDOG=1 arrives every half WATCHDOG_USEC when WATCHDOG_PID
is the daemon's and never when it is another process's; STOPPING=1 on SIGTERM.
Logs: with JOURNAL_STREAM naming stderr each line starts with its journald
priority and carries no time; with JOURNAL_STREAM naming another file the
format is the usual one; log_format = "json" makes every line one JSON object."""
import json
import os
import re
import signal
import socket
import tempfile
import threading
import time
import unittest

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair, wait_for_answer

P, S = "127.0.0.10", "127.0.0.11"
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


class NotifySocket:
    """The socket systemd would listen on. A thread reads every datagram at once, as
    systemd does: the kernel queues only a few datagrams per unix socket
    (net.unix.max_dgram_qlen, 10 by default), and a sender blocks on a full queue."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="signpost-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic time received, {key: value}, raw text)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stopped.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode()
            fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields, text))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, pred, timeout=20.0, what="a notification", start=0):
        """Waits until a message at index >= start satisfies pred; returns its index."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.snapshot()
            for i in range(start, len(msgs)):
                if pred(msgs[i][1]):
                    return i
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; got:\n" +
                                     "\n".join(repr(m[2]) for m in msgs[start:]))
            time.sleep(0.02)

    def drain(self, seconds):
        self.stopped.wait(seconds)

    def since(self, start, key):
        return [m[1] for m in self.snapshot()[start:] if key in m[1]]

    def count(self):
        return len(self.snapshot())

    def message(self, i):
        return self.snapshot()[i]

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


class WrappedSignpost(ApiSignpost):
    """ApiSignpost started through `sh -c 'WATCHDOG_PID=$$ exec signpost ...'`: exec keeps
    the PID, so the watchdog PID is the daemon's own (as systemd sets it)."""
    watchdog_pid = "self"

    def argv(self):
        pid = "$$" if self.watchdog_pid == "self" else str(self.watchdog_pid)
        return ["/bin/sh", "-c", f'WATCHDOG_PID={pid} exec "$@"', "sh"] + super().argv()


def with_env(env, fn):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return fn()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class TestNotify(unittest.TestCase):
    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port)})
        self.notify = NotifySocket()
        self.server = WrappedSignpost(self.zones, label="signpost (notify)")

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()
            self.notify.close()

    def start(self, watchdog_usec=400000):
        env = {"NOTIFY_SOCKET": self.notify.path, "WATCHDOG_USEC": str(watchdog_usec)}
        with_env(env, lambda: self.server.start(timeout=30))
        self.server.wait_api(timeout=30)

    def test_ready_status_reloads_watchdog_and_stopping(self):
        n = self.notify
        self.start()
        ready = n.wait_for(lambda m: m.get("READY") == "1", what="READY=1")
        # READY=1 is sent once the daemon answers from probed health.
        self.assertIn("ready (", self.server.stderr())
        wait_for_answer(self.server, [P], timeout=10)
        self.assertEqual(n.message(ready)[1].get("STATUS"), "serving 1 zone(s), 1 service(s)", n.message(ready))
        self.assertEqual(len(n.since(0, "READY")), 1, "READY=1 before any reload only once")

        # The watchdog: every half WATCHDOG_USEC (0.2 s) from the control loop.
        first = n.wait_for(lambda m: m.get("WATCHDOG") == "1", what="WATCHDOG=1")
        n.wait_for(lambda m: m.get("WATCHDOG") == "1", start=first + 1, what="a second WATCHDOG=1")
        n.wait_for(lambda m: m.get("WATCHDOG") == "1", start=n.count(), what="a third WATCHDOG=1")

        # A failover shows in STATUS=.
        self.regions[0].set("500")
        n.wait_for(lambda m: m.get("STATUS") == "serving 1 zone(s), 1 service(s); 1 in failover",
                   what="STATUS with 1 in failover")
        mark = n.count()
        self.regions[0].set("200")
        n.wait_for(lambda m: m.get("STATUS") == "serving 1 zone(s), 1 service(s)", start=mark,
                   what="STATUS back to no failover")

        def reload_wrapped(trigger, start, status="serving 1 zone(s), 1 service(s)"):
            i = n.wait_for(lambda m: m.get("RELOADING") == "1", start=start, what=f"RELOADING=1 ({trigger})")
            usec = int(n.message(i)[1]["MONOTONIC_USEC"])
            now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
            self.assertLess(abs(now - usec), 60e6, f"MONOTONIC_USEC {usec} is CLOCK_MONOTONIC ({now})")
            j = n.wait_for(lambda m: m.get("READY") == "1", start=i + 1, what=f"READY=1 after the reload ({trigger})")
            self.assertTrue(n.message(j)[1].get("STATUS", "").startswith(status), n.message(j))
            return j

        # SIGHUP.
        mark = n.count()
        self.server.send_signal(signal.SIGHUP)
        reload_wrapped("SIGHUP", mark)
        # signpost reload (the API), exit 0.
        mark = n.count()
        p = self.server.cli("reload")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        reload_wrapped("API", mark)
        # The zones directory watcher.
        mark = n.count()
        self.zones.write("example.com.toml", failover_zone(self.port) + "\n# touched\n")
        reload_wrapped("zones directory changed", mark)
        # A failed reload: RELOADING=1, READY=1 (the old configuration serves), the
        # status says it, and `signpost reload` exits 1.
        mark = n.count()
        self.zones.write("example.com.toml", "origin = \n")
        reload_wrapped("a broken file", mark,
                       status="serving 1 zone(s), 1 service(s); last reload failed, serving the previous configuration")
        p = self.server.cli("reload")
        self.assertEqual(p.returncode, 1, f"signpost reload must fail when the reload fails:\n{p.stdout}{p.stderr}")
        self.assertIn("reload failed", p.stderr)
        wait_for_answer(self.server, [P], timeout=10)

        # SIGTERM: STOPPING=1, exit 0.
        mark = n.count()
        self.server.stop()
        n.wait_for(lambda m: m.get("STOPPING") == "1", start=mark, timeout=5, what="STOPPING=1")


class TestLogs(unittest.TestCase):
    """The log's form under journald and as JSON; both runs also check that
    another process's WATCHDOG_PID leaves the watchdog off."""

    def run_server(self, env_for_stderr, config_extra="", notify=None):
        port, regions = region_pair((P, S))
        zones = st.ZoneDir({"example.com.toml": failover_zone(port)})
        server = ApiSignpost(zones, config_extra=config_extra, label="signpost (logs)")
        fd, log = tempfile.mkstemp(prefix="signpost-journal-", suffix=".log")
        os.close(fd)
        st.register_log("signpost (logs)", log)
        try:
            info = os.stat(log)
            env = env_for_stderr(info)
            if notify:
                env.update({"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
            # Started by hand: JOURNAL_STREAM must name the very file stderr is.
            server._pick()
            with open(log, "w") as f:
                argv = server.argv()
                proc = with_env(env, lambda: st.subprocess.Popen(argv, stdin=st.subprocess.DEVNULL, stdout=f, stderr=f,
                                                                 cwd=str(st.REPO)))
            st._LIVE.append(proc)
            server.proc, server.log_path = proc, log
            st.wait_until(lambda: "ready (" in server.stderr() or proc.poll() is not None, timeout=30,
                          what="the ready line")
            self.assertIsNone(proc.poll(), server.stderr())
            regions[0].set("500")  # a warning-free state change
            st.wait_until(lambda: "primary → failover:secondary" in server.stderr(), timeout=20, what="failover line")
            if notify:
                notify.wait_for(lambda m: m.get("READY") == "1", what="READY=1")
            zones.write("example.com.toml", "origin = \n")  # ... and an error: a failed reload
            os.kill(proc.pid, signal.SIGHUP)
            st.wait_until(lambda: "reload failed" in server.stderr(), timeout=20, what="the failed reload")
            server.stop()
            return server.stderr()
        finally:
            server.kill()
            server.cleanup()
            for r in regions:
                r.stop()
            zones.cleanup()

    def test_journal_stream_lines_carry_priorities_and_no_time(self):
        notify = NotifySocket()
        try:
            out = self.run_server(lambda s: {"JOURNAL_STREAM": f"{s.st_dev}:{s.st_ino}"}, notify=notify)
            notify.drain(0.5)
            self.assertEqual(notify.since(0, "WATCHDOG"), [], "WATCHDOG_PID=1 is not this process")
        finally:
            notify.close()
        lines = [line for line in out.splitlines() if line]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>(error|warning|info|debug) [a-z]+: ", line)
            self.assertIsNone(TS.match(line[3:]), f"a second timestamp: {line}")
        self.assertTrue(any(re.match(r"<6>info daemon: ready \(", line) for line in lines), out)
        self.assertTrue(any(re.match(r"<3>error zones: reload failed", line) for line in lines), out)
        levels = {line[1] for line in lines}
        self.assertTrue({"3", "6"} <= levels, levels)
        for line in lines:  # priority and level word agree
            want = {"3": "error", "4": "warning", "6": "info", "7": "debug"}[line[1]]
            self.assertTrue(line[3:].startswith(want), line)

    def test_journal_stream_of_another_file_keeps_the_usual_format(self):
        other = tempfile.NamedTemporaryFile(prefix="signpost-other-")
        s = os.fstat(other.fileno())
        out = self.run_server(lambda _: {"JOURNAL_STREAM": f"{s.st_dev}:{s.st_ino}"})
        other.close()
        for line in (line for line in out.splitlines() if line):
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warning|info|debug) [a-z]+: ", line)

    def test_json_lines_parse(self):
        out = self.run_server(lambda _: {}, config_extra='log_format = "json"')
        objs = []
        for line in (line for line in out.splitlines() if line):
            obj = json.loads(line)  # every line is one object
            self.assertEqual(sorted(obj), ["level", "message", "time", "unit"], line)
            self.assertRegex(obj["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(obj["level"], ("debug", "info", "warning", "error"))
            objs.append(obj)
        self.assertTrue(any(o["unit"] == "daemon" and o["message"].startswith("ready (") for o in objs), out)
        self.assertTrue(any(o["level"] == "error" and o["message"].startswith("reload failed") for o in objs), out)
        # Non-ASCII text (the arrow) survives as UTF-8.
        self.assertTrue(any("primary → failover:secondary" in o["message"] for o in objs), out)


if __name__ == "__main__":
    st.main()
