// resolve/message: the query builder and the reply reader on crafted packets,
// including broken ones (truncated, compression loops): an error, never a crash.
#include "resolve/message.hpp"

#include <doctest/doctest.h>

#include "dns_packets.hpp"

using namespace signpost;
using namespace signpost::resolve;
namespace t = signpost::resolve::test;

namespace {
core::IpAddress ip(const char* s) { return *core::IpAddress::parse(s); }
}  // namespace

TEST_CASE("build_query: one question with RD and an EDNS0 OPT record") {
    auto q = wire::build_query(0xBEEF, "EU.lb.test.", wire::kTypeAaaa);
    REQUIRE(q.size() == 12 + 12 + 4 + 11);
    CHECK(q[0] == 0xBE);
    CHECK(q[1] == 0xEF);
    CHECK(q[2] == 0x01);  // RD
    CHECK(q[5] == 1);     // QDCOUNT
    CHECK(q[11] == 1);    // ARCOUNT (OPT)
    t::Question parsed;
    REQUIRE(t::decode_question(q.data(), q.size(), parsed));
    CHECK(parsed.id == 0xBEEF);
    CHECK(parsed.name == "EU.lb.test");
    CHECK(parsed.type == 28);
    CHECK(q[q.size() - 11] == 0);   // OPT owner: the root
    CHECK(q[q.size() - 9] == 41);   // type OPT
    CHECK((q[q.size() - 8] << 8 | q[q.size() - 7]) == 1232);
}

TEST_CASE("build_query: names that are not DNS names give nothing") {
    CHECK(wire::build_query(1, "", wire::kTypeA).empty());
    CHECK(wire::build_query(1, ".", wire::kTypeA).empty());
    CHECK(wire::build_query(1, "a..test", wire::kTypeA).empty());
    CHECK(wire::build_query(1, ".test", wire::kTypeA).empty());
    CHECK(wire::build_query(1, std::string(64, 'a') + ".test", wire::kTypeA).empty());
    CHECK_FALSE(wire::build_query(1, std::string(63, 'a') + ".test", wire::kTypeA).empty());
    std::string long_name;
    for (int i = 0; i < 5; ++i) long_name += std::string(60, 'b') + ".";
    CHECK(wire::build_query(1, long_name + "test", wire::kTypeA).empty());  // over 255 bytes
}

TEST_CASE("parse: a reply with a CNAME chain, read and followed") {
    t::Reply r{0x1234, "WWW.site.test", 1, 0, false,
               {t::cname("www.site.test", "eu.lb.test", 300), t::cname("eu.lb.test", "eu-1.lb.test", 120),
                t::a("eu-1.lb.test", "127.0.0.10", 60), t::a("eu-1.lb.test", "127.0.0.11", 30),
                t::a("other.test", "127.0.0.99", 1)},
               {}};
    auto bytes = t::encode(r);
    std::string why;
    auto m = wire::parse(bytes, &why);
    REQUIRE(m);
    CHECK(m->error.empty());
    CHECK(m->qr);
    CHECK(m->qname == "www.site.test");
    CHECK(wire::answers_query(*m, 0x1234, "www.site.test", wire::kTypeA));
    CHECK(wire::answers_query(*m, 0x1234, "www.SITE.test.", wire::kTypeA));
    CHECK_FALSE(wire::answers_query(*m, 0x1235, "www.site.test", wire::kTypeA));  // wrong ID
    CHECK_FALSE(wire::answers_query(*m, 0x1234, "www.site.test", wire::kTypeAaaa));
    CHECK_FALSE(wire::answers_query(*m, 0x1234, "ww.site.test", wire::kTypeA));
    REQUIRE(m->answers.size() == 5);
    CHECK(m->answers[0].target == "eu.lb.test");

    auto c = wire::follow(*m, "www.site.test", wire::kTypeA);
    CHECK(c.error.empty());
    CHECK(c.end == "eu-1.lb.test");
    CHECK(c.cnames == 2);
    CHECK(c.addresses == std::vector{ip("127.0.0.10"), ip("127.0.0.11")});
    CHECK(c.cname_ttl == 120);
    CHECK(c.ttl == 30);

    auto six = wire::follow(*m, "www.site.test", wire::kTypeAaaa);  // the chain ends without AAAA
    CHECK(six.addresses.empty());
    CHECK(six.end == "eu-1.lb.test");
    CHECK(six.ttl == 120);
}

TEST_CASE("parse: a CNAME to another zone ends the chain at the target") {
    auto bytes = t::encode({7, "www.site.test", 1, 0, false, {t::cname("www.site.test", "eu.lb.test", 300)}, {}});
    auto m = wire::parse(bytes);
    REQUIRE(m);
    auto c = wire::follow(*m, "www.site.test", wire::kTypeA);
    CHECK(c.addresses.empty());
    CHECK(c.end == "eu.lb.test");
    CHECK(c.cname_ttl == 300);
}

TEST_CASE("parse: a CNAME loop in the answer is an error") {
    auto bytes = t::encode({7, "a.test", 1, 0, false, {t::cname("a.test", "b.test"), t::cname("b.test", "a.test")}, {}});
    auto m = wire::parse(bytes);
    REQUIRE(m);
    CHECK(wire::follow(*m, "a.test", wire::kTypeA).error == "CNAME loop at a.test");
}

TEST_CASE("parse: NXDOMAIN with the SOA gives the negative TTL") {
    auto bytes = t::encode({7, "nx.lb.test", 1, 3, false, {}, {t::soa("lb.test", 600, 30)}});
    auto m = wire::parse(bytes);
    REQUIRE(m);
    CHECK(m->rcode == wire::kNxDomain);
    CHECK(wire::negative_ttl(*m) == 30);
    bytes = t::encode({7, "nx.lb.test", 1, 3, false, {}, {t::soa("lb.test", 10, 300)}});
    CHECK(wire::negative_ttl(*wire::parse(bytes)) == 10);
    bytes = t::encode({7, "nx.lb.test", 1, 3, false, {}, {}});
    CHECK(wire::negative_ttl(*wire::parse(bytes)) == 0);
    CHECK(wire::rcode_name(3) == "NXDOMAIN");
    CHECK(wire::rcode_name(2) == "SERVFAIL");
    CHECK(wire::rcode_name(11) == "RCODE 11");
}

TEST_CASE("parse: a truncated reply (TC) is read up to the question only") {
    auto bytes = t::encode({7, "big.lb.test", 1, 0, true, {t::a("big.lb.test", "127.0.0.1")}, {}});
    bytes.resize(bytes.size() - 3);  // cut in the middle of the record
    auto m = wire::parse(bytes);
    REQUIRE(m);
    CHECK(m->tc);
    CHECK(m->error.empty());
    CHECK(m->answers.empty());
}

TEST_CASE("parse: compressed names are followed, a TTL with the top bit set reads as 0") {
    auto bytes = t::encode({9, "eu.lb.test", 1, 0, false, {}, {}});
    // answer: owner = pointer to the question name (offset 12), A 127.0.0.10, TTL 0x80000001
    for (uint8_t b : {0xC0, 12, 0, 1, 0, 1, 0x80, 0, 0, 1, 0, 4, 127, 0, 0, 10}) bytes.push_back(b);
    bytes[7] = 1;  // ANCOUNT
    auto m = wire::parse(bytes);
    REQUIRE(m);
    CHECK(m->error.empty());
    REQUIRE(m->answers.size() == 1);
    CHECK(m->answers[0].owner == "eu.lb.test");
    CHECK(m->answers[0].ttl == 0);
    CHECK(m->answers[0].address == ip("127.0.0.10"));
}

TEST_CASE("parse: broken messages are errors, not crashes") {
    auto good = t::encode({9, "eu.lb.test", 1, 0, false, {t::a("eu.lb.test", "127.0.0.10")}, {}});
    std::string why;

    SUBCASE("shorter than a header") {
        CHECK_FALSE(wire::parse(std::span(good.data(), 11), &why));
        CHECK(why == "truncated message");
    }
    SUBCASE("every cut of a good reply") {
        for (std::size_t n = 0; n < good.size(); ++n) {
            auto m = wire::parse(std::span(good.data(), n), &why);
            CHECK((!m || !m->error.empty()));
        }
    }
    SUBCASE("a compression pointer to itself") {
        auto bytes = good;
        bytes[12] = 0xC0;
        bytes[13] = 12;
        CHECK_FALSE(wire::parse(bytes, &why));
        CHECK(why == "bad compression pointer");
    }
    SUBCASE("two pointers pointing at each other") {
        std::vector<uint8_t> bytes = {0, 9, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0,
                                      0xC0, 14, 0xC0, 12, 0, 1, 0, 1};
        CHECK_FALSE(wire::parse(bytes, &why));
        CHECK(why == "bad compression pointer");
        // in the answer: the header and question parse, the record does not
        auto a = good;
        std::size_t owner = 12 + t::encode_name("eu.lb.test").size() + 4;
        a[owner] = 0xC0;
        a[owner + 1] = uint8_t(owner);
        auto m = wire::parse(a, &why);
        REQUIRE(m);
        CHECK(m->error == "malformed reply: bad compression pointer");
    }
    SUBCASE("an A record of 5 bytes") {
        auto bytes = good;
        bytes[bytes.size() - 5] = 5;  // rdlength
        bytes.push_back(1);
        auto m = wire::parse(bytes, &why);
        REQUIRE(m);
        CHECK(m->error == "malformed reply: A record of 5 bytes");
    }
    SUBCASE("a reserved label type") {
        auto bytes = good;
        bytes[12] = 0x80;
        CHECK_FALSE(wire::parse(bytes, &why));
        CHECK(why == "bad label type");
    }
    SUBCASE("two questions") {
        auto bytes = good;
        bytes[5] = 2;
        CHECK_FALSE(wire::parse(bytes, &why));
        CHECK(why == "a reply with 2 questions");
    }
    SUBCASE("more records announced than sent") {
        auto bytes = good;
        bytes[7] = 3;
        auto m = wire::parse(bytes, &why);
        REQUIRE(m);
        CHECK(m->error == "malformed reply: truncated name");
    }
}

TEST_CASE("parse: names with odd bytes are escaped, not confused with dots") {
    std::vector<uint8_t> name = {3, 'a', '.', 'b', 4, 't', 'e', 's', 't', 0};
    auto bytes = t::encode({9, "x", 1, 0, false, {}, {}});
    bytes.resize(12);
    bytes.insert(bytes.end(), name.begin(), name.end());
    for (uint8_t b : {0, 1, 0, 1}) bytes.push_back(b);
    auto m = wire::parse(bytes);
    REQUIRE(m);
    CHECK(m->qname == "a\\046b.test");
    CHECK_FALSE(wire::answers_query(*m, 9, "a.b.test", wire::kTypeA));
}
