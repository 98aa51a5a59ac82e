# The header and the question, byte by byte: QR=1 never answered, opcodes other
# than QUERY -> NOTIMP, QDCOUNT != 1 -> FORMERR, CHAOS/HS refused, the question
# echoed as sent, name compression; malformed and hostile packets never crash or
# stall the server; TCP per RFC 7766 (pipelining, split writes, idle clients).
import random
import socket
import struct
import time

import signpost_test as st
from signpost_test import FIXTURES


class Header(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def exchange(self, pkt, tcp=False, timeout=2.0):
        return self.server.tcp(pkt, timeout) if tcp else self.server.udp(pkt, timeout)

    def reply(self, pkt, tcp=False):
        data = self.exchange(pkt, tcp)
        self.assertIsNotNone(data, f"no reply to {pkt!r}")
        return st.Message(data)

    def test_id_echoed_and_flags(self):
        for tcp in (False, True):
            for qid in (0, 1, 0x1234, 0xFFFF):
                m = self.reply(st.build_query("www.example.com", "A", qid=qid, rd=True), tcp)
                self.assertEqual(m.id, qid)
                self.assertTrue(m.qr)
                self.assertTrue(m.aa)
                self.assertTrue(m.rd)
                self.assertFalse(m.ra)
                self.assertFalse(m.z, "Z bit must be zero in replies")
                self.assertEqual(m.opcode, 0)
                self.assertEqual(m.rcode_name, "NOERROR")

    def test_qr_set_is_never_answered(self):
        pkt = st.build_query("www.example.com", "A", qr=True)
        self.assertIsNone(self.server.udp(pkt, timeout=0.7), "answered a packet with QR=1")
        pkt = st.build_query("www.example.com", "A", qr=True, aa=True)
        self.assertIsNone(self.server.udp(pkt, timeout=0.5), "answered a response packet")
        self.assertAlive()

    def test_opcodes_other_than_query_notimp(self):
        for opcode in (1, 2, 4, 5, 6, 15):
            for tcp in (False, True):
                with self.subTest(opcode=opcode, tcp=tcp):
                    m = self.reply(st.build_query("example.com", "SOA", opcode=opcode, qid=99), tcp)
                    self.assertEqual(m.id, 99)
                    self.assertTrue(m.qr)
                    self.assertEqual(m.opcode, opcode)
                    self.assertEqual(m.rcode_name, "NOTIMP")
                    self.assertEqual(m.answer, [])

    def test_dig_opcode_status(self):
        r = self.dig("example.com", "SOA", extra=["+opcode=2"])
        self.assertEqual(r.status, "NOTIMP", r)

    def test_qdcount_zero_formerr(self):
        for tcp in (False, True):
            m = self.reply(st.build_query(None, qid=321), tcp)
            self.assertEqual(m.id, 321)
            self.assertTrue(m.qr)
            self.assertEqual(m.rcode_name, "FORMERR")
            self.assertEqual(m.ancount, 0)

    def test_qdcount_two_formerr(self):
        pkt = st.build_query(questions=[("www.example.com", "A", "IN"), ("example.com", "SOA", "IN")],
                             qid=654)
        for tcp in (False, True):
            m_data = self.exchange(pkt, tcp)
            self.assertIsNotNone(m_data)
            self.assertEqual(struct.unpack("!H", m_data[:2])[0], 654)
            self.assertEqual(m_data[3] & 15, 1, "rcode must be FORMERR")
            self.assertTrue(m_data[2] & 0x80)
            self.assertEqual(struct.unpack("!H", m_data[6:8])[0], 0, "no answers")

    def test_qdcount_lies(self):
        # header says 2 questions, packet holds 1: FORMERR or dropped, never an answer
        pkt = st.build_query("www.example.com", "A", qdcount=2, qid=11)
        data = self.server.udp(pkt, timeout=1.0)
        if data is not None:
            self.assertEqual(data[3] & 15, 1, "expected FORMERR")
        self.assertAlive()

    def test_chaos_and_hesiod_refused(self):
        for cls in ("CH", "HS"):
            for name, qtype in (("version.bind", "TXT"), ("id.server", "TXT"), ("example.com", "SOA"),
                                ("www.example.com", "A")):
                if cls == "CH" and qtype == "TXT":
                    continue  # answered: test_dns_conventions.py
                for _, r in self.both(name, qtype, qclass=cls):
                    self.assertEqual(r.status, "REFUSED", r)
                    self.assertEqual(r.answer, [], r)
                    self.assertNotIn("aa", r.flags, r)

    def test_question_echoed_exactly(self):
        cases = [("WwW.ExAmPlE.CoM", "A"), ("NoThInG.eXaMpLe.CoM", "A"), ("www.EXAMPLE.ORG", "A"),
                 ("WWW.DELEG.example.com", "A"), ("FoO.WiLd.ExAmPlE.cOm", "A"),
                 ("BIG.example.com", "TXT"), ("example.com", "TYPE65534")]
        for name, qtype in cases:
            for tcp in (False, True):
                with self.subTest(name=name, qtype=qtype, tcp=tcp):
                    pkt = st.build_query(name, qtype, qid=1234)
                    m = self.reply(pkt, tcp)
                    self.assertEqual(m.qdcount, 1)
                    self.assertEqual(m.question_bytes, pkt[12:], "question not echoed byte for byte")

    def test_answer_owner_keeps_query_case_or_is_canonical(self):
        m = self.reply(st.build_query("WwW.ExAmPlE.CoM", "A"))
        self.assertEqual({rr.name.lower() for rr in m.answer}, {"www.example.com."})

    def test_name_compression(self):
        for qname, qtype in (("example.com", "MX"), ("example.com", "NS"), ("www.example.com", "A"),
                             ("nothing.example.com", "A"), ("www.deleg.example.com", "A")):
            for tcp in (False, True):
                with self.subTest(q=(qname, qtype), tcp=tcp):
                    m = self.reply(st.build_query(qname, qtype), tcp)
                    if m.answer:  # the answer's owner is the query name: a pointer to offset 12
                        self.assertIn(b"\xc0\x0c", m.data, "no pointer to the question name")
                    self.assertLess(len(m.data), m.decompressed_length(),
                                    "reply not smaller than with uncompressed names")

    def test_compressed_rdata_names_decode(self):
        m = self.reply(st.build_query("example.com", "MX"))
        targets = sorted(st.read_name(m.data, rr.rdata_offset + 2)[0].lower() for rr in m.answer)
        self.assertEqual(targets, ["mail.example.com.", "mx.example.org."])
        m = self.reply(st.build_query("example.com", "SOA"))
        mname, off, _ = st.read_name(m.data, m.answer[0].rdata_offset)
        rname, off, _ = st.read_name(m.data, off)
        self.assertEqual((mname, rname), ("ns1.example.com.", "hostmaster.example.com."))
        self.assertEqual(struct.unpack("!IIIII", m.data[off:off + 20]),
                         (2024010101, 7200, 3600, 1209600, 300))

    def test_axfr_is_not_a_dump(self):
        m = self.reply(st.build_query("example.com", "AXFR"))
        self.assertNotEqual(m.rcode_name, "NOERROR", "AXFR over UDP must not be answered")
        self.assertEqual(m.answer, [])
        data = self.server.tcp(st.build_query("example.com", "AXFR"))
        m = st.Message(data)
        self.assertIn(m.rcode_name, ("REFUSED", "NOTAUTH", "NOTIMP"), "AXFR without ACL must be refused")
        self.assertEqual(m.answer, [])


def hostile_packets():
    """(label, bytes) of malformed or hostile queries."""
    good = st.build_query("www.example.com", "A", qid=0x4141)
    hdr = struct.pack("!HHHHHH", 0x4242, 0, 1, 0, 0, 0)
    out = [
        ("empty", b""),
        ("one byte", b"\x00"),
        ("11-byte header", good[:11]),
        ("header only qd=1", good[:12]),
        ("truncated name", good[:16]),
        ("name without type/class", good[:12 + 17]),
        ("missing class", good[:-2]),
        ("label 64 (bad type bits)", hdr + b"\x40" + b"a" * 64 + b"\0\0\1\0\1"),
        ("label type 0x80", hdr + b"\x80abc\0\0\1\0\1"),
        ("pointer to itself", hdr + b"\xc0\x0c\0\1\0\1"),
        ("pointer loop", hdr + b"\x01a\xc0\x0c\0\1\0\1"),
        ("pointer forward past end", hdr + b"\xc0\xff\0\1\0\1"),
        ("pointer into header", hdr + b"\xc0\x02\0\1\0\1"),
        ("name longer than 255", hdr + (b"\x3f" + b"a" * 63) * 5 + b"\0\0\1\0\1"),
        ("label past end", hdr + b"\x3fabc"),
        ("ancount lies", good[:6] + b"\0\5" + good[8:]),
        ("arcount lies", good[:10] + b"\0\3" + good[12:]),
        ("nscount with garbage", good[:8] + b"\0\1" + good[10:] + b"\xff" * 7),
        ("truncated OPT", st.build_query("www.example.com", "A", edns={"size": 1232})[:-4]),
        ("OPT rdlen lies", st.build_query("www.example.com", "A", edns={"size": 1232})[:-2] + b"\xff\xff"),
        ("OPT option overrun", st.build_query("www.example.com", "A",
                                              edns={"size": 1232, "options": [(8, b"\0\1\x18\0\xc0\0\2")]})[:-3]),
        ("ECS bad family", st.build_query("www.example.com", "A",
                                          edns={"size": 1232, "options": [(8, b"\0\x09\x18\0\xc0\0\2")]})),
        ("ECS prefix too long", st.build_query("www.example.com", "A",
                                               edns={"size": 1232, "options": [(8, b"\0\1\xff\0\xc0\0\2")]})),
        ("trailing garbage", good + b"\xde\xad\xbe\xef"),
        ("all 0xff", b"\xff" * 512),
        ("all zero 512", b"\0" * 512),
        ("huge", good + b"\0" * 4000),
    ]
    rng = random.Random(20240101)
    for i in range(40):
        n = rng.randrange(1, 300)
        out.append((f"random {i}", bytes(rng.randrange(256) for _ in range(n))))
        # random mutations of a valid query
        b = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(2, len(b))] = rng.randrange(256)
        out.append((f"mutated {i}", bytes(b)))
    return out


# When these get a reply at all (dropping is allowed), it must be FORMERR.
MUST_BE_FORMERR = {"header only qd=1", "truncated name", "name without type/class", "missing class",
                   "label 64 (bad type bits)", "label type 0x80", "pointer to itself", "pointer loop",
                   "pointer forward past end", "name longer than 255", "label past end",
                   "truncated OPT", "OPT rdlen lies", "OPT option overrun", "all zero 512"}


class Hostile(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def assertServes(self):
        # After an attack the UDP buffer may still hold the garbage (a sanitizer build
        # drains it slowly), so a datagram can be dropped: ask as a stub resolver does,
        # a few times, before deciding the server stopped answering.
        for tcp in (False, True):
            m = None
            for _ in range(5):
                m = self.server.query("www.example.com", "A", tcp=tcp, timeout=2.0)
                if m is not None:
                    break
            self.assertIsNotNone(m, "server stopped answering (5 tries of 2 s)")
            self.assertEqual(len(m.answer), 2)
        self.assertTrue(self.server.alive(), "server process died")

    def check_reply(self, label, pkt, data):
        self.assertGreaterEqual(len(data), 12, f"{label}: reply shorter than a header")
        self.assertTrue(data[2] & 0x80, f"{label}: reply without QR")
        self.assertEqual(data[:2], pkt[:2], f"{label}: reply id differs")
        rcode = data[3] & 15
        if label in MUST_BE_FORMERR:
            self.assertEqual(rcode, 1, f"{label}: expected FORMERR, got rcode {rcode}")

    def test_malformed_udp_packets(self):
        # each hostile packet is followed by a good query from the same socket; replies to the
        # hostile one (if any) arrive first, and the good one must always be answered
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("127.0.0.1", self.server.port))
            s.settimeout(2.0)
            for i, (label, pkt) in enumerate(hostile_packets()):
                with self.subTest(packet=label):
                    sentinel = st.build_query(f"s{i}.sentinel.example.com", "A", qid=0xABCD)
                    if pkt:
                        s.send(pkt)
                    s.send(sentinel)
                    while True:
                        try:
                            data = s.recv(65535)
                        except socket.timeout:
                            self.fail(f"{label}: no answer to the good query sent after it")
                        if data[:2] == b"\xab\xcd" and data[12:12 + len(sentinel) - 12] == sentinel[12:]:
                            break
                        self.check_reply(label, pkt, data)
        self.assertServes()

    def test_malformed_tcp_messages(self):
        for i, (label, pkt) in enumerate(hostile_packets()):
            if not pkt:
                continue
            with self.subTest(packet=label):
                sentinel = st.build_query(f"s{i}.sentinel.example.com", "A", qid=0xABCD)
                try:
                    with st.tcp_connect(self.server.port, timeout=2.0) as s:
                        s.sendall(struct.pack("!H", len(pkt)) + pkt + struct.pack("!H", len(sentinel)) + sentinel)
                        while True:
                            try:
                                data = st.tcp_read_message(s)
                            except ConnectionError:
                                break  # closing the connection is a fine answer to garbage
                            except socket.timeout:
                                self.fail(f"{label}: neither answered nor closed within 2 s")
                            if data[:2] == b"\xab\xcd" and data[12:len(sentinel)] == sentinel[12:]:
                                break
                            self.check_reply(label, pkt, data)
                except ConnectionRefusedError:
                    self.fail("TCP listener gone")
        self.assertServes()

    def test_flood_of_garbage_then_answers(self):
        rng = random.Random(7)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(3000):
                n = rng.randrange(0, 600)
                s.sendto(bytes(rng.randrange(256) for _ in range(n)), ("127.0.0.1", self.server.port))
        self.assertServes()

    def test_answers_other_clients_during_an_attack(self):
        import threading
        stop = threading.Event()

        def flood():
            rng = random.Random(11)
            pkts = [p for _, p in hostile_packets() if p]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                while not stop.is_set():
                    s.sendto(rng.choice(pkts), ("127.0.0.1", self.server.port))

        def slow_tcp():
            conns = []
            while not stop.is_set() and len(conns) < 100:
                try:
                    # The attacker is another client (127.0.0.2): the per-client TCP cap
                    # evicts an address's oldest connection, so sharing 127.0.0.1 with
                    # the queries below would evict them — by design.
                    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    c.settimeout(1.0)
                    c.bind(("127.0.0.2", 0))
                    c.connect(("127.0.0.1", self.server.port))
                    c.sendall(b"\0\x30\0")  # a message that never completes
                    conns.append(c)
                except OSError:
                    pass
            stop.wait(30)
            for c in conns:
                c.close()

        threads = [threading.Thread(target=flood, daemon=True), threading.Thread(target=slow_tcp, daemon=True)]
        for t in threads:
            t.start()
        try:
            for i in range(100):
                # UDP may lose a datagram while the socket buffer is full of garbage: retry
                # like a stub resolver does (3 tries); TCP gets one try
                for _ in range(1 if i % 2 else 3):
                    m = self.server.query("www.example.com", "A", tcp=bool(i % 2), qid=i, timeout=1.0)
                    if m is not None:
                        break
                self.assertIsNotNone(m, f"query {i} unanswered during the attack")
                self.assertEqual((m.id, len(m.answer)), (i, 2))
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assertServes()

    def test_tcp_zero_length_and_huge_length(self):
        with st.tcp_connect(self.server.port) as s:
            s.sendall(b"\0\0")
            s.settimeout(1.0)
            try:
                s.recv(100)
            except (socket.timeout, ConnectionError):
                pass
        with st.tcp_connect(self.server.port) as s:
            s.sendall(b"\xff\xff" + b"\0" * 65535)
            s.settimeout(1.0)
            try:
                s.recv(100)
            except (socket.timeout, ConnectionError):
                pass
        self.assertServes()


class Tcp(st.ServerTestCase):
    zones_dir = FIXTURES / "basic"

    def test_pipelined_queries_on_one_connection(self):
        names = ["www.example.com", "api.example.com", "nothing.example.com", "example.com",
                 "alias.example.com", "big.example.com", "www.deleg.example.com", "example.org"]
        with st.tcp_connect(self.server.port) as s:
            pkts = {}
            blob = b""
            for i, n in enumerate(names):
                qtype = "TXT" if n.startswith("big") else ("SOA" if n == "example.com" else "A")
                p = st.build_query(n, qtype, qid=1000 + i)
                pkts[1000 + i] = (n, qtype)
                blob += struct.pack("!H", len(p)) + p
            s.sendall(blob)
            got = {}
            for _ in names:
                m = st.Message(st.tcp_read_message(s))
                got[m.id] = m
            self.assertEqual(set(got), set(pkts))
            for qid, (n, qtype) in pkts.items():
                self.assertEqual(got[qid].questions[0][0].lower(), n + ".")
            self.assertEqual(len(got[1005].answer), 30)
            self.assertEqual(got[1002].rcode_name, "NXDOMAIN")
            self.assertEqual(got[1007].rcode_name, "REFUSED")
            # the connection stays open for more
            p = st.build_query("www.example.com", "AAAA", qid=7)
            s.sendall(struct.pack("!H", len(p)) + p)
            self.assertEqual(st.Message(st.tcp_read_message(s)).id, 7)

    def test_query_split_across_writes(self):
        p = st.build_query("www.example.com", "A", qid=31337)
        msg = struct.pack("!H", len(p)) + p
        with st.tcp_connect(self.server.port) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(msg)):
                s.sendall(msg[i:i + 1])
                time.sleep(0.002)
            m = st.Message(st.tcp_read_message(s))
            self.assertEqual(m.id, 31337)
            self.assertEqual(len(m.answer), 2)

    def test_idle_and_half_sent_connections_do_not_block_others(self):
        conns = []
        try:
            for i in range(50):
                c = st.tcp_connect(self.server.port)
                if i % 2:
                    c.sendall(b"\0\x40" + b"\0" * 10)  # announces 64 bytes, sends 10
                conns.append(c)
            t0 = time.monotonic()
            for tcp in (False, True):
                m = self.server.query("www.example.com", "A", tcp=tcp, timeout=2.0)
                self.assertIsNotNone(m)
                self.assertEqual(len(m.answer), 2)
            print(f"UDP and TCP answered in {time.monotonic() - t0:.3f} s beside 50 idle or half-sent connections")
        finally:
            for c in conns:
                c.close()

    def test_many_sequential_connections(self):
        for i in range(200):
            m = self.server.query("www.example.com", "A", tcp=True, qid=i)
            self.assertEqual(m.id, i)

    def test_client_closing_early_does_not_hurt(self):
        for _ in range(50):
            p = st.build_query("big.example.com", "TXT")
            s = st.tcp_connect(self.server.port)
            s.sendall(struct.pack("!H", len(p)) + p)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST before reading the 6 kB answer
        m = self.server.query("www.example.com", "A", tcp=True)
        self.assertEqual(len(m.answer), 2)
        self.assertTrue(self.server.alive())


class TcpLimits(st.ServerTestCase):
    """A server whose config file sets a 1 s idle timeout and 5 TCP connections per worker."""
    zones_dir = FIXTURES / "basic"

    @classmethod
    def setUpClass(cls):
        cls.config_dir = st.ZoneDir({"server.toml": """
            tcp_idle_timeout = "1s"
            tcp_max_connections = 5
            """})
        cls.extra_args = ("--config", str(cls.config_dir.path / "server.toml"), "--workers", "1")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.config_dir.cleanup()

    def test_idle_connection_closed_by_server(self):
        # RFC 7766 6.2.3: servers close idle connections
        with st.tcp_connect(self.server.port, timeout=10.0) as s:
            t0 = time.monotonic()
            try:
                data = s.recv(10)
            except ConnectionResetError:
                data = b""
            elapsed = time.monotonic() - t0
            self.assertEqual(data, b"", "server sent data on an idle connection")
            # Not closed before the idle timeout (the server's clock started at accept,
            # a little before t0); an open connection would end in the socket's 10 s timeout.
            self.assertGreater(elapsed, 0.5, "closed well before the 1 s idle timeout")
            print(f"idle connection closed after {elapsed:.2f} s (tcp_idle_timeout 1 s)")

    def test_idle_timer_restarts_after_each_query(self):
        with st.tcp_connect(self.server.port, timeout=5.0) as s:
            for i in range(4):
                p = st.build_query("www.example.com", "A", qid=i)
                s.sendall(struct.pack("!H", len(p)) + p)
                self.assertEqual(st.Message(st.tcp_read_message(s)).id, i)
                time.sleep(0.5)  # below the idle timeout on purpose: the connection must survive

    def test_connection_cap(self):
        conns = []
        try:
            for _ in range(10):
                try:
                    conns.append(st.tcp_connect(self.server.port, timeout=2.0))
                except OSError:
                    pass
            # whatever the server does with the excess (close new or oldest), at most 5 stay
            # usable; give it a moment (bounded) to act, then count the ones that still answer
            open_ = 0
            for i, c in enumerate(conns):
                p = st.build_query("www.example.com", "A", qid=i)
                try:
                    c.settimeout(0.8)
                    c.sendall(struct.pack("!H", len(p)) + p)
                    if st.Message(st.tcp_read_message(c)).id == i:
                        open_ += 1
                except (OSError, ConnectionError):
                    pass
            self.assertGreaterEqual(open_, 1)
            self.assertLessEqual(open_, 5, f"{open_} connections served with a cap of 5")
        finally:
            for c in conns:
                c.close()
        # once the clients are gone, new connections are served again
        m = st.wait_until(lambda: _tcp_answers(self.server.port), timeout=5.0, what="TCP after cap")
        self.assertEqual(len(m.answer), 2)


def _tcp_answers(port):
    try:
        return st.query(port, "www.example.com", "A", tcp=True, timeout=1.0)
    except (OSError, ConnectionError):
        return None


if __name__ == "__main__":
    st.main()
