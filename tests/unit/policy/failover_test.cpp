// Failover policy: pool choice, min_healthy, all-down modes, labels and reasons.
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;
using zones::AllDown;

namespace {
World two_regions() {
    World w;
    w.pool("primary", {"127.0.0.10"}).pool("secondary", {"127.0.0.11"});
    return w;
}
}  // namespace

TEST_CASE("failover: answers the first pool while it is up") {
    World w = two_regions();
    auto ev = w.eval();
    CHECK(ev.decision.label == "primary");
    CHECK(ev.decision.reason == "pool primary up");
    CHECK(ev.decision.active_pool == 0);
    CHECK_FALSE(ev.decision.all_down);
    REQUIRE(ev.decision.variants.size() == 1);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"127.0.0.10"});
    CHECK(ev.decision.variants[0].v6.empty());
    CHECK(ev.subnets.empty());
}

TEST_CASE("failover: falls back to the second pool when the first is down") {
    World w = two_regions();
    w.settled();
    w.down("primary", 0, "HTTP 503");
    auto ev = w.after(1s);
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.decision.reason == "endpoint 127.0.0.10 down: HTTP 503");
    CHECK(ev.decision.active_pool == 1);
    CHECK(ev.changed);
    REQUIRE(ev.decision.variants.size() == 1);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"127.0.0.11"});
}

TEST_CASE("failover: skips every pool that is down, in order") {
    World w;
    w.pool("eu", {"192.0.2.1"}).pool("us", {"198.51.100.1"}).pool("ap", {"203.0.113.1"});
    w.down("eu", 0, "HTTP 503").down("us", 0, "timeout after 1000 ms");
    auto ev = w.eval();
    CHECK(ev.decision.label == "failover:ap");
    CHECK(ev.decision.reason == "endpoint 192.0.2.1 down: HTTP 503; endpoint 198.51.100.1 down: timeout after 1000 ms");
    CHECK(texts(ev.decision.variants.at(0).v4) == Strings{"203.0.113.1"});
}

TEST_CASE("failover: a pool is up only with min_healthy healthy endpoints") {
    World w;
    w.pool("primary", {"192.0.2.1", "192.0.2.2", "192.0.2.3"}, 2).pool("secondary", {"198.51.100.1"});

    SUBCASE("two of three up, two needed: the primary answers its healthy endpoints") {
        w.down("primary", 1, "connection refused");
        auto ev = w.eval();
        CHECK(ev.decision.label == "primary");
        CHECK(ev.decision.reason == "pool primary up; endpoint 192.0.2.2 down: connection refused");
        CHECK(texts(ev.decision.variants.at(0).v4) == Strings{"192.0.2.1", "192.0.2.3"});
    }
    SUBCASE("one of three up, two needed: the secondary answers") {
        w.down("primary", 0, "HTTP 503").down("primary", 2, "timeout after 1000 ms");
        auto ev = w.eval();
        CHECK(ev.decision.label == "failover:secondary");
        CHECK(ev.decision.reason ==
              "endpoint 192.0.2.1 down: HTTP 503; endpoint 192.0.2.3 down: timeout after 1000 ms; "
              "pool primary has 1 healthy endpoint, needs 2");
        CHECK(texts(ev.decision.variants.at(0).v4) == Strings{"198.51.100.1"});
    }
}

TEST_CASE("failover: when every pool is down the answer follows all_down") {
    World w;
    w.pool("primary", {"192.0.2.1", "2001:db8::1"}).pool("secondary", {"198.51.100.1", "2001:db8:1::1"});
    w.down("primary", 0, "HTTP 503").down("primary", 1, "HTTP 503");
    w.down("secondary", 0, "timeout after 1000 ms").down("secondary", 1, "timeout after 1000 ms");
    const std::string why =
        "endpoint 192.0.2.1 down: HTTP 503; endpoint 2001:db8::1 down: HTTP 503; "
        "endpoint 198.51.100.1 down: timeout after 1000 ms; endpoint 2001:db8:1::1 down: timeout after 1000 ms";

    SUBCASE("all (the default): every address of every pool") {
        CHECK(w.service().all_down == AllDown::All);
        auto ev = w.eval();
        REQUIRE(ev.decision.variants.size() == 1);
        CHECK(texts(ev.decision.variants[0].v4) == Strings{"192.0.2.1", "198.51.100.1"});
        CHECK(texts(ev.decision.variants[0].v6) == Strings{"2001:db8::1", "2001:db8:1::1"});
        CHECK(ev.decision.reason == "all pools down, answering every address: " + why);
    }
    SUBCASE("primary: the first pool's addresses") {
        w.service().all_down = AllDown::Primary;
        auto ev = w.eval();
        REQUIRE(ev.decision.variants.size() == 1);
        CHECK(texts(ev.decision.variants[0].v4) == Strings{"192.0.2.1"});
        CHECK(texts(ev.decision.variants[0].v6) == Strings{"2001:db8::1"});
        CHECK(ev.decision.reason == "all pools down, answering pool primary: " + why);
    }
    SUBCASE("nothing: no variants, so NODATA") {
        w.service().all_down = AllDown::Nothing;
        auto ev = w.eval();
        CHECK(ev.decision.variants.empty());
        CHECK(ev.decision.reason == "all pools down, answering nothing: " + why);
    }
    auto ev = w.eval();
    CHECK(ev.decision.label == "all-down");
    CHECK(ev.decision.all_down);
    CHECK(ev.decision.active_pool == -1);
    CHECK(ev.state.active_pool == -1);
    CHECK(ev.decision.unstable);  // recovery must reach resolvers quickly
    CHECK(ev.decision.ttl == 5);
}

TEST_CASE("failover: a pool whose endpoints are all up but whose min_healthy is not reached is down") {
    World w;
    w.pool("primary", {"192.0.2.1"}, 2).pool("secondary", {"198.51.100.1"});
    auto ev = w.eval();
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.decision.reason == "pool primary has 1 healthy endpoint, needs 2");
}

TEST_CASE("failover: leaves a pool as soon as it goes down, whatever the failback rule") {
    World w;
    w.pool("primary", {"192.0.2.1"}).pool("secondary", {"198.51.100.1"}).pool("tertiary", {"203.0.113.1"});
    SUBCASE("auto") { w.service().failback = zones::Failback::Auto; }
    SUBCASE("hold-down") {
        w.service().failback = zones::Failback::HoldDown;
        w.service().hold_down = 5min;
    }
    SUBCASE("gated") {
        w.service().failback = zones::Failback::Gated;
        w.service().failback_gate = "primary/192.0.2.1";
    }
    SUBCASE("manual") { w.service().failback = zones::Failback::Manual; }
    CHECK(w.settled().decision.label == "primary");
    w.down("primary");
    CHECK(w.after(1s).decision.label == "failover:secondary");
    w.down("secondary");
    CHECK(w.after(1s).decision.label == "failover:tertiary");
}

TEST_CASE("failover: the first evaluation takes the best pool that is up directly") {
    World w = two_regions();
    SUBCASE("hold-down") {
        w.service().failback = zones::Failback::HoldDown;
        w.service().hold_down = 5min;
        w.up("primary");
        w.at("primary").since = w.now;  // just came up: no hold-down at start
    }
    SUBCASE("manual") { w.service().failback = zones::Failback::Manual; }
    SUBCASE("gated, gate down") {
        w.pool("gate", {"127.0.0.20"});
        w.service().failback = zones::Failback::Gated;
        w.service().failback_gate = "gate/127.0.0.20";
        w.down("gate");
    }
    CHECK(w.state.active_pool == -1);
    CHECK(w.state.label.empty());
    auto ev = w.eval();
    CHECK(ev.decision.label == "primary");
    CHECK(ev.changed);
    CHECK(ev.state.since == w.now);
}

TEST_CASE("failover: a pool without endpoints in the health table counts as up but unconfirmed") {
    World w = two_regions();
    w.health.clear();
    auto ev = w.eval();
    CHECK(ev.decision.label == "primary");
    CHECK(ev.decision.unstable);
}
