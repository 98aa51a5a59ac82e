// Failback rules: when traffic returns to a better pool (auto, hold-down,
// gated, manual), driven through injected time.
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;
using zones::Failback;

namespace {
World failed_over(Failback f) {
    World w;
    w.pool("primary", {"127.0.0.10"}).pool("secondary", {"127.0.0.11"});
    w.service().failback = f;
    REQUIRE(w.settled().decision.label == "primary");
    w.down("primary", 0, "HTTP 503");
    REQUIRE(w.after(1s).decision.label == "failover:secondary");
    return w;
}
}  // namespace

TEST_CASE("failback: auto returns to the primary as soon as it is up") {
    World w = failed_over(Failback::Auto);
    CHECK(w.after(10s).decision.label == "failover:secondary");
    w.up("primary");
    auto ev = w.after(1s);
    CHECK(ev.decision.label == "primary");
    CHECK(ev.changed);
    CHECK(ev.decision.active_pool == 0);
}

TEST_CASE("failback: hold-down returns only after the primary has been up for hold_down") {
    World w = failed_over(Failback::HoldDown);
    w.service().hold_down = 30s;
    w.up("primary");
    auto ev = w.after(10s);
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.decision.reason == "pool primary up for 10s, hold-down 30s before leaving secondary");
    CHECK_FALSE(ev.changed);

    CHECK(w.after(19s).decision.label == "failover:secondary");  // 29 s
    ev = w.after(1s);                                             // 30 s
    CHECK(ev.decision.label == "primary");
    CHECK(ev.changed);
}

TEST_CASE("failback: hold-down never bounces traffic to a flapping primary") {
    World w = failed_over(Failback::HoldDown);
    w.service().hold_down = 30s;
    for (int i = 0; i < 20; ++i) {
        w.up("primary");
        CHECK(w.after(25s).decision.label == "failover:secondary");
        w.down("primary");
        CHECK(w.after(5s).decision.label == "failover:secondary");
    }
}

TEST_CASE("failback: hold-down does not count a primary that is suspect") {
    World w = failed_over(Failback::HoldDown);
    w.service().hold_down = 30s;
    w.up("primary");
    w.now += 40s;
    w.suspect("primary", 0, "timeout after 1000 ms");
    auto ev = w.eval();
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.decision.reason == "pool primary up but suspect, hold-down 30s before leaving secondary");
    w.at("primary").suspect = false;
    CHECK(w.after(1s).decision.label == "primary");
}

TEST_CASE("failback: hold-down measures the pool from its most recently recovered endpoint") {
    World w;
    w.pool("primary", {"192.0.2.1", "192.0.2.2"}, 2).pool("secondary", {"198.51.100.1"});
    w.service().failback = Failback::HoldDown;
    w.service().hold_down = 30s;
    w.settled();
    w.down("primary", 0).down("primary", 1);
    CHECK(w.after(1s).decision.label == "failover:secondary");
    w.up("primary", 0);
    w.now += 20s;
    w.up("primary", 1);
    CHECK(w.after(20s).decision.label == "failover:secondary");  // endpoint 0 up 40 s, endpoint 1 only 20 s
    CHECK(w.after(10s).decision.label == "primary");
}

TEST_CASE("failback: hold-down never keeps traffic on a pool that is down") {
    World w = failed_over(Failback::HoldDown);
    w.service().hold_down = 30s;
    w.up("primary");
    CHECK(w.after(5s).decision.label == "failover:secondary");
    w.down("secondary");
    CHECK(w.after(1s).decision.label == "primary");
}

TEST_CASE("failback: hold-down may take an intermediate pool that has been up long enough") {
    World w;
    w.pool("eu", {"192.0.2.1"}).pool("us", {"198.51.100.1"}).pool("ap", {"203.0.113.1"});
    w.service().failback = Failback::HoldDown;
    w.service().hold_down = 30s;
    w.settled();
    w.down("eu").down("us");
    CHECK(w.after(1s).decision.label == "failover:ap");
    w.up("us");
    w.now += 20s;
    w.up("eu");
    CHECK(w.after(15s).decision.label == "failover:us");  // us up 35 s, eu only 15 s
    CHECK(w.after(15s).decision.label == "primary");
}

TEST_CASE("failback: gated returns only when the gate endpoint is up") {
    World w;
    w.pool("primary", {"127.0.0.10", "127.0.0.12"}).pool("secondary", {"127.0.0.11"});
    w.service().failback = Failback::Gated;
    w.service().failback_gate = "primary/127.0.0.12";
    w.settled();
    w.down("primary", 0).down("primary", 1, "HTTP 404");
    CHECK(w.after(1s).decision.label == "failover:secondary");

    w.up("primary", 0);
    auto ev = w.after(10min);
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.decision.reason == "pool primary up, failback gate primary/127.0.0.12 down: HTTP 404");

    w.up("primary", 1);
    CHECK(w.after(1s).decision.label == "primary");
}

TEST_CASE("failback: manual stays on the failover pool until an operator releases it") {
    World w = failed_over(Failback::Manual);
    w.up("primary");
    auto ev = w.after(1h);
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.decision.reason == "pool primary up, staying on secondary until an operator releases it");

    w.state.released = true;
    ev = w.after(1s);
    CHECK(ev.decision.label == "primary");
    CHECK(ev.changed);
    CHECK_FALSE(ev.state.released);  // the release is used up: the next failover is manual again

    w.down("primary");
    CHECK(w.after(1s).decision.label == "failover:secondary");
    w.up("primary");
    CHECK(w.after(1h).decision.label == "failover:secondary");
}

TEST_CASE("failback: a manual release given while the primary is still down is kept until the return") {
    World w = failed_over(Failback::Manual);
    w.state.released = true;
    auto ev = w.after(1s);
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.state.released);
    w.up("primary");
    ev = w.after(1s);
    CHECK(ev.decision.label == "primary");
    CHECK_FALSE(ev.state.released);
}

TEST_CASE("failback: manual leaves the failover pool when it goes down") {
    World w;
    w.pool("primary", {"192.0.2.1"}).pool("secondary", {"198.51.100.1"}).pool("tertiary", {"203.0.113.1"});
    w.service().failback = Failback::Manual;
    w.settled();
    w.down("primary");
    CHECK(w.after(1s).decision.label == "failover:secondary");
    w.up("primary");
    CHECK(w.after(1s).decision.label == "failover:secondary");
    w.down("secondary");
    CHECK(w.after(1s).decision.label == "primary");  // the best pool that is up, at once
}

TEST_CASE("failback: a previous state naming a pool by label survives a reorder of pools") {
    World w = failed_over(Failback::Manual);
    w.up("primary");
    w.state.active_pool = 0;  // stale index, e.g. after a reload; the label wins
    CHECK(w.after(1s).decision.label == "failover:secondary");
}

TEST_CASE("failback: a running hold-down marks the evaluation time dependent until it is over") {
    World w = failed_over(Failback::HoldDown);
    w.service().hold_down = 30s;
    w.service().unstable_for = 1s;  // keep the unstable window out of the way
    CHECK_FALSE(w.after(5s).time_dependent);  // primary down: only a probe can change this
    w.up("primary");
    CHECK(w.after(10s).time_dependent);  // held: 20 s to go, with no probe result needed
    auto ev = w.after(20s);
    CHECK(ev.decision.label == "primary");
    CHECK(w.after(5s).time_dependent == false);
}
