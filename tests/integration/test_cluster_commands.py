"""Operator commands made at one instance apply at every instance of a cluster:
three real signpost processes on 127.0.0.41-43 ([cluster], each with its own
state file) exchange their command logs with their verdicts.

- an override made at ns1 (CLI) shows in ns2's and ns3's `signpost status`
  with its origin, and they answer the secondary;
- ns2 is stopped while a drain is made at ns1; when it returns it answers
  without the drained endpoint and its status shows the drain from ns1;
- two overrides on one target, made at ns1 and at ns2, converge on the same
  winner (the same origin and stamp) at all three instances;
- hooks (a command appending to one file) fire once per change across the
  cluster, from the lowest id; when that emitter dies, no change is lost and
  none is delivered more than twice.

Polls with deadlines; every process stopped by its PID."""
import json
import os
import shutil
import tempfile
import unittest
import urllib.error
import urllib.request

import signpost_test as st
from regions import Region, answer_of, failover_zone

P, S = "127.0.0.10", "127.0.0.11"
HOSTS = ("127.0.0.41", "127.0.0.42", "127.0.0.43")
IDS = ("ns1", "ns2", "ns3")
TOKEN = "cluster-secret-0123456789"
API_TOKEN = "api-token-for-commands"
PRIMARY_POOL = "example.com/primary"
PRIMARY = f"example.com/primary/{P}"


class Member(st.Signpost):
    """One instance: DNS and API on its own loopback address, a state file."""

    def __init__(self, zones, host, ident, api_port, peers, workdir):
        super().__init__(zones, listen=(host,), label=f"signpost {ident}")
        self.ident, self.api_host, self.api_port = ident, host, api_port
        self.config = os.path.join(workdir, f"{ident}.toml")
        self.state = os.path.join(workdir, f"{ident}.state.json")
        lines = [f'state_file = "{self.state}"\n',
                 f'[api]\nlisten = "{host}:{api_port}"\ntoken = "{API_TOKEN}"\n',
                 f'[probes]\nsource = ["{host}"]\n',
                 f'[cluster]\nid = "{ident}"\ntoken = "{TOKEN}"\n'
                 'poll_interval = "250ms"\npeer_timeout = "1500ms"\n']
        for pid, phost, pport in peers:
            lines.append(f'[[cluster.peers]]\nid = "{pid}"\nurl = "http://{phost}:{pport}"\n')
        with open(self.config, "w") as f:
            f.write("\n".join(lines))

    def argv(self):
        return super().argv() + ["--config", self.config]

    @property
    def api(self):
        return f"http://{self.api_host}:{self.api_port}"

    def get(self, path):
        req = urllib.request.Request(self.api + path)
        try:
            with urllib.request.urlopen(req, timeout=3) as r:
                return json.loads(r.read())
        except (urllib.error.URLError, OSError):
            return None

    def commands(self):
        s = self.get("/v1/status")
        return s["commands"] if s else []

    def command(self, kind, target):
        return next((c for c in self.commands() if c["kind"] == kind and c["target"] == target), None)

    def cli(self, *args):
        r = st.run_cli(*args, "--api", self.api, "--token", API_TOKEN)
        if r.returncode != 0:
            raise AssertionError(f"signpost {' '.join(args)} at {self.ident}: {r.returncode}\n{r.stdout}{r.stderr}")
        return r.stdout


class Cluster(unittest.TestCase):
    """Three instances, each seeing both peers, all answering the primary."""

    def zone_extra(self):
        return ""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="signpost-cluster-commands-")
        self.port = st.free_port((P, S))
        self.regions = [Region(a, self.port, label=f"region {a}").start() for a in (P, S)]
        self.zones = st.ZoneDir({"example.com.toml": failover_zone(self.port, extra=self.zone_extra())})
        api_ports = [st.free_port((h,)) for h in HOSTS]
        self.members = []
        for i, (host, ident) in enumerate(zip(HOSTS, IDS)):
            peers = [(IDS[j], HOSTS[j], api_ports[j]) for j in range(3) if j != i]
            self.members.append(Member(self.zones, host, ident, api_ports[i], peers, self.work))
        for m in self.members:
            m.start(timeout=15)
        for m in self.members:
            st.wait_until(lambda m=m: (m.get("/v1/cluster") or {}).get("live") == list(IDS), timeout=10,
                          what=f"{m.ident} sees its peers")
        self.assertEqual(self.answers(), [[P]] * 3)

    def tearDown(self):
        for m in self.members:
            try:
                if m.alive():
                    m.stop()
            finally:
                m.kill()
        for r in self.regions:
            r.stop()
        self.zones.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)

    def answers(self):
        return [answer_of(m) for m in self.members]


class ClusterCommands(Cluster):
    def test_an_override_made_at_one_instance_applies_at_every_instance(self):
        ns1, ns2, ns3 = self.members
        print(ns1.cli("override", PRIMARY_POOL, "down", "--reason", "drill", "--for", "10m"), end="", flush=True)
        st.wait_until(lambda: self.answers() == [[S]] * 3, timeout=10, what="all three answer the secondary")
        for m in (ns2, ns3):
            c = m.command("override", PRIMARY_POOL)
            self.assertIsNotNone(c, f"{m.ident} status lists the override")
            self.assertEqual((c["origin"], c["state"], c["reason"], c["in_effect"]), ("ns1", "down", "drill", True))
            self.assertEqual(c["at_ms"], ns1.command("override", PRIMARY_POOL)["at_ms"])
            self.assertIsNotNone(c["expires"])
        out = ns3.cli("status")
        print(out[out.index("commands"):], end="", flush=True)
        self.assertRegex(out, r"override\s+example\.com/primary\s+down\s+yes\s+ns1\s")
        # Undone at ns3: back to the primary everywhere.
        ns3.cli("override", PRIMARY_POOL, "auto")
        st.wait_until(lambda: self.answers() == [[P]] * 3, timeout=10, what="all three back on the primary")
        st.wait_until(lambda: all((m.command("override", PRIMARY_POOL) or {}).get("origin") == "ns3"
                                  for m in self.members), timeout=10, what="the undo from ns3 everywhere")

    def test_an_instance_that_was_down_catches_up_when_it_returns(self):
        ns1, ns2, ns3 = self.members
        ns2.stop()
        ns1.cli("drain", PRIMARY)
        st.wait_until(lambda: [answer_of(ns1), answer_of(ns3)] == [[S], [S]], timeout=10,
                      what="ns1 and ns3 leave the drained primary")
        ns2.start(timeout=15)
        st.wait_until(lambda: answer_of(ns2) == [S], timeout=10, what="ns2 catches up on the drain")
        c = ns2.command("drain", PRIMARY)
        self.assertEqual((c["origin"], c["active"], c["in_effect"]), ("ns1", True, True))
        self.assertIn("drain example.com/primary/127.0.0.10: drained by ns1", ns2.stderr())
        # ...and kept it in its state file.
        def saved():
            try:
                with open(ns2.state) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return {}

        st.wait_until(lambda: PRIMARY in saved().get("drains", {}), timeout=5, what="ns2's state file has the drain")
        saved = saved()
        self.assertIn(PRIMARY, saved["drains"])
        self.assertTrue(any(c["kind"] == "drain" and c["origin"] == "ns1" for c in saved["commands"]))

    def test_two_overrides_on_one_target_converge_on_the_same_winner(self):
        ns1, ns2, ns3 = self.members
        ns1.cli("override", PRIMARY_POOL, "down", "--reason", "from ns1")
        ns2.cli("override", PRIMARY_POOL, "up", "--reason", "from ns2")

        def winners():
            return [(c or {}).get("origin") and (c["origin"], c["at_ms"], c["state"])
                    for c in (m.command("override", PRIMARY_POOL) for m in self.members)]

        st.wait_until(lambda: len(set(winners())) == 1 and winners()[0], timeout=10,
                      what="one winner everywhere")
        origin, at_ms, state = winners()[0]
        print(f"converged: override {state} from {origin} at {at_ms}", flush=True)
        want = [[S]] * 3 if state == "down" else [[P]] * 3
        st.wait_until(lambda: self.answers() == want, timeout=10, what=f"every instance answers {want[0]}")


class ClusterHooks(Cluster):
    """The service's hook appends each event's JSON to one file shared by the three instances."""

    def zone_extra(self):
        self.hook_log = os.path.join(self.work, "hooks.log")
        return f'hooks = [{{ command = ["/bin/sh", "-c", "cat >> {self.hook_log}; echo >> {self.hook_log}"] }}]\n'

    def events(self):
        try:
            with open(self.hook_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []

    def hooks_settled(self, members):
        """Every instance agrees on the emitter and holds nothing the emitter has not covered."""
        views = [m.get("/v1/cluster") for m in members]
        if any(v is None or "hooks" not in v for v in views):
            return False
        emitters = {v["hooks"]["emitter"] for v in views}
        return len(emitters) == 1 and all(v["hooks"]["held"] == 0 for v in views)

    def changes(self):
        return [(e["event"], e["service"] or e["endpoint"], e["from"], e["to"]) for e in self.events()]

    def test_hooks_fire_once_per_change_across_the_cluster(self):
        self.regions[0].set("500")
        st.wait_until(lambda: self.answers() == [[S]] * 3, timeout=15, what="all three fail over")
        st.wait_until(lambda: ("service", "site", "primary", "failover:secondary") in self.changes(), timeout=15,
                      what="the failover event delivered")
        st.wait_until(lambda: self.hooks_settled(self.members), timeout=15, what="nothing held")
        events = self.events()
        for e in events:
            print(f"hook: seq {e['seq']} from {e['instance']}: {e['event']} {e['service'] or e['endpoint']} "
                  f"{e['from']} -> {e['to']}", flush=True)
        self.assertEqual({e["instance"] for e in events}, {"ns1"}, "only the lowest id emits")
        self.assertEqual(len(self.changes()), len(set(self.changes())), f"each change once: {self.changes()}")

    def test_an_emitter_that_dies_loses_no_event(self):
        ns1, ns2, ns3 = self.members
        self.regions[0].set("500")
        # The change is decided at ns2 and ns3; ns1 dies before it can tell what it delivered.
        st.wait_until(lambda: [answer_of(ns2), answer_of(ns3)] == [[S], [S]], timeout=15,
                      what="ns2 and ns3 fail over")
        ns1.kill()
        st.wait_until(lambda: ("service", "site", "primary", "failover:secondary") in self.changes(), timeout=15,
                      what="the failover event delivered by someone")
        st.wait_until(lambda: self.hooks_settled([ns2, ns3]) and ns2.get("/v1/cluster")["hooks"]["emitter"] == "ns2",
                      timeout=15, what="ns2 emits, nothing held")
        counts = {}
        for c in self.changes():
            counts[c] = counts.get(c, 0) + 1
        print(f"after the emitter died: {sorted(counts.items())}", flush=True)
        self.assertIn(("service", "site", "primary", "failover:secondary"), counts)
        self.assertTrue(all(n <= 2 for n in counts.values()), f"at most twice: {counts}")
        # A later change comes from ns2 alone.
        self.regions[0].set("200")
        st.wait_until(lambda: ("service", "site", "failover:secondary", "primary") in self.changes(), timeout=20,
                      what="the failback event")
        st.wait_until(lambda: self.hooks_settled([ns2, ns3]), timeout=15, what="nothing held")
        back = [e for e in self.events() if e["event"] == "service" and e["to"] == "primary"]
        self.assertEqual([e["instance"] for e in back], ["ns2"])


if __name__ == "__main__":
    st.main()
