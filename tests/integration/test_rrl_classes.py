# Response rate limiting by response class, with the real binary (issue 16): a
# resolver farm in one /24 (127.0.2.1-4) asking 400 different names a second is
# answered in full for 5 s, while identical queries at 2,000/s from another /24
# (127.0.3.1) are limited to the configured rate, with every 2nd limited answer
# slipped (TC=1). Loopback is not allow-listed here (`allow = []`). The rules are
# checked on counts (the client's and the server's /metrics), never on timings.
import json
import select
import socket
import time
import urllib.request

import signpost_test as st

RATE = 100
SLIP = 2
SECONDS = 5.0
NAMES = 400
RESOLVER_RATE = 400     # different names per second from 127.0.2.0/24
FLOOD_RATE = 2000       # identical queries per second from 127.0.3.0/24
RESOLVERS = ["127.0.2.1", "127.0.2.2", "127.0.2.3", "127.0.2.4"]
FLOODER = "127.0.3.1"


def zone_text():
    lines = ['origin = "example.com"', "ttl = 300", "[soa]", 'mname = "ns1.example.com."',
             'rname = "hostmaster.example.com."', "serial = 2024010101", "minimum = 300",
             '[records."@"]', 'NS = ["ns1"]', "[records.ns1]", 'A = "192.0.2.53"',
             "[records.www]", 'A = "192.0.2.80"']
    for i in range(NAMES):
        lines += [f"[records.h{i}]", f'A = "192.0.2.{1 + i % 250}"']
    return "\n".join(lines) + "\n"


def metrics(api_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/metrics", timeout=2) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def rrl_counts(api_port):
    m = metrics(api_port)
    return (int(m['signpost_dns_rrl_total{action="dropped"}']), int(m['signpost_dns_rrl_total{action="slipped"}']),
            int(m['signpost_dns_queries_total{transport="udp"}']))


def udp_socket(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.setblocking(False)
    return s


class RateLimitingByClass(st.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api_port = st.free_port()
        cls.zones = st.ZoneDir({"example.com.toml": zone_text()})
        cls.conf = st.ZoneDir({"server.toml": f"""
            workers = 1
            [api]
            listen = "127.0.0.1:{cls.api_port}"
            [rrl]
            enabled = true
            rate = {RATE}
            slip = {SLIP}
            window = 5
            allow = []
            """})
        cls.server = st.Signpost(cls.zones.path, extra_args=("--config", str(cls.conf.path / "server.toml")),
                                 label="signpost for RateLimitingByClass")
        cls.server.start()
        st.wait_until(lambda: rrl_counts(cls.api_port), timeout=10.0, what="/metrics")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.kill()
            cls.zones.cleanup()
            cls.conf.cleanup()

    def test_a_resolver_farm_is_answered_in_full_while_a_flood_is_limited_with_slip(self):
        port = self.server.port
        target = ("127.0.0.1", port)
        resolvers = [udp_socket(a) for a in RESOLVERS]
        flooder = udp_socket(FLOODER)
        socks = resolvers + [flooder]
        flood_query = st.build_query("www.example.com", "A", qid=0x7777)
        before = rrl_counts(self.api_port)

        # Resolver query k asks h(k % NAMES) from resolvers[k % 4] with id k // 4.
        pending = {}          # (socket index, id) -> name index
        resolver_full = 0
        resolver_bad = []
        flood_sent = flood_full = flood_tc = 0
        resolver_sent = 0
        t_first_flood = t_last_flood_full = None

        def drain():
            nonlocal resolver_full, flood_full, flood_tc, t_last_flood_full
            r, _, _ = select.select(socks, [], [], 0.001)
            for s in r:
                for _ in range(256):  # bounded: the rest waits for the next round
                    try:
                        data = s.recv(65535)
                    except BlockingIOError:
                        break
                    m = st.Message(data)
                    if s is flooder:
                        if m.tc:
                            self.assertEqual(len(m.answer), 0, "a slipped answer carries no records")
                            flood_tc += 1
                        else:
                            self.assertEqual((m.rcode, len(m.answer)), (0, 1))
                            flood_full += 1
                            t_last_flood_full = time.monotonic()
                        continue
                    key = (resolvers.index(s), m.id)
                    if key not in pending:
                        resolver_bad.append(f"unexpected answer id {m.id}")
                    elif m.tc or m.rcode != 0 or len(m.answer) != 1:
                        resolver_bad.append(f"h{pending.pop(key)}: tc={m.tc} rcode={m.rcode} an={len(m.answer)}")
                    else:
                        pending.pop(key)
                        resolver_full += 1

        start = time.monotonic()
        total_resolver = int(RESOLVER_RATE * SECONDS)
        total_flood = int(FLOOD_RATE * SECONDS)
        for _ in range(1_000_000):  # bounded; ends when both schedules are sent
            now = time.monotonic() - start
            due_r = min(total_resolver, int(now * RESOLVER_RATE) + 1)
            due_f = min(total_flood, int(now * FLOOD_RATE) + 1)
            # Catch up in small steps so a stalled client never bursts the server's socket.
            for _ in range(min(32, due_r - resolver_sent)):
                k = resolver_sent
                si, qid, name = k % len(resolvers), k // len(resolvers), k % NAMES
                pending[(si, qid)] = name
                resolvers[si].sendto(st.build_query(f"h{name}.example.com", "A", qid=qid), target)
                resolver_sent += 1
            for _ in range(min(64, due_f - flood_sent)):
                if t_first_flood is None:
                    t_first_flood = time.monotonic()
                flooder.sendto(flood_query, target)
                flood_sent += 1
            drain()
            if resolver_sent == total_resolver and flood_sent == total_flood:
                break
        # The last answers: every resolver query, then the flood until it is quiet.
        deadline = time.monotonic() + 20.0
        quiet_since = time.monotonic()
        seen = (resolver_full, flood_full, flood_tc)
        while time.monotonic() < deadline:
            drain()
            now_seen = (resolver_full, flood_full, flood_tc)
            if now_seen != seen:
                seen, quiet_since = now_seen, time.monotonic()
            if not pending and time.monotonic() - quiet_since > 0.5:
                break
        for s in socks:
            s.close()

        # The server's counters once they stop moving (it may still be reading the flood).
        last = [None]

        def settled():
            c = rrl_counts(self.api_port)
            ok = c == last[0]
            last[0] = c
            return c if ok else None

        dropped, slipped, udp = st.wait_until(settled, timeout=20.0, interval=0.3, what="RRL counters settle")
        dropped -= before[0]
        slipped -= before[1]
        limited = dropped + slipped
        span = t_last_flood_full - t_first_flood if t_last_flood_full else 0.0
        report = (f"resolver: sent={resolver_sent} full={resolver_full} unanswered={len(pending)}; "
                  f"flood: sent={flood_sent} full={flood_full} tc={flood_tc} over {span:.2f}s; "
                  f"server: dropped={dropped} slipped={slipped} udp={udp - before[2]}")
        print(report)

        # The resolver farm: 400 different names a second, every one answered in full.
        self.assertEqual(resolver_bad, [], report)
        self.assertEqual(resolver_sent, total_resolver, report)
        self.assertEqual(resolver_full, total_resolver, report)

        # The flood: at most `rate` per second of the time its full answers took, plus
        # the one second of credit a new class starts with (+1 for the millisecond clock).
        self.assertGreaterEqual(flood_full, RATE, report)  # the first second's credit is always sent
        self.assertLessEqual(flood_full, RATE * (span + 0.002) + RATE + 1, report)
        self.assertGreater(limited, 0, report)
        # Every `slip`-th limited answer of the class is sent truncated: slipped = limited / slip.
        self.assertLessEqual(abs(slipped - limited / SLIP), 1, report)
        # The client saw no more slipped answers than the server sent (some may be lost on a busy machine).
        self.assertLessEqual(flood_tc, slipped, report)
        self.assertGreater(flood_tc, 0, report)
        # Full answers plus limited ones never exceed what was sent.
        self.assertLessEqual(flood_full + limited, flood_sent, report)
        self.assertTrue(self.server.alive())


if __name__ == "__main__":
    st.main()
