# Support for the integration tests: start the real signpost binary on an
# ephemeral port, talk to it with dig and raw sockets, stop it by its own PID.
# Standard library only; never sleeps blindly, never uses fixed ports.
import atexit
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from collections import namedtuple
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "integration"


def signpost_bin():
    """Path of the binary under test ($SIGNPOST_BIN, else build/signpost)."""
    b = os.environ.get("SIGNPOST_BIN") or str(REPO / "build" / "signpost")
    if not os.path.isfile(b) or not os.access(b, os.X_OK):
        raise FileNotFoundError(f"signpost binary not found at {b} (set SIGNPOST_BIN)")
    return b


# --------------------------------------------------------------------------
# Ports and process bookkeeping

def _ephemeral_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(hosts=("127.0.0.1",)):
    """A port that is free for UDP and TCP on every host in `hosts` right now,
    drawn from outside the kernel's ephemeral range.

    Why not port 0: dig (BIND's netmgr) binds its UDP source socket to port 0
    with SO_REUSEPORT. For a socket of the same user that also has SO_REUSEPORT
    (signpost's listeners, Knot's), the kernel does not count the port as taken,
    so dig's random source port can be the server's port. dig then sends the
    query from 127.0.0.1:P to 127.0.0.1:P, its own connected socket is the best
    match, and it reads back its own query: "query response not set", NOERROR,
    no answer. Servers on ports the kernel never hands out cannot meet that."""
    lo, hi = _ephemeral_range()
    candidates = [p for p in range(10000, 65536) if not lo <= p <= hi]
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        port = rng.choice(candidates)
        socks = []
        try:
            for h in hosts:
                fam = socket.AF_INET6 if ":" in h else socket.AF_INET
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(fam, kind)
                    socks.append(s)
                    s.bind((h, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port found")


def ipv6_loopback_available():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


_LIVE = []          # processes still running (killed at exit)
_LOGS = []          # (label, path) of every child's stderr, dumped on failure


def _kill_live():
    for p in list(_LIVE):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
    _LIVE.clear()


atexit.register(_kill_live)


def register_log(label, path):
    _LOGS.append((label, str(path)))


def dump_logs(out=sys.stderr):
    for label, path in _LOGS:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        print(f"\n===== stderr of {label} ({path}) =====", file=out)
        print(text[-20000:], file=out)
        print(f"===== end of {label} =====", file=out)


def wait_until(pred, timeout=10.0, interval=0.02, what="condition"):
    """Polls `pred` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# Wire format: just enough to build queries and read replies byte by byte.

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "NAPTR": 35, "DNAME": 39, "OPT": 41, "DS": 43, "SSHFP": 44,
         "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "TLSA": 52, "SVCB": 64, "HTTPS": 65,
         "CAA": 257, "IXFR": 251, "AXFR": 252, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
CLASSES = {"IN": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
          9: "NOTAUTH", 16: "BADVERS"}


def type_code(t):
    if isinstance(t, int):
        return t
    t = t.upper()
    if t in TYPES:
        return TYPES[t]
    if t.startswith("TYPE"):
        return int(t[4:])
    raise ValueError(f"unknown type {t}")


def class_code(c):
    if isinstance(c, int):
        return c
    c = c.upper()
    if c in CLASSES:
        return CLASSES[c]
    if c.startswith("CLASS"):
        return int(c[5:])
    raise ValueError(f"unknown class {c}")


def split_labels(name):
    """Presentation labels (escapes \\. and \\DDD honoured) as bytes, root excluded."""
    labels, cur, i = [], bytearray(), 0
    name = name[:-1] if name.endswith(".") and not name.endswith("\\.") else name
    while i < len(name):
        c = name[i]
        if c == "\\":
            if name[i + 1:i + 4].isdigit() and len(name[i + 1:i + 4]) == 3:
                cur.append(int(name[i + 1:i + 4]))
                i += 4
            else:
                cur += name[i + 1].encode()
                i += 2
            continue
        if c == ".":
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur += c.encode()
        i += 1
    if cur or labels:
        labels.append(bytes(cur))
    return labels


def encode_name(name):
    """Presentation name ('www.Example.com' or with trailing dot) to wire, case kept."""
    if isinstance(name, bytes):
        return name
    out = b""
    for b in split_labels(name):
        assert 0 < len(b) < 64, f"bad label {b!r} in {name!r}"
        out += bytes([len(b)]) + b
    return out + b"\0"


def build_query(qname="example.com", qtype="A", qclass="IN", *, qid=None, rd=False, cd=False,
                ad=False, opcode=0, qr=False, tc=False, z=False, aa=False, edns=None,
                qdcount=None, questions=None, extra=b""):
    """A query packet. edns: None or dict(size=1232, do=False, version=0, options=[(code, bytes)],
    flags=0 extra Z bits). questions: list of (name, type, class) to put several questions."""
    qid = random.randrange(65536) if qid is None else qid
    flags = (0x8000 if qr else 0) | ((opcode & 15) << 11) | (0x0400 if aa else 0) | \
        (0x0200 if tc else 0) | (0x0100 if rd else 0) | (0x0040 if z else 0) | \
        (0x0020 if ad else 0) | (0x0010 if cd else 0)
    if questions is None:
        questions = [(qname, qtype, qclass)] if qname is not None else []
    body = b""
    for n, t, c in questions:
        body += encode_name(n) + struct.pack("!HH", type_code(t), class_code(c))
    arcount = 0
    if edns is not None:
        opts = b"".join(struct.pack("!HH", code, len(data)) + data
                        for code, data in edns.get("options", []))
        ttl = (edns.get("version", 0) << 16) | (0x8000 if edns.get("do") else 0) | edns.get("flags", 0)
        body_opt = b"\0" + struct.pack("!HHIH", 41, edns.get("size", 1232), ttl, len(opts)) + opts
        arcount = 1
    else:
        body_opt = b""
    qd = len(questions) if qdcount is None else qdcount
    return struct.pack("!HHHHHH", qid, flags, qd, 0, 0, arcount) + body + body_opt + extra


class WireError(Exception):
    pass


def read_name(data, off, depth_limit=128):
    """Returns (lowercase-preserving text name with trailing dot, offset after the name in place,
    raw labels as bytes list). Follows compression pointers, refusing loops."""
    labels = []
    end = None
    jumps = 0
    seen = set()
    while True:
        if off >= len(data):
            raise WireError("name runs past end")
        ln = data[off]
        if ln & 0xC0 == 0xC0:
            if off + 1 >= len(data):
                raise WireError("truncated pointer")
            ptr = ((ln & 0x3F) << 8) | data[off + 1]
            if end is None:
                end = off + 2
            if ptr in seen or jumps > depth_limit:
                raise WireError("compression loop")
            seen.add(ptr)
            jumps += 1
            off = ptr
            continue
        if ln & 0xC0:
            raise WireError("bad label type")
        off += 1
        if ln == 0:
            break
        labels.append(data[off:off + ln])
        off += ln
    if end is None:
        end = off
    text = ".".join(l.decode("latin-1") for l in labels) + "."
    return text, end, labels


RR = namedtuple("RR", "name type cls ttl rdata rdata_offset")


class Message:
    """A parsed DNS message (reply or query)."""

    def __init__(self, data):
        if len(data) < 12:
            raise WireError("shorter than a header")
        self.data = data
        (self.id, self.flags_word, self.qdcount, self.ancount, self.nscount,
         self.arcount) = struct.unpack("!HHHHHH", data[:12])
        f = self.flags_word
        self.qr = bool(f & 0x8000)
        self.opcode = (f >> 11) & 15
        self.aa = bool(f & 0x0400)
        self.tc = bool(f & 0x0200)
        self.rd = bool(f & 0x0100)
        self.ra = bool(f & 0x0080)
        self.z = bool(f & 0x0040)
        self.ad = bool(f & 0x0020)
        self.cd = bool(f & 0x0010)
        self.rcode_low = f & 15
        off = 12
        self.questions = []
        self.question_bytes = b""
        qstart = off
        for _ in range(self.qdcount):
            name, off, _ = read_name(data, off)
            if off + 4 > len(data):
                raise WireError("truncated question")
            t, c = struct.unpack("!HH", data[off:off + 4])
            off += 4
            self.questions.append((name, t, c))
        self.question_bytes = data[qstart:off]
        self.sections = []
        for count in (self.ancount, self.nscount, self.arcount):
            sec = []
            for _ in range(count):
                name, off, _ = read_name(data, off)
                if off + 10 > len(data):
                    raise WireError("truncated RR header")
                t, c, ttl, rdlen = struct.unpack("!HHIH", data[off:off + 10])
                off += 10
                if off + rdlen > len(data):
                    raise WireError("truncated rdata")
                sec.append(RR(name, t, c, ttl, data[off:off + rdlen], off))
                off += rdlen
            self.sections.append(sec)
        self.trailing = len(data) - off
        self.answer, self.authority, self.additional = self.sections
        self.opt = None
        opts = [rr for rr in self.additional if rr.type == 41]
        self.opt_count = len(opts)
        if opts:
            o = opts[0]
            self.opt = {"size": o.cls, "ext_rcode": o.ttl >> 24, "version": (o.ttl >> 16) & 255,
                        "do": bool(o.ttl & 0x8000), "z": o.ttl & 0x7FFF, "owner": o.name,
                        "options": _parse_opts(o.rdata)}
        self.rcode = self.rcode_low | ((self.opt["ext_rcode"] << 4) if self.opt else 0)

    @property
    def rcode_name(self):
        return RCODES.get(self.rcode, str(self.rcode))

    def records(self, section="answer"):
        return [rr for rr in getattr(self, section) if rr.type != 41]

    def decompressed_length(self):
        """Length the message would have with every name written in full (names inside the
        rdata of NS/CNAME/PTR/MX/SOA/SRV included), to compare with the real size."""
        total = 12 + sum(len(encode_name(n)) + 4 for n, _, _ in self.questions)
        for sec in self.sections:
            for rr in sec:
                total += len(encode_name(rr.name)) + 10 + len(expand_rdata(self.data, rr))
        return total


def _parse_opts(rdata):
    out, off = [], 0
    while off + 4 <= len(rdata):
        code, ln = struct.unpack("!HH", rdata[off:off + 4])
        out.append((code, rdata[off + 4:off + 4 + ln]))
        off += 4 + ln
    return out


def expand_rdata(data, rr):
    """The rdata of `rr` with any compressed names expanded (for the well-known types)."""
    off = rr.rdata_offset
    t = rr.type
    if t in (2, 5, 12, 39):
        n, _, _ = read_name(data, off)
        return encode_name(n)
    if t == 15:
        n, _, _ = read_name(data, off + 2)
        return rr.rdata[:2] + encode_name(n)
    if t == 6:
        m, o2, _ = read_name(data, off)
        r, o3, _ = read_name(data, o2)
        return encode_name(m) + encode_name(r) + data[o3:o3 + 20]
    return rr.rdata


def udp_exchange(port, packet, host="127.0.0.1", timeout=2.0):
    """Sends one UDP packet and returns the reply bytes, or None on timeout."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (host, port))
        try:
            data, _ = s.recvfrom(65535)
            return data
        except (socket.timeout, ConnectionRefusedError):
            return None


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def tcp_read_message(sock):
    ln = struct.unpack("!H", recv_exact(sock, 2))[0]
    return recv_exact(sock, ln)


def tcp_connect(port, host="127.0.0.1", timeout=3.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except OSError:
        s.close()  # a refused connect (server not listening yet) leaks no socket
        raise
    return s


def tcp_exchange(port, packet, host="127.0.0.1", timeout=3.0):
    """One length-prefixed query over a new TCP connection; returns the reply bytes."""
    with tcp_connect(port, host, timeout) as s:
        s.sendall(struct.pack("!H", len(packet)) + packet)
        return tcp_read_message(s)


def query(port, qname, qtype="A", qclass="IN", *, tcp=False, host="127.0.0.1", timeout=2.0, **kw):
    """Raw query helper: builds, sends, parses. Returns a Message, or None (UDP timeout)."""
    pkt = build_query(qname, qtype, qclass, **kw)
    data = tcp_exchange(port, pkt, host, timeout) if tcp else udp_exchange(port, pkt, host, timeout)
    return None if data is None else Message(data)


# --------------------------------------------------------------------------
# dig

# types whose last field dig prints in chunks: number of fields before it
HEX_TAIL = {"DS": 3, "SSHFP": 2, "TLSA": 3, "DNSKEY": 3, "CDS": 3}

DigRR = namedtuple("DigRR", "name ttl cls type rdata")


class DigError(Exception):
    pass


class DigResult:
    """dig's view of a reply: status, flags, EDNS pseudo-section and the three sections."""

    def __init__(self, text, cmd):
        self.text = text
        self.cmd = cmd
        self.status = None
        self.opcode = None
        self.id = None
        self.flags = set()
        self.counts = {}
        self.edns = None
        self.question = []
        self.answer, self.authority, self.additional = [], [], []
        self.size = None
        section = None
        for line in text.splitlines():
            s = line.strip()
            m = re.match(r";; ->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)", s)
            if m:
                self.opcode, self.status, self.id = m.group(1), m.group(2), int(m.group(3))
                continue
            m = re.match(r";; flags:([^;]*);(.*)", s)
            if m:
                self.flags = set(m.group(1).split())
                for part in m.group(2).split(","):
                    k, _, v = part.strip().partition(":")
                    if v.strip().isdigit():
                        self.counts[k.strip()] = int(v)
                continue
            m = re.match(r"; EDNS: version: (\d+), flags:([^;]*); (?:MBZ: (\S+) , )?udp: (\d+)", s)
            if m:
                self.edns = {"version": int(m.group(1)), "flags": set(m.group(2).split()),
                             "udp": int(m.group(4)), "options": []}
                continue
            m = re.match(r";; MSG SIZE\s+rcvd: (\d+)", s)
            if m:
                self.size = int(m.group(1))
                continue
            m = re.match(r";; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", s)
            if m:
                section = m.group(1).lower()
                continue
            if s.startswith(";; ") or s == "":
                if s == "":
                    section = None
                continue
            if s.startswith("; ") and self.edns is not None and section is None:
                self.edns["options"].append(s[2:])
                continue
            if section == "question":
                parts = s.lstrip(";").split()
                if len(parts) >= 3:
                    self.question.append((parts[0], parts[1], parts[2]))
                continue
            if section in ("answer", "authority", "additional"):
                parts = s.split(None, 4)
                if len(parts) >= 4:
                    rdata = " ".join(parts[4].split()) if len(parts) > 4 else ""
                    if parts[3] in HEX_TAIL:
                        rdata = squash_hex(rdata, HEX_TAIL[parts[3]])
                    rr = DigRR(parts[0], int(parts[1]), parts[2], parts[3], rdata)
                    getattr(self, section).append(rr)

    @property
    def aa(self):
        return "aa" in self.flags

    @property
    def tc(self):
        return "tc" in self.flags

    def rdatas(self, section="answer", rtype=None, name=None):
        return sorted(rr.rdata for rr in getattr(self, section)
                      if (rtype is None or rr.type == rtype)
                      and (name is None or rr.name.lower() == absolute(name).lower()))

    def types(self, section="answer"):
        return sorted({rr.type for rr in getattr(self, section)})

    def rrs(self, section="answer"):
        """Set of (owner lowercase, type, ttl, rdata) in a section."""
        return sorted({(rr.name.lower(), rr.type, rr.ttl, rr.rdata) for rr in getattr(self, section)})

    def __repr__(self):
        return f"$ {' '.join(self.cmd)}\n{self.text}"


def squash_hex(rdata, fields):
    """dig splits long hex/base64 fields into chunks: join everything after `fields` fields."""
    parts = rdata.split()
    return " ".join(parts[:fields] + ["".join(parts[fields:])])


def absolute(name):
    return name if name.endswith(".") else name + "."


def dig(port, qname, qtype="A", *, qclass=None, tcp=False, host="127.0.0.1", edns=True,
        bufsize=None, do=False, subnet=None, rd=False, extra=(), timeout=2, tries=1, program="dig"):
    """Runs bind9 dig against the server and parses the reply. Raises DigError when no reply."""
    cmd = [program, "@" + host, "-p", str(port), "+norec" if not rd else "+rec",
           f"+time={timeout}", f"+tries={tries}", "+nocookie", "+noall", "+comments", "+question",
           "+answer", "+authority", "+additional", "+stats", "+nottlunits", "+ignore"]
    if tcp:
        cmd.append("+tcp")
    if not edns:
        cmd.append("+noedns")
    if bufsize is not None:
        cmd.append(f"+bufsize={bufsize}")
    if do:
        cmd.append("+dnssec")
    if subnet:
        cmd.append(f"+subnet={subnet}")
    cmd += list(extra)
    if qclass:
        cmd += ["-c", qclass]
    cmd += ["-q", qname, "-t", qtype]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * tries + 10)
    if p.returncode != 0 or "->>HEADER<<-" not in p.stdout:
        raise DigError(f"dig failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return DigResult(p.stdout, cmd)


# --------------------------------------------------------------------------
# Zones on disk

class ZoneDir:
    """A temporary zones directory; write TOML (and master) files into it."""

    def __init__(self, files=None, copy_from=None):
        self.path = Path(tempfile.mkdtemp(prefix="signpost-zones-"))
        if copy_from:
            for f in Path(copy_from).iterdir():
                if f.is_file():
                    shutil.copy(f, self.path / f.name)
        for name, text in (files or {}).items():
            self.write(name, text)

    def write(self, name, text):
        p = self.path / name
        p.write_text(textwrap.dedent(text).lstrip("\n"))
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __str__(self):
        return str(self.path)


# --------------------------------------------------------------------------
# The server process

class StartError(AssertionError):
    pass


def _answers(port, host, tcp):
    """True when something answers a DNS query (any rcode) on host:port."""
    pkt = build_query(".", "SOA")
    try:
        data = tcp_exchange(port, pkt, host, 0.5) if tcp else udp_exchange(port, pkt, host, 0.3)
    except OSError:
        return False
    return bool(data) and len(data) >= 12


class Signpost:
    """The real binary: `signpost serve --zones DIR --listen ...`, stderr to a temp file.

    listen: list of hosts ("127.0.0.1", "::1") served on one fresh port each (or (host, port)
    pairs). stop() sends SIGTERM to this PID and expects exit 0."""

    def __init__(self, zones, listen=("127.0.0.1",), extra_args=(), label="signpost"):
        self.zones = str(zones)
        self.listen_spec = list(listen)
        self.extra_args = list(extra_args)
        self.label = label
        self.proc = None
        self.listen = []
        self.returncode = None
        self.log_path = None

    @property
    def port(self):
        return self.listen[0][1]

    @property
    def host(self):
        return self.listen[0][0]

    def _pick(self):
        self.listen = []
        for spec in self.listen_spec:
            if isinstance(spec, tuple):
                self.listen.append(spec)
            else:
                self.listen.append((spec, free_port((spec,))))

    def argv(self):
        a = [signpost_bin(), "serve", "--zones", self.zones]
        for h, p in self.listen:
            a += ["--listen", f"[{h}]:{p}" if ":" in h else f"{h}:{p}"]
        return a + self.extra_args

    def start(self, timeout=10.0):
        for attempt in range(3):
            self._pick()
            fd, self.log_path = tempfile.mkstemp(prefix="signpost-stderr-", suffix=".log")
            register_log(f"{self.label} (attempt {attempt + 1})", self.log_path)
            with os.fdopen(fd, "w") as log:
                self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=log, cwd=str(REPO))
            _LIVE.append(self.proc)
            try:
                self.wait_ready(timeout)
                return self
            except StartError:
                if self.proc.poll() is not None and re.search(r"in use", self.stderr(), re.I) \
                        and all(not isinstance(s, tuple) for s in self.listen_spec):
                    continue  # lost the race for the port; pick another
                raise
        raise StartError(f"{self.label}: could not bind a free port\n{self.stderr()}")

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        pending = [(h, p, tcp) for h, p in self.listen for tcp in (False, True)]
        while pending:
            if self.proc.poll() is not None:
                raise StartError(f"{self.label} exited with {self.proc.returncode} before "
                                 f"answering; argv: {' '.join(self.argv())}\n--- stderr ---\n"
                                 f"{self.stderr()}")
            pending = [(h, p, tcp) for h, p, tcp in pending if not _answers(p, h, tcp)]
            if not pending:
                break
            if time.monotonic() > deadline:
                self.kill()
                raise StartError(f"{self.label} did not answer on {pending} within {timeout}s; "
                                 f"argv: {' '.join(self.argv())}\n--- stderr ---\n{self.stderr()}")
            time.sleep(0.02)

    def stderr(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0, expect_code=0):
        """Signals our own PID, waits (bounded) and checks the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"{self.label} did not exit within {timeout}s after "
                                     f"{signal.Signals(sig).name}\n{self.stderr()}")
        self.returncode = self.proc.returncode
        if self.proc in _LIVE:
            _LIVE.remove(self.proc)
        if expect_code is not None and self.returncode != expect_code:
            raise AssertionError(f"{self.label} exited with {self.returncode}, expected "
                                 f"{expect_code}\n--- stderr ---\n{self.stderr()}")
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        if self.proc in _LIVE:
            _LIVE.remove(self.proc)

    def dig(self, qname, qtype="A", **kw):
        kw.setdefault("host", self.host)
        return dig(self.port, qname, qtype, **kw)

    def query(self, qname, qtype="A", qclass="IN", **kw):
        kw.setdefault("host", self.host)
        return query(self.port, qname, qtype, qclass, **kw)

    def udp(self, packet, timeout=2.0):
        return udp_exchange(self.port, packet, self.host, timeout)

    def tcp(self, packet, timeout=3.0):
        return tcp_exchange(self.port, packet, self.host, timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
        finally:
            self.kill()


def run_cli(*args, timeout=30, input=None):
    """Runs `signpost ARGS...` to completion; returns CompletedProcess (text)."""
    return subprocess.run([signpost_bin(), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=str(REPO), input=input)


# --------------------------------------------------------------------------
# Test base and entry point

class ServerTestCase(unittest.TestCase):
    """One signpost per test class, serving `zones_dir` (a fixture folder) on 127.0.0.1."""
    zones_dir = None
    listen = ("127.0.0.1",)
    extra_args = ()
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Signpost(cls.zones_dir, listen=cls.listen, extra_args=cls.extra_args,
                              label=f"signpost for {cls.__name__}")
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            try:
                cls.server.stop()
            finally:
                cls.server.kill()

    def dig(self, qname, qtype="A", **kw):
        r = self.server.dig(qname, qtype, **kw)
        self._last_reply = r
        return r

    def both(self, qname, qtype="A", **kw):
        """dig over UDP, then over TCP: yields (transport, result). A failing assertion
        prints the reply it was looking at (see _formatMessage)."""
        for tcp in (False, True):
            yield ("tcp" if tcp else "udp"), self.dig(qname, qtype, tcp=tcp, **kw)

    def _formatMessage(self, msg, standardMsg):
        text = super()._formatMessage(msg, standardMsg)
        last = getattr(self, "_last_reply", None)
        if last is not None and msg is not last:
            text += f"\n--- the reply being checked ---\n{last!r}"
        return text

    def assertAlive(self):
        r = self.dig("example.com", "SOA")
        self.assertIn(r.status, ("NOERROR", "REFUSED"))
        self.assertTrue(self.server.alive(), "server process died")


def main():
    if not os.environ.get("SIGNPOST_BIN") and not (REPO / "build" / "signpost").exists():
        print("warning: SIGNPOST_BIN not set and build/signpost missing", file=sys.stderr)
    prog = unittest.main(exit=False, verbosity=2)
    ok = prog.result.wasSuccessful()
    if not ok:
        dump_logs()
    _kill_live()
    sys.exit(0 if ok else 1)
