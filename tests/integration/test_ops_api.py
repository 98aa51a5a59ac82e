"""The status/control API and its CLI against the real signpost and real HTTP
regions on 127.0.0.10/11: override round trips (endpoint and pool, expiry,
auto), drains (out of answers, drained after the highest TTL, undo), manual
failback and release, token checks with urllib, explain for a failed-over name
and for a subnet client, and /metrics consistent with the status. Every answer
is checked with dig."""
import json
import re
import time
import unittest

import signpost_test as st
from regions import ApiSignpost, answer_of, region_pair, wait_for_answer

P, S = "127.0.0.10", "127.0.0.11"
PRIMARY = "example.com/primary/127.0.0.10"
SECONDARY = "example.com/secondary/127.0.0.11"
OPS = st.FIXTURES / "ops"
TOKEN = "ops-test-token"


def fixture(port):
    return (OPS / "api.toml").read_text().replace("@PORT@", str(port))


class ApiScenario(unittest.TestCase):
    token = TOKEN

    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": fixture(self.port)})
        self.server = ApiSignpost(self.zones, token=self.token, label=f"signpost ({self.id()})")
        self.server.start()
        self.server.wait_api()
        # The first probe round may have raced the regions' start.
        wait_for_answer(self.server, [P], timeout=10)
        wait_for_answer(self.server, [P], timeout=10, name="manual.example.com")

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()

    @property
    def primary(self):
        return self.regions[0]

    def cli(self, *args):
        p = self.server.cli(*args)
        self.assertEqual(p.returncode, 0, f"signpost {' '.join(args)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        return p.stdout

    def answer(self, name="www.example.com", **kw):
        return answer_of(self.server, name, **kw)


class TestOverrides(ApiScenario):
    def test_endpoint_override_down_with_expiry_returns_to_auto(self):
        out = self.cli("override", PRIMARY, "down", "--reason", "maintenance", "--for", "2s")
        set_at = time.monotonic()
        self.assertEqual(out.strip(), f"{PRIMARY} forced down for 2s")
        self.assertEqual(self.answer(), [S], "forced down: out of answers at once")
        ep = self.server.endpoint(PRIMARY)
        self.assertEqual(ep["override"]["state"], "down")
        self.assertEqual(ep["override"]["reason"], "maintenance")
        self.assertIsNotNone(ep["override"]["expires"])
        self.assertEqual(ep["state"], "down")
        status = self.cli("status")
        self.assertRegex(status, rf"{re.escape(PRIMARY)}\s+down\b.*down: maintenance \(until ")
        # Expiry: back to the probes (which say up), so back to the primary.
        took = wait_for_answer(self.server, [P], timeout=8)
        self.assertGreaterEqual(time.monotonic() - set_at, 1.9, "the override ended before its 2 s")
        print(f"\nback to the primary {took:.2f} s after a 2 s override")
        self.assertEqual(self.server.endpoint(PRIMARY)["override"],
                         {"state": "auto", "reason": "", "expires": None})
        self.assertIn(f"override of {PRIMARY} expired; back to automatic", self.server.stderr())

    def test_pool_override_down_and_back_to_auto(self):
        out = self.cli("override", "example.com/primary", "down", "--reason", "pool work")
        self.assertEqual(out.strip(), "example.com/primary forced down until changed")
        self.assertEqual(self.answer(), [S])
        self.cli("reload")  # overrides survive reloads
        self.assertEqual(self.answer(), [S])
        self.assertEqual(self.answer("geo.example.com", subnet="198.51.100.7/24"), [S])
        ep = self.server.endpoint(PRIMARY)
        self.assertEqual((ep["state"], ep["override"]["state"], ep["override"]["reason"]),
                         ("down", "down", "pool work"))
        # An endpoint's own override wins over its pool's.
        self.cli("override", PRIMARY, "up")
        self.assertEqual(self.answer(), [P])
        self.cli("override", PRIMARY, "auto")
        self.assertEqual(self.answer(), [S], "the pool override applies again")
        out = self.cli("override", "example.com/primary", "auto")
        self.assertEqual(out.strip(), "example.com/primary back to automatic (probes decide)")
        self.assertEqual(self.answer(), [P])
        self.assertEqual(self.server.endpoint(PRIMARY)["override"]["state"], "auto")

    def test_override_up_keeps_a_failing_primary_in_answers(self):
        self.primary.set("500")
        wait_for_answer(self.server, [S], timeout=10)
        self.cli("override", PRIMARY, "up", "--reason", "probe is wrong")
        self.assertEqual(self.answer(), [P])
        self.assertEqual(self.server.endpoint(PRIMARY)["state"], "up")
        self.cli("override", PRIMARY, "auto")
        self.assertEqual(self.answer(), [S])

    def test_bad_override_requests_are_refused_with_a_message(self):
        p = self.server.cli("override", "example.com/primary/192.0.2.99", "down")
        self.assertEqual(p.returncode, 1)
        self.assertIn("signpost: no endpoint or pool 'example.com/primary/192.0.2.99'", p.stderr)
        p = self.server.cli("override", PRIMARY, "down", "--for", "soon")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--for: 'soon' is not a duration (e.g. 90s, 30m, 1h30m)", p.stderr + p.stdout)
        status, body, _ = self.server.post("/v1/overrides", {"target": PRIMARY, "state": "sideways"})
        self.assertEqual((status, body), (400, {"error": "unknown state 'sideways': use up, down or auto"}))
        self.assertEqual(self.answer(), [P], "nothing changed")


class TestDrain(ApiScenario):
    def test_drain_takes_the_endpoint_out_reports_drained_after_the_ttl_and_undo_restores(self):
        asked_at = time.monotonic()  # CLOCK_MONOTONIC, the clock signpost reports the drain on
        out = self.cli("drain", PRIMARY)
        self.assertIn(f"{PRIMARY} is draining: out of answers now", out)
        self.assertIn("drained: no", out)
        self.assertEqual(self.answer(), [S])
        self.assertEqual(self.answer("manual.example.com"), [S])
        self.assertEqual(self.answer("geo.example.com", subnet="198.51.100.7/24"), [S])
        d = self.server.endpoint(PRIMARY)["drain"]
        self.assertEqual((d["draining"], d["drained"]), (True, False))
        self.assertEqual(d["highest_ttl"], 2)
        # It left the answers when the snapshot without it was published: after we asked.
        self.assertIsNotNone(d["left_answers_monotonic"])
        self.assertGreaterEqual(d["left_answers_monotonic"], asked_at)
        self.assertIn("draining since", self.cli("status"))
        # A reload keeps the drain (and its clock).
        self.cli("reload")
        self.assertEqual(self.answer(), [S])
        self.assertEqual(self.server.endpoint(PRIMARY)["drain"]["since"], d["since"])
        # Drained once out of every answer for the highest TTL served (2 s): the
        # rule, on signpost's own clock, never before.
        st.wait_until(lambda: self.server.endpoint(PRIMARY)["drain"]["drained"], timeout=8, interval=0.05,
                      what="drain.drained")
        done = self.server.endpoint(PRIMARY)["drain"]
        self.assertEqual(done["left_answers_monotonic"], d["left_answers_monotonic"])
        print(f"\ndrained {done['drained_monotonic'] - done['left_answers_monotonic']:.3f} s after the answers "
              f"without it were published (highest TTL 2 s)")
        self.assertGreaterEqual(done["drained_monotonic"] - done["left_answers_monotonic"], 2.0,
                                "drained before the highest TTL had passed")
        self.assertIn(f"endpoint {PRIMARY} is drained", self.server.stderr())
        self.assertRegex(self.cli("status"), rf"{re.escape(PRIMARY)}.*drained")
        out = self.cli("drain", PRIMARY, "--undo")
        self.assertIn(f"{PRIMARY} is back in answers (when healthy)", out)
        self.assertEqual(self.answer(), [P])
        self.assertEqual(self.answer("geo.example.com", subnet="198.51.100.7/24"), [P])
        self.assertEqual(self.server.endpoint(PRIMARY)["drain"],
                         {"draining": False, "drained": False, "since": None})

    def test_drain_of_an_unknown_endpoint_names_it(self):
        p = self.server.cli("drain", "example.com/primary/192.0.2.99")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip(), "signpost: no endpoint 'example.com/primary/192.0.2.99'; "
                                           "use a key such as example.com/primary/127.0.0.10")


class TestManualFailback(ApiScenario):
    def test_manual_failback_stays_on_the_secondary_until_released(self):
        self.primary.set("500")
        wait_for_answer(self.server, [S], timeout=10)
        wait_for_answer(self.server, [S], timeout=10, name="manual.example.com")
        self.primary.set("200")
        wait_for_answer(self.server, [P], timeout=10)  # the automatic service is back
        st.wait_until(lambda: self.server.endpoint(PRIMARY)["state"] == "up", timeout=5, what="primary up")
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # and the manual one stays put
            self.assertEqual(self.answer("manual.example.com"), [S])
            time.sleep(0.1)
        svc = self.server.service("example.com/manual")
        self.assertEqual(svc["label"], "failover:secondary")
        out = self.cli("release", "example.com/manual")
        self.assertIn("example.com/manual released: it returns to the best healthy pool", out)
        self.assertIn("label: primary", out)
        self.assertEqual(self.answer("manual.example.com"), [P])
        self.assertEqual(self.server.service("example.com/manual")["label"], "primary")

    def test_release_of_an_unknown_service_names_it(self):
        p = self.server.cli("release", "example.com/nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn("signpost: no service 'example.com/nope'", p.stderr)


class TestTokens(ApiScenario):
    def test_writes_need_the_right_token_and_reads_from_loopback_do_not(self):
        status, body, _ = self.server.post("/v1/reload", token=None)
        self.assertEqual((status, body), (401, {"error": "missing token: send 'Authorization: Bearer <api.token>'"}))
        status, body, _ = self.server.post("/v1/overrides", {"target": PRIMARY, "state": "down"}, token="nope")
        self.assertEqual((status, body), (401, {"error": "wrong token"}))
        self.assertEqual(self.answer(), [P], "a refused write changed nothing")
        status, body, _ = self.server.post("/v1/drain", {"endpoint": PRIMARY}, token=TOKEN + "x")
        self.assertEqual(status, 401)
        status, body, _ = self.server.post("/v1/reload", token=TOKEN)
        self.assertEqual(status, 200, body)
        self.assertTrue(body["ok"])
        for path in ("/v1/status", "/v1/services", "/v1/endpoints", "/v1/zones", "/metrics",
                     "/v1/explain?name=www.example.com"):
            status, body, headers = self.server.http("GET", path)
            self.assertEqual(status, 200, f"GET {path}: {body}")
        status, _, headers = self.server.http("GET", "/metrics")
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4")
        # The CLI without a token says what to do.
        p = st.run_cli("override", PRIMARY, "down", "--api", self.server.api)
        self.assertEqual(p.returncode, 1)
        self.assertIn("missing token", p.stderr)


class TestNoToken(ApiScenario):
    token = None

    def test_writes_are_disabled_without_a_configured_token(self):
        for token in (None, "anything"):
            status, body, _ = self.server.post("/v1/reload", token=token)
            self.assertEqual((status, body),
                             (403, {"error": "writes are disabled: set api.token in the server config"}))
        self.assertEqual(self.server.http("GET", "/v1/status")[0], 200)
        self.assertIn("read-only: no api token configured, writes are refused", self.server.stderr())


class TestExplain(ApiScenario):
    def test_explain_a_failed_over_name(self):
        self.primary.set("500")
        wait_for_answer(self.server, [S], timeout=10)
        dig = self.server.dig("www.example.com", "A")
        out = self.cli("explain", "www.example.com", "A", "--json")
        j = json.loads(out)
        self.assertEqual(j["rcode"], "NOERROR")
        self.assertEqual(j["service"], "example.com/site")
        self.assertEqual(j["label"], "failover:secondary")
        self.assertEqual(j["answer"], [f"www.example.com. {rr.ttl} IN A {rr.rdata}" for rr in dig.answer])
        self.assertEqual(j["answer"], ["www.example.com. 1 IN A 127.0.0.11"], "the short unstable TTL")
        self.assertIn("pool primary: down (0/1 healthy, needs 1): endpoint 127.0.0.10 down: HTTP 500", j["path"])
        self.assertIn("pool secondary: up (1/1 healthy, needs 1): endpoint 127.0.0.11 up: HTTP 200", j["path"])
        self.assertEqual(j["path"][:2], ["zone example.com", "service site (failover) owns www.example.com."])
        # The table form says the same.
        text = self.cli("explain", "www.example.com", "A")
        self.assertIn("www.example.com. 1 IN A 127.0.0.11", text)
        self.assertIn("endpoint 127.0.0.10 down: HTTP 500", text)
        self.assertIn("answering failover:secondary", text)

    def test_explain_for_a_client_subnet_matches_what_dig_gets(self):
        for client, subnet, want in (("198.51.100.7", "198.51.100.0/24", P),
                                     ("203.0.113.0/24", "203.0.113.0/24", S)):
            j = json.loads(self.cli("explain", "geo.example.com", "A", "--client", client, "--json"))
            self.assertEqual(j["client"], client)
            self.assertEqual(j["policy"], "subnet")
            self.assertEqual([a.split()[-1] for a in j["answer"]], [want], j)
            self.assertTrue(any(l.startswith(f"client {client.split('/')[0]} is in {subnet}") for l in j["path"]),
                            j["path"])
            self.assertEqual(self.answer("geo.example.com", subnet=client if "/" in client else client + "/32"),
                             [want])
        # The client's preferred pool fails: it is sent to the other one, and explain says why.
        self.primary.set("500")
        wait_for_answer(self.server, [S], timeout=10, name="geo.example.com", subnet="198.51.100.7/32")
        j = json.loads(self.cli("explain", "geo.example.com", "A", "--client", "198.51.100.7", "--json"))
        self.assertEqual([a.split()[-1] for a in j["answer"]], [S])
        self.assertIn("pool primary: down (0/1 healthy, needs 1): endpoint 127.0.0.10 down: HTTP 500", j["path"])

    def test_explain_errors(self):
        p = self.server.cli("explain", "www.example.com", "A", "--client", "not-an-address")
        self.assertEqual(p.returncode, 1)
        self.assertIn("signpost: 'client' must be an address or prefix, got 'not-an-address'", p.stderr)
        j = json.loads(self.cli("explain", "www.example.org", "A", "--json"))
        self.assertEqual(j["rcode"], "REFUSED")


FAMILIES = {
    "signpost_build_info": "gauge",
    "signpost_views_published_total": "counter",
    "signpost_reloads_total": "counter",
    "signpost_reload_failures_total": "counter",
    "signpost_last_reload_ok": "gauge",
    "signpost_endpoint_up": "gauge",
    "signpost_endpoint_failing": "gauge",
    "signpost_probe_checks_total": "counter",
    "signpost_probe_latency_seconds": "gauge",
    "signpost_endpoint_transitions_total": "counter",
    "signpost_service_pool": "gauge",
    "signpost_service_info": "gauge",
    "signpost_service_all_down": "gauge",
    "signpost_services_all_down": "gauge",
    "signpost_service_changes_total": "counter",
    "process_cpu_seconds_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
}


class TestMetrics(ApiScenario):
    def assertConsistent(self):
        """Every endpoint and service in /metrics says what /v1/status says."""
        status = self.server.status()
        m = self.server.metrics()
        for ep in status["endpoints"]:
            self.assertEqual(m[f'signpost_endpoint_up{{endpoint="{ep["key"]}"}}'],
                             1 if ep["state"] == "up" else 0, ep["key"])
            self.assertIn(f'signpost_endpoint_transitions_total{{endpoint="{ep["key"]}"}}', m, ep["key"])
        all_down = 0
        for svc in status["services"]:
            self.assertEqual(m.get(f'signpost_service_info{{service="{svc["key"]}",policy="{svc["policy"]}",'
                                   f'label="{svc["label"]}"}}'), 1, f'{svc["key"]} label {svc["label"]}')
            for pool in svc["pools"]:
                self.assertIn(m[f'signpost_service_pool{{service="{svc["key"]}",pool="{pool["name"]}"}}'], (0, 1))
            self.assertIn(f'signpost_service_changes_total{{service="{svc["key"]}"}}', m, svc["key"])
            self.assertEqual(m[f'signpost_service_all_down{{service="{svc["key"]}"}}'], int(svc["all_down"]))
            all_down += svc["all_down"]
        self.assertEqual(m["signpost_services_all_down"], all_down)
        self.assertEqual(m["signpost_views_published_total"], status["generation"])
        return m

    def test_families_are_documented_and_values_follow_the_state(self):
        text = self.server.metrics_text()
        for fam, kind in FAMILIES.items():
            self.assertIn(f"# HELP {fam} ", text)
            self.assertIn(f"# TYPE {fam} {kind}\n", text)
        m = self.assertConsistent()
        self.assertEqual(m[f'signpost_endpoint_up{{endpoint="{PRIMARY}"}}'], 1)
        self.assertEqual(m["signpost_services_all_down"], 0)
        self.assertEqual((m["signpost_reloads_total"], m["signpost_reload_failures_total"],
                          m["signpost_last_reload_ok"]), (0, 0, 1))
        checks = m[f'signpost_probe_checks_total{{endpoint="{PRIMARY}"}}']
        st.wait_until(lambda: self.server.metrics()[f'signpost_probe_checks_total{{endpoint="{PRIMARY}"}}'] > checks,
                      timeout=5, what="probe counter increasing")

        self.primary.set("500")
        wait_for_answer(self.server, [S], timeout=10)
        m = self.assertConsistent()
        self.assertEqual(m[f'signpost_endpoint_up{{endpoint="{PRIMARY}"}}'], 0)
        self.assertEqual(m['signpost_service_pool{service="example.com/site",pool="secondary"}'], 1)
        self.assertEqual(m['signpost_service_pool{service="example.com/site",pool="primary"}'], 0)
        self.assertEqual(m['signpost_service_info{service="example.com/site",policy="failover",'
                           'label="failover:secondary"}'], 1)
        self.assertGreaterEqual(m[f'signpost_endpoint_transitions_total{{endpoint="{PRIMARY}"}}'], 1)
        self.assertGreaterEqual(m['signpost_service_changes_total{service="example.com/site"}'], 1)

        self.regions[1].set("500")
        wait_for_answer(self.server, [P, S], timeout=10)
        st.wait_until(lambda: self.server.metrics()["signpost_services_all_down"] == 3, timeout=5,
                      what="three services all down")
        m = self.assertConsistent()
        self.assertEqual(m['signpost_service_all_down{service="example.com/site"}'], 1)

        self.assertEqual(self.server.post("/v1/reload")[0], 200)
        m = self.assertConsistent()
        self.assertEqual(m["signpost_reloads_total"], 1)

    def test_query_counters_by_zone_type_rcode_and_a_latency_histogram(self):
        # Issue 5: "/metrics ... queries by zone, type and rcode, answer latency histogram".
        text = self.server.metrics_text()
        for fam, kind in (("signpost_dns_queries_total", "counter"), ("signpost_dns_responses_total", "counter"),
                          ("signpost_dns_responses_by_type_total", "counter"),
                          ("signpost_dns_responses_by_zone_total", "counter"),
                          ("signpost_dns_answer_seconds", "histogram")):
            self.assertIn(f"# TYPE {fam} {kind}\n", text)
        before = self.server.metrics()
        for name, qtype, tcp in (("www.example.com", "A", False), ("nope.example.com", "A", False),
                                 ("example.com", "SOA", True), ("www.example.org", "A", False)):
            self.assertIsNotNone(self.server.query(name, qtype, tcp=tcp))
        after = self.server.metrics()

        def delta(key):
            return after.get(key, 0) - before.get(key, 0)

        self.assertEqual(delta('signpost_dns_queries_total{transport="udp"}'), 3)
        self.assertEqual(delta('signpost_dns_queries_total{transport="tcp"}'), 1)
        self.assertEqual(delta('signpost_dns_responses_total{rcode="NOERROR"}'), 2)
        self.assertEqual(delta('signpost_dns_responses_total{rcode="NXDOMAIN"}'), 1)
        self.assertEqual(delta('signpost_dns_responses_total{rcode="REFUSED"}'), 1)
        self.assertEqual(delta('signpost_dns_responses_by_type_total{type="A"}'), 3)
        self.assertEqual(delta('signpost_dns_responses_by_type_total{type="SOA"}'), 1)
        self.assertEqual(delta('signpost_dns_responses_by_zone_total{zone="example.com"}'), 3)
        self.assertEqual(delta("signpost_dns_answer_seconds_count"), 4)
        self.assertEqual(delta('signpost_dns_answer_seconds_bucket{le="+Inf"}'), 4)
        # Buckets are cumulative.
        buckets = sorted((float(k.split('le="')[1].rstrip('"}')), v) for k, v in after.items()
                         if k.startswith("signpost_dns_answer_seconds_bucket"))
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts), buckets)
        self.assertEqual(buckets[-1][1], after["signpost_dns_answer_seconds_count"])


if __name__ == "__main__":
    st.main()
