// answer_query against hand-built zones: every DNS behaviour documented in docs/dns.md.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "support.hpp"

using namespace dnstest;
using Strings = std::vector<std::string>;

namespace {

namespace rt = signpost::zones::rrtype;

ZoneSpec example_com() {
    ZoneSpec z("example.com");
    z.ns("@", "ns1.example.com").ns("@", "ns2.example.com");
    z.mx("@", 10, "mail.example.com");
    z.a("ns1", "192.0.2.53").aaaa("ns2", "2001:db8::53");
    z.a("mail", "192.0.2.25");
    z.txt("a.b.c", "deep");
    z.cname("alias", "www.example.com");
    z.cname("chain1", "chain2.example.com").cname("chain2", "www.example.com");
    z.cname("dangling", "nothere.example.com");
    z.cname("loop1", "loop2.example.com").cname("loop2", "loop1.example.com");
    z.cname("out", "www.example.org");
    z.txt("*.wild", "wild");
    z.a("sub.wild", "192.0.2.7");
    z.txt("x.ent.wild", "below an empty non-terminal");
    z.ns("sub", "ns.sub.example.com").ns("sub", "ns.other.net");
    z.a("ns.sub", "192.0.2.100");
    z.rr("sub", rt::DS, 3600, std::string("\x30\x39\x08\x02", 4) + std::string(32, '\x11'));
    z.a("deep.sub", "192.0.2.101");
    z.ns("nods", "ns.other.net");
    z.ns("child", "ns1.example.com");  // delegated, and served here too
    z.rr("child", rt::DS, 3600, std::string("\xd4\x31\x08\x02", 4) + std::string(32, '\x22'));
    z.mx("mxocc", 10, "deep.sub.example.com");
    z.srv("_sip._tcp", 0, 5, 5060, "mail.example.com");
    z.cname("wc-target", "foo.wild.example.com");
    z.cname("*.cwild", "www.example.com");
    for (int i = 0; i < 40; ++i) z.txt("big", std::string(100, char('a' + i % 26)) + std::to_string(i));
    z.service("site", {"www", "@"});
    z.service("v4only", {"v4"});
    z.service("empty", {"nothing"});
    return z;
}

struct Fixture {
    std::shared_ptr<const signpost::zones::Catalog> catalog;
    std::shared_ptr<const signpost::dns::View> view;
    Fixture() {
        ZoneSpec net("example.net");
        net.ns("@", "ns1.example.com");
        net.service("any", {"*"});
        ZoneSpec org("example.org");
        org.ns("@", "ns1.example.com");
        org.service("geo", {"www"}, signpost::zones::PolicyKind::Subnet);
        ZoneSpec child("child.example.com");  // served too: most specific zone wins
        child.ns("@", "ns1.example.com");
        child.a("host", "198.51.100.1");
        catalog = make_catalog({example_com(), net, org, child});
        // Service indices in catalog order: site, v4only, empty, any, geo.
        std::vector<signpost::policy::Evaluation> evs;
        evs.push_back(evaluation({variant({"192.0.2.10", "2001:db8::10"})}, "primary", "all endpoints up", 30));
        evs.push_back(evaluation({variant({"192.0.2.11"})}));
        evs.push_back(evaluation({}, "all-down", "every endpoint down", 20));
        evs.push_back(evaluation({variant({"203.0.113.9"})}));
        auto geo = evaluation({variant({"192.0.2.99"})}, "subnet", "default");
        signpost::policy::SubnetRule eu;
        eu.prefix = *signpost::core::IpPrefix::parse("198.51.100.0/24");
        eu.decision = evaluation({variant({"192.0.2.1"})}, "eu").decision;
        signpost::policy::SubnetRule eu_inner;
        eu_inner.prefix = *signpost::core::IpPrefix::parse("198.51.100.128/25");
        eu_inner.decision = evaluation({variant({"192.0.2.2"})}, "eu-inner").decision;
        signpost::policy::SubnetRule v6;
        v6.prefix = *signpost::core::IpPrefix::parse("2001:db8:1::/48");
        v6.decision = evaluation({variant({"192.0.2.6"})}, "v6").decision;
        geo.subnets = {eu_inner, eu, v6};
        evs.push_back(geo);
        view = signpost::dns::build_view(catalog, evs, 7);
    }
    Reply q(const std::string& name, uint16_t type, QueryOptions o = {}, bool tcp = false,
            const std::string& client = "192.0.2.53") {
        return ask(*view, make_query(name, type, o), tcp, client);
    }
};

const Fixture& fx() {
    static Fixture f;
    return f;
}
Reply q(const std::string& name, uint16_t type, QueryOptions o = {}, bool tcp = false,
        const std::string& client = "192.0.2.53") {
    return const_cast<Fixture&>(fx()).q(name, type, o, tcp, client);
}
std::vector<uint8_t> bytes(std::initializer_list<int> b) {
    std::vector<uint8_t> v;
    for (int x : b) v.push_back(uint8_t(x));
    return v;
}
const std::string kSoa =
    "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";

}  // namespace

TEST_CASE("answer: a service owner gets its address with AA set") {
    auto r = q("www.example.com", rt::A);
    REQUIRE(r.ok);
    CHECK(r.qr);
    CHECK(r.aa);
    CHECK(r.rcode == 0);
    CHECK(r.id == 0x1234);
    CHECK(r.answer == Strings{"www.example.com. 30 IN A 192.0.2.10"});
    CHECK(r.authority.empty());
    auto r6 = q("www.example.com", rt::AAAA);
    CHECK(r6.answer == Strings{"www.example.com. 30 IN AAAA 2001:db8::10"});
    auto apex = q("example.com", rt::A);
    CHECK(apex.answer == Strings{"example.com. 30 IN A 192.0.2.10"});
}

TEST_CASE("answer: REFUSED for a name in no served zone") {
    auto r = q("www.example.info", rt::A);
    REQUIRE(r.ok);
    CHECK(r.rcode == 5);
    CHECK_FALSE(r.aa);
    CHECK(r.question == Strings{"www.example.info. IN A"});
    CHECK(r.answer.empty());
    CHECK(q("com", rt::NS).rcode == 5);
    CHECK(q(".", rt::NS).rcode == 5);
}

TEST_CASE("answer: RD and CD are copied while RA and AD are never set") {
    auto r = q("www.example.com", rt::A, {.rd = true, .cd = true});
    CHECK(r.rd);
    CHECK(r.cd);
    CHECK_FALSE(r.ra);
    CHECK_FALSE(r.ad);
    auto r2 = q("www.example.com", rt::A, {.rd = false});
    CHECK_FALSE(r2.rd);
    CHECK_FALSE(r2.cd);
    CHECK_FALSE(r2.ra);
}

TEST_CASE("answer: packets with QR=1 are never answered") {
    auto query = make_query("www.example.com", rt::A);
    query[2] |= 0x80;
    std::vector<uint8_t> out(65535);
    CHECK(signpost::dns::answer_query(*fx().view, query, {}, out) == 0);
}

TEST_CASE("answer: an opcode other than QUERY is NOTIMP") {
    for (uint8_t op : {1, 2, 4, 5}) {
        auto r = q("www.example.com", rt::A, {.opcode = op});
        REQUIRE(r.ok);
        CHECK(r.rcode == 4);
        CHECK(r.opcode == op);
        CHECK(r.answer.empty());
    }
}

TEST_CASE("answer: QDCOUNT other than 1 is FORMERR") {
    auto query = make_query("www.example.com", rt::A);
    SUBCASE("zero") { query[5] = 0; }
    SUBCASE("two") { query[5] = 2; }
    auto r = ask(*fx().view, query);
    REQUIRE(r.ok);
    CHECK(r.rcode == 1);
    CHECK(r.id == 0x1234);
    CHECK(r.question.empty());
}

TEST_CASE("answer: a malformed question is FORMERR, less than a header gets no reply") {
    std::vector<uint8_t> out(65535);
    CHECK(signpost::dns::answer_query(*fx().view, bytes({0x12, 0x34, 0x01, 0x00, 0, 1}), {}, out) == 0);
    SUBCASE("truncated name") {
        auto r = ask(*fx().view, bytes({0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'}));
        REQUIRE(r.ok);
        CHECK(r.rcode == 1);
        CHECK(r.id == 0x1234);
    }
    SUBCASE("missing type and class") {
        auto r = ask(*fx().view, bytes({0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0}));
        CHECK(r.rcode == 1);
    }
    SUBCASE("label type 0x40") {
        auto r = ask(*fx().view, bytes({0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1}));
        CHECK(r.rcode == 1);
    }
    SUBCASE("name longer than 255 octets") {
        std::string n;
        for (int i = 0; i < 5; ++i) n += std::string(60, 'a') + ".";
        n += "example.com";
        auto r = q(n, rt::A);
        CHECK(r.rcode == 1);
    }
    SUBCASE("trailing garbage") {
        auto query = make_query("www.example.com", rt::A);
        query.push_back(0);
        CHECK(ask(*fx().view, query).rcode == 1);
    }
}

TEST_CASE("answer: compression pointers in the question are FORMERR") {
    // qname = pointer to itself (a loop) and a pointer to the header.
    auto loop = bytes({0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1});
    CHECK(ask(*fx().view, loop).rcode == 1);
    auto into_header = bytes({0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 2, 0, 1, 0, 1});
    CHECK(ask(*fx().view, into_header).rcode == 1);
}

TEST_CASE("answer: classes other than IN and ANY are REFUSED (CH too, without a server identity)") {
    for (uint16_t cls : {3, 4, 254}) {
        auto r = q("version.bind", rt::TXT, {.qclass = cls});
        REQUIRE(r.ok);
        CHECK(r.rcode == 5);
        CHECK(r.answer.empty());
        CHECK(q("www.example.com", rt::A, {.qclass = cls}).rcode == 5);
    }
    CHECK(q("www.example.com", rt::A, {.qclass = 255}).rcode == 0);  // conventions_test.cpp
}

TEST_CASE("answer: a query carrying answer or authority records is FORMERR") {
    auto query = make_query("www.example.com", rt::A);
    // Append one A record (owner = pointer to the qname) and count it.
    auto rr = bytes({0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1});
    query.insert(query.end(), rr.begin(), rr.end());
    SUBCASE("answer section") { query[7] = 1; }
    SUBCASE("authority section") { query[9] = 1; }
    auto r = ask(*fx().view, query);
    REQUIRE(r.ok);
    CHECK(r.rcode == 1);
    CHECK(r.answer.empty());
}

TEST_CASE("answer: NXDOMAIN carries the SOA with the TTL of min(SOA TTL and SOA minimum)") {
    auto r = q("nope.example.com", rt::A);
    REQUIRE(r.ok);
    CHECK(r.rcode == 3);
    CHECK(r.aa);
    CHECK(r.answer.empty());
    CHECK(r.authority == Strings{kSoa});
    SUBCASE("SOA TTL below minimum") {
        ZoneSpec z("example.com", 60, 300);
        z.ns("@", "ns1.example.com");
        auto view = signpost::dns::build_view(make_catalog({z}), {}, 1);
        auto r2 = ask(*view, make_query("nope.example.com", rt::A));
        REQUIRE(r2.authority.size() == 1);
        CHECK(r2.authority[0].rfind("example.com. 60 IN SOA", 0) == 0);
    }
}

TEST_CASE("answer: NODATA carries the SOA in authority") {
    auto r = q("mail.example.com", rt::AAAA);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    CHECK(r.answer.empty());
    CHECK(r.authority == Strings{kSoa});
}

TEST_CASE("answer: an empty non-terminal is NODATA and not NXDOMAIN") {
    for (auto n : {"b.c.example.com", "c.example.com", "ent.wild.example.com"}) {
        CAPTURE(n);
        auto r = q(n, rt::A);
        CHECK(r.rcode == 0);
        CHECK(r.answer.empty());
        CHECK(r.authority == Strings{kSoa});
    }
    CHECK(q("a.b.c.example.com", rt::TXT).answer == Strings{"a.b.c.example.com. 300 IN TXT \"deep\""});
    CHECK(q("x.c.example.com", rt::A).rcode == 3);
}

TEST_CASE("answer: a CNAME is followed inside the zone") {
    auto r = q("alias.example.com", rt::A);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"alias.example.com. 300 IN CNAME www.example.com.", "www.example.com. 30 IN A 192.0.2.10"});
    auto chain = q("chain1.example.com", rt::AAAA);
    CHECK(chain.answer == Strings{"chain1.example.com. 300 IN CNAME chain2.example.com.",
                                  "chain2.example.com. 300 IN CNAME www.example.com.",
                                  "www.example.com. 30 IN AAAA 2001:db8::10"});
    SUBCASE("NODATA at the target has the SOA") {
        auto r2 = q("alias.example.com", rt::MX);
        CHECK(r2.rcode == 0);
        CHECK(r2.answer == Strings{"alias.example.com. 300 IN CNAME www.example.com."});
        CHECK(r2.authority == Strings{kSoa});
    }
}

TEST_CASE("answer: a CNAME to a missing in-zone name is NXDOMAIN") {
    auto r = q("dangling.example.com", rt::A);
    CHECK(r.rcode == 3);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"dangling.example.com. 300 IN CNAME nothere.example.com."});
    CHECK(r.authority == Strings{kSoa});
}

TEST_CASE("answer: CNAME loops end after each name once") {
    auto r = q("loop1.example.com", rt::A);
    CHECK(r.rcode == 0);
    CHECK(r.answer == Strings{"loop1.example.com. 300 IN CNAME loop2.example.com.",
                              "loop2.example.com. 300 IN CNAME loop1.example.com."});
}

TEST_CASE("answer: a long CNAME chain is cut after 8 links") {
    ZoneSpec z("example.com");
    z.ns("@", "ns1.example.com");
    for (int i = 0; i < 12; ++i) z.cname("c" + std::to_string(i), "c" + std::to_string(i + 1) + ".example.com");
    z.a("c12", "192.0.2.12");
    auto view = signpost::dns::build_view(make_catalog({z}), {}, 1);
    auto r = ask(*view, make_query("c0.example.com", rt::A));
    CHECK(r.rcode == 0);
    CHECK(r.answer.size() == 8);
}

TEST_CASE("answer: a CNAME out of the zone is not followed") {
    auto r = q("out.example.com", rt::A);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"out.example.com. 300 IN CNAME www.example.org."});
    CHECK(r.authority.empty());
}

TEST_CASE("answer: qtype CNAME returns the CNAME without following it") {
    auto r = q("alias.example.com", rt::CNAME);
    CHECK(r.answer == Strings{"alias.example.com. 300 IN CNAME www.example.com."});
}

TEST_CASE("answer: a wildcard answers with the qname as owner") {
    auto r = q("anything.wild.example.com", rt::TXT);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"anything.wild.example.com. 300 IN TXT \"wild\""});
    SUBCASE("several labels below the closest encloser") {
        CHECK(q("x.y.wild.example.com", rt::TXT).answer == Strings{"x.y.wild.example.com. 300 IN TXT \"wild\""});
    }
    SUBCASE("NODATA for another type") {
        auto r2 = q("anything.wild.example.com", rt::A);
        CHECK(r2.rcode == 0);
        CHECK(r2.answer.empty());
        CHECK(r2.authority == Strings{kSoa});
    }
    SUBCASE("the wildcard name itself") {
        CHECK(q("*.wild.example.com", rt::TXT).answer == Strings{"*.wild.example.com. 300 IN TXT \"wild\""});
    }
    SUBCASE("a wildcard CNAME is followed") {
        auto r3 = q("foo.cwild.example.com", rt::A);
        CHECK(r3.answer == Strings{"foo.cwild.example.com. 300 IN CNAME www.example.com.",
                                   "www.example.com. 30 IN A 192.0.2.10"});
    }
    SUBCASE("a CNAME into a wildcard") {
        auto r4 = q("wc-target.example.com", rt::TXT);
        CHECK(r4.answer == Strings{"wc-target.example.com. 300 IN CNAME foo.wild.example.com.",
                                   "foo.wild.example.com. 300 IN TXT \"wild\""});
    }
}

TEST_CASE("answer: no wildcard match below an existing name or empty non-terminal") {
    // sub.wild exists, so x.sub.wild's closest encloser is sub.wild: no *.sub.wild.
    auto r = q("x.sub.wild.example.com", rt::TXT);
    CHECK(r.rcode == 3);
    CHECK(r.authority == Strings{kSoa});
    // ent.wild exists only as an empty non-terminal (x.ent.wild has data).
    auto r2 = q("y.ent.wild.example.com", rt::TXT);
    CHECK(r2.rcode == 3);
    // The existing name itself is answered from its own data.
    CHECK(q("sub.wild.example.com", rt::TXT).answer.empty());
    CHECK(q("sub.wild.example.com", rt::TXT).rcode == 0);
}

TEST_CASE("answer: a service with owner * answers every name of its zone") {
    auto r = q("whatever.example.net", rt::A);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"whatever.example.net. 30 IN A 203.0.113.9"});
    CHECK(q("a.b.example.net", rt::A).answer == Strings{"a.b.example.net. 30 IN A 203.0.113.9"});
    auto nodata = q("whatever.example.net", rt::AAAA);
    CHECK(nodata.rcode == 0);
    CHECK(nodata.answer.empty());
    CHECK(nodata.authority.size() == 1);
}

TEST_CASE("answer: names at and below a zone cut get a referral") {
    for (auto n : {"sub.example.com", "deep.sub.example.com", "x.y.sub.example.com"}) {
        CAPTURE(n);
        auto r = q(n, rt::A);
        REQUIRE(r.ok);
        CHECK(r.rcode == 0);
        CHECK_FALSE(r.aa);
        CHECK(r.answer.empty());
        CHECK(r.authority == Strings{"sub.example.com. 3600 IN NS ns.sub.example.com.",
                                     "sub.example.com. 3600 IN NS ns.other.net."});
        CHECK(r.additional == Strings{"ns.sub.example.com. 300 IN A 192.0.2.100"});
    }
    // NS query at the cut: a referral too, not an authoritative answer.
    auto ns = q("sub.example.com", rt::NS);
    CHECK_FALSE(ns.aa);
    CHECK(ns.answer.empty());
    CHECK(ns.authority.size() == 2);
}

TEST_CASE("answer: DS at a zone cut is answered authoritatively from the parent side") {
    auto r = q("sub.example.com", rt::DS);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    REQUIRE(r.answer.size() == 1);
    CHECK(r.answer[0].rfind("sub.example.com. 3600 IN DS 12345 8 2 ", 0) == 0);
    auto none = q("nods.example.com", rt::DS);
    CHECK(none.rcode == 0);
    CHECK(none.aa);
    CHECK(none.answer.empty());
    CHECK(none.authority == Strings{kSoa});
    // Below the cut, DS is the child's business: a referral.
    CHECK_FALSE(q("deep.sub.example.com", rt::DS).aa);
}

TEST_CASE("answer: DS for the apex of a served child zone comes from the served parent") {
    auto r = q("child.example.com", rt::DS);
    CHECK(r.aa);
    REQUIRE(r.answer.size() == 1);
    CHECK(r.answer[0].rfind("child.example.com. 3600 IN DS 54321 8 2 ", 0) == 0);
    // Other types at the child apex come from the child zone.
    CHECK(q("child.example.com", rt::NS).aa);
}

TEST_CASE("answer: data below a zone cut is occluded") {
    auto mx = q("mxocc.example.com", rt::MX);
    CHECK(mx.answer.size() == 1);
    CHECK(mx.additional.empty());  // the target is below the cut at sub
    auto r = q("deep.sub.example.com", rt::A);
    CHECK(r.answer.empty());
    CHECK_FALSE(r.aa);
    auto glue = q("ns.sub.example.com", rt::A);
    CHECK(glue.answer.empty());
    CHECK_FALSE(glue.aa);
}

TEST_CASE("answer: the most specific served zone answers") {
    auto r = q("host.child.example.com", rt::A);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"host.child.example.com. 300 IN A 198.51.100.1"});
    auto soa = q("child.example.com", rt::SOA);
    REQUIRE(soa.answer.size() == 1);
    CHECK(soa.answer[0].rfind("child.example.com. 3600 IN SOA", 0) == 0);
}

TEST_CASE("answer: apex NS with addresses of in-zone targets in additional") {
    auto r = q("example.com", rt::NS);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.com."});
    CHECK(r.additional == Strings{"ns1.example.com. 300 IN A 192.0.2.53", "ns2.example.com. 300 IN AAAA 2001:db8::53"});
}

TEST_CASE("answer: apex SOA") {
    auto r = q("example.com", rt::SOA);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 "
                              "3600 1209600 300"});
    CHECK(r.authority.empty());
}

TEST_CASE("answer: MX and SRV targets get their addresses in additional") {
    auto mx = q("example.com", rt::MX);
    CHECK(mx.answer == Strings{"example.com. 300 IN MX 10 mail.example.com."});
    CHECK(mx.additional == Strings{"mail.example.com. 300 IN A 192.0.2.25"});
    auto srv = q("_sip._tcp.example.com", rt::SRV);
    CHECK(srv.answer == Strings{"_sip._tcp.example.com. 300 IN SRV 0 5 5060 mail.example.com."});
    CHECK(srv.additional == Strings{"mail.example.com. 300 IN A 192.0.2.25"});
}

TEST_CASE("answer: OPT in the reply only when the query had one with our size and DO echoed") {
    auto plain = q("www.example.com", rt::A);
    CHECK_FALSE(plain.has_opt);
    auto e = q("www.example.com", rt::A, {.edns = true, .udp_size = 4096, .do_bit = true});
    CHECK(e.has_opt);
    CHECK(e.opt_udp_size == 1232);
    CHECK(e.opt_do);
    CHECK(e.opt_version == 0);
    CHECK(e.answer.size() == 1);
    auto nodo = q("www.example.com", rt::A, {.edns = true});
    CHECK_FALSE(nodo.opt_do);
    SUBCASE("the advertised size is a View option") {
        auto view = signpost::dns::build_view(fx().catalog, {}, 1, {.udp_payload_size = 4000, .zone_ids = {}});
        auto r = ask(*view, make_query("www.example.com", rt::A, {.edns = true}));
        CHECK(r.opt_udp_size == 4000);
    }
    SUBCASE("OPT on error replies too") {
        auto refused = q("www.example.info", rt::A, {.edns = true});
        CHECK(refused.rcode == 5);
        CHECK(refused.has_opt);
    }
}

TEST_CASE("answer: EDNS version above 0 is BADVERS") {
    auto r = q("www.example.com", rt::A, {.edns = true, .version = 1});
    REQUIRE(r.ok);
    CHECK(r.rcode == 16);
    CHECK(r.has_opt);
    CHECK(r.opt_version == 0);
    CHECK(r.answer.empty());
}

TEST_CASE("answer: more than one OPT record is FORMERR") {
    auto query = make_query("www.example.com", rt::A, {.edns = true});
    auto opt = bytes({0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0});
    query.insert(query.end(), opt.begin(), opt.end());
    query[11] = 2;
    auto r = ask(*fx().view, query);
    REQUIRE(r.ok);
    CHECK(r.rcode == 1);
    CHECK(r.answer.empty());
}

TEST_CASE("answer: unknown EDNS options are ignored") {
    std::string cookie = std::string("\x00\x0a\x00\x08", 4) + std::string(8, '\x42');
    std::string unknown = std::string("\xfd\xe9\x00\x02", 4) + "hi";
    auto r = q("www.example.com", rt::A, {.edns = true, .options = cookie + unknown});
    CHECK(r.rcode == 0);
    CHECK(r.answer.size() == 1);
    CHECK(r.has_opt);
    auto bad = q("www.example.com", rt::A, {.edns = true, .options = std::string("\x00\x0a\x00\x10", 4)});
    CHECK(bad.rcode == 1);  // option longer than the OPT rdata
}

TEST_CASE("answer: UDP answers above the client's limit are truncated with TC") {
    SUBCASE("512 without EDNS") {
        auto r = q("big.example.com", rt::TXT);
        REQUIRE(r.ok);
        CHECK(r.tc);
        CHECK(r.aa);
        CHECK(r.size <= 512);
        CHECK(r.question.size() == 1);
        CHECK(r.answer.empty());
        CHECK_FALSE(r.has_opt);
    }
    SUBCASE("min(client, ours) with EDNS, OPT kept") {
        auto r = q("big.example.com", rt::TXT, {.edns = true, .udp_size = 65000});
        CHECK(r.tc);
        CHECK(r.has_opt);
        CHECK(r.answer.empty());
    }
    SUBCASE("EDNS sizes below 512 count as 512") {
        auto r = q("www.example.com", rt::A, {.edns = true, .udp_size = 100});
        CHECK_FALSE(r.tc);
        CHECK(r.answer.size() == 1);
    }
    SUBCASE("a caller buffer smaller than the limit") {
        std::vector<uint8_t> out(300);
        auto query = make_query("big.example.com", rt::TXT);
        std::size_t n = signpost::dns::answer_query(*fx().view, query, {}, out);
        out.resize(n);
        auto r = parse_reply(out);
        CHECK(r.tc);
    }
}

TEST_CASE("answer: TCP answers go up to 65535 bytes") {
    auto r = q("big.example.com", rt::TXT, {}, true);
    REQUIRE(r.ok);
    CHECK_FALSE(r.tc);
    CHECK(r.answer.size() == 40);
    CHECK(r.size > 4000);
}

TEST_CASE("answer: ANY gets one RRset (RFC 8482)") {
    auto apex = q("example.com", rt::ANY);
    CHECK(apex.rcode == 0);
    CHECK(apex.aa);
    CHECK(apex.answer == Strings{"example.com. 30 IN A 192.0.2.10"});
    auto mail = q("mail.example.com", rt::ANY);
    CHECK(mail.answer == Strings{"mail.example.com. 300 IN A 192.0.2.25"});
    auto srv = q("_sip._tcp.example.com", rt::ANY);
    CHECK(srv.answer.size() == 1);
    auto ent = q("c.example.com", rt::ANY);
    CHECK(ent.answer.empty());
    CHECK(ent.authority == Strings{kSoa});
    CHECK(q("nope.example.com", rt::ANY).rcode == 3);
    CHECK(q("alias.example.com", rt::ANY).answer == Strings{"alias.example.com. 300 IN CNAME www.example.com."});
    CHECK(q("ns2.example.com", rt::ANY).answer == Strings{"ns2.example.com. 300 IN AAAA 2001:db8::53"});
}

TEST_CASE("answer: AXFR and IXFR are NOTIMP, the other meta types are NODATA (as Knot DNS)") {
    for (uint16_t t : {rt::AXFR, rt::IXFR}) {
        auto r = q("example.com", t, {}, true);
        REQUIRE(r.ok);
        CHECK(r.rcode == 4);
        CHECK(r.answer.empty());
    }
    for (uint16_t t : {rt::OPT, uint16_t(249), uint16_t(250), uint16_t(253), uint16_t(254)}) {
        auto r = q("example.com", t);
        CHECK(r.rcode == 0);
        CHECK(r.authority == Strings{kSoa});
    }
}

TEST_CASE("answer: the question is echoed as sent and answers point to it") {
    auto r = q("WwW.ExAmPlE.cOm", rt::A);
    REQUIRE(r.ok);
    CHECK(r.question == Strings{"WwW.ExAmPlE.cOm. IN A"});
    REQUIRE(r.answer.size() == 1);
    // The owner of the answer is a pointer to offset 12.
    std::size_t qend = 12 + 17 + 4;
    CHECK(r.wire[qend] == 0xc0);
    CHECK(r.wire[qend + 1] == 12);
    CHECK(r.answer[0] == "WwW.ExAmPlE.cOm. 30 IN A 192.0.2.10");
}

namespace {
bool contains(const std::vector<uint8_t>& hay, const std::string& needle) {
    std::string h(hay.begin(), hay.end());
    return h.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("answer: names are compressed in owners and NS/CNAME/SOA/MX rdata but never in SRV") {
    auto ns = q("example.com", rt::NS);
    // ns1.example.com in rdata: "ns1" then a pointer to example.com in the question.
    CHECK(contains(ns.wire, std::string("\3ns1\xc0\x0c", 6)));
    CHECK_FALSE(contains(ns.wire, wire_name("ns1.example.com")));
    auto mx = q("example.com", rt::MX);
    CHECK(contains(mx.wire, std::string("\x00\x0a\4mail\xc0\x0c", 8)));
    auto soa = q("example.com", rt::SOA);
    CHECK(contains(soa.wire, std::string("\3ns1\xc0\x0c\12hostmaster\xc0\x0c", 18)));
    auto cname = q("alias.example.com", rt::A);
    CHECK(contains(cname.wire, std::string("\3www\xc0\x12", 6)));  // example.com at offset 18
    auto srv = q("_sip._tcp.example.com", rt::SRV);
    CHECK(contains(srv.wire, wire_name("mail.example.com")));  // uncompressed inside SRV
    // The additional owner mail.example.com may point into the SRV rdata? No: it
    // is compressed against names outside rdata or the uncompressed SRV target,
    // which is a legal target; only the SRV rdata itself must stay uncompressed.
    CHECK(srv.additional.size() == 1);
}

TEST_CASE("answer: AAAA for a service without v6 addresses is NODATA with TTL capped by the service") {
    auto r = q("v4.example.com", rt::AAAA);
    CHECK(r.rcode == 0);
    CHECK(r.aa);
    CHECK(r.answer.empty());
    REQUIRE(r.authority.size() == 1);
    CHECK(r.authority[0].rfind("example.com. 30 IN SOA", 0) == 0);
    CHECK(q("v4.example.com", rt::A).answer == Strings{"v4.example.com. 30 IN A 192.0.2.11"});
}

TEST_CASE("answer: a service with no variants is NODATA") {
    auto r = q("nothing.example.com", rt::A);
    CHECK(r.rcode == 0);
    CHECK(r.answer.empty());
    REQUIRE(r.authority.size() == 1);
    CHECK(r.authority[0].rfind("example.com. 20 IN SOA", 0) == 0);
}

TEST_CASE("answer: variants are picked by weight") {
    ZoneSpec z("example.com");
    z.ns("@", "ns1.example.com");
    z.service("w", {"www"}, signpost::zones::PolicyKind::Weighted);
    auto cat = make_catalog({z});
    std::vector<signpost::policy::Evaluation> evs{
        evaluation({variant({"192.0.2.1"}, 1), variant({"192.0.2.2"}, 3), variant({"192.0.2.3"}, 0)}, "weighted")};
    auto view = signpost::dns::build_view(cat, evs, 1);
    signpost::dns::seed_variant_random(4000);
    std::map<std::string, int> seen;
    for (int i = 0; i < 4000; ++i) {
        auto r = ask(*view, make_query("www.example.com", rt::A));
        REQUIRE(r.answer.size() == 1);
        seen[r.answer[0].substr(r.answer[0].rfind(' ') + 1)]++;
    }
    CHECK(seen["192.0.2.3"] == 0);
    CHECK(seen["192.0.2.1"] > 700);
    CHECK(seen["192.0.2.1"] < 1300);
    CHECK(seen["192.0.2.2"] > 2700);
    CHECK(seen["192.0.2.2"] < 3300);
}

TEST_CASE("answer: each service has a state TXT at <service>._signpost.<origin>") {
    auto r = q("site._signpost.example.com", rt::TXT);
    CHECK(r.aa);
    CHECK(r.answer == Strings{"site._signpost.example.com. 30 IN TXT \"primary\" \"all endpoints up\""});
    auto down = q("empty._signpost.example.com", rt::TXT);
    CHECK(down.answer == Strings{"empty._signpost.example.com. 20 IN TXT \"all-down\" \"every endpoint down\""});
    CHECK(q("_signpost.example.com", rt::TXT).rcode == 0);  // empty non-terminal
}

TEST_CASE("answer: a state TXT replaces a static TXT at its name, other types stay") {
    ZoneSpec z("example.com");
    z.ns("@", "ns1.example.com").a("ns1", "192.0.2.53");
    z.txt("site._signpost", "static").a("site._signpost", "192.0.2.7");
    z.service("site", {"www"});
    auto view = signpost::dns::build_view(make_catalog({z}), {{evaluation({variant({"192.0.2.10"})})}}, 1);
    CHECK(ask(*view, make_query("site._signpost.example.com", rt::TXT)).answer ==
          Strings{"site._signpost.example.com. 30 IN TXT \"primary\" \"all endpoints up\""});
    CHECK(ask(*view, make_query("site._signpost.example.com", rt::A)).answer ==
          Strings{"site._signpost.example.com. 300 IN A 192.0.2.7"});
}

TEST_CASE("answer: ECS selects the longest matching subnet rule and echoes the scope") {
    auto ecs4 = [](std::string addr3, uint8_t source) { return ecs_option(1, source, 0, std::move(addr3)); };
    SUBCASE("matching the /24 rule") {
        auto r = q("www.example.org", rt::A, {.edns = true, .options = ecs4(std::string("\xc6\x33\x64", 3), 24)});
        CHECK(r.answer == Strings{"www.example.org. 30 IN A 192.0.2.1"});
        // Family 1, source 24, scope 25: the /25 inner rule must not be covered.
        CHECK(r.ecs == std::string("\x00\x01\x18\x19\xc6\x33\x64", 7));
    }
    SUBCASE("matching the more specific /25 rule") {
        auto r = q("www.example.org", rt::A,
                   {.edns = true, .options = ecs_option(1, 32, 0, std::string("\xc6\x33\x64\x81", 4))});
        CHECK(r.answer == Strings{"www.example.org. 30 IN A 192.0.2.2"});
        CHECK(r.ecs == std::string("\x00\x01\x20\x19\xc6\x33\x64\x81", 8));
    }
    SUBCASE("no rule matches: the default, with a scope that excludes every rule") {
        auto r = q("www.example.org", rt::A,
                   {.edns = true, .options = ecs_option(1, 24, 0, std::string("\xcb\x00\x71", 3))});
        CHECK(r.answer == Strings{"www.example.org. 30 IN A 192.0.2.99"});
        // 203.0.113.0 vs 198.51.100.0: first differing bit is bit 4 -> scope 5.
        CHECK(r.ecs == std::string("\x00\x01\x18\x05\xcb\x00\x71", 7));
    }
    SUBCASE("IPv6 client subnet") {
        std::string a6("\x20\x01\x0d\xb8\x00\x01\x00\x00", 8);
        auto r = q("www.example.org", rt::A, {.edns = true, .options = ecs_option(2, 56, 0, a6.substr(0, 7))});
        CHECK(r.answer == Strings{"www.example.org. 30 IN A 192.0.2.6"});
        REQUIRE(r.ecs.size() == 11);
        CHECK(uint8_t(r.ecs[3]) == 48);
    }
    SUBCASE("SOURCE PREFIX-LENGTH 0: the client asked not to be located") {
        auto r = q("www.example.org", rt::A, {.edns = true, .options = ecs_option(1, 0, 0, "")}, false, "198.51.100.7");
        CHECK(r.answer == Strings{"www.example.org. 30 IN A 192.0.2.99"});
        CHECK(r.ecs == std::string("\x00\x01\x00\x00", 4));
    }
}

TEST_CASE("answer: ECS scope is 0 when the answer does not depend on the subnet") {
    auto r = q("www.example.com", rt::A, {.edns = true, .options = ecs_option(1, 24, 0, std::string("\xc6\x33\x64", 3))});
    CHECK(r.answer.size() == 1);
    CHECK(r.ecs == std::string("\x00\x01\x18\x00\xc6\x33\x64", 7));
    auto nx = q("nope.example.org", rt::A, {.edns = true, .options = ecs_option(1, 24, 0, std::string("\xc6\x33\x64", 3))});
    CHECK(nx.rcode == 3);
    CHECK(nx.ecs == std::string("\x00\x01\x18\x00\xc6\x33\x64", 7));
}

TEST_CASE("answer: without ECS the source address selects the subnet rule") {
    auto r = q("www.example.org", rt::A, {}, false, "198.51.100.200");
    CHECK(r.answer == Strings{"www.example.org. 30 IN A 192.0.2.2"});
    auto r2 = q("www.example.org", rt::A, {.edns = true}, false, "198.51.100.20");
    CHECK(r2.answer == Strings{"www.example.org. 30 IN A 192.0.2.1"});
    CHECK(r2.ecs.empty());
    auto other = q("www.example.org", rt::A, {}, false, "192.0.2.1");
    CHECK(other.answer == Strings{"www.example.org. 30 IN A 192.0.2.99"});
}

TEST_CASE("answer: malformed ECS options are FORMERR") {
    std::vector<std::string> bad = {
        ecs_option(3, 24, 0, std::string("\x01\x02\x03", 3)),        // unknown family
        ecs_option(1, 33, 0, std::string(5, '\x01')),                // source above 32
        ecs_option(1, 24, 0, std::string("\x01\x02", 2)),            // address too short
        ecs_option(1, 24, 0, std::string("\x01\x02\x03\x04", 4)),    // address too long
        ecs_option(1, 23, 0, std::string("\x01\x02\x03", 3)),        // bits beyond the prefix
        ecs_option(1, 24, 8, std::string("\x01\x02\x03", 3)),        // scope set in a query
        std::string("\x00\x08\x00\x02\x00\x01", 6),                  // shorter than 4 bytes
        ecs_option(1, 8, 0, "\x01") + ecs_option(1, 8, 0, "\x01"),   // two ECS options
    };
    for (auto& opt : bad) {
        auto r = q("www.example.org", rt::A, {.edns = true, .options = opt});
        REQUIRE(r.ok);
        CHECK(r.rcode == 1);
        CHECK(r.answer.empty());
        CHECK(r.ecs.empty());
    }
}

TEST_CASE("view: carries its generation, an empty catalog refuses everything") {
    CHECK(signpost::dns::view_generation(*fx().view) == 7);
    auto empty = signpost::dns::build_view(nullptr, {}, 3);
    CHECK(signpost::dns::view_generation(*empty) == 3);
    CHECK(ask(*empty, make_query("www.example.com", rt::A)).rcode == 5);
}
