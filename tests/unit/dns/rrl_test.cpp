// Response rate limiting: the per-prefix balance, slip, window, allow list,
// prefix grouping and the slipped (truncated) response.
#include <doctest/doctest.h>

#include <vector>

#include "dns/rrl.hpp"

using namespace signpost;
using dns::RrlAction;

namespace {

core::IpAddress ip(const char* text) { return *core::IpAddress::parse(text); }

dns::RrlOptions opts(uint32_t rate, uint32_t slip) {
    dns::RrlOptions o;
    o.rate = rate;
    o.slip = slip;
    o.allow.clear();
    o.table_size = 256;
    return o;
}

struct Tally {
    int send = 0, drop = 0, slip = 0;
};

Tally burst(dns::RateLimiter& rl, const char* addr, int n, uint64_t now) {
    Tally t;
    for (int i = 0; i < n; ++i) {
        switch (rl.check(ip(addr), {}, now)) {
            case RrlAction::send: ++t.send; break;
            case RrlAction::drop: ++t.drop; break;
            case RrlAction::slip: ++t.slip; break;
        }
    }
    return t;
}

}  // namespace

TEST_CASE("rrl: a prefix gets `rate` responses per second, then every second limited one slips") {
    dns::RateLimiter rl(opts(10, 2), 1);
    auto t = burst(rl, "192.0.2.1", 30, 1000);
    CHECK(t.send == 10);
    CHECK(t.slip == 10);
    CHECK(t.drop == 10);
}

TEST_CASE("rrl: slip 0 drops every limited response and slip 1 truncates every one") {
    SUBCASE("slip 0") {
        dns::RateLimiter rl(opts(5, 0), 1);
        auto t = burst(rl, "192.0.2.1", 20, 1000);
        CHECK(t.send == 5);
        CHECK(t.slip == 0);
        CHECK(t.drop == 15);
    }
    SUBCASE("slip 1") {
        dns::RateLimiter rl(opts(5, 1), 1);
        auto t = burst(rl, "192.0.2.1", 20, 1000);
        CHECK(t.send == 5);
        CHECK(t.slip == 15);
        CHECK(t.drop == 0);
    }
}

TEST_CASE("rrl: credit comes back with time at `rate` per second") {
    auto o = opts(10, 0);
    o.window = 1;
    dns::RateLimiter rl(o, 1);
    CHECK(burst(rl, "192.0.2.1", 10, 1000).send == 10);
    CHECK(burst(rl, "192.0.2.1", 1, 1000).send == 0);
    // Debt is capped at window * rate (10 responses): after 2 s the prefix has a full second again.
    CHECK(burst(rl, "192.0.2.1", 100, 1000).send == 0);
    CHECK(burst(rl, "192.0.2.1", 20, 3000).send == 10);
}

TEST_CASE("rrl: clients in one /24 share a balance, other prefixes are independent") {
    dns::RateLimiter rl(opts(10, 0), 1);
    CHECK(burst(rl, "192.0.2.1", 10, 1000).send == 10);
    CHECK(burst(rl, "192.0.2.200", 5, 1000).send == 0);
    CHECK(burst(rl, "198.51.100.7", 10, 1000).send == 10);
    CHECK(burst(rl, "2001:db8:0:1::1", 10, 1000).send == 10);
    CHECK(burst(rl, "2001:db8:0:1:ffff::2", 5, 1000).send == 0);   // same /56
    CHECK(burst(rl, "2001:db8:0:100::1", 10, 1000).send == 10);   // another /56
}

TEST_CASE("rrl: the prefix lengths are configurable") {
    auto o = opts(10, 0);
    o.ipv4_prefix = 32;
    dns::RateLimiter rl(o, 1);
    CHECK(burst(rl, "192.0.2.1", 10, 1000).send == 10);
    CHECK(burst(rl, "192.0.2.2", 10, 1000).send == 10);
}

TEST_CASE("rrl: allow-listed prefixes are never limited and loopback is allowed by default") {
    auto o = opts(1, 0);
    o.allow = {*core::IpPrefix::parse("203.0.113.0/24")};
    dns::RateLimiter rl(o, 1);
    CHECK(burst(rl, "203.0.113.9", 1000, 1000).send == 1000);
    CHECK(burst(rl, "192.0.2.1", 10, 1000).send == 1);

    dns::RrlOptions defaults;
    CHECK(defaults.enabled);
    CHECK(defaults.rate == 100);
    CHECK(defaults.slip == 2);
    dns::RateLimiter rl2(defaults, 1);
    CHECK(burst(rl2, "127.0.0.1", 1000, 1000).send == 1000);
    CHECK(burst(rl2, "::1", 1000, 1000).send == 1000);
}

TEST_CASE("rrl: a full table replaces old entries and never allocates or fails") {
    auto o = opts(2, 0);
    dns::RateLimiter rl(o, 7);
    CHECK(rl.capacity() == 256);
    // Far more prefixes than entries: each new one starts with full credit.
    int sent = 0;
    for (unsigned i = 0; i < 5000; ++i) {
        core::IpAddress a;
        a.bytes = {uint8_t(10 + i / 65536), uint8_t(i / 256), uint8_t(i), 1};
        if (rl.check(a, {}, 1000 + i) == RrlAction::send) ++sent;
    }
    CHECK(sent == 5000);
    // A prefix seen recently stays limited while it floods.
    CHECK(burst(rl, "192.0.2.1", 50, 9000).send == 2);
}

TEST_CASE("rrl: a slipped response keeps header and question, sets TC and drops the records") {
    // id 0x1234, QR AA, QD=1 AN=1 NS=0 AR=1, www.example.com A IN, one answer, an OPT.
    std::vector<uint8_t> msg = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 1,
                                3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
                                0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1,
                                0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
    std::size_t len = dns::make_slip_response(msg, msg.size());
    CHECK(len == 12 + 17 + 4);
    CHECK(msg[0] == 0x12);
    CHECK((msg[2] & 0x02) != 0);  // TC
    CHECK((msg[2] & 0x80) != 0);  // still a response
    CHECK(msg[5] == 1);
    CHECK(msg[7] == 0);
    CHECK(msg[11] == 0);

    SUBCASE("a question that runs past the end leaves only the header") {
        std::vector<uint8_t> bad = {0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 60, 'a'};
        CHECK(dns::make_slip_response(bad, bad.size()) == 12);
        CHECK(bad[5] == 0);
    }
    SUBCASE("fewer than 12 bytes: nothing to send") {
        std::vector<uint8_t> tiny = {0, 1, 2};
        CHECK(dns::make_slip_response(tiny, tiny.size()) == 0);
    }
}
