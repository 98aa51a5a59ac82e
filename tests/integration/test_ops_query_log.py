"""The query log against the real signpost (`serve --query-log`, one worker):
one `info query:` line per answered query with client, transport, name, type
and rcode, and a flood is cut to 1,000 lines a second, the rest counted and
said on the next line that goes through."""
import re
import socket
import time
import unittest

import signpost_test as st

ZONE = """\
origin = "example.com"
ttl = 300

[records."@"]
NS = ["ns1"]

[records.ns1]
A = "192.0.2.53"

[records.www]
A = "192.0.2.80"
"""

LINE = re.compile(r" info query: (\S+) (udp|tcp) (\S+) (\S+) (\S+) (?:TC )?(\d+)B(?: \((\d+) query lines suppressed before this one\))?$")


class TestQueryLog(unittest.TestCase):
    def setUp(self):
        self.zones = st.ZoneDir({"example.com.toml": ZONE})
        self.server = st.Signpost(self.zones, extra_args=["--query-log", "--workers", "1"], label="signpost (query log)")
        self.server.start()

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.kill()
            self.zones.cleanup()

    def lines_after(self, mark):
        return [m.groups() for m in (LINE.search(l) for l in self.server.stderr()[mark:].splitlines()) if m]

    def test_each_answered_query_gets_a_line_with_client_name_type_and_rcode(self):
        mark = len(self.server.stderr())
        self.server.dig("www.example.com", "A")
        self.server.dig("nope.example.com", "AAAA")
        self.server.dig("www.example.org", "A")
        self.server.dig("example.com", "SOA", tcp=True)
        want = [("127.0.0.1", "udp", "www.example.com.", "A", "NOERROR"),
                ("127.0.0.1", "udp", "nope.example.com.", "AAAA", "NXDOMAIN"),
                ("127.0.0.1", "udp", "www.example.org.", "A", "REFUSED"),
                ("127.0.0.1", "tcp", "example.com.", "SOA", "NOERROR")]
        got = st.wait_until(lambda: (l := self.lines_after(mark)) and len(l) >= 4 and l, timeout=5,
                            what="four query lines")
        self.assertEqual([g[:5] for g in got], want)
        self.assertTrue(all(int(g[5]) > 12 for g in got), got)

    def test_a_flood_is_rate_limited_and_the_rest_counted(self):
        sent = 3000
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        try:
            # Start just after a second boundary, so the flood spans as few
            # one-second windows as possible (the limiter counts per wall-clock second).
            time.sleep(1.0 - time.time() % 1.0 + 0.01)
            mark = len(self.server.stderr())
            started = time.time()
            answered = 0
            for i in range(sent):  # one at a time: none lost on loopback, bounded by count
                s.sendto(st.build_query("www.example.com", "A", qid=i % 65536), ("127.0.0.1", self.server.port))
                if s.recv(4096):
                    answered += 1
            ended = time.time()
            self.assertEqual(answered, sent)
            windows = int(ended) - int(started) + 1
            flood = st.wait_until(lambda: (l := self.lines_after(mark)) and len(l) >= min(sent, 1000) and l,
                                  timeout=5, what="query lines of the flood")
            print(f"\n{sent} queries in {ended - started:.2f} s ({windows} one-second windows): "
                  f"{len(flood)} lines")
            self.assertLessEqual(len(flood), 1000 * windows)
            self.assertLess(len(flood), sent, "nothing was held back")
            # The next line after the window says how many were held back.
            time.sleep(1.0 - time.time() % 1.0 + 0.01)
            self.server.dig("www.example.com", "A")
            lines = st.wait_until(lambda: (l := self.lines_after(mark)) and len(l) > len(flood) and l, timeout=5,
                                  what="the line after the flood")
            suppressed = sum(int(g[6]) for g in lines if g[6])
            self.assertEqual(len(lines) - 1 + suppressed, sent, "logged + suppressed != answered")
            self.assertIn("query lines suppressed before this one", self.server.stderr()[mark:])
        finally:
            s.close()


if __name__ == "__main__":
    st.main()
