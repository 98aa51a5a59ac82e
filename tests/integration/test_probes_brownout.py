"""Brownout warning end to end: the primary region keeps passing its checks but
answers far slower than its own baseline. signpost sends one `early-warning`
(hooks, /v1/events, the status and /metrics show it) without moving the
service, and one `warning-cleared` once the region is fast again. Conditions
are polled with deadlines; nothing is asserted about wall-clock times."""
import unittest

import signpost_test as st
from regions import ApiSignpost, Region

P, S = "127.0.0.10", "127.0.0.11"
SITE = "example.com/site"
PRIMARY = "example.com/primary/127.0.0.10"

ZONE = """\
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
interval = "300ms"
timeout = "300ms"
fast_interval = "150ms"
fall = 3
rise = 2
keepalive = true
warn_latency = 4
warn_failures = 0.25

[pools.primary]
endpoints = ["{primary}"]
checks = ["health"]

[pools.secondary]
endpoints = ["{secondary}"]
checks = ["health"]

[services.site]
names = ["@", "www"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
"""


class TestBrownout(unittest.TestCase):
    def setUp(self):
        port = st.free_port((P, S))
        self.regions = [Region(a, port, label=f"region {a}", keepalive=True).start() for a in (P, S)]
        self.zones = st.ZoneDir({"example.com.toml": ZONE.format(port=port, primary=P, secondary=S)})
        self.server = ApiSignpost(self.zones, label="signpost (brownout)").start()
        self.server.wait_api()

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()

    def events(self, since):
        return [e for e in self.server.get(f"/v1/events?since={since}&limit=1000")["events"]
                if e.get("service") == "site"]

    def kinds(self, since, kind):
        return [e for e in self.events(since) if e["kind"] == kind]

    def test_a_slow_region_warns_once_then_clears_once_without_moving(self):
        # A baseline first: the primary answers fast for enough probes.
        st.wait_until(lambda: self.server.endpoint(PRIMARY)["checks"][0]["baseline_ms"] > 0, timeout=30,
                      interval=0.1, what="a latency baseline for the primary")
        self.assertEqual(self.server.service(SITE)["label"], "primary")
        seen = self.server.get("/v1/events")["last_seq"]

        self.regions[0].set("delay:150")  # still passing (timeout 300 ms), but 50+ times slower
        st.wait_until(lambda: self.kinds(seen, "early-warning"), timeout=30, interval=0.1,
                      what="an early-warning for the slow primary")
        warning = self.kinds(seen, "early-warning")[0]
        self.assertIn("pool primary endpoint 127.0.0.10 degraded: slow: ", warning["reason"])
        self.assertEqual(warning["to"], "primary")
        ep = self.server.endpoint(PRIMARY)
        self.assertTrue(ep["degraded"], ep)
        self.assertTrue(ep["warning"].startswith("slow: "), ep)
        self.assertTrue(self.server.service(SITE)["early_warning"])
        self.assertEqual(self.server.metrics()[f'signpost_endpoint_degraded{{endpoint="{PRIMARY}"}}'], 1.0)

        self.regions[0].set("200")
        st.wait_until(lambda: self.kinds(seen, "warning-cleared"), timeout=40, interval=0.1,
                      what="warning-cleared once the primary is fast again")
        # One of each for the episode; the service never moved.
        self.assertEqual(len(self.kinds(seen, "early-warning")), 1, self.events(seen))
        self.assertEqual(len(self.kinds(seen, "warning-cleared")), 1, self.events(seen))
        self.assertEqual(self.kinds(seen, "service"), [])
        cleared = self.kinds(seen, "warning-cleared")[0]
        self.assertGreater(cleared["seq"], warning["seq"])
        self.assertEqual(self.server.service(SITE)["label"], "primary")
        self.assertFalse(self.server.endpoint(PRIMARY)["degraded"])


if __name__ == "__main__":
    st.main()
