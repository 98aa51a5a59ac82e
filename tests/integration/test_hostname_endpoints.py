"""Endpoints by hostname (issue #14) end to end: a real knotd serves the load
balancers' names (lb.test: eu → 127.0.0.10, us → 127.0.0.11) and is signpost's
only resolver; HTTP regions on 127.0.0.10/11/12 answer /health. Each test is one
case of the issue and says so in its name:

  case 1  the Bar: www CNAME eu.lb.test. / apex A 127.0.0.10, the primary's HTTP
          endpoint stops → CNAME us.lb.test. / A 127.0.0.11, restarts → back
          (flip times printed next to the same flip with address endpoints)
  case 2  a TTL change of eu.lb.test moves the flattened apex TTL
  case 3  an address change of eu.lb.test: the apex follows, www stays CNAME
  case 4  NXDOMAIN for eu.lb.test: failover with the reason in the API, the CLI
          and the log; the name comes back → failback
  case 5  the resolver stops answering: last good addresses kept, the status
          says timeout; back when it answers. A start with a silent resolver.
  case 6  AXFR carries the CNAME and the flattened apex as answered

Every wait is bounded by a deadline; times are printed, never asserted."""
import json
import re
import subprocess
import time
import unittest

import signpost_test as st
from hostnames import LbZone, SilentResolver, flattened_ttl, hostname_zone, resolver_config
from regions import ApiSignpost, Region

P, S, P2 = "127.0.0.10", "127.0.0.11", "127.0.0.12"
EU, US = "eu.lb.test", "us.lb.test"
SERVICE_TTL = 30        # services.site.ttl in the examples
RECORD_TTL = 10         # lb.test's A records: re-resolved every 5 s
EXAMPLES = st.REPO / "examples"
EU_KEY, US_KEY = "example.com/primary/eu.lb.test", "example.com/secondary/us.lb.test"


def example_zone(example, port):
    """examples/<example>'s example.com zone with its check on `port`."""
    path = {"failover": EXAMPLES / "failover" / "example.com.toml",
            "hostnames": EXAMPLES / "hostnames" / "zones" / "example.com.toml"}[example]
    text, n = re.subn(r"(?m)^port = 8080$", f"port = {port}", path.read_text())
    assert n == 1, f"{path}: expected one 'port = 8080' line"
    return text


def CNAME(host):
    return [("CNAME", host + ".")]


def A(*addresses):
    return sorted(("A", a) for a in addresses)


def view(server, name, qtype="A"):
    """The answer section of `name`/`qtype` now, as sorted (type, rdata) pairs;
    [("rcode", X)] for an error rcode, [("no reply", ...)] when dig got nothing,
    [("truncated", reply)] or [("nodata", reply)] with dig's text of the reply."""
    try:
        r = server.dig(name, qtype)
    except st.DigError as e:
        return [("no reply", str(e).splitlines()[0])]
    if r.status != "NOERROR":
        return [("rcode", r.status)]
    if "tc" in r.flags:
        return [("truncated", r.text)]
    if not r.answer:
        return [("nodata", r.text)]  # with the reply, to tell which server said it
    return sorted((rr.type, rr.rdata.lower()) for rr in r.answer)


def ttls(server, name, qtype="A"):
    return sorted({rr.ttl for rr in server.dig(name, qtype).answer})


def state_txt(server, service="site"):
    r = server.dig(f"{service}._signpost.example.com", "TXT")
    return " ".join(r.rdatas("answer", "TXT"))


def hostname_entry(server, key):
    """The /v1/endpoints entry with this key (e.g. example.com/primary/eu.lb.test)."""
    eps = server.get("/v1/endpoints")
    if isinstance(eps, dict):
        eps = eps.get("endpoints", [])
    found = [e for e in eps if e.get("key") == key]
    if len(found) != 1:
        raise AssertionError(f"/v1/endpoints has {len(found)} entries with key {key}:\n{json.dumps(eps, indent=1)}")
    return found[0]


def probe_hosts(region):
    """The Host headers of the /health requests a region received (port stripped)."""
    out = set()
    for line in region.requests():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "/health":
            out.add(re.sub(r":\d+$", "", parts[2]))
    return out


class HostnameCase(unittest.TestCase):
    """Builds one site per test: regions, knotd for lb.test, signpost(s)."""
    case = ""

    def fail_case(self, text):
        raise AssertionError(f"[{self.case}] {text}")

    def start_regions(self, addresses=(P, S)):
        self.port = st.free_port((P, S, P2))
        regions = {}
        for a in addresses:
            r = Region(a, self.port, label=f"region {a}", log_requests=True).start()
            self.addCleanup(r.stop)
            regions[a] = r
        return regions

    def start_lb(self, records=None):
        lb = LbZone(records or {"eu": ("A", P, RECORD_TTL), "us": ("A", S, RECORD_TTL)}).start()
        self.addCleanup(lb.cleanup)
        return lb

    def start_signpost(self, zone_text, config="", label="signpost", timeout=15.0):
        zones = st.ZoneDir({"example.com.toml": zone_text})
        self.addCleanup(zones.cleanup)
        server = ApiSignpost(zones, config_extra=config, label=f"{label} [{self.case}]")
        self.addCleanup(server.cleanup)
        self.addCleanup(server.kill)
        server.start(timeout=timeout)
        self.addCleanup(server.stop)
        return server

    def wait_view(self, server, name, want, qtype="A", timeout=15.0):
        """Polls until `name` answers `want`; returns the seconds it took."""
        start = time.monotonic()
        last = [None]

        def ok():
            last[0] = view(server, name, qtype)
            return last[0] == want
        try:
            st.wait_until(ok, timeout=timeout, interval=0.05, what=f"{name}/{qtype} -> {want}")
        except TimeoutError:
            self.fail_case(f"{name}/{qtype} still answers {last[0]} after {timeout} s, expected {want}")
        return time.monotonic() - start

    def wait_endpoint(self, server, key, pred, what, timeout=15.0):
        """Polls /v1/endpoints until pred(the entry with `key`) holds; returns the entry."""
        last = [None]

        def ok():
            last[0] = hostname_entry(server, key)
            return pred(last[0])
        try:
            st.wait_until(ok, timeout=timeout, interval=0.1, what=what)
        except TimeoutError:
            self.fail_case(f"{what}: not within {timeout} s; /v1/endpoints entry {key}:\n"
                           f"{json.dumps(last[0], indent=1)}")
        return last[0]

    def flips(self, watchers, timeout=15.0):
        """watchers: {label: (server, name, want)}. Polls them round robin until each
        answers its `want`; returns {label: seconds from now until it first did}."""
        start = time.monotonic()
        done, last = {}, {}
        for _ in range(100000):
            for label, (server, name, want) in watchers.items():
                if label in done:
                    continue
                last[label] = view(server, name)
                if last[label] == want:
                    done[label] = time.monotonic() - start
            if len(done) == len(watchers) or time.monotonic() - start > timeout:
                break
            time.sleep(0.02)
        missing = {k: last.get(k) for k in watchers if k not in done}
        if missing:
            self.fail_case(f"after {timeout} s these still answer something else: " +
                           "; ".join(f"{k} answers {v}, expected {watchers[k][2]}" for k, v in missing.items()))
        return done

    def assert_primary(self, server, timeout=15.0):
        """www CNAME eu.lb.test., apex A 127.0.0.10, the state TXT says primary."""
        self.wait_view(server, "www.example.com", CNAME(EU), timeout=timeout)
        self.wait_view(server, "example.com", A(P), timeout=timeout)
        self.assertIn("primary", state_txt(server), f"[{self.case}] state TXT")
        self.assertNotIn("failover", state_txt(server), f"[{self.case}] state TXT")

    def default_site(self, config_extra="", resolver_keys=None, regions=(P, S)):
        self.regions = self.start_regions(regions)
        self.lb = self.start_lb()
        keys = dict(min_ttl="1s")
        keys.update(resolver_keys or {})
        self.server = self.start_signpost(hostname_zone(self.port),
                                          resolver_config([self.lb.resolver], extra=config_extra, **keys),
                                          label="signpost (hostname endpoints)")
        self.assert_primary(self.server, timeout=10)
        return self.server


class TestCase1Bar(HostnameCase):
    case = "case 1: the Bar"

    def test_case1_bar_cname_and_flattened_apex_follow_failover_and_failback(self):
        regions = self.start_regions((P, S))
        lb = self.start_lb()
        hs = self.start_signpost(example_zone("hostnames", self.port),
                                 resolver_config([lb.resolver], min_ttl="1s"),
                                 label="signpost (hostname endpoints, examples/hostnames)")
        first = {n: view(hs, n) for n in ("www.example.com", "example.com")}
        print(f"\n[{self.case}] first answers after start: {first}")
        self.assert_primary(hs, timeout=10)
        # The probes connect to the resolved addresses and send the hostname as Host
        # (checked before the address-endpoint signpost probes the same regions).
        st.wait_until(lambda: probe_hosts(regions[P]) and probe_hosts(regions[S]), timeout=5,
                      what="probes of both regions")
        self.assertEqual(probe_hosts(regions[P]), {EU}, f"[{self.case}] Host header of probes to {P}")
        self.assertEqual(probe_hosts(regions[S]), {US}, f"[{self.case}] Host header of probes to {S}")
        for key, host, address in ((EU_KEY, EU, P), (US_KEY, US, S)):
            ep = hostname_entry(hs, key)
            self.assertEqual((ep["state"], ep["hostname"], ep["resolution"]["state"], ep["resolution"]["addresses"]),
                             ("up", host, "ok", [address]), f"[{self.case}] {json.dumps(ep, indent=1)}")
        addr = self.start_signpost(example_zone("failover", self.port),
                                   label="signpost (address endpoints, examples/failover)")
        self.wait_view(addr, "www.example.com", A(P), timeout=10)

        # Before: CNAME for any type at www and the wildcard, with the service TTL ...
        for name in ("www.example.com", "anything.example.com"):
            for qtype in ("A", "AAAA", "MX"):
                r = hs.dig(name, qtype)
                self.assertEqual((r.status, r.aa), ("NOERROR", True), f"[{self.case}] {name}/{qtype}\n{r!r}")
                self.assertEqual([(rr.name.lower(), rr.type, rr.ttl, rr.rdata.lower()) for rr in r.answer],
                                 [(name + ".", "CNAME", SERVICE_TTL, EU + ".")], f"[{self.case}] {name}/{qtype}\n{r!r}")
        # ... and the flattened apex: min(service TTL, the record TTL left at re-resolution).
        r = hs.dig("example.com", "A")
        self.assertEqual(r.rrs(), [("example.com.", "A", flattened_ttl(SERVICE_TTL, RECORD_TTL), P)],
                         f"[{self.case}] apex A\n{r!r}")
        r = hs.dig("example.com", "AAAA")
        self.assertEqual((r.status, r.answer), ("NOERROR", []), f"[{self.case}] apex AAAA (eu.lb.test has no AAAA)\n{r!r}")
        self.assertEqual(r.types("authority"), ["SOA"], f"[{self.case}] apex AAAA\n{r!r}")

        watch_over = {"hostname www (CNAME)": (hs, "www.example.com", CNAME(US)),
                      "hostname apex (flattened A)": (hs, "example.com", A(S)),
                      "address www (A)": (addr, "www.example.com", A(S))}
        watch_back = {"hostname www (CNAME)": (hs, "www.example.com", CNAME(EU)),
                      "hostname apex (flattened A)": (hs, "example.com", A(P)),
                      "address www (A)": (addr, "www.example.com", A(P))}
        regions[P].stop()
        over = self.flips(watch_over)
        self.assertIn("failover:secondary", state_txt(hs), f"[{self.case}] state TXT after the failover")
        self.wait_view(hs, "anything.example.com", CNAME(US), timeout=5)
        # Freshly failed over: the short unstable TTL, for the CNAME and the flattened apex alike.
        self.assertLessEqual(max(ttls(hs, "www.example.com")), 5, f"[{self.case}] unstable TTL of www")
        self.assertLessEqual(max(ttls(hs, "example.com")), 5, f"[{self.case}] unstable TTL of the apex")
        regions[P].start()
        back = self.flips(watch_back)
        self.assertIn("primary", state_txt(hs), f"[{self.case}] state TXT after the failback")
        self.assertNotIn("failover", state_txt(hs), f"[{self.case}] state TXT after the failback")
        self.assertIn("primary → failover:secondary", hs.stderr())
        self.assertIn("failover:secondary → primary", hs.stderr())
        print(f"[{self.case}] flip times (s), primary's HTTP endpoint stopped / restarted:")
        print(f"    {'':30} {'failover':>9} {'failback':>9}")
        for label in watch_over:
            print(f"    {label:30} {over[label]:9.2f} {back[label]:9.2f}")


class TestCase2TtlChange(HostnameCase):
    case = "case 2: TTL change"

    def test_case2_the_flattened_apex_ttl_follows_the_record_ttl(self):
        # Re-resolution at half the record TTL, at most every 4 s: a record TTL of
        # 10 gives 10 - 4 = 6 s, 20 gives 16 s, 100 gives the service TTL (30 s).
        server = self.default_site(resolver_keys=dict(max_ttl="4s"))
        lb = self.lb
        rule = lambda t: flattened_ttl(SERVICE_TTL, t, min_ttl=1, max_ttl=4)
        self.assertEqual(ttls(server, "example.com"), [rule(RECORD_TTL)], f"[{self.case}] apex TTL, record TTL 10")
        for record_ttl in (20, 100):
            lb.publish(eu=("A", P, record_ttl))
            start = time.monotonic()
            last = [None]

            def follows():
                last[0] = (view(server, "example.com"), ttls(server, "example.com"))
                return last[0] == (A(P), [rule(record_ttl)])
            try:
                st.wait_until(follows, timeout=12, interval=0.1, what=f"apex TTL {rule(record_ttl)}")
            except TimeoutError:
                self.fail_case(f"record TTL {record_ttl}: apex answers {last[0]}, expected "
                               f"A {P} with TTL {rule(record_ttl)}")
            print(f"\n[{self.case}] record TTL {record_ttl}: apex TTL {rule(record_ttl)} after "
                  f"{time.monotonic() - start:.2f} s")
            r = server.dig("www.example.com", "A")
            self.assertEqual([(rr.type, rr.ttl, rr.rdata) for rr in r.answer], [("CNAME", SERVICE_TTL, EU + ".")],
                             f"[{self.case}] www keeps the service TTL\n{r!r}")


class TestCase3AddressChange(HostnameCase):
    case = "case 3: address change"

    def test_case3_the_apex_follows_a_new_address_and_www_stays_cname(self):
        server = self.default_site(regions=(P, S, P2))
        self.lb.publish(eu=("A", P2, RECORD_TTL))
        start = time.monotonic()
        www_seen, apex_seen = set(), set()
        for _ in range(1000):
            www_seen.add(tuple(view(server, "www.example.com")))
            apex = view(server, "example.com")
            apex_seen.add(tuple(apex))
            if apex == A(P2) or time.monotonic() - start > 15:
                break
            time.sleep(0.05)
        took = time.monotonic() - start
        print(f"\n[{self.case}] apex moved to {P2} after {took:.2f} s; apex answers seen: {sorted(apex_seen)}")
        self.assertEqual(view(server, "example.com"), A(P2), f"[{self.case}] apex after the address change")
        self.assertEqual(www_seen, {tuple(CNAME(EU))}, f"[{self.case}] www while the address changed")
        self.assertNotIn(tuple(A(S)), apex_seen, f"[{self.case}] the apex failed over during an address change")
        self.assertIn("primary", state_txt(server))
        self.assertEqual(ttls(server, "example.com"), [flattened_ttl(SERVICE_TTL, RECORD_TTL)])
        st.wait_until(lambda: probe_hosts(self.regions[P2]), timeout=5, what=f"probes of {P2}")
        self.assertEqual(probe_hosts(self.regions[P2]), {EU}, f"[{self.case}] Host header of probes to {P2}")


class TestCase4NxDomain(HostnameCase):
    case = "case 4: NXDOMAIN"

    def test_case4_nxdomain_fails_over_with_the_reason_and_comes_back(self):
        server = self.default_site()
        self.lb.publish(eu=None)
        took = self.flips({"www": (server, "www.example.com", CNAME(US)),
                           "apex": (server, "example.com", A(S))})
        print(f"\n[{self.case}] failover after eu.lb.test was removed: {took}")
        self.assertIn("failover:secondary", state_txt(server), f"[{self.case}] state TXT")
        reason = f"NXDOMAIN for {EU}"
        ep = self.wait_endpoint(server, EU_KEY, lambda e: reason in e["reason"],
                                f"the endpoint's reason says '{reason}'", timeout=5)
        self.assertEqual((ep["state"], ep["resolution"]["state"], ep["resolution"]["addresses"],
                          ep["resolution"]["error"]), ("down", "negative", [], reason),
                         f"[{self.case}] {json.dumps(ep, indent=1)}")
        self.assertIn(reason, json.dumps(server.status()), f"[{self.case}] /v1/status")
        cli = server.cli("status")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn(reason, cli.stdout, f"[{self.case}] signpost status:\n{cli.stdout}")
        self.assertIn(reason, server.stderr(), f"[{self.case}] the log")
        self.lb.publish(eu=("A", P, RECORD_TTL))
        took = self.flips({"www": (server, "www.example.com", CNAME(EU)),
                           "apex": (server, "example.com", A(P))})
        print(f"[{self.case}] failback after eu.lb.test came back: {took}")
        ep = hostname_entry(server, EU_KEY)
        self.assertEqual((ep["state"], ep["resolution"]["state"], ep["resolution"]["addresses"]),
                         ("up", "ok", [P]), f"[{self.case}] {json.dumps(ep, indent=1)}")
        self.assertIn("primary", state_txt(server))
        self.assertNotIn("failover", state_txt(server))


class TestCase5Timeout(HostnameCase):
    case = "case 5: resolver timeout"

    def test_case5a_a_silent_resolver_keeps_the_last_good_addresses(self):
        server = self.default_site(resolver_keys=dict(timeout="1s"))
        port = self.lb.port
        self.lb.stop()
        silent = SilentResolver(port)
        self.addCleanup(silent.close)
        stopped = time.monotonic()
        seen = set()

        def sample():
            seen.add((tuple(view(server, "www.example.com")), tuple(view(server, "example.com")),
                      "failover" in state_txt(server)))

        def failing(e):
            sample()
            return e["resolution"]["state"] == "failing"
        ep = self.wait_endpoint(server, EU_KEY, failing, "the resolution of eu.lb.test fails", timeout=15)
        self.assertIn("timeout", ep["resolution"]["error"], f"[{self.case}] {json.dumps(ep, indent=1)}")
        self.assertEqual((ep["state"], ep["resolution"]["addresses"]), ("up", [P]),
                         f"[{self.case}] the last good addresses stay and are probed\n{json.dumps(ep, indent=1)}")
        print(f"\n[{self.case}] timeout shown {time.monotonic() - stopped:.2f} s after the resolver went silent")
        # Past the record's TTL (10 s after the last answer at the latest) the answers stay.
        for _ in range(1000):
            sample()
            if time.monotonic() - stopped > RECORD_TTL + 1:
                break
            time.sleep(0.1)
        self.assertEqual(seen, {(tuple(CNAME(EU)), tuple(A(P)), False)},
                         f"[{self.case}] answers while the resolver was silent")
        print(f"[{self.case}] apex TTL {ttls(server, 'example.com')} "
              f"{time.monotonic() - stopped:.1f} s after the resolver went silent")
        cli = server.cli("status")
        self.assertIn("timeout", cli.stdout.lower(), f"[{self.case}] signpost status:\n{cli.stdout}")
        self.assertRegex(server.stderr(), rf"resolve: {re.escape(EU)}: timeout.*keeping {re.escape(P)}",
                         f"[{self.case}] the log")
        silent.close()
        recovered = time.monotonic()
        self.lb.restart()
        ep = self.wait_endpoint(server, EU_KEY, lambda e: e["resolution"]["state"] == "ok",
                                "the resolution of eu.lb.test is ok again", timeout=15)
        self.assertEqual((ep["state"], ep["resolution"]["error"], ep["resolution"]["addresses"]), ("up", "", [P]),
                         f"[{self.case}] {json.dumps(ep, indent=1)}")
        print(f"[{self.case}] resolution ok again {time.monotonic() - recovered:.2f} s after the silent resolver "
              f"gave the port back to knotd")
        self.assert_primary(server, timeout=1)

    def test_case5b_a_start_with_a_silent_resolver_answers_the_secondary(self):
        regions = self.start_regions((P, S))
        silent = SilentResolver()
        self.addCleanup(silent.close)
        zone = hostname_zone(self.port, primary=(EU,), secondary=(S,))
        start = time.monotonic()
        server = self.start_signpost(zone, resolver_config([silent.resolver], min_ttl="1s", timeout="1s"),
                                     label="signpost (silent resolver)", timeout=15)
        started = time.monotonic() - start
        first = (view(server, "www.example.com"), view(server, "example.com"))
        print(f"\n[{self.case}] started in {started:.2f} s with a silent resolver; first answers {first}")
        self.wait_view(server, "www.example.com", A(S), timeout=10)
        self.wait_view(server, "example.com", A(S), timeout=10)
        self.assertIn("failover:secondary", state_txt(server), f"[{self.case}] state TXT")
        ep = self.wait_endpoint(server, EU_KEY, lambda e: "timeout" in e["resolution"]["error"],
                                "the resolution of eu.lb.test times out", timeout=10)
        self.assertEqual((ep["state"], ep["resolution"]["addresses"]), ("down", []),
                         f"[{self.case}] {json.dumps(ep, indent=1)}")
        self.assertIn("timeout", ep["reason"], f"[{self.case}] the endpoint's reason\n{json.dumps(ep, indent=1)}")
        print(f"[{self.case}] reason: {ep['reason']!r}; resolution: {ep['resolution']['state']}, "
              f"{ep['resolution']['error']!r}")
        self.assertTrue(regions[S].requests(), "the secondary is probed")


class TestCase6Transfer(HostnameCase):
    case = "case 6: AXFR"

    def test_case6_axfr_carries_the_cname_and_the_flattened_apex(self):
        server = self.default_site(config_extra="""
            [[secondaries]]
            zones = ["example.com"]
            allow_transfer_from = ["127.0.0.1/32"]
            """)
        p = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.port), "+nocmd", "+nostats", "+nocomments",
                            "+time=3", "+tries=1", "example.com", "AXFR"], capture_output=True, text=True, timeout=15)
        rrs = set()
        for line in p.stdout.splitlines():
            parts = line.split(None, 4)
            if len(parts) == 5 and not line.startswith(";"):
                rrs.add((parts[0].lower(), int(parts[1]), parts[3], parts[4].lower()))
        self.assertIn(("www.example.com.", SERVICE_TTL, "CNAME", EU + "."), rrs, f"[{self.case}]\n{p.stdout}{p.stderr}")
        self.assertIn(("*.example.com.", SERVICE_TTL, "CNAME", EU + "."), rrs, f"[{self.case}]\n{p.stdout}")
        apex = server.dig("example.com", "A").rrs()   # [(owner, type, ttl, rdata)]
        self.assertEqual([(o, t, d) for o, t, _, d in apex], [("example.com.", "A", P)], f"[{self.case}]")
        self.assertIn(("example.com.", apex[0][2], "A", P), rrs, f"[{self.case}] the apex as answered\n{p.stdout}")
        self.assertFalse([r for r in rrs if r[0] == "www.example.com." and r[2] == "A"],
                         f"[{self.case}] www has no A beside its CNAME\n{p.stdout}")


if __name__ == "__main__":
    st.main()
