"""Warm restarts with the state file: the real signpost fails over from a real
HTTP primary on 127.0.0.10 to 127.0.0.11, stops on SIGTERM, and starts again
with the same --state while the primary's /health hangs (so no probe round
could decide quickly). The very first answer is already the secondary, with
the short TTL until probes confirm it; overrides survive, and so does each
endpoint's `since` until its state changes; the zone's SOA serial
never goes backwards, even when the file's modification time does."""
import json
import os
import signal
import tempfile
import time
import unittest
from pathlib import Path

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair, wait_for_answer

P, S = "127.0.0.10", "127.0.0.11"
PRIMARY = "example.com/primary/127.0.0.10"
SECONDARY = "example.com/secondary/127.0.0.11"
# Stable one second after a change, so the short TTL after a restart can only
# come from the restart.
EXTRA = 'unstable_for = "1s"\n'


def service_since(server):
    """The failover service's `since` (when its answer became what it is), Unix seconds."""
    from datetime import datetime
    svc = next(v for v in server.status()["services"] if v["key"] == "example.com/site")
    return datetime.strptime(svc["since"], "%Y-%m-%dT%H:%M:%SZ").timestamp()


def soa_serial(server):
    r = server.dig("example.com", "SOA")
    return int(r.rdatas("answer", "SOA")[0].split()[2])


class TestWarmRestart(unittest.TestCase):
    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port, extra=EXTRA)})
        self.dir = Path(tempfile.mkdtemp(prefix="signpost-state-"))
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

    def start(self, n):
        s = ApiSignpost(self.zones, state=self.state, label=f"signpost run {n}")
        self.servers.append(s)
        return s

    def test_restart_answers_the_persisted_failover_before_the_first_probe(self):
        # Run 1: fail over, pin an override, stop.
        one = self.start(1).start()
        one.wait_api()
        wait_for_answer(one, [P], timeout=10)
        self.regions[0].set("500")
        wait_for_answer(one, [S], timeout=10)
        out = one.cli("override", SECONDARY, "up", "--reason", "pinned", "--for", "1h")
        self.assertEqual(out.returncode, 0, out.stderr)
        pinned = one.endpoint(SECONDARY)["override"]
        # Stable again (unstable_for 1 s): the full TTL.
        st.wait_until(lambda: one.dig("www.example.com").answer[0].ttl == 30, timeout=5, what="ttl 30")
        serial_before = soa_serial(one)
        since = {k: one.endpoint(k)["since"] for k in (PRIMARY, SECONDARY)}
        answer_since = service_since(one)
        one.stop(signal.SIGTERM)
        self.assertIn("SIGTERM received, stopping", one.stderr())
        saved = json.loads(self.state.read_text())
        self.assertEqual(saved["endpoints"][PRIMARY]["state"], "down", saved)
        self.assertEqual(saved["overrides"][SECONDARY]["state"], "up", saved)
        self.assertEqual([f.name for f in self.dir.iterdir()], ["state.json"], "a temporary file was left")

        # Two seconds down, so that a `since` reset to the restart would show.
        time.sleep(2)
        # Run 2: the primary hangs now; its first probe cannot finish for a second.
        self.regions[0].set("hang")
        two = self.start(2)
        spawned = time.monotonic()
        two.start()
        r = two.query("www.example.com")
        ready = time.monotonic() - spawned
        print(f"\nfirst answer {ready:.3f} s after the restart: {r.answer}")
        ep = two.endpoint(PRIMARY)
        self.assertEqual(r.rcode_name, "NOERROR")
        self.assertEqual([rr.rdata for rr in r.answer], [bytes([127, 0, 0, 11])],
                         "the first answer after a warm restart is not the persisted secondary")
        self.assertLessEqual(r.answer[0].ttl, 5, "unconfirmed answers use the short TTL")
        self.assertFalse(ep["confirmed"], f"the primary was probed before the first answer: {ep}")
        self.assertEqual(ep["state"], "down")
        self.assertIn("warm restart from the state file", two.stderr())
        self.assertEqual(two.endpoint(SECONDARY)["override"], pinned, "the override did not survive")
        # A restart is not a state change: `since` is still when each state began.
        self.assertEqual({k: two.endpoint(k)["since"] for k in since}, since, "since reset by the restart")
        # The service's answer has not moved either (the file keeps ms; the API shows
        # whole seconds, and the steady-clock round trip may cross one).
        self.assertLessEqual(abs(service_since(two) - answer_since), 1, "the service's since reset by the restart")
        self.assertGreaterEqual(soa_serial(two), serial_before, "the serial went backwards")
        self.assertEqual(soa_serial(two), serial_before, "unchanged data changed the serial")
        # Once probes confirm (the hanging primary times out, the secondary answers),
        # no flip and the full TTL again.
        st.wait_until(lambda: all(e["confirmed"] for e in two.status()["endpoints"]), timeout=10,
                      what="every endpoint confirmed by a probe")
        self.assertEqual(two.endpoint(PRIMARY)["state"], "down")
        self.assertEqual({k: two.endpoint(k)["since"] for k in since}, since,
                         "a probe confirming the persisted state changed since")
        st.wait_until(lambda: two.dig("www.example.com").answer[0].ttl == 30, timeout=5,
                      what="the full TTL once confirmed")
        self.assertEqual(two.dig("www.example.com").rdatas("answer", "A"), [S])
        self.assertNotIn("→ primary", two.stderr())
        two.stop(signal.SIGTERM)

        # Run 3: the zone changed but its file's time went back an hour (a restored
        # backup): the automatic serial would go backwards; it must not.
        path = self.zones.path / "example.com.toml"
        path.write_text(failover_zone(self.port, extra=EXTRA) + '\n[records.extra]\nA = "192.0.2.7"\n')
        old = time.time() - 3600
        os.utime(path, (old, old))
        three = self.start(3).start()
        self.assertEqual(three.dig("www.example.com").rdatas("answer", "A"), [S])
        self.assertEqual(three.dig("extra.example.com").rdatas("answer", "A"), ["192.0.2.7"])
        serial_after = soa_serial(three)
        self.assertGreater(serial_after, serial_before, "changed data must raise the serial")
        self.assertEqual(three.endpoint(SECONDARY)["override"], pinned)
        self.assertEqual({k: three.endpoint(k)["since"] for k in since}, since, "since lost by a second restart")
        # A real change moves since on.
        self.regions[0].set("200")
        st.wait_until(lambda: three.endpoint(PRIMARY)["state"] == "up", timeout=10, what="primary up again")
        self.assertGreater(three.endpoint(PRIMARY)["since"], since[PRIMARY])
        self.assertEqual(three.endpoint(SECONDARY)["since"], since[SECONDARY])
        three.stop(signal.SIGTERM)

    def test_drains_and_pool_overrides_survive_a_restart(self):
        one = self.start(1).start()
        one.wait_api()
        wait_for_answer(one, [P], timeout=10)
        for args in (("drain", PRIMARY), ("override", "example.com/secondary", "up", "--reason", "pinned")):
            p = one.cli(*args)
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(one.dig("www.example.com").rdatas("answer", "A"), [S])
        drain = one.endpoint(PRIMARY)["drain"]
        pool_override = one.endpoint(SECONDARY)["override"]
        self.assertEqual(pool_override["state"], "up")
        one.stop(signal.SIGTERM)
        two = self.start(2).start()
        self.assertEqual(two.dig("www.example.com").rdatas("answer", "A"), [S], "the drain was forgotten")
        self.assertEqual(two.endpoint(PRIMARY)["drain"]["draining"], True)
        self.assertEqual(two.endpoint(PRIMARY)["drain"]["since"], drain["since"])
        self.assertEqual(two.endpoint(SECONDARY)["override"], pool_override)
        two.stop(signal.SIGTERM)

    def test_an_old_state_file_is_probed_first_like_a_cold_start(self):
        one = self.start(1).start()
        one.wait_api()
        wait_for_answer(one, [P], timeout=10)
        self.regions[0].set("500")
        wait_for_answer(one, [S], timeout=10)
        one.stop(signal.SIGTERM)
        # The file says the primary is down, but it was written a minute ago
        # (state_max_age defaults to 30 s) and the primary is healthy again.
        saved = json.loads(self.state.read_text())
        self.assertEqual(saved["endpoints"][PRIMARY]["state"], "down", saved)
        saved["written"] -= 60_000
        self.state.write_text(json.dumps(saved))
        self.regions[0].set("200")
        two = self.start(2).start()
        r = two.query("www.example.com")
        self.assertEqual([rr.rdata for rr in r.answer], [bytes([127, 0, 0, 10])],
                         "an old state file was answered from instead of the probes")
        self.assertNotIn("warm restart from the state file", two.stderr())
        self.assertIn("first probe round complete", two.stderr())
        self.assertRegex(two.stderr(), r"state file is 6\d\.\d s old \(state_max_age 30s\)")
        two.stop(signal.SIGTERM)

    def test_a_broken_state_file_starts_cold_with_a_warning(self):
        self.state.write_text("{ not json")
        s = self.start(1).start()
        wait_for_answer(s, [P], timeout=10)
        self.assertIn(f"state file {self.state}:", s.stderr())
        self.assertIn("starting cold", s.stderr())
        s.stop(signal.SIGTERM)
        self.assertEqual(json.loads(self.state.read_text())["version"], 1, "the state file was not rewritten")


if __name__ == "__main__":
    st.main()
