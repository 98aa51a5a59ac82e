// Weighted policy: one variant per pool that is up, picked per query by weight.
#include <cmath>
#include <map>

#include "policy/random.hpp"
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;

namespace {
World three_weighted() {
    World w;
    w.pool("eu", {"192.0.2.1", "2001:db8::1"}, 1, 1)
        .pool("us", {"198.51.100.1", "198.51.100.2"}, 1, 3)
        .pool("ap", {"203.0.113.1"}, 1, 6);
    w.service(zones::PolicyKind::Weighted);
    return w;
}
}  // namespace

TEST_CASE("weighted: one variant per pool that is up, with the pool's weight") {
    World w = three_weighted();
    auto ev = w.eval();
    CHECK(ev.decision.label == "weighted");
    CHECK(ev.decision.reason == "pools up: eu (1), us (3), ap (6)");
    CHECK(ev.decision.active_pool == -1);
    REQUIRE(ev.decision.variants.size() == 3);
    CHECK(ev.decision.variants[0].weight == 1);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"192.0.2.1"});
    CHECK(texts(ev.decision.variants[0].v6) == Strings{"2001:db8::1"});
    CHECK(ev.decision.variants[1].weight == 3);
    CHECK(texts(ev.decision.variants[1].v4) == Strings{"198.51.100.1", "198.51.100.2"});
    CHECK(ev.decision.variants[2].weight == 6);
}

TEST_CASE("weighted: pools that are down get no variant, their healthy endpoints only otherwise") {
    World w = three_weighted();
    w.down("ap", 0, "HTTP 503").down("us", 1, "HTTP 500");
    auto ev = w.eval();
    CHECK(ev.decision.label == "weighted");
    CHECK(ev.decision.reason == "pools up: eu (1), us (3); endpoint 203.0.113.1 down: HTTP 503");
    REQUIRE(ev.decision.variants.size() == 2);
    CHECK(texts(ev.decision.variants[1].v4) == Strings{"198.51.100.1"});
}

TEST_CASE("weighted: every pool down follows all_down") {
    World w = three_weighted();
    w.down("eu", 0).down("eu", 1).down("us", 0).down("us", 1).down("ap", 0);
    auto ev = w.eval();
    CHECK(ev.decision.label == "all-down");
    CHECK(ev.decision.all_down);
    REQUIRE(ev.decision.variants.size() == 1);
    CHECK(ev.decision.variants[0].v4.size() == 4);
}

TEST_CASE("weighted: picking variants by weight spreads 10,000 queries within statistical bounds") {
    World w = three_weighted();
    auto ev = w.eval();
    policy::SplitMix64 rng(42);
    constexpr int kDraws = 10000;
    std::map<std::size_t, int> count;
    auto cumulative = policy::cumulative_weights(ev.decision);
    for (int i = 0; i < kDraws; ++i) ++count[policy::pick_variant(cumulative, rng.next())];
    CHECK(count.size() == 3);
    // Binomial: expect n*p, allow 5 standard deviations.
    const double p[] = {0.1, 0.3, 0.6};
    for (std::size_t i = 0; i < 3; ++i) {
        double mean = kDraws * p[i];
        double sd = std::sqrt(kDraws * p[i] * (1 - p[i]));
        CAPTURE(i);
        CAPTURE(count[i]);
        CHECK(std::abs(count[i] - mean) < 5 * sd);
    }
}

TEST_CASE("pick_variant: empty decisions and single variants") {
    policy::Decision d;
    CHECK(policy::pick_variant(policy::cumulative_weights(d), 12345) == 0);  // == variants.size(): NODATA
    d.variants.resize(1);
    CHECK(policy::pick_variant(policy::cumulative_weights(d), 12345) == 0);
}
