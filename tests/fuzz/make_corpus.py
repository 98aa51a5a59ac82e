#!/usr/bin/env python3
# Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/):
# real queries (plain, EDNS, DO, ECS, cookies) and hostile ones for `answer`,
# the example and fixture TOML zones for `zone_loader`, resolver replies (A, AAAA,
# CNAME chains, NXDOMAIN/NODATA with a SOA, TC, compressed names) for
# `resolve_message`, transfer requests (AXFR, IXFR with the client's SOA, signed
# with TSIG, signed SOA, NOTIFY, garbage) for `transfer_query`, explain
# questions (types, EDNS, ECS, a TSIG) for `explain_query`. Re-run after changing it.
import base64
import hashlib
import hmac
import shutil
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
import signpost_test as st  # noqa: E402


def ecs(family, source, addr):
    return (8, struct.pack("!HBB", family, source, 0) + addr)


def answer_seeds():
    q = st.build_query
    seeds = {
        "a_www": q("www.example.com", "A", qid=1),
        "aaaa_www_rd": q("www.example.com", "AAAA", qid=2, rd=True),
        "a_apex_mixed_case": q("ExAmPle.CoM", "A", qid=3),
        "mx_apex": q("example.com", "MX", qid=4),
        "soa_apex_edns": q("example.com", "SOA", qid=5, edns={}),
        "ns_apex_do": q("example.com", "NS", qid=6, edns={"do": True}),
        "any_apex": q("example.com", "ANY", qid=7),
        "cname_alias": q("alias.example.com", "A", qid=8),
        "cname_chain": q("chain1.example.com", "AAAA", qid=9),
        "cname_loop": q("loop1.example.com", "A", qid=10),
        "cname_outside": q("outside.example.com", "A", qid=11),
        "wildcard": q("x.y.wild.example.com", "TXT", qid=12),
        "service_wildcard": q("a.svc.example.com", "A", qid=13),
        "delegation": q("host.child.example.com", "A", qid=14),
        "ds_child": q("child.example.com", "DS", qid=15),
        "big_txt_udp": q("big.example.com", "TXT", qid=16),
        "big_txt_edns_4096": q("big.example.com", "TXT", qid=17, edns={"size": 4096}),
        "nxdomain": q("nothing.example.com", "A", qid=18, edns={}),
        "refused_other_zone": q("www.example.org", "A", qid=19),
        "ecs_v4": q("www.example.com", "A", qid=20, edns={"options": [ecs(1, 24, bytes([203, 0, 113]))]}),
        "ecs_v6": q("www.example.com", "AAAA", qid=21,
                    edns={"options": [ecs(2, 56, bytes.fromhex("20010db80001ff"))]}),
        "ecs_bad_family": q("www.example.com", "A", qid=22, edns={"options": [ecs(9, 24, b"\1\2\3")]}),
        "ecs_source_too_long": q("www.example.com", "A", qid=23, edns={"options": [ecs(1, 40, b"\1\2\3\4\5")]}),
        "cookie_nsid": q("www.example.com", "A", qid=24,
                         edns={"options": [(10, b"\x01\x02\x03\x04\x05\x06\x07\x08"), (3, b"")]}),
        "edns_version_1": q("www.example.com", "A", qid=25, edns={"version": 1}),
        "edns_size_small": q("big.example.com", "TXT", qid=26, edns={"size": 100}),
        "qdcount_0": q(None, qid=27),
        "qdcount_2": q(questions=[("www.example.com", "A", "IN"), ("example.com", "SOA", "IN")], qid=28),
        "qdcount_lies": q("www.example.com", "A", qid=29, qdcount=3),
        "qr_set": q("www.example.com", "A", qid=30, qr=True),
        "opcode_notify": q("example.com", "SOA", qid=31, opcode=4),
        "opcode_update": q("example.com", "SOA", qid=32, opcode=5),
        "chaos_version": q("version.bind", "TXT", "CH", qid=33),
        "axfr": q("example.com", "AXFR", qid=34),
        "ixfr": q("example.com", "IXFR", qid=35),
        "type_0": q("www.example.com", 0, qid=36),
        "type_65535": q("www.example.com", 65535, qid=37),
        "root_soa": q(".", "SOA", qid=38),
        "tc_set_in_query": q("www.example.com", "A", qid=39, tc=True),
        "two_opt": q("www.example.com", "A", qid=40, edns={}) +
        b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0),
    }
    # Hand-made hostile shapes.
    hdr = struct.pack("!HHHHHH", 41, 0, 1, 0, 0, 0)
    seeds["pointer_loop_self"] = hdr + b"\xc0\x0c" + b"\0\1\0\1"
    seeds["pointer_loop_two"] = hdr + b"\x03www\xc0\x10\xc0\x0c" + b"\0\1\0\1"
    seeds["pointer_forward"] = hdr + b"\xc0\x20" + b"\0\1\0\1" + b"\0" * 20
    seeds["pointer_past_end"] = hdr + b"\xc0\xff" + b"\0\1\0\1"
    seeds["label_type_0x40"] = hdr + b"\x41abc\0\0\1\0\1"
    seeds["label_type_0x80"] = hdr + b"\x81abc\0\0\1\0\1"
    long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\0"  # 321 bytes > 255
    seeds["name_too_long"] = hdr + long_name + b"\0\1\0\1"
    seeds["label_runs_past_end"] = hdr + b"\x3fabc"
    seeds["header_only"] = struct.pack("!HHHHHH", 42, 0, 0, 0, 0, 0)
    seeds["truncated_header"] = b"\x00\x2b\x01"
    seeds["empty"] = b""
    seeds["question_without_type"] = hdr + b"\x03www\x07example\x03com\0"
    seeds["opt_rdlen_lies"] = q("www.example.com", "A", qid=43, edns={})[:-2] + b"\xff\xff"
    seeds["opt_option_len_lies"] = q("www.example.com", "A", qid=44, edns={"options": [(8, b"\0\1\x18\0\xcb")]})[:-3]
    seeds["garbage"] = bytes(range(256)) * 2
    return seeds


def reply(qid, qname, qtype, answers=(), authority=(), rcode=0, tc=False):
    """A resolver's reply (QR RD RA) to one question; records are (owner, type, ttl, rdata),
    owner and names in rdata as presentation names or as wire bytes (compression pointers)."""
    flags = 0x8000 | 0x0100 | 0x0080 | (0x0200 if tc else 0) | rcode
    out = struct.pack("!HHHHHH", qid, flags, 1, len(answers), len(authority), 0)
    out += st.encode_name(qname) + struct.pack("!HH", st.type_code(qtype), 1)
    for owner, rtype, ttl, rdata in list(answers) + list(authority):
        out += st.encode_name(owner) + struct.pack("!HHIH", st.type_code(rtype), 1, ttl, len(rdata)) + rdata
    return out


def soa(zone, minimum):
    return st.encode_name("ns." + zone) + st.encode_name("hostmaster." + zone) + \
        struct.pack("!IIIII", 1, 3600, 600, 86400, minimum)


def resolve_message_seeds():
    v4 = lambda s: bytes(int(x) for x in s.split("."))  # noqa: E731
    v6 = lambda s: __import__("ipaddress").IPv6Address(s).packed  # noqa: E731
    cname = st.encode_name
    seeds = {
        "a_one": reply(0x1234, "eu.lb.test", "A", [("eu.lb.test", "A", 60, v4("192.0.2.10"))]),
        "aaaa_two": reply(0x1235, "eu.lb.test", "AAAA", [("eu.lb.test", "AAAA", 300, v6("2001:db8::10")),
                                                         ("eu.lb.test", "AAAA", 30, v6("2001:db8::11"))]),
        "a_mixed_case": reply(7, "EU.Lb.TEST", "A", [("eU.lB.tEsT", "A", 60, v4("192.0.2.10"))]),
        "cname_chain": reply(0x2000, "www.site.test", "A", [
            ("www.site.test", "CNAME", 300, cname("eu.lb.test")),
            ("eu.lb.test", "CNAME", 120, cname("eu-1.lb.test")),
            ("eu-1.lb.test", "A", 60, v4("192.0.2.10")),
            ("eu-1.lb.test", "A", 30, v4("192.0.2.11")),
            ("other.test", "A", 1, v4("192.0.2.99"))]),
        "cname_other_zone": reply(0x2001, "www.site.test", "AAAA", [
            ("www.site.test", "CNAME", 300, cname("eu.lb.other"))],
            [("other", "SOA", 300, soa("other", 60))]),
        "cname_loop": reply(0x2002, "a.lb.test", "A", [("a.lb.test", "CNAME", 60, cname("b.lb.test")),
                                                        ("b.lb.test", "CNAME", 60, cname("a.lb.test"))]),
        "nxdomain_soa": reply(0x3000, "gone.lb.test", "A", [], [("lb.test", "SOA", 3600, soa("lb.test", 30))],
                              rcode=3),
        "nodata_soa": reply(0x3001, "eu.lb.test", "AAAA", [], [("lb.test", "SOA", 20, soa("lb.test", 300))]),
        "servfail": reply(0x3002, "eu.lb.test", "A", rcode=2),
        "tc_question_only": reply(0x4000, "big.lb.test", "A", tc=True),
        # eu.lb.test at 12 ("lb" at 15); the CNAME's rdata at 40; a TTL with the top bit set
        "compressed": reply(0x5000, "eu.lb.test", "A", [
            (b"\xc0\x0c", "CNAME", 300, b"\x04eu-1\xc0\x0f"),
            (b"\xc0\x28", "A", 0x80000000 | 60, v4("192.0.2.12"))]),
        "a_rdata_5_bytes": reply(0x6000, "eu.lb.test", "A", [("eu.lb.test", "A", 60, b"\xc0\0\2\x0a\x01")]),
    }
    # 17 CNAMEs: one more than follow() takes from one reply
    seeds["cname_chain_too_long"] = reply(0x2003, "c0.lb.test", "A", [
        (f"c{i}.lb.test", "CNAME", 60, cname(f"c{i + 1}.lb.test")) for i in range(17)] +
        [("c17.lb.test", "A", 60, v4("192.0.2.17"))])
    seeds["pointer_forward"] = seeds["a_one"][:28] + b"\xc0\x30" + seeds["a_one"][30:]
    return seeds


# The key of tests/fuzz/fuzz_transfer_query.cpp (and tests/unit/xfr/xfr_test.cpp).
TSIG_KEY = ("transfer-key.", base64.b64decode("c2lnbnBvc3QtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="))


def tsig_sign(msg, key=TSIG_KEY, alg="hmac-sha256.", time_signed=1700000000, fudge=300, mac_override=None):
    """msg signed with TSIG (RFC 8945 §4.3.3); the time is fixed, so the server
    later says BADTIME: the record is still read in full."""
    name, secret = key
    kname, aname = st.encode_name(name), st.encode_name(alg)
    timers = struct.pack("!HIH", time_signed >> 32, time_signed & 0xffffffff, fudge)
    variables = kname + struct.pack("!HI", 255, 0) + aname + timers + struct.pack("!HH", 0, 0)
    mac = hmac.new(secret, msg + variables, hashlib.sha256).digest() if mac_override is None else mac_override
    qid = struct.unpack("!H", msg[:2])[0]
    rdata = aname + timers + struct.pack("!H", len(mac)) + mac + struct.pack("!HHH", qid, 0, 0)
    ar = struct.unpack("!H", msg[10:12])[0] + 1
    return msg[:10] + struct.pack("!H", ar) + msg[12:] + kname + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata


def ixfr(zone, serial, qid, compressed=False):
    q = st.build_query(zone, "IXFR", qid=qid)
    owner = b"\xc0\x0c" if compressed else st.encode_name(zone)
    rdata = (b"\xc0\x0c" if compressed else st.encode_name("ns1." + zone)) + st.encode_name("admin." + zone) + \
        struct.pack("!IIIII", serial, 1, 1, 1, 1)
    return q[:8] + struct.pack("!H", 1) + q[10:] + owner + struct.pack("!HHIH", 6, 1, 3600, len(rdata)) + rdata


def transfer_query_seeds():
    q = st.build_query
    seeds = {
        "axfr": q("example.com", "AXFR", qid=1),
        "axfr_mixed_case": q("ExAmPlE.cOm", "AXFR", qid=2),
        "axfr_other_zone": q("example.org", "AXFR", qid=3),
        "axfr_class_ch": q("example.com", "AXFR", "CH", qid=4),
        "axfr_edns": q("example.com", "AXFR", qid=5, edns={}),
        "axfr_tsig": tsig_sign(q("example.com", "AXFR", qid=6)),
        "axfr_tsig_unknown_key": tsig_sign(q("example.com", "AXFR", qid=7), key=("other-key.", b"x" * 32)),
        "axfr_tsig_bad_mac": tsig_sign(q("example.com", "AXFR", qid=8), mac_override=b"\0" * 32),
        "axfr_tsig_bad_algorithm": tsig_sign(q("example.com", "AXFR", qid=9), alg="hmac-nothing."),
        "axfr_tsig_truncated": tsig_sign(q("example.com", "AXFR", qid=10))[:-7],
        "axfr_edns_and_tsig": tsig_sign(q("example.com", "AXFR", qid=11, edns={})),
        "ixfr_7": ixfr("example.com", 7, 20),
        "ixfr_8_up_to_date": ixfr("example.com", 8, 21),
        "ixfr_unknown_serial": ixfr("example.com", 3, 22),
        "ixfr_compressed_soa": ixfr("example.com", 7, 23, compressed=True),
        "ixfr_tsig": tsig_sign(ixfr("example.com", 7, 24)),
        "ixfr_without_soa": q("example.com", "IXFR", qid=25),
        "ixfr_soa_rdlen_lies": ixfr("example.com", 7, 26)[:-6],
        "ixfr_soa_in_answer": ixfr("example.com", 7, 27)[:6] + struct.pack("!HH", 1, 0) + ixfr("example.com", 7, 27)[10:],
        "soa_tsig": tsig_sign(q("example.com", "SOA", qid=30)),
        "soa_tsig_other_zone": tsig_sign(q("example.org", "SOA", qid=31)),
        "soa_plain": q("example.com", "SOA", qid=32),
        "soa_edns_only": q("example.com", "SOA", qid=33, edns={}),
        "notify": q("example.com", "SOA", qid=40, opcode=4, aa=True),
        "notify_reply": q("example.com", "SOA", qid=41, opcode=4, aa=True, qr=True),
        "axfr_response": q("example.com", "AXFR", qid=42, qr=True),
        "a_query": q("www.example.com", "A", qid=43),
        "qdcount_2": q(questions=[("example.com", "AXFR", "IN"), ("example.com", "SOA", "IN")], qid=44),
        "ancount_lies": q("example.com", "IXFR", qid=45)[:6] + b"\xff\xff" + q("example.com", "IXFR", qid=45)[8:],
    }
    hdr = struct.pack("!HHHHHH", 50, 0, 1, 0, 1, 0)
    seeds["question_pointer"] = hdr + b"\xc0\x0c" + struct.pack("!HH", 251, 1)
    long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\0"  # 321 bytes > 255
    seeds["name_too_long"] = struct.pack("!HHHHHH", 51, 0, 1, 0, 0, 0) + long_name + struct.pack("!HH", 252, 1)
    seeds["authority_pointer_loop"] = hdr + st.encode_name("example.com") + struct.pack("!HH", 251, 1) + \
        b"\xc0\x1d" + struct.pack("!HHIH", 6, 1, 0, 0)
    seeds["garbage"] = bytes(range(256)) * 2
    seeds["empty"] = b""
    return seeds


def explain_query_seeds():
    def q(name, **kw):
        return st.build_query(name, "TXT", "CH", **kw)
    seeds = {
        "www": q("www.example.com.explain.signpost", qid=1),
        "www_aaaa": q("_aaaa.www.example.com.explain.signpost", qid=2, rd=True),
        "apex_type65": q("_TYPE65.example.com.explain.signpost", qid=3),
        "mixed_case": q("WWW.Example.COM.Explain.Signpost", qid=4),
        "bad_type": q("_nosuchtype.www.example.com.explain.signpost", qid=5),
        "underscore_name": q("_srv._sip._tcp.example.com.explain.signpost", qid=6),
        "unknown_zone": q("www.example.org.explain.signpost", qid=7),
        "suffix_only": q("explain.signpost", qid=8),
        "not_explain": q("version.bind", qid=9),
        "wildcard": q("x.wild.example.com.explain.signpost", qid=10),
        "delegation": q("host.child.example.com.explain.signpost", qid=11),
        "edns": q("www.example.com.explain.signpost", qid=12, edns={"size": 4096}),
        "edns_small": q("www.example.com.explain.signpost", qid=13, edns={"size": 100}),
        "edns_version_1": q("www.example.com.explain.signpost", qid=14, edns={"version": 1}),
        "ecs_v4": q("www.example.com.explain.signpost", qid=15, edns={"options": [ecs(1, 24, bytes([203, 0, 113]))]}),
        "ecs_v4_host_bits": q("www.example.com.explain.signpost", qid=16,
                              edns={"options": [ecs(1, 20, bytes([203, 0, 127]))]}),
        "ecs_v6": q("www.example.com.explain.signpost", qid=17,
                    edns={"options": [ecs(2, 56, bytes.fromhex("20010db80001ff"))]}),
        "ecs_zero": q("www.example.com.explain.signpost", qid=18, edns={"options": [ecs(1, 0, b"")]}),
        "ecs_twice": q("www.example.com.explain.signpost", qid=19,
                       edns={"options": [ecs(1, 8, b"\xcb"), ecs(1, 8, b"\xcb")]}),
        "cookie": q("www.example.com.explain.signpost", qid=20, edns={"options": [(10, b"\1" * 8)]}),
        "two_opt": q("www.example.com.explain.signpost", qid=21, edns={}) +
        b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0),
        "tsig": tsig_sign(q("www.example.com.explain.signpost", qid=22)),
        "trailing_garbage": q("www.example.com.explain.signpost", qid=23) + b"\0\0\0",
        "class_in": st.build_query("www.example.com.explain.signpost", "TXT", qid=24),
        "qr_set": q("www.example.com.explain.signpost", qid=25, qr=True),
    }
    hdr = struct.pack("!HHHHHH", 30, 0, 1, 0, 0, 0)
    seeds["question_pointer"] = hdr + b"\xc0\x0c" + struct.pack("!HH", 16, 3)
    seeds["garbage"] = bytes(range(256)) * 2
    seeds["empty"] = b""
    return seeds


def main():
    out = HERE / "corpus" / "answer"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in answer_seeds().items():
        (out / name).write_bytes(data)
    zl = HERE / "corpus" / "zone_loader"
    zl.mkdir(parents=True, exist_ok=True)
    sources = [REPO / "examples" / "failover" / "example.com.toml"]
    sources += sorted((REPO / "tests" / "fixtures" / "integration" / "basic").glob("*.toml"))
    sources += sorted((REPO / "tests" / "fixtures" / "integration" / "ops").glob("*.toml"))
    sources += sorted((REPO / "tests" / "fixtures" / "integration" / "bad").glob("*.toml"))
    sources += [REPO / "tests" / "fixtures" / "zones" / "full" / "example.com.toml"]
    for src in sources:
        if src.exists():
            rel = src.relative_to(REPO).as_posix().replace("/", "__")
            shutil.copyfile(src, zl / rel)
    rm = HERE / "corpus" / "resolve_message"
    rm.mkdir(parents=True, exist_ok=True)
    for name, data in resolve_message_seeds().items():
        (rm / name).write_bytes(data)
    for target, seeds in (("transfer_query", transfer_query_seeds()), ("explain_query", explain_query_seeds())):
        d = HERE / "corpus" / target
        d.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (d / name).write_bytes(data)
    print(f"{len(list(out.iterdir()))} answer seeds, {len(list(zl.iterdir()))} zone_loader seeds, "
          f"{len(list(rm.iterdir()))} resolve_message seeds, "
          f"{len(list((HERE / 'corpus' / 'transfer_query').iterdir()))} transfer_query seeds, "
          f"{len(list((HERE / 'corpus' / 'explain_query').iterdir()))} explain_query seeds")


if __name__ == "__main__":
    main()
