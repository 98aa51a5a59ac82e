"""Geo routing end to end: small MaxMind DB files written at test time
(tests/support/make_mmdb.pl, Debian's libmaxmind-db-writer-perl) place
192.0.2.0/24 in Germany, 198.51.100.0/24 in California, 203.0.113.0/24 in Japan,
127.0.0.0/8 in France and 2001:db8:1::/48 in Australia. The real signpost probes
real HTTP regions on 127.0.0.21 (eu), .22 (us) and .23 (ap); dig +subnet checks
the answer per country, the ECS scope, failover inside a rule, the nearest
pool, reloads of the database (file change and SIGHUP) and corrupt files."""
import json
import os
import signal
import subprocess
import tempfile
import unittest
from pathlib import Path

import signpost_test as st
from regions import ApiSignpost, Region, answer_of, wait_for_answer

EU, US, AP = "127.0.0.21", "127.0.0.22", "127.0.0.23"
WRITER = st.REPO / "tests" / "support" / "make_mmdb.pl"

CITY = [
    {"network": "192.0.2.0/24", "continent": "EU", "country": "DE", "subdivision": "HE",
     "latitude": 50.11, "longitude": 8.68},
    {"network": "198.51.100.0/24", "continent": "NA", "country": "US", "subdivision": "CA",
     "latitude": 37.77, "longitude": -122.42},
    {"network": "203.0.113.0/24", "continent": "AS", "country": "JP", "latitude": 35.68, "longitude": 139.69},
    {"network": "127.0.0.0/8", "continent": "EU", "country": "FR", "latitude": 48.86, "longitude": 2.35},
    {"network": "2001:db8:1::/48", "continent": "OC", "country": "AU", "latitude": -33.87, "longitude": 151.21},
]

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
interval = "1s"
timeout = "1s"
fall = 2
rise = 2
fast_interval = "200ms"

[pools.eu]
endpoints = ["{eu}"]
checks = ["health"]
location = [50.11, 8.68]      # Frankfurt

[pools.us]
endpoints = ["{us}"]
checks = ["health"]
location = [39.04, -77.49]    # Ashburn

[pools.ap]
endpoints = ["{ap}"]
checks = ["health"]
location = [35.68, 139.69]    # Tokyo

[services.site]
names = ["www"]
policy = "geo"
pools = ["us", "eu", "ap"]
ttl = 30
rules = [
  {{ continents = ["EU"], pools = ["eu", "us"] }},
  {{ countries = ["JP"], pools = ["ap", "us"] }},
]

[services.near]
names = ["near"]
policy = "geo"
pools = ["us", "eu", "ap"]
ttl = 30
nearest = true
"""


def write_mmdb(path, networks):
    """Writes the database next to `path`, then renames it in (as geoipupdate does)."""
    spec = Path(str(path) + ".json")
    spec.write_text(json.dumps({"type": "GeoLite2-City", "ip_version": 6, "networks": networks}))
    tmp = Path(str(path) + ".tmp")
    subprocess.run(["perl", str(WRITER), str(spec), str(tmp)], check=True, capture_output=True, timeout=60)
    os.replace(tmp, path)


def scope_of(r):
    """The ECS option dig shows: '; CLIENT-SUBNET: 192.0.2.0/24/24' -> 24."""
    for opt in r.edns["options"] if r.edns else []:
        if opt.startswith("CLIENT-SUBNET:"):
            return int(opt.split()[-1].rsplit("/", 1)[1])
    return None


class GeoScenario(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="signpost-geo-"))
        self.db = self.dir / "GeoLite2-City.mmdb"
        write_mmdb(self.db, CITY)
        self.port = st.free_port((EU, US, AP))
        self.regions = {a: Region(a, self.port, label=f"region {a}").start() for a in (EU, US, AP)}
        self.zones = st.ZoneDir({"example.com.toml": ZONE.format(port=self.port, eu=EU, us=US, ap=AP)})
        self.server = ApiSignpost(self.zones, config_extra=f'geoip_databases = ["{self.db}"]',
                                  label=f"signpost ({self.id()})").start()

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            for r in self.regions.values():
                r.stop()
            self.zones.cleanup()

    def answer(self, name, subnet=None, qtype="A"):
        return answer_of(self.server, name, qtype, subnet=subnet)


class TestGeo(GeoScenario):
    def test_each_country_gets_its_rule_with_the_database_network_as_ecs_scope(self):
        for subnet, want in (("192.0.2.0/24", EU), ("198.51.100.0/24", US), ("203.0.113.0/24", AP),
                             ("192.0.2.77/32", EU)):
            r = self.server.dig("www.example.com", subnet=subnet)
            self.assertEqual(r.status, "NOERROR")
            self.assertEqual(r.rdatas("answer", "A"), [want], subnet)
            self.assertEqual(scope_of(r), 24, f"{subnet}: the database network is a /24\n{r}")
        # Never longer than the source prefix: 192.0.2.0/23 sits in the /24 of DE.
        r = self.server.dig("www.example.com", subnet="192.0.2.0/23")
        self.assertEqual(scope_of(r), 23, r)
        # A client in no network gets the default order (us), scoped to the empty network.
        r = self.server.dig("www.example.com", subnet="10.1.2.0/24")
        self.assertEqual(r.rdatas("answer", "A"), [US])
        self.assertLessEqual(scope_of(r), 24)
        # SOURCE PREFIX-LENGTH 0: the default order, scope 0.
        r = self.server.dig("www.example.com", subnet="0.0.0.0/0")
        self.assertEqual(r.rdatas("answer", "A"), [US])
        self.assertEqual(scope_of(r), 0)

    def test_without_ecs_the_resolver_address_is_located(self):
        # 127.0.0.1 is in France (Europe): the EU rule.
        r = self.server.dig("www.example.com")
        self.assertEqual(r.rdatas("answer", "A"), [EU])
        self.assertIsNone(scope_of(r))

    def test_a_rule_fails_over_inside_its_list_and_comes_back(self):
        self.regions[EU].set("500")
        wait_for_answer(self.server, [US], timeout=15, subnet="192.0.2.0/24")
        self.assertEqual(self.answer("www.example.com", "203.0.113.0/24"), [AP])  # another rule, untouched
        st.wait_until(lambda: "geo rule 1 → failover:us" in self.server.stderr(), timeout=5,
                      what="the log line of the rule's failover")
        self.regions[EU].set("200")
        wait_for_answer(self.server, [EU], timeout=15, subnet="192.0.2.0/24")

    def test_nearest_takes_the_closest_pool_that_is_up(self):
        cases = (("192.0.2.0/24", EU), ("198.51.100.0/24", US), ("203.0.113.0/24", AP))
        for subnet, want in cases:
            self.assertEqual(self.answer("near.example.com", subnet), [want], subnet)
        # An IPv6 client subnet (over IPv4 transport): Sydney gets Tokyo.
        self.assertEqual(self.answer("near.example.com", "2001:db8:1::/48"), [AP])
        r = self.server.dig("near.example.com", subnet="2001:db8:1::/56")
        self.assertEqual(scope_of(r), 48, r)
        # Tokyo goes down: Sydney's next closest is Ashburn (15,700 km) before Frankfurt
        # (16,500 km); Tokyo's own clients go to Frankfurt (9,350 km) before Ashburn (10,900 km).
        self.regions[AP].stop()
        wait_for_answer(self.server, [US], timeout=15, name="near.example.com", subnet="2001:db8:1::/48")
        self.assertEqual(self.answer("near.example.com", "203.0.113.0/24"), [EU])
        self.assertEqual(self.answer("near.example.com", "192.0.2.0/24"), [EU])

    def test_explain_shows_network_country_coordinates_and_rule(self):
        status, body, _ = self.server.http("GET", "/v1/explain?name=www.example.com&type=A&client=192.0.2.0/24")
        self.assertEqual(status, 200, body)
        path = "\n".join(body["path"])
        self.assertIn("client 192.0.2.0/24 located in 192.0.2.0/24: country DE, subdivision DE-HE, continent EU, "
                      "coordinates 50.1100, 8.6800; ECS scope /24", path)
        self.assertIn("matches continent EU: geo:eu", path)
        status, body, _ = self.server.http("GET", "/v1/explain?name=near.example.com&type=A&client=203.0.113.9")
        self.assertIn("nearest pool up: ap (0 km away): nearest:ap", "\n".join(body["path"]))
        r = self.server.dig("near.example.com.explain.signpost", "TXT", qclass="CH")
        self.assertIn("nearest pool up: eu", " ".join(r.rdatas()))  # 127.0.0.1 is Paris: Frankfurt

    def test_metrics_count_answers_per_rule(self):
        for _ in range(3):
            self.answer("www.example.com", "203.0.113.0/24")
        self.answer("www.example.com", "10.9.9.0/24")
        self.answer("near.example.com", "198.51.100.0/24")
        m = self.server.metrics()
        self.assertGreaterEqual(m['signpost_geo_answers_total{service="example.com/site",rule="2"}'], 3)
        self.assertGreaterEqual(m['signpost_geo_answers_total{service="example.com/site",rule="default"}'], 1)
        self.assertGreaterEqual(m['signpost_geo_answers_total{service="example.com/near",rule="nearest:us"}'], 1)
        self.assertIn('signpost_geo_answers_total{service="example.com/near",rule="nearest:ap"}', m)
        # The status API lists the same counters per geo service (no query in between).
        site = {r["rule"]: r["answers"] for r in self.server.service("example.com/site")["geo_answers"]}
        self.assertEqual(site["2"], m['signpost_geo_answers_total{service="example.com/site",rule="2"}'])
        self.assertEqual(site["default"], m['signpost_geo_answers_total{service="example.com/site",rule="default"}'])

    def test_a_changed_database_file_and_sighup_reload_it(self):
        moved = [dict(n, continent="NA", country="US", latitude=39.0, longitude=-77.0)
                 if n["network"] == "192.0.2.0/24" else n for n in CITY]
        write_mmdb(self.db, moved)  # the file changes: no signal needed
        wait_for_answer(self.server, [US], timeout=15, subnet="192.0.2.0/24")
        self.assertEqual(self.answer("near.example.com", "192.0.2.0/24"), [US])
        self.assertIn("a GeoIP database file changed", self.server.stderr())
        # SIGHUP reads it again too (and the server config with it).
        before = self.server.stderr().count("geoip: SIGHUP:")
        self.server.send_signal(signal.SIGHUP)
        st.wait_until(lambda: self.server.stderr().count("geoip: SIGHUP:") > before, timeout=15,
                      what="the SIGHUP reload of the GeoIP database")
        self.assertEqual(self.answer("www.example.com", "192.0.2.0/24"), [US])

    def test_a_corrupt_database_on_reload_keeps_the_one_in_use(self):
        tmp = Path(str(self.db) + ".bad")
        tmp.write_bytes(b"this is not a MaxMind DB file\n" * 100)
        os.replace(tmp, self.db)
        st.wait_until(lambda: "keeping the databases in use" in self.server.stderr(), timeout=15,
                      what="the error about the corrupt database")
        self.assertIn(f"{self.db}: cannot open the GeoIP database", self.server.stderr())
        for _ in range(20):  # still answered from the old database
            self.assertEqual(self.answer("www.example.com", "192.0.2.0/24"), [EU])
            self.assertEqual(self.answer("www.example.com", "203.0.113.0/24"), [AP])
        write_mmdb(self.db, CITY)  # a good file again is picked up
        st.wait_until(lambda: self.server.stderr().count("a GeoIP database file changed:") >= 1, timeout=15,
                      what="the good database loaded again")


class TestGeoStart(unittest.TestCase):
    def test_a_missing_or_corrupt_database_stops_the_start_with_the_file_named(self):
        d = Path(tempfile.mkdtemp(prefix="signpost-geo-"))
        bad = d / "corrupt.mmdb"
        bad.write_bytes(b"\x00" * 4096)
        zones = st.ZoneDir({"example.com.toml": ZONE.format(port=9, eu=EU, us=US, ap=AP)})
        try:
            for path, why in ((d / "missing.mmdb", "No such file or directory"), (bad, "")):
                conf = d / "signpost.toml"
                conf.write_text(f'geoip_databases = ["{path}"]\n[api]\nenabled = false\n')
                p = st.run_cli("serve", "--zones", zones.path, "--listen", f"127.0.0.1:{st.free_port()}",
                               "--config", conf, timeout=30)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(f"{path}: cannot open the GeoIP database: ", p.stderr)
                self.assertIn(why, p.stderr)
                self.assertIn("not starting", p.stderr)
        finally:
            zones.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
