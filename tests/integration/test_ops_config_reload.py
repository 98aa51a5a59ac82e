# SIGHUP and `signpost reload` read the server config again (docs/operations.md,
# "What a reload changes"): the real signpost with a --config file; keys that can
# change live (identity, API token, [rrl], log level, ...) change at once, keys
# that cannot (workers, ...) are logged as needing a restart while the rest still
# applies, and a broken config keeps everything running as it was: `signpost
# reload` exits 1 with the file:line:col error.
import signal
import subprocess
import unittest

import signpost_test as st
from regions import ApiSignpost, failover_zone, region_pair, wait_for_answer

P, S = "127.0.0.10", "127.0.0.11"

BASE = 'identity = "ns-before"\nworkers = 1\nlog_level = "info"\n'


def identity(server):
    r = server.dig("id.server", "TXT", qclass="CH")
    return r.rdatas("answer")


class ConfigReload(unittest.TestCase):
    def setUp(self):
        self.port, self.regions = region_pair((P, S))
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port)})
        self.server = ApiSignpost(self.zones, token="token-one", config_extra=BASE,
                                  label=f"signpost ({self.id()})")
        self.server.start()
        self.server.wait_api()
        wait_for_answer(self.server, [P], timeout=10, name="www.example.com")

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.server.cleanup()
            for r in self.regions:
                r.stop()
            self.zones.cleanup()

    def write_config(self, text, token="token-one"):
        with open(self.server.config, "w") as f:
            f.write(text + (f'\n[api]\ntoken = "{token}"\n' if token else ""))

    def log_count(self, pattern):
        return self.server.stderr().count(pattern)

    def reload_by_signal(self):
        before = self.log_count("SIGHUP: reloading")
        self.server.send_signal(signal.SIGHUP)
        st.wait_until(lambda: self.log_count("SIGHUP: reloading") > before, timeout=10,
                      what="the SIGHUP reload")

    def test_live_keys_change_on_sighup(self):
        self.assertEqual(identity(self.server), ['"ns-before"'])
        # [rrl] with loopback no longer exempt and one answer a second, every
        # limited answer slipped (TC=1): a burst must show slipped answers.
        self.write_config('identity = "ns-after"\nworkers = 1\nlog_level = "debug"\n'
                          '[rrl]\nrate = 1\nslip = 1\nallow = []\n', token="token-two")
        self.reload_by_signal()
        st.wait_until(lambda: identity(self.server) == ['"ns-after"'], timeout=10,
                      what="id.server answering the new identity")
        log = self.server.stderr()
        self.assertRegex(log, r"config: applied: .*log_level")
        for key in ("identity", "rrl", "api.token"):
            self.assertIn(key, log.split("config: applied:")[-1].splitlines()[0])
        # The write token changed: the old one is refused, the new one works.
        status, body, _ = self.server.http("POST", "/v1/reload", {}, token="token-one")
        self.assertEqual(status, 401, body)
        status, body, _ = self.server.http("POST", "/v1/reload", {}, token="token-two")
        self.assertEqual(status, 200, body)
        # RRL: a burst of 40 queries from loopback is limited now.
        before = self.server.metrics().get('signpost_dns_rrl_total{action="slipped"}', 0)
        truncated = 0
        for _ in range(40):
            m = self.server.query("www.example.com", "A")
            truncated += 1 if m.tc else 0
        self.assertGreater(truncated, 0)
        self.assertGreater(self.server.metrics()['signpost_dns_rrl_total{action="slipped"}'], before)

    def axfr(self):
        p = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.server.port), "example.com", "AXFR",
                            "+tcp", "+time=3", "+tries=1"], capture_output=True, text=True, timeout=20)
        return p.stdout

    def test_secondaries_change_on_reload(self):
        self.assertIn("Transfer failed", self.axfr())  # no [[secondaries]]: refused
        self.write_config(BASE + '[[secondaries]]\nzones = ["example.com"]\n'
                                 'allow_transfer_from = ["127.0.0.0/8"]\n')
        result = self.server.cli("reload")
        self.assertEqual(result.returncode, 0, result.stderr + result.stdout)
        st.wait_until(lambda: "IN\tSOA" in self.axfr(), timeout=10, what="AXFR allowed after the reload")
        self.assertIn("secondaries", self.server.stderr().split("config: applied:")[-1].splitlines()[0])

    def test_restart_keys_are_reported_and_the_rest_applies(self):
        self.write_config('identity = "ns-other"\nworkers = 3\n')
        result = self.server.cli("reload")
        self.assertEqual(result.returncode, 0, result.stderr + result.stdout)
        log = self.server.stderr()
        self.assertIn("workers changed: kept as running until a restart (the rest applies now)", log)
        self.assertEqual(identity(self.server), ['"ns-other"'])
        self.assertNotIn("workers", log.split("config: applied:")[-1].splitlines()[0])

    def test_a_broken_config_keeps_everything_running(self):
        self.write_config('identity = "ns-broken"\nworkers = 1\n[rrl]\nrate = "fast"\n')
        result = self.server.cli("reload")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertRegex(result.stderr, r"signpost\.toml:\d+:\d+: error: .*rrl\.rate")
        self.assertEqual(identity(self.server), ['"ns-before"'])
        reload = self.server.status()["reload"]
        self.assertFalse(reload["ok"])
        self.assertRegex(reload["errors"][0], r"signpost\.toml:\d+:\d+")
        # The old token still works and DNS still answers from the running config.
        self.assertEqual(self.server.http("GET", "/v1/status")[0], 200)
        wait_for_answer(self.server, [P], timeout=5, name="www.example.com")
        # Fixed: the next SIGHUP applies it.
        self.write_config('identity = "ns-fixed"\nworkers = 1\n')
        self.reload_by_signal()
        st.wait_until(lambda: identity(self.server) == ['"ns-fixed"'], timeout=10,
                      what="id.server answering the fixed identity")
        st.wait_until(lambda: self.server.status()["reload"]["ok"], timeout=10, what="reload ok")


if __name__ == "__main__":
    st.main()
