// Response rate limiting by response class: how answer_query classes an answer
// (AnswerMeta, on the fast path and in the general renderer alike) and how the
// limiter counts one prefix's classes apart.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dns/rrl.hpp"
#include "support.hpp"

using namespace dnstest;
using signpost::dns::ResponseClass;
using signpost::dns::RrlAction;

namespace {

namespace rt = signpost::zones::rrtype;

constexpr int kNames = 2000;

struct Views {
    std::shared_ptr<const signpost::zones::Catalog> catalog;
    std::shared_ptr<const signpost::dns::View> fast, slow;
    Views() {
        ZoneSpec z("example.com");
        z.ns("@", "ns1.example.com");
        z.a("ns1", "192.0.2.53");
        z.txt("*.wild", "wild");
        z.ns("sub", "ns.sub.example.com");
        z.a("ns.sub", "192.0.2.100");
        z.mx("mail", 10, "ns1.example.com");
        for (int i = 0; i < kNames; ++i) z.a("h" + std::to_string(i), "192.0.2.1");
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

signpost::core::IpAddress ip(const char* text) { return *signpost::core::IpAddress::parse(text); }

struct Classed {
    ResponseClass response = ResponseClass::error;
    std::string name;  // class_name's bytes
    std::size_t length = 0;
};

Classed classify(const signpost::dns::View& view, const std::string& qname, uint16_t qtype) {
    auto query = make_query(qname, qtype);
    std::vector<uint8_t> out(65535);
    signpost::dns::ClientInfo client;
    client.address = ip("192.0.2.53");
    signpost::dns::AnswerMeta meta;
    REQUIRE(signpost::dns::answer_query(view, query, client, out, &meta) > 0);
    Classed c;
    c.response = meta.response;
    if (meta.class_name) c.name.assign(reinterpret_cast<const char*>(meta.class_name), meta.class_name_len);
    c.length = meta.class_name_len;
    return c;
}

signpost::dns::RrlOptions opts(uint32_t rate, uint32_t slip) {
    signpost::dns::RrlOptions o;
    o.rate = rate;
    o.slip = slip;
    o.allow.clear();
    return o;
}

struct Tally {
    int send = 0, drop = 0, slip = 0;
    void add(RrlAction a) {
        switch (a) {
            case RrlAction::send: ++send; break;
            case RrlAction::drop: ++drop; break;
            case RrlAction::slip: ++slip; break;
        }
    }
};

// Answers `qname` for `client` from the fast View and accounts the answer.
RrlAction answer_and_check(signpost::dns::RateLimiter& rl, const std::string& qname, uint16_t qtype,
                           const char* client, uint64_t now_ms) {
    auto query = make_query(qname, qtype);
    std::vector<uint8_t> out(65535);
    signpost::dns::ClientInfo ci;
    ci.address = ip(client);
    signpost::dns::AnswerMeta meta;
    REQUIRE(signpost::dns::answer_query(*views().fast, query, ci, out, &meta) > 0);
    return rl.check(ci.address, meta, now_ms);
}

}  // namespace

TEST_CASE("rrl classes: the fast path and the general renderer class every answer alike") {
    struct Row {
        const char* qname;
        uint16_t qtype;
        ResponseClass response;
        const char* name;  // the class's name, as text
    };
    const Row rows[] = {
        {"h7.example.com", rt::A, ResponseClass::answer, "h7.example.com"},
        {"www.example.com", rt::A, ResponseClass::answer, "www.example.com"},
        {"h7.example.com", rt::MX, ResponseClass::nodata, "h7.example.com"},
        {"no-such-name.example.com", rt::A, ResponseClass::nxdomain, "example.com"},
        {"a.b.no-such.example.com", rt::AAAA, ResponseClass::nxdomain, "example.com"},
        {"sub.example.com", rt::A, ResponseClass::referral, "sub.example.com"},
        {"deep.below.sub.example.com", rt::A, ResponseClass::referral, "sub.example.com"},
        {"anything.wild.example.com", rt::TXT, ResponseClass::answer, "*.wild.example.com"},
        {"x.y.wild.example.com", rt::A, ResponseClass::nodata, "*.wild.example.com"},
        {"example.com", rt::NS, ResponseClass::answer, "example.com"},
    };
    for (auto& row : rows) {
        for (auto* view : {views().fast.get(), views().slow.get()}) {
            CAPTURE(row.qname);
            CAPTURE(row.qtype);
            CAPTURE(view == views().fast.get());
            Classed c = classify(*view, row.qname, row.qtype);
            CHECK(to_string(c.response) == std::string(to_string(row.response)));
            CHECK(c.name == wire_name(row.name));
        }
    }
    SUBCASE("a name outside every zone is an error without a name") {
        Classed c = classify(*views().fast, "www.example.net", rt::A);
        CHECK(c.response == ResponseClass::error);
        CHECK(c.length == 0);
    }
    SUBCASE("the qname keeps the query's case; the limiter compares without it") {
        Classed c = classify(*views().fast, "H7.Example.COM", rt::A);
        CHECK(c.response == ResponseClass::answer);
        CHECK(c.name == std::string("\2H7\7Example\3COM", 16));
    }
}

TEST_CASE("rrl classes: many distinct names from one prefix are all sent") {
    signpost::dns::RateLimiter rl(opts(10, 2), 1);
    Tally t;
    // Every name once within the same millisecond, from clients of one /24, then
    // again a second later: far above `rate` for the prefix, once per name each.
    for (uint64_t now : {1000u, 2000u})
        for (int i = 0; i < kNames; ++i)
            t.add(answer_and_check(rl, "h" + std::to_string(i) + ".example.com", rt::A,
                                   i % 2 ? "192.0.2.1" : "192.0.2.200", now));
    CHECK(t.send == 2 * kNames);
    CHECK(t.drop == 0);
    CHECK(t.slip == 0);
}

TEST_CASE("rrl classes: identical queries are limited to rate with the slip ratio") {
    signpost::dns::RateLimiter rl(opts(10, 2), 1);
    Tally t;
    for (int i = 0; i < 30; ++i) t.add(answer_and_check(rl, "www.example.com", rt::A, "192.0.2.1", 1000));
    CHECK(t.send == 10);
    CHECK(t.slip == 10);
    CHECK(t.drop == 10);
    SUBCASE("the same name in another case is the same class") {
        CHECK(answer_and_check(rl, "WWW.EXAMPLE.com", rt::A, "192.0.2.9", 1000) != RrlAction::send);
    }
    SUBCASE("another type of the same name, another prefix and another name are not limited") {
        CHECK(answer_and_check(rl, "www.example.com", rt::AAAA, "192.0.2.1", 1000) == RrlAction::send);
        CHECK(answer_and_check(rl, "www.example.com", rt::A, "198.51.100.1", 1000) == RrlAction::send);
        CHECK(answer_and_check(rl, "h1.example.com", rt::A, "192.0.2.1", 1000) == RrlAction::send);
    }
    SUBCASE("a second later the class has paid off part of its debt only") {
        // 30 answers against 10/s: 20 in debt; one second refills 10, still below zero.
        CHECK(answer_and_check(rl, "www.example.com", rt::A, "192.0.2.1", 2000) != RrlAction::send);
    }
}

TEST_CASE("rrl classes: NXDOMAIN for random names from one prefix share one bucket") {
    signpost::dns::RateLimiter rl(opts(10, 2), 1);
    Tally t;
    for (int i = 0; i < 30; ++i) {
        // Random-looking labels and varying types: all one class (the zone's NXDOMAIN).
        std::string label = "r" + std::to_string(i * 7919 % 100003) + "x";
        t.add(answer_and_check(rl, label + ".example.com", i % 2 ? rt::A : rt::AAAA, "192.0.2.1", 1000));
    }
    CHECK(t.send == 10);
    CHECK(t.slip == 10);
    CHECK(t.drop == 10);
    SUBCASE("positive answers of the same prefix are counted apart") {
        CHECK(answer_and_check(rl, "www.example.com", rt::A, "192.0.2.1", 1000) == RrlAction::send);
    }
    SUBCASE("another prefix has its own NXDOMAIN class") {
        CHECK(answer_and_check(rl, "zzz.example.com", rt::A, "203.0.113.1", 1000) == RrlAction::send);
    }
}

TEST_CASE("rrl classes: wildcard answers share the wildcard's bucket") {
    signpost::dns::RateLimiter rl(opts(10, 2), 1);
    Tally t;
    for (int i = 0; i < 30; ++i)
        t.add(answer_and_check(rl, "name" + std::to_string(i) + ".wild.example.com", rt::TXT, "192.0.2.1", 1000));
    CHECK(t.send == 10);
    CHECK(t.slip == 10);
    CHECK(t.drop == 10);
    SUBCASE("the wildcard's NODATA is another class") {
        CHECK(answer_and_check(rl, "other.wild.example.com", rt::A, "192.0.2.1", 1000) == RrlAction::send);
    }
}

TEST_CASE("rrl classes: referrals for names below one cut share the cut's bucket") {
    signpost::dns::RateLimiter rl(opts(5, 0), 1);
    Tally t;
    for (int i = 0; i < 20; ++i)
        t.add(answer_and_check(rl, "n" + std::to_string(i) + ".sub.example.com", rt::A, "192.0.2.1", 1000));
    CHECK(t.send == 5);
    CHECK(t.drop == 15);
}

TEST_CASE("rrl classes: NODATA for varying types at one name is one class, answers are per type") {
    signpost::dns::RateLimiter rl(opts(3, 0), 1);
    Tally nodata;
    for (uint16_t type : {rt::MX, rt::TXT, rt::SRV, rt::CAA, rt::AAAA, uint16_t(65000)})
        nodata.add(answer_and_check(rl, "h5.example.com", type, "192.0.2.1", 1000));
    CHECK(nodata.send == 3);
    CHECK(nodata.drop == 3);
    CHECK(answer_and_check(rl, "mail.example.com", rt::MX, "192.0.2.1", 1000) == RrlAction::send);
}
