// Multivalue policy: up to max_addresses healthy addresses, as the rotations of a
// seeded shuffle (tests/unit/dns/distribution_test.cpp counts the answers).
#include <algorithm>
#include <map>
#include <set>

#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;

namespace {
World many(uint32_t max_addresses) {
    World w;
    w.pool("eu", {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "2001:db8::1", "2001:db8::2"})
        .pool("us", {"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"});
    w.service(zones::PolicyKind::Multivalue).max_addresses = max_addresses;
    return w;
}
std::vector<Strings> lists(const policy::Decision& d) {
    std::vector<Strings> out;
    for (auto& v : d.variants) out.push_back(texts(v.v4));
    return out;
}
}  // namespace

TEST_CASE("multivalue: at most max_addresses per family, only healthy ones, no duplicates") {
    World w = many(3);
    w.down("eu", 0, "HTTP 503").down("us", 3, "timeout after 1000 ms");
    auto ev = w.eval();
    CHECK(ev.decision.label == "multivalue");
    CHECK(ev.decision.reason ==
          "pools up: eu, us");
    REQUIRE(ev.decision.variants.size() == 6);  // a multiple of 6 IPv4 and 2 IPv6 addresses
    const std::set<std::string> healthy{"192.0.2.2", "192.0.2.3", "192.0.2.4", "198.51.100.1", "198.51.100.2",
                                        "198.51.100.3"};
    for (auto& v : ev.decision.variants) {
        auto v4 = texts(v.v4);
        CHECK(v4.size() == 3);
        CHECK(std::set<std::string>(v4.begin(), v4.end()).size() == v4.size());
        for (auto& a : v4) CHECK(healthy.count(a) == 1);
        CHECK(v.v6.size() == 2);
        CHECK(v.weight == 1);
    }
}

TEST_CASE("multivalue: fewer healthy addresses than max_addresses gives all of them in varying order") {
    World w = many(8);
    auto ev = w.eval();
    std::set<Strings> orders;
    for (auto& v : ev.decision.variants) {
        auto v4 = texts(v.v4);
        CHECK(v4.size() == 8);
        orders.insert(v4);
    }
    CHECK(orders.size() == 8);
}

TEST_CASE("multivalue: the variants are the rotations of one shuffle, each address first once") {
    World w = many(8);
    auto ev = w.eval();
    auto& vs = ev.decision.variants;
    REQUIRE(vs.size() == 8);  // 8 IPv4 addresses, 2 IPv6
    std::map<std::string, int> first4, first6;
    for (std::size_t i = 0; i < vs.size(); ++i) {
        CAPTURE(i);
        first4[vs[i].v4.at(0).to_string()]++;
        first6[vs[i].v6.at(0).to_string()]++;
        // The same cyclic order in every variant: variant i is variant 0 rotated.
        auto rotated = texts(vs[0].v4);
        std::rotate(rotated.begin(), rotated.begin() + long(i), rotated.end());
        CHECK(texts(vs[i].v4) == rotated);
    }
    CHECK(first4.size() == 8);
    for (auto& [a, n] : first4) CHECK(n == 1);
    CHECK(first6 == std::map<std::string, int>{{"2001:db8::1", 4}, {"2001:db8::2", 4}});
}

TEST_CASE("multivalue: families of different sizes get a common multiple of variants") {
    World w;
    w.pool("eu", {"192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4"});
    w.service(zones::PolicyKind::Multivalue).max_addresses = 2;
    auto ev = w.eval();
    auto& vs = ev.decision.variants;
    REQUIRE(vs.size() == 12);
    std::map<std::string, int> first4, first6, in4;
    for (auto& v : vs) {
        REQUIRE(v.v4.size() == 2);
        REQUIRE(v.v6.size() == 2);
        first4[v.v4[0].to_string()]++;
        first6[v.v6[0].to_string()]++;
        for (auto& a : v.v4) in4[a.to_string()]++;
    }
    for (auto& [a, n] : first4) CHECK(n == 4);
    for (auto& [a, n] : first6) CHECK(n == 3);
    for (auto& [a, n] : in4) CHECK(n == 8);  // in 2 of every 3 answers
    CHECK(first4.size() == 3);
    CHECK(first6.size() == 4);
}

TEST_CASE("multivalue: the variant count is bounded, many addresses still take turns first") {
    World w;
    std::vector<std::string> addrs;
    for (int i = 1; i <= 200; ++i) addrs.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    w.pool("eu", addrs);
    w.service(zones::PolicyKind::Multivalue).max_addresses = 8;
    auto ev = w.eval();
    auto& vs = ev.decision.variants;
    CHECK(vs.size() == 64);
    std::set<std::string> firsts;
    for (auto& v : vs) {
        CHECK(v.v4.size() == 8);
        firsts.insert(v.v4.at(0).to_string());
    }
    CHECK(firsts.size() == 64);  // evenly spaced starts, all different
}

TEST_CASE("multivalue: shuffles are deterministic for a seed and differ across seeds") {
    World w = many(3);
    w.seed = 1;
    auto a = lists(w.eval().decision);
    auto again = lists(w.eval().decision);
    w.seed = 2;
    auto b = lists(w.eval().decision);
    CHECK(a == again);
    CHECK(a != b);
    std::set<Strings> distinct(a.begin(), a.end());
    CHECK(distinct.size() == a.size());  // the variants of one evaluation differ from each other
}

TEST_CASE("multivalue: the orders change when the healthy set does, not on every evaluation") {
    World w = many(8);
    auto a = lists(w.eval().decision);
    CHECK(lists(w.after(std::chrono::seconds(5)).decision) == a);
    w.down("us", 1);
    auto b = lists(w.eval().decision);
    CHECK(b != a);
    CHECK(lists(w.after(std::chrono::seconds(5)).decision) == b);
}

TEST_CASE("multivalue: a single address gives a single variant") {
    World w;
    w.pool("eu", {"192.0.2.1"}).pool("us", {"198.51.100.1"});
    w.service(zones::PolicyKind::Multivalue);
    w.down("us");
    auto ev = w.eval();
    REQUIRE(ev.decision.variants.size() == 1);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"192.0.2.1"});
    CHECK(ev.decision.reason == "pools up: eu; endpoint 198.51.100.1 down: HTTP 503");
}

TEST_CASE("multivalue: every pool down follows all_down") {
    World w = many(3);
    w.service().all_down = zones::AllDown::Nothing;
    for (std::size_t i = 0; i < 6; ++i) w.down("eu", i);
    for (std::size_t i = 0; i < 4; ++i) w.down("us", i);
    auto ev = w.eval();
    CHECK(ev.decision.label == "all-down");
    CHECK(ev.decision.variants.empty());
}
