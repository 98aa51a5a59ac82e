// Multivalue policy: up to max_addresses healthy addresses, as seeded shuffles.
#include <algorithm>
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
    REQUIRE(ev.decision.variants.size() == 8);
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
    CHECK(orders.size() > 1);
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
    CHECK(distinct.size() > 1);  // the variants of one evaluation differ from each other
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
