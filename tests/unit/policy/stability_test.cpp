// The rules every policy shares: short TTL while the answer is unstable,
// change tracking, early warning.
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;

namespace {
World two_regions() {
    World w;
    w.pool("primary", {"192.0.2.1", "192.0.2.2"}).pool("secondary", {"198.51.100.1"});
    return w;
}
}  // namespace

TEST_CASE("ttl: the service ttl once the answer has been stable for unstable_for") {
    World w = two_regions();
    auto ev = w.settled();
    CHECK_FALSE(ev.decision.unstable);
    CHECK(ev.decision.ttl == 30);
    CHECK_FALSE(ev.changed);
    CHECK_FALSE(ev.early_warning);
}

TEST_CASE("ttl: the unstable ttl while the answer is unstable") {
    World w = two_regions();
    w.settled();

    SUBCASE("an endpoint of the active pool is suspect") { w.suspect("primary", 1); }
    SUBCASE("a down endpoint of the active pool is suspect (it may come back)") {
        w.down("primary", 1);
        w.settled();
        w.suspect("primary", 1, "HTTP 200");
    }
    SUBCASE("an answered endpoint is not confirmed yet") { w.at("primary", 0).confirmed = false; }
    SUBCASE("the label changed less than unstable_for ago") {
        w.down("primary", 0).down("primary", 1);
        w.eval();
        w.now += 59s;
    }
    auto ev = w.eval();
    CHECK(ev.decision.unstable);
    CHECK(ev.decision.ttl == 5);
}

TEST_CASE("ttl: pools that are not answered do not make the answer unstable") {
    World w = two_regions();
    w.settled();
    SUBCASE("a suspect endpoint in the secondary") { w.suspect("secondary"); }
    SUBCASE("an unconfirmed endpoint in the secondary") { w.at("secondary").confirmed = false; }
    SUBCASE("an unconfirmed endpoint that is down and so not answered") {
        w.down("primary", 1);
        w.settled();
        w.at("primary", 1).confirmed = false;
    }
    auto ev = w.eval();
    CHECK_FALSE(ev.decision.unstable);
    CHECK(ev.decision.ttl == 30);
}

TEST_CASE("ttl: returns to the service ttl unstable_for after a change") {
    World w = two_regions();
    w.settled();
    w.down("primary", 0).down("primary", 1);
    auto ev = w.after(1s);
    CHECK(ev.changed);
    CHECK(ev.state.since == w.now);
    CHECK(ev.decision.ttl == 5);
    auto changed_at = w.now;
    ev = w.after(30s);
    CHECK_FALSE(ev.changed);
    CHECK(ev.state.since == changed_at);
    CHECK(ev.decision.ttl == 5);
    ev = w.after(30s);
    CHECK(ev.decision.ttl == 30);
}

TEST_CASE("ttl: the unstable ttl never exceeds the service ttl") {
    World w = two_regions();
    w.service().ttl = 3;
    w.service().unstable_ttl = 5;
    CHECK(w.eval().decision.ttl == 3);
}

TEST_CASE("changed: only when the label differs from the previous one") {
    World w = two_regions();
    auto ev = w.eval();
    CHECK(ev.changed);  // first evaluation: "" -> "primary"
    ev = w.after(1s);
    CHECK_FALSE(ev.changed);
    w.down("primary", 0);  // one endpoint down: the pool stays up, same label
    ev = w.after(1s);
    CHECK_FALSE(ev.changed);
    CHECK(ev.decision.label == "primary");
    CHECK(texts(ev.decision.variants.at(0).v4) == Strings{"192.0.2.2"});
}

TEST_CASE("early warning: the first failed probe on the active pool, before the failover") {
    World w = two_regions();
    w.settled();
    w.suspect("primary", 0, "HTTP 503");
    auto ev = w.after(1s);
    CHECK(ev.early_warning);
    CHECK(ev.decision.label == "primary");
    CHECK_FALSE(ev.changed);
    CHECK(ev.decision.ttl == 5);
}

TEST_CASE("early warning: not for a suspect endpoint outside the active pool or one already down") {
    World w = two_regions();
    w.settled();
    SUBCASE("suspect endpoint in the secondary") { w.suspect("secondary"); }
    SUBCASE("down endpoint of the active pool that is suspect of recovering") {
        w.down("primary", 0);
        w.suspect("primary", 0, "HTTP 200");
    }
    CHECK_FALSE(w.after(1s).early_warning);
}

TEST_CASE("ttl: a service's first answer is not a change, so confirmed endpoints get the service ttl") {
    World w = two_regions();
    auto ev = w.eval();
    CHECK(ev.changed);
    CHECK_FALSE(ev.decision.unstable);
    CHECK(ev.decision.ttl == 30);
}

TEST_CASE("ttl: evaluations after the first answer keep the service ttl when nothing moved") {
    World w = two_regions();
    w.eval();
    w.now += 1s;
    auto ev = w.eval();
    CHECK_FALSE(ev.changed);
    CHECK(ev.decision.ttl == 30);
}

TEST_CASE("ttl: a persisted down pool ahead of the answer keeps the ttl short until probed") {
    // A warm restart: the primary is down from the state file (not confirmed
    // by a probe yet), the secondary has answered its first probe.
    World w = two_regions();
    w.down("primary", 0).down("primary", 1);
    w.at("primary", 0).confirmed = false;
    w.at("primary", 1).confirmed = false;
    auto ev = w.eval();
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(ev.decision.unstable);
    CHECK(ev.decision.ttl == 5);
    w.down("primary", 0).down("primary", 1);  // probes confirm the state
    ev = w.eval();
    CHECK_FALSE(ev.decision.unstable);
    CHECK(ev.decision.ttl == 30);
}

TEST_CASE("ttl: an open unstable window marks the evaluation time dependent") {
    World w = two_regions();
    CHECK_FALSE(w.settled().time_dependent);  // the first answer is not a move
    w.down("primary", 0).down("primary", 1);
    CHECK(w.after(1s).time_dependent);        // the TTL rises again when the window closes
    CHECK(w.after(30s).time_dependent);
    CHECK_FALSE(w.after(30s).time_dependent);
}
