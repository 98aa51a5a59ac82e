"""Reloads while queries flow: the real signpost, real HTTP regions on
127.0.0.10/11 and a load of raw UDP queries from two threads. A reload by
SIGHUP, by `signpost reload` (the API) or by the zones-directory watcher changes
one service, adds one and removes one; no query may go unanswered, none may be
answered from anything but the old or the new configuration, and once a client
saw the new configuration it never sees the old one again. A broken file keeps
the old configuration serving and says why (API, CLI, metrics); a reload keeps
the health state it had (no flip, no probe storm)."""
import os
import re
import signal
import time
import unittest

import signpost_test as st
from regions import ApiSignpost, DnsLoad, Region, region_pair, wait_for_answer

P, S = "127.0.0.10", "127.0.0.11"
OPS = st.FIXTURES / "ops"
NAMES = ["www.example.com", "api.example.com", "old.example.com", "new.example.com"]

# What each configuration answers: name -> (rcode, addresses, allowed TTLs).
# Each service has its own TTL and unstable TTL, so an answer with the new
# addresses and the old TTL (a half-loaded configuration) is caught.
V1 = {
    "www.example.com": ("NOERROR", [P], {30, 5}),
    "api.example.com": ("NOERROR", [P], {20, 4}),
    "old.example.com": ("NOERROR", [S], {15, 3}),
    "new.example.com": ("NXDOMAIN", [], {None}),
}
V2 = {
    "www.example.com": ("NOERROR", [P], {30, 5}),
    "api.example.com": ("NOERROR", [S], {10, 2}),
    "old.example.com": ("NXDOMAIN", [], {None}),
    "new.example.com": ("NOERROR", [P], {12, 1}),
}


def fixture(name, port):
    return (OPS / name).read_text().replace("@PORT@", str(port))


def matches(spec, rcode, addrs, ttl):
    want_rcode, want_addrs, ttls = spec
    return rcode == want_rcode and addrs == want_addrs and ttl in ttls


def classify(name, rcode, addrs, ttl):
    old, new = matches(V1[name], rcode, addrs, ttl), matches(V2[name], rcode, addrs, ttl)
    if old and new:
        return "both"
    return "old" if old else "new" if new else None


def metric(server, key):
    return server.metrics().get(key)


class ReloadScenario(unittest.TestCase):
    watch = False

    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": fixture("reload_v1.toml", self.port)})
        extra = "" if self.watch else "watch_zones = false"
        self.server = ApiSignpost(self.zones, config_extra=extra, label=f"signpost ({self.id()})")
        self.server.start()
        self.server.wait_api()
        self.load = None
        # The primary must be up before the load starts: the first probe round may
        # have raced the regions' start.
        wait_for_answer(self.server, [P], timeout=10, name="api.example.com")

    def tearDown(self):
        try:
            if self.load:
                self.load.stop()
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()

    def start_load(self):
        self.load = DnsLoad(self.server.port, NAMES, classify, threads=2).start()
        self.load.wait_answered(400)

    def finish_load(self):
        """Stops the load and checks: nothing lost, nothing wrong, monotonic per client."""
        self.load.stop()
        c = self.load.counts()
        print(f"\n{self.id()}: load {c}")
        self.assertGreater(c["answered"], 1000, c)
        self.assertEqual(c["lost"], 0, f"queries without a reply (UDP on loopback): {c}")
        self.assertEqual(self.load.wrong, [], f"answers from neither configuration: {self.load.wrong[:10]}")
        self.assertEqual(c["sent"], c["answered"] + c["lost"], c)
        for i, seq in enumerate(self.load.sequences):
            labels = [label for _, label in seq if label != "both"]
            self.assertIn("old", labels, f"thread {i} never saw the old configuration")
            self.assertIn("new", labels, f"thread {i} never saw the new configuration")
            first_new = labels.index("new")
            back = labels[first_new:].count("old")
            self.assertEqual(back, 0, f"thread {i}: {back} old answers after the first new one")
        self.load = None

    def wait_new_config(self, timeout=10):
        for name, (rcode, addrs, _) in V2.items():
            st.wait_until(lambda: self.server.query(name).rcode_name == rcode, timeout=timeout,
                          what=f"{name} -> {rcode} after the reload")
            if addrs:
                wait_for_answer(self.server, addrs, timeout=timeout, name=name)


class TestReloadUnderLoad(ReloadScenario):
    def test_sighup_reload_changes_adds_and_removes_services_without_a_lost_or_wrong_answer(self):
        self.start_load()
        self.zones.write("example.com.toml", fixture("reload_v2.toml", self.port))
        self.load.wait_answered(200)  # still the old configuration: nothing reloads by itself
        self.server.send_signal(signal.SIGHUP)
        st.wait_until(lambda: metric(self.server, "signpost_reloads_total") == 1, timeout=10,
                      what="signpost_reloads_total 1")
        self.wait_new_config()
        self.load.wait_answered(400)
        self.finish_load()
        self.assertIn("SIGHUP: reloading", self.server.stderr())
        self.assertIn("reloaded 1 zone(s), 3 service(s), 2 endpoint(s)", self.server.stderr())
        self.assertTrue(self.server.status()["reload"]["ok"])

    def test_api_reload_changes_adds_and_removes_services_without_a_lost_or_wrong_answer(self):
        self.start_load()
        self.zones.write("example.com.toml", fixture("reload_v2.toml", self.port))
        self.load.wait_answered(200)
        p = self.server.cli("reload")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("reloaded", p.stdout)
        # The reply comes after the swap: the new names answer at once.
        r = self.server.query("new.example.com")
        self.assertEqual((r.rcode_name, r.answer[0].rdata), ("NOERROR", bytes([127, 0, 0, 10])))
        self.assertEqual(self.server.query("old.example.com").rcode_name, "NXDOMAIN")
        self.wait_new_config()
        self.load.wait_answered(400)
        self.finish_load()
        self.assertEqual(metric(self.server, "signpost_reloads_total"), 1)
        self.assertEqual(metric(self.server, "signpost_reload_failures_total"), 0)


class TestReloadByWatcher(ReloadScenario):
    watch = True

    def test_writing_the_zone_file_reloads_after_the_debounce_without_a_lost_or_wrong_answer(self):
        self.start_load()
        written = time.monotonic()
        self.zones.write("example.com.toml", fixture("reload_v2.toml", self.port))
        st.wait_until(lambda: self.server.query("new.example.com").rcode_name == "NOERROR", timeout=10,
                      interval=0.01, what="new.example.com answers after the file changed")
        took = time.monotonic() - written
        print(f"\nreload by the file watcher: {took:.2f} s after the write (debounce 0.5 s)")
        self.assertGreaterEqual(took, 0.45, "reloaded before the 500 ms debounce")
        self.wait_new_config()
        self.load.wait_answered(400)
        self.finish_load()
        self.assertIn("zones directory changed: reloading", self.server.stderr())
        # One save is one reload (debounced), however many events it made.
        self.assertEqual(metric(self.server, "signpost_reloads_total"), 1)

    def test_an_atomic_save_by_rename_reloads(self):
        # Configuration management tools write a temporary file and rename it over the old one.
        tmp = self.zones.path / ".example.com.toml.tmp"
        tmp.write_text(fixture("reload_v2.toml", self.port))
        os.replace(tmp, self.zones.path / "example.com.toml")
        self.wait_new_config()
        self.assertEqual(metric(self.server, "signpost_reloads_total"), 1)
        self.assertTrue(self.server.status()["reload"]["ok"])


class TestBrokenReload(ReloadScenario):
    def test_a_broken_file_keeps_the_old_answers_and_reports_file_line_col(self):
        load = DnsLoad(self.server.port, NAMES, lambda n, *a: "old" if matches(V1[n], *a) else None).start()
        self.load = load
        load.wait_answered(300)
        path = self.zones.path / "example.com.toml"
        self.zones.write("example.com.toml", fixture("reload_broken.toml", self.port))
        line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if l.startswith("tll"))
        want = (f"{path}:{line}:1: error: zone 'example.com' service 'api': unknown key 'tll'; "
                f"did you mean 'ttl'?")

        # The CLI: exit 1, the error printed.
        p = self.server.cli("reload")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(want, p.stderr + p.stdout)
        self.assertIn("still serving the previous configuration", p.stderr + p.stdout)
        # The API: 422 and the status.
        status, body, _ = self.server.post("/v1/reload")
        self.assertEqual(status, 422, body)
        self.assertIn(want, body["error"])
        rl = self.server.status()["reload"]
        self.assertFalse(rl["ok"])
        self.assertTrue(any(e.startswith(want) for e in rl["errors"]), rl)
        # SIGHUP fails the same way.
        self.server.send_signal(signal.SIGHUP)
        st.wait_until(lambda: metric(self.server, "signpost_reload_failures_total") == 3, timeout=10,
                      what="signpost_reload_failures_total 3")
        m = self.server.metrics()
        self.assertEqual(m["signpost_reloads_total"], 3)
        self.assertEqual(m["signpost_last_reload_ok"], 0)
        self.assertRegex(self.server.stderr(), re.escape(want))
        self.assertIn("reload failed with 1 error(s); still serving the previous configuration",
                      self.server.stderr())
        # `signpost status` shows the failure too.
        p = self.server.cli("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("last reload: FAILED", p.stdout)
        self.assertIn(want, p.stdout)

        load.wait_answered(300)
        load.stop()
        c = load.counts()
        print(f"\nload during the broken reloads: {c}")
        self.assertEqual(c["lost"], 0, c)
        self.assertEqual(load.wrong, [], f"answers that are not the old configuration: {load.wrong[:10]}")
        self.load = None

        # Fixed: the reload succeeds and the new configuration answers.
        self.zones.write("example.com.toml", fixture("reload_v2.toml", self.port))
        p = self.server.cli("reload")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.wait_new_config(timeout=5)
        rl = self.server.status()["reload"]
        self.assertTrue(rl["ok"], rl)
        self.assertEqual(rl["errors"], [])
        m = self.server.metrics()
        self.assertEqual((m["signpost_reloads_total"], m["signpost_reload_failures_total"],
                          m["signpost_last_reload_ok"]), (4, 3, 1))


class TestHealthKeptAcrossReload(ReloadScenario):
    def test_a_reload_with_an_unrelated_change_keeps_the_failover_and_the_probe_schedule(self):
        primary_key = "example.com/primary/127.0.0.10"
        self.regions[0].set("500")
        wait_for_answer(self.server, [S], timeout=10)
        # Let the failover settle into the normal (1 s) probe rhythm.
        st.wait_until(lambda: self.server.endpoint(primary_key)["consecutive_fail"] >= 5, timeout=15,
                      what="five failures in a row on the primary")
        before_ep = self.server.endpoint(primary_key)
        before_svc = self.server.service("example.com/site")
        before_m = self.server.metrics()
        log_mark = len(self.server.stderr())
        reloaded_at = time.monotonic()

        # An unrelated change: one more static record.
        text = fixture("reload_v1.toml", self.port) + '\n[records.extra]\nA = "192.0.2.7"\n'
        self.zones.write("example.com.toml", text)
        p = self.server.cli("reload")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.server.dig("extra.example.com").rdatas("answer", "A"), ["192.0.2.7"])

        # Right after the reload and for two probe intervals: still the secondary.
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            r = self.server.query("www.example.com")
            self.assertEqual([rr.rdata for rr in r.answer], [bytes([127, 0, 0, 11])],
                             "the answer flipped after a reload")
            time.sleep(0.05)
        after_ep = self.server.endpoint(primary_key)
        after_svc = self.server.service("example.com/site")
        elapsed = time.monotonic() - reloaded_at
        self.assertEqual(after_ep["state"], "down")
        self.assertTrue(after_ep["confirmed"], after_ep)
        self.assertEqual(after_ep["since"], before_ep["since"], "the endpoint's state was reset")
        self.assertEqual(after_svc["label"], "failover:secondary")
        self.assertEqual(after_svc["since"], before_svc["since"], "the service's answer was reset")
        # The counters continue: not reset, and no burst of probes (1 s interval).
        run = after_ep["checks_run"] - before_ep["checks_run"]
        self.assertGreaterEqual(after_ep["checks_run"], before_ep["checks_run"])
        self.assertLessEqual(run, int(elapsed) + 2, f"{run} probes in {elapsed:.1f} s: a probe storm")
        self.assertGreaterEqual(after_ep["consecutive_fail"], before_ep["consecutive_fail"])
        m = self.server.metrics()
        key = 'signpost_service_changes_total{service="example.com/site"}'
        self.assertEqual(m[key], before_m[key], "the service changed its answer across the reload")
        tkey = f'signpost_endpoint_transitions_total{{endpoint="{primary_key}"}}'
        self.assertEqual(m[tkey], before_m[tkey])
        log = self.server.stderr()[log_mark:]
        self.assertIn("API: reloading", log)
        self.assertNotIn("failover:secondary → primary", log)
        self.assertNotIn("example.com/primary/127.0.0.10: down → up", log)


class TestProbesAcrossReload(unittest.TestCase):
    """Removed endpoints stop being probed at once, new ones start right away,
    unchanged ones keep their rhythm (each region logs the requests it gets)."""

    def setUp(self):
        addrs = ("127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13")
        self.port = st.free_port(addrs)
        self.regions = {a: Region(a, self.port, label=f"region {a}", log_requests=True).start() for a in addrs}
        self.zones = st.ZoneDir({"example.com.toml": fixture("probes_v1.toml", self.port)})
        self.server = ApiSignpost(self.zones, config_extra="watch_zones = false", label="signpost (probes)")
        self.server.start()
        self.server.wait_api()

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions.values():
                r.stop()
            self.zones.cleanup()

    def test_removed_endpoints_stop_new_ones_start_unchanged_ones_keep_their_schedule(self):
        gone, fresh, primary = (self.regions[a] for a in ("127.0.0.12", "127.0.0.13", "127.0.0.10"))
        wait_for_answer(self.server, ["127.0.0.12"], timeout=10, name="leaving.example.com")
        st.wait_until(lambda: self.server.endpoint("example.com/gone/127.0.0.12")["state"] == "up", timeout=10,
                      what="pool gone up")
        self.assertEqual(fresh.requests(), [], "127.0.0.13 is in no pool yet")
        # The leaving endpoint and service get counters (a flip, an answer change)
        # that must leave /metrics with them.
        gone.set("500")
        counters = ('signpost_endpoint_transitions_total{endpoint="example.com/gone/127.0.0.12"}',
                    'signpost_service_changes_total{service="example.com/leaving"}')
        for key in counters:
            st.wait_until(lambda: self.server.metrics().get(key, 0) >= 1, timeout=10, what=key)
        self.zones.write("example.com.toml", fixture("probes_v2.toml", self.port))
        before_primary = len(primary.requests())
        p = self.server.cli("reload")
        reloaded = time.monotonic()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        # New: probed right away (well within its 1 s interval), and answering once up.
        st.wait_until(lambda: fresh.requests(), timeout=1.0, interval=0.01, what="a first probe of 127.0.0.13")
        print(f"\nfirst probe of the new endpoint {time.monotonic() - reloaded:.3f} s after the reload")
        wait_for_answer(self.server, ["127.0.0.13"], timeout=10, name="arriving.example.com")
        st.wait_until(lambda: self.server.endpoint("example.com/fresh/127.0.0.13")["state"] == "up", timeout=10,
                      what="pool fresh up")
        # The added service answered from the truth: its first probe round ran
        # before its answers were published, as at a cold start (no all-down
        # answer, no move that never happened).
        moves = re.findall(r"policy: service example\.com/arriving \(arriving\.example\.com\): (.*)",
                           self.server.stderr())
        self.assertEqual(moves[:1], ["(start) → primary (pool fresh up)"], moves)
        self.assertFalse([m for m in moves if "all-down" in m], moves)

        # Removed: gone from the status, the metrics and the answers, and no probe after the reload
        # (one already in flight may still arrive within its timeout).
        keys = [e["key"] for e in self.server.status()["endpoints"]]
        self.assertNotIn("example.com/gone/127.0.0.12", keys)
        m = self.server.metrics()
        for fam in ("signpost_endpoint_up", "signpost_endpoint_failing", "signpost_probe_checks_total"):
            self.assertNotIn(f'{fam}{{endpoint="example.com/gone/127.0.0.12"}}', m)
        self.assertFalse([k for k in m if 'service="example.com/leaving"' in k], "the removed service's series stay")
        for key in counters:
            self.assertNotIn(key, m, "a removed object's counter stays in /metrics")
        self.assertEqual(self.server.query("leaving.example.com").rcode_name, "NXDOMAIN")
        time.sleep(max(0.0, reloaded + 1.2 - time.monotonic()))  # settle: an in-flight probe lands
        settled = len(gone.requests())
        time.sleep(2.5)  # a 1 s interval would probe two or three times in this window
        self.assertEqual(len(gone.requests()), settled, "a removed endpoint is still probed")

        # Unchanged: the same 1 s rhythm, no burst at the reload.
        elapsed = time.monotonic() - reloaded
        burst = len(primary.requests()) - before_primary
        self.assertLessEqual(burst, int(elapsed) + 2, f"{burst} probes of the primary in {elapsed:.1f} s")
        self.assertEqual(self.server.endpoint("example.com/primary/127.0.0.10")["state"], "up")


if __name__ == "__main__":
    st.main()
