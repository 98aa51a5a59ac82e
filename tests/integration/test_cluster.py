"""Instances that agree: three real signpost processes on 127.0.0.31-33 share
their probe verdicts through the API ([cluster]). Each probes from its own
source address, so a backend can fail for one instance only (a broken network
path) while the others still reach it.

- one vantage point sees the primary down, quorum 2 of 3 -> nobody fails over;
- all three see it down -> all three fail over, within one probe round;
- a peer that stops is noticed and left out; alone, an instance uses its own probes;
- split probing (probers = 2): each endpoint is probed by two instances only,
  and a dead instance's endpoints are taken over."""
import json
import os
import signal
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import signpost_test as st
from regions import Region, answer_of, failover_zone

P, S = "127.0.0.10", "127.0.0.11"
HOSTS = ("127.0.0.31", "127.0.0.32", "127.0.0.33")
IDS = ("ns1", "ns2", "ns3")
TOKEN = "cluster-secret-0123456789"


class Member(st.Signpost):
    """One instance: DNS and API on its own loopback address, probes from it too."""

    def __init__(self, zones, host, ident, api_port, peers, quorum, probers):
        super().__init__(zones, listen=(host,), label=f"signpost {ident}")
        self.ident, self.api_host, self.api_port = ident, host, api_port
        conf = tempfile.mkdtemp(prefix="signpost-cluster-")
        self.config = os.path.join(conf, "signpost.toml")
        lines = [f'[api]\nlisten = "{host}:{api_port}"\ntoken = "api-token"\n',
                 f'[probes]\nsource = ["{host}"]\n',
                 f'[cluster]\nid = "{ident}"\ntoken = "{TOKEN}"\nquorum = {quorum}\nprobers = {probers}\n'
                 'poll_interval = "250ms"\npeer_timeout = "1500ms"\n']
        for pid, phost, pport in peers:
            lines.append(f'[[cluster.peers]]\nid = "{pid}"\nurl = "http://{phost}:{pport}"\n')
        with open(self.config, "w") as f:
            f.write("\n".join(lines))

    def argv(self):
        return super().argv() + ["--config", self.config]

    def get(self, path, token=None):
        req = urllib.request.Request(f"http://{self.api_host}:{self.api_port}{path}")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=3) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def cluster(self):
        return self.get("/v1/cluster")[1]

    def endpoint(self, address):
        for e in self.get("/v1/endpoints")[1]:
            if e["address"] == address:
                return e
        raise AssertionError(f"no endpoint {address}")


class ClusterScenario(unittest.TestCase):
    quorum, probers = 2, 0

    def setUp(self):
        self.port = st.free_port((P, S))
        self.regions = [Region(a, self.port, label=f"region {a}").start() for a in (P, S)]
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port)})
        api_ports = [st.free_port((h,)) for h in HOSTS]
        self.members = []
        for i, (host, ident) in enumerate(zip(HOSTS, IDS)):
            peers = [(IDS[j], HOSTS[j], api_ports[j]) for j in range(3) if j != i]
            self.members.append(Member(self.zones, host, ident, api_ports[i], peers, self.quorum, self.probers))
        for m in self.members:
            m.start(timeout=15)
        # Every member sees both peers before the scenario begins.
        for m in self.members:
            st.wait_until(lambda m=m: len(m.cluster()["live"]) == 3, timeout=10, what=f"{m.ident} sees its peers")

    def tearDown(self):
        for m in self.members:
            try:
                m.stop()
            finally:
                m.kill()
        for r in self.regions:
            r.stop()
        self.zones.cleanup()

    def answers(self):
        return [answer_of(m) for m in self.members]


class TestQuorum(ClusterScenario):
    def test_one_vantage_point_cannot_fail_over_the_site_but_all_three_flip_together(self):
        self.assertEqual(self.answers(), [[P]] * 3)

        # The path from ns1 to the primary breaks: only ns1's probes fail.
        self.regions[0].set(f"500@{HOSTS[0]}")
        st.wait_until(lambda: "down at only 1/3" in self.members[0].endpoint(P)["reason"], timeout=10,
                      what="ns1 sees its own verdict outvoted")
        deadline = time.monotonic() + 3.0  # two more probe rounds: still nobody moves
        while time.monotonic() < deadline:
            self.assertEqual(self.answers(), [[P]] * 3)
            time.sleep(0.1)
        self.assertEqual(self.members[0].endpoint(P)["state"], "up")
        self.assertIn("ns1: HTTP 500", self.members[1].endpoint(P)["reason"])

        # Now the primary really fails: every vantage point sees it.
        self.regions[0].set("500")
        t0 = time.monotonic()
        flipped = [None] * 3
        while None in flipped and time.monotonic() - t0 < 15:
            for i, a in enumerate(self.answers()):
                if flipped[i] is None and a == [S]:
                    flipped[i] = time.monotonic() - t0
            time.sleep(0.02)
        self.assertNotIn(None, flipped, f"failover seen at {flipped}")
        spread = max(flipped) - min(flipped)
        print(f"cluster failover: ns1 {flipped[0]:.2f} s, ns2 {flipped[1]:.2f} s, ns3 {flipped[2]:.2f} s "
              f"after the primary failed; spread {spread:.2f} s", flush=True)
        self.assertLess(spread, 1.0, "the three instances must flip in the same probe round (1 s interval)")
        st.wait_until(lambda: "down at 3/3 vantage points" in self.members[2].endpoint(P)["reason"], timeout=5,
                      what="every vantage point's verdict counted")

        self.regions[0].set("200")
        st.wait_until(lambda: self.answers() == [[P]] * 3, timeout=15, what="all three fail back")

    def test_a_dead_peer_is_left_out_and_a_lone_instance_uses_its_own_probes(self):
        self.members[2].stop()
        st.wait_until(lambda: len(self.members[0].cluster()["live"]) == 2, timeout=5,
                      what="ns1 notices ns3 is gone")
        peers = {p["id"]: p for p in self.members[0].cluster()["peers"]}
        self.assertFalse(peers["ns3"]["live"])
        self.assertTrue(peers["ns3"]["last_error"])
        self.assertIn("ns3", self.members[0].stderr())  # reported in the log

        # Two voters left, quorum 2: ns1 alone seeing it down moves nothing.
        self.regions[0].set(f"500@{HOSTS[0]}")
        st.wait_until(lambda: "down at only 1/2" in self.members[0].endpoint(P)["reason"], timeout=10,
                      what="ns1 outvoted by ns2")
        self.assertEqual(answer_of(self.members[0]), [P])

        # ns2 goes too: ns1 has only its own probes and fails over.
        self.members[1].stop()
        st.wait_until(lambda: answer_of(self.members[0]) == [S], timeout=10,
                      what="the lone instance fails over on its own verdict")
        self.assertEqual(self.members[0].cluster()["live"], ["ns1"])


class TestSplitProbing(ClusterScenario):
    quorum, probers = 2, 2

    def probers_of(self):
        out = {}
        for m in self.members:
            if not m.alive():
                continue
            for key in m.cluster()["probed_here"]:
                out.setdefault(key, set()).add(m.ident)
        return out

    def test_each_endpoint_is_probed_by_two_instances_and_a_dead_ones_share_moves(self):
        st.wait_until(lambda: all(len(v) == 2 for v in self.probers_of().values()), timeout=10,
                      what="probing narrowed to two instances per endpoint")
        split = self.probers_of()
        self.assertEqual(len(split), 2)
        print(f"split probing: {sorted((k, sorted(v)) for k, v in split.items())}", flush=True)

        # The verdicts route refuses a caller without the cluster token.
        code, body = self.members[0].get("/v1/cluster/verdicts")
        self.assertEqual(code, 401)
        code, body = self.members[0].get("/v1/cluster/verdicts", token="api-token")
        self.assertEqual((code, body["error"]), (401, "wrong cluster token"))
        code, body = self.members[0].get("/v1/cluster/verdicts", token=TOKEN)
        self.assertEqual(code, 200)
        self.assertEqual(body["instance"], "ns1")

        # Still a quorum of two: the failover works with half the probes.
        self.regions[0].set("500")
        st.wait_until(lambda: self.answers() == [[S]] * 3, timeout=15, what="all three fail over")
        self.regions[0].set("200")
        st.wait_until(lambda: self.answers() == [[P]] * 3, timeout=15, what="all three fail back")

        # An instance that probed something dies: its endpoints get a new prober.
        victim = next(m for m in self.members if m.cluster()["probed_here"])
        victim.stop()
        st.wait_until(lambda: all(len(v) == 2 and victim.ident not in v for v in self.probers_of().values())
                      and len(self.probers_of()) == 2, timeout=10,
                      what="the survivors take the dead instance's endpoints over")
        for m in self.members:
            if m.alive():
                self.assertEqual(answer_of(m), [P])


class TestClusterConfig(unittest.TestCase):
    def serve_with(self, text):
        zones = st.ZoneDir({"example.com.toml": failover_zone(8080)})
        conf = st.ZoneDir({"server.toml": text})
        try:
            return st.run_cli("serve", "--config", conf.path / "server.toml", "--zones", zones.path,
                              "--listen", f"127.0.0.1:{st.free_port()}", timeout=10)
        finally:
            zones.cleanup()
            conf.cleanup()

    def test_bad_cluster_sections_stop_the_start_with_file_line_col(self):
        cases = [
            ('[cluster]\nid = "ns1"\ntoken = "short"\n[[cluster.peers]]\nid = "ns2"\nurl = "http://127.0.0.2:8054"\n',
             r"server\.toml:3:9: error: 'cluster.token' must be a string of at least 16 characters"),
            ('[cluster]\nid = "ns1"\ntoken = "0123456789abcdef"\n',
             r"server\.toml:1:1: error: \[cluster\] needs at least one \[\[cluster.peers\]\]"),
            ('[cluster]\nid = "ns1"\ntoken = "0123456789abcdef"\nquorum = 3\n'
             '[[cluster.peers]]\nid = "ns2"\nurl = "http://127.0.0.2:8054"\n',
             r"quorum 3 is more than the 2 instances"),
            ('[cluster]\nid = "ns1"\ntoken = "0123456789abcdef"\nquorum = 2\nprobers = 1\n'
             '[[cluster.peers]]\nid = "ns2"\nurl = "http://127.0.0.2:8054"\n'
             '[[cluster.peers]]\nid = "ns3"\nurl = "http://127.0.0.3:8054"\n',
             r"quorum 2 needs at least as many probers \(1\)"),
            ('[cluster]\nid = "ns1"\ntoken = "0123456789abcdef"\n'
             '[[cluster.peers]]\nid = "ns2"\nurl = "ftp://127.0.0.2"\n',
             r"server\.toml:6:7: error: 'cluster.peers.url' must be its API URL"),
            ('[cluster]\nid = "ns1"\ntoken = "0123456789abcdef"\npeer_timeout = "100ms"\n'
             '[[cluster.peers]]\nid = "ns2"\nurl = "http://127.0.0.2:8054"\n',
             r"peer_timeout must be at least twice poll_interval"),
            ('[probes]\nsource = ["127.0.0.2", "127.0.0.3"]\n',
             r"server\.toml:2:24: error: 'probes.source': a second IPv4 address"),
            ('[xfr]\nnotify_source = ["nope"]\n',
             r"server\.toml:2:18: error: 'xfr.notify_source': not an address"),
        ]
        for text, want in cases:
            with self.subTest(want=want):
                p = self.serve_with(text)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertRegex(p.stderr, want)


if __name__ == "__main__":
    unittest.main(verbosity=2)
