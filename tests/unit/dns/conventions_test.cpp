// DNS conventions on the answer path (docs/dns.md, "Identity, version and NSID" and
// "Classes and meta types"): CHAOS TXT id.server/hostname.bind/version.bind/version.server,
// NSID (RFC 5001) only when asked, class ANY answered like IN, meta types as Knot DNS does.
#include <doctest/doctest.h>

#include <stdexcept>

#include "support.hpp"

using namespace dnstest;
using Strings = std::vector<std::string>;

namespace {

namespace rt = signpost::zones::rrtype;
using signpost::dns::ServerIdentity;

constexpr uint16_t kCh = 3, kAnyClass = 255;
const std::string kSoa =
    "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";
const std::string kNsidAsked = std::string("\x00\x03\x00\x00", 4);  // NSID, empty

struct Views {
    std::shared_ptr<const signpost::zones::Catalog> catalog;
    std::shared_ptr<const signpost::dns::View> fast, slow;
    Views() {
        ZoneSpec z("example.com");
        z.ns("@", "ns1.example.com");
        z.a("ns1", "192.0.2.53");
        z.a("mail", "192.0.2.25");
        z.cname("alias", "mail.example.com");
        z.ns("sub", "ns.sub.example.com");
        z.a("ns.sub", "192.0.2.100");
        for (int i = 0; i < 40; ++i) z.txt("big", std::string(100, char('a' + i % 26)) + std::to_string(i));
        z.service("site", {"www"});
        catalog = make_catalog({z});
        std::vector<signpost::policy::Evaluation> evs;
        evs.push_back(evaluation({variant({"192.0.2.10", "2001:db8::10"})}));
        fast = signpost::dns::build_view(catalog, evs, 1);
        signpost::dns::ViewOptions off;
        off.prerender = false;
        slow = signpost::dns::build_view(catalog, evs, 1, off);
    }
};

const Views& views() {
    static Views v;
    return v;
}

const ServerIdentity kIdentity("ns1.fra", "signpost 0.1.0");

Reply ask_with(const ServerIdentity* id, const std::string& name, uint16_t type, QueryOptions o = {},
               bool tcp = false, bool fast = true) {
    return ask(fast ? *views().fast : *views().slow, make_query(name, type, o), tcp, "192.0.2.53", id);
}
Reply q(const std::string& name, uint16_t type, QueryOptions o = {}, bool tcp = false) {
    return ask_with(&kIdentity, name, type, o, tcp);
}

}  // namespace

TEST_CASE("chaos: id.server and hostname.bind answer the identity, version.bind and version.server the version") {
    for (auto [name, text] : {std::pair{"id.server", "ns1.fra"}, std::pair{"hostname.bind", "ns1.fra"},
                              std::pair{"version.bind", "signpost 0.1.0"},
                              std::pair{"version.server", "signpost 0.1.0"}, std::pair{"ID.Server", "ns1.fra"},
                              std::pair{"VERSION.BIND", "signpost 0.1.0"}}) {
        CAPTURE(name);
        for (bool tcp : {false, true}) {
            auto r = q(name, rt::TXT, {.qclass = kCh}, tcp);
            REQUIRE(r.ok);
            CHECK(r.rcode == 0);
            CHECK_FALSE(r.aa);  // as Knot DNS: not authoritative data
            CHECK_FALSE(r.tc);
            // The owner points to the question: its case as sent.
            CHECK(r.answer == Strings{std::string(name) + ". 0 CH TXT \"" + text + "\""});
            CHECK(r.authority.empty());
            CHECK(r.additional.empty());
            CHECK(r.wire[r.wire.size() - std::string(text).size() - 13] == 0xc0);
        }
    }
}

TEST_CASE("chaos: other names, other types and a hidden version are REFUSED, transfers NOTIMP") {
    for (auto name : {"authors.bind", "id.server.example", "server", "example.com", "www.example.com"})
        CHECK(q(name, rt::TXT, {.qclass = kCh}).rcode == 5);
    for (uint16_t t : {rt::A, rt::ANY, rt::SOA, rt::OPT, uint16_t(250)}) {
        auto r = q("id.server", t, {.qclass = kCh});
        CHECK(r.rcode == 5);
        CHECK(r.answer.empty());
    }
    CHECK(q("version.bind", rt::AXFR, {.qclass = kCh}, true).rcode == 4);
    CHECK(q("example.com", rt::IXFR, {.qclass = kCh}).rcode == 4);
    SUBCASE("version = \"\"") {
        ServerIdentity hidden("ns1.fra", "");
        CHECK(ask_with(&hidden, "version.bind", rt::TXT, {.qclass = kCh}).rcode == 5);
        CHECK(ask_with(&hidden, "version.server", rt::TXT, {.qclass = kCh}).rcode == 5);
        CHECK(ask_with(&hidden, "id.server", rt::TXT, {.qclass = kCh}).answer ==
              Strings{"id.server. 0 CH TXT \"ns1.fra\""});
    }
    SUBCASE("identity = \"\"") {
        ServerIdentity none("", "signpost 0.1.0");
        CHECK(ask_with(&none, "id.server", rt::TXT, {.qclass = kCh}).rcode == 5);
        CHECK(ask_with(&none, "hostname.bind", rt::TXT, {.qclass = kCh}).rcode == 5);
        CHECK(ask_with(&none, "version.bind", rt::TXT, {.qclass = kCh}).rcode == 0);
    }
    SUBCASE("no identity at all (a server built without one)") {
        CHECK(ask_with(nullptr, "id.server", rt::TXT, {.qclass = kCh}).rcode == 5);
        CHECK(ask_with(nullptr, "version.bind", rt::TXT, {.qclass = kCh}).rcode == 5);
    }
    CHECK_THROWS_AS(ServerIdentity(std::string(256, 'x'), ""), std::invalid_argument);
    CHECK_THROWS_AS(ServerIdentity("", std::string(256, 'x')), std::invalid_argument);
}

TEST_CASE("chaos: the answer carries OPT and NSID like any other") {
    auto r = q("id.server", rt::TXT, {.qclass = kCh, .edns = true, .options = kNsidAsked});
    REQUIRE(r.ok);
    CHECK(r.has_opt);
    CHECK(r.nsid == "ns1.fra");
    CHECK(r.answer.size() == 1);
}

TEST_CASE("nsid: sent only when the query's OPT asks for it, on the fast path and the general renderer") {
    for (bool fast : {true, false}) {
        CAPTURE(fast);
        auto plain = ask_with(&kIdentity, "www.example.com", rt::A, {.edns = true}, false, fast);
        CHECK(plain.has_opt);
        CHECK_FALSE(plain.has_nsid);
        CHECK(plain.opt_options == 0);
        auto asked = ask_with(&kIdentity, "www.example.com", rt::A, {.edns = true, .options = kNsidAsked}, false, fast);
        REQUIRE(asked.ok);
        CHECK(asked.has_nsid);
        CHECK(asked.nsid == "ns1.fra");
        CHECK(asked.answer.size() == 1);
        CHECK(asked.size == plain.size + 4 + 7);
        // Everything but the OPT is the same answer.
        CHECK(asked.answer == plain.answer);
        CHECK(asked.authority == plain.authority);
        auto nx = ask_with(&kIdentity, "nope.example.com", rt::A, {.edns = true, .options = kNsidAsked}, false, fast);
        CHECK(nx.rcode == 3);
        CHECK(nx.authority == Strings{kSoa});
        CHECK(nx.nsid == "ns1.fra");
        auto nodata = ask_with(&kIdentity, "mail.example.com", rt::AAAA, {.edns = true, .options = kNsidAsked},
                               false, fast);
        CHECK(nodata.authority == Strings{kSoa});
        CHECK(nodata.nsid == "ns1.fra");
    }
    SUBCASE("no OPT, no NSID; no identity, no NSID") {
        CHECK_FALSE(q("www.example.com", rt::A).has_opt);
        auto r = ask_with(nullptr, "www.example.com", rt::A, {.edns = true, .options = kNsidAsked});
        CHECK(r.has_opt);
        CHECK_FALSE(r.has_nsid);
        ServerIdentity none("", "v");
        CHECK_FALSE(ask_with(&none, "www.example.com", rt::A, {.edns = true, .options = kNsidAsked}).has_nsid);
    }
    SUBCASE("on REFUSED, with ECS, and a payload in the request is ignored") {
        auto refused = q("www.example.org", rt::A, {.edns = true, .options = kNsidAsked});
        CHECK(refused.rcode == 5);
        CHECK(refused.nsid == "ns1.fra");
        auto ecs = q("www.example.com", rt::A,
                     {.edns = true, .options = kNsidAsked + ecs_option(1, 24, 0, std::string("\xc6\x33\x64", 3))});
        CHECK(ecs.nsid == "ns1.fra");
        CHECK(ecs.ecs.size() == 7);
        CHECK(ecs.answer.size() == 1);
        auto payload = q("www.example.com", rt::A, {.edns = true, .options = std::string("\x00\x03\x00\x02xy", 6)});
        CHECK(payload.nsid == "ns1.fra");
    }
}

TEST_CASE("nsid: the OPT with NSID fits the client's limit, truncation rules are unchanged") {
    // 40 TXT records of ~100 bytes do not fit 1232 bytes: TC with the OPT (and NSID) kept.
    auto big = q("big.example.com", rt::TXT, {.edns = true, .options = kNsidAsked});
    REQUIRE(big.ok);
    CHECK(big.tc);
    CHECK(big.answer.empty());
    CHECK(big.nsid == "ns1.fra");
    CHECK(big.size <= 1232);
    // A 255-byte identity still leaves every answer within the client's 512 bytes.
    ServerIdentity longest(std::string(255, 'n'), "v");
    for (bool fast : {true, false}) {
        auto r = ask_with(&longest, "www.example.com", rt::A, {.edns = true, .udp_size = 512, .options = kNsidAsked},
                          false, fast);
        REQUIRE(r.ok);
        CHECK(r.size <= 512);
        CHECK(r.nsid == std::string(255, 'n'));
        CHECK(r.answer.size() == 1);
        auto t = ask_with(&longest, "big.example.com", rt::TXT, {.edns = true, .udp_size = 512, .options = kNsidAsked},
                          false, fast);
        CHECK(t.tc);
        CHECK(t.size <= 512);
    }
    // A long name and a 255-byte NSID do not both fit 512 bytes: the answer goes without NSID.
    std::string long_name;
    for (int i = 0; i < 3; ++i) long_name += std::string(63, 'a' + char(i)) + ".";
    long_name += std::string(49, 'd') + ".example.com";  // 255 bytes in wire form
    auto r = ask_with(&longest, long_name, rt::A, {.edns = true, .udp_size = 512, .options = kNsidAsked});
    REQUIRE(r.ok);
    CHECK(r.rcode == 3);
    CHECK(r.has_opt);
    CHECK_FALSE(r.has_nsid);
    CHECK(r.size <= 512);
}

TEST_CASE("class ANY: answered like IN for an authoritative zone (as Knot DNS), other classes REFUSED") {
    for (bool fast : {true, false}) {
        CAPTURE(fast);
        for (auto [name, type] : {std::pair{"www.example.com", rt::A}, std::pair{"example.com", rt::SOA},
                                  std::pair{"alias.example.com", rt::A}, std::pair{"nope.example.com", rt::A},
                                  std::pair{"mail.example.com", rt::AAAA}, std::pair{"x.sub.example.com", rt::A},
                                  std::pair{"example.com", rt::ANY}}) {
            CAPTURE(name);
            auto in = ask_with(&kIdentity, name, type, {}, false, fast);
            auto any = ask_with(&kIdentity, name, type, {.qclass = kAnyClass}, false, fast);
            REQUIRE(any.ok);
            CHECK(any.rcode == in.rcode);
            CHECK(any.aa == in.aa);
            CHECK(any.answer == in.answer);  // records keep class IN
            CHECK(any.authority == in.authority);
            CHECK(any.additional == in.additional);
            CHECK(any.question.at(0).find(" ANY ") != std::string::npos);  // echoed as sent
        }
    }
    CHECK(q("www.example.org", rt::A, {.qclass = kAnyClass}).rcode == 5);
    CHECK(q("id.server", rt::TXT, {.qclass = kAnyClass}).rcode == 5);
    for (uint16_t cls : {2, 4, 254, 256}) {
        CAPTURE(cls);
        CHECK(q("www.example.com", rt::A, {.qclass = cls}).rcode == 5);
    }
}

TEST_CASE("meta types: OPT, TKEY, TSIG, MAILB and MAILA are looked up like any type, transfers are NOTIMP") {
    for (bool fast : {true, false}) {
        for (uint16_t t : {rt::OPT, uint16_t(249), uint16_t(250), uint16_t(253), uint16_t(254)}) {
            CAPTURE(t);
            for (uint16_t cls : {uint16_t(1), kAnyClass}) {
                auto nodata = ask_with(&kIdentity, "www.example.com", t, {.qclass = cls}, false, fast);
                REQUIRE(nodata.ok);
                CHECK(nodata.rcode == 0);
                CHECK(nodata.aa);
                CHECK(nodata.answer.empty());
                CHECK(nodata.authority == Strings{kSoa});
                auto nx = ask_with(&kIdentity, "nope.example.com", t, {.qclass = cls}, false, fast);
                CHECK(nx.rcode == 3);
                CHECK(nx.authority == Strings{kSoa});
            }
            auto cname = ask_with(&kIdentity, "alias.example.com", t, {}, false, fast);
            CHECK(cname.answer.at(0) == "alias.example.com. 300 IN CNAME mail.example.com.");
            auto referral = ask_with(&kIdentity, "x.sub.example.com", t, {}, false, fast);
            CHECK_FALSE(referral.aa);
            CHECK(referral.authority == Strings{"sub.example.com. 3600 IN NS ns.sub.example.com."});
            CHECK(ask_with(&kIdentity, "www.example.org", t, {}, false, fast).rcode == 5);
        }
    }
    // Reached only when the transfer hook did not answer (AXFR over UDP; no transfers set up).
    for (uint16_t t : {rt::AXFR, rt::IXFR}) {
        for (bool tcp : {false, true}) {
            CHECK(q("example.com", t, {}, tcp).rcode == 4);
            CHECK(q("www.example.org", t, {}, tcp).rcode == 4);
            CHECK(q("example.com", t, {.qclass = kAnyClass}, tcp).rcode == 4);
        }
    }
}
