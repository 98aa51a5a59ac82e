// Subnet policy: rules per pool prefix, most specific first, each a failover
// starting at its pool; clients matching no rule get plain failover.
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;

namespace {
World regions() {
    World w;
    w.pool("eu", {"192.0.2.1"}, 1, 1, {"198.51.0.0/16"})
        .pool("us", {"198.51.100.1"}, 1, 1, {"198.51.100.0/24", "2001:db8:100::/48"})
        .pool("ap", {"203.0.113.1"}, 1, 1, {"203.0.113.0/24"});
    w.service(zones::PolicyKind::Subnet);
    return w;
}
std::string label_for(const policy::Evaluation& ev, std::string_view client) {
    return policy::decision_for(ev, ip(client)).label;
}
}  // namespace

TEST_CASE("subnet: rules are ordered most specific first") {
    World w = regions();
    auto ev = w.eval();
    std::vector<std::string> prefixes;
    for (auto& r : ev.subnets) prefixes.push_back(r.prefix.to_string());
    CHECK(prefixes == Strings{"2001:db8:100::/48", "198.51.100.0/24", "203.0.113.0/24", "198.51.0.0/16"});
}

TEST_CASE("subnet: a client gets its pool by longest prefix, others plain failover") {
    World w = regions();
    auto ev = w.eval();
    SUBCASE("inside the /24 within the /16") { CHECK(label_for(ev, "198.51.100.77") == "subnet:us"); }
    SUBCASE("inside the /16 only") { CHECK(label_for(ev, "198.51.7.1") == "subnet:eu"); }
    SUBCASE("IPv6 client") { CHECK(label_for(ev, "2001:db8:100::53") == "subnet:us"); }
    SUBCASE("another pool's /24") { CHECK(label_for(ev, "203.0.113.9") == "subnet:ap"); }
    SUBCASE("no rule: plain failover") {
        CHECK(label_for(ev, "192.0.2.53") == "primary");
        CHECK(label_for(ev, "2001:db8:200::1") == "primary");
        CHECK(&policy::decision_for(ev, ip("192.0.2.53")) == &ev.decision);
    }
    CHECK(ev.decision.label == "primary");
    CHECK(ev.state.subnet_active == std::vector<int>{0, 1, 2});
    auto& ap = policy::decision_for(ev, ip("203.0.113.9"));
    CHECK(ap.active_pool == 2);
    CHECK(texts(ap.variants.at(0).v4) == Strings{"203.0.113.1"});
}

TEST_CASE("subnet: a pool's clients fail over to the service's pools in order") {
    World w = regions();
    w.down("ap", 0, "HTTP 503");
    auto ev = w.eval();
    auto& ap = policy::decision_for(ev, ip("203.0.113.9"));
    CHECK(ap.label == "failover:eu");
    CHECK(ap.reason == "endpoint 203.0.113.1 down: HTTP 503");
    CHECK(texts(ap.variants.at(0).v4) == Strings{"192.0.2.1"});

    w.down("eu", 0, "timeout after 1000 ms");
    ev = w.eval();
    CHECK(label_for(ev, "203.0.113.9") == "failover:us");
    CHECK(label_for(ev, "198.51.7.1") == "failover:us");
    CHECK(label_for(ev, "198.51.100.7") == "subnet:us");
    CHECK(ev.decision.label == "failover:us");
}

TEST_CASE("subnet: failback rules apply to each rule separately") {
    World w = regions();
    w.service().failback = zones::Failback::HoldDown;
    w.service().hold_down = 30s;
    w.settled();
    w.down("ap");
    auto ev = w.after(1s);
    CHECK(label_for(ev, "203.0.113.9") == "failover:eu");
    CHECK(ev.changed);  // a rule's answer changed even though the default did not
    CHECK(ev.decision.label == "primary");
    w.up("ap");
    ev = w.after(10s);
    CHECK(label_for(ev, "203.0.113.9") == "failover:eu");
    CHECK(policy::decision_for(ev, ip("203.0.113.9")).reason ==
          "pool ap up for 10s, hold-down 30s before leaving eu");
    ev = w.after(20s);
    CHECK(label_for(ev, "203.0.113.9") == "subnet:ap");
}

TEST_CASE("subnet: every pool down makes every rule all-down") {
    World w = regions();
    w.down("eu").down("us").down("ap");
    auto ev = w.eval();
    CHECK(ev.decision.label == "all-down");
    for (auto& r : ev.subnets) {
        CHECK(r.decision.label == "all-down");
        CHECK(r.decision.all_down);
    }
    CHECK(ev.state.subnet_active == std::vector<int>{-1, -1, -1});
}

TEST_CASE("subnet: a prefix listed by two pools belongs to the first") {
    World w;
    w.pool("eu", {"192.0.2.1"}, 1, 1, {"198.51.100.0/24"}).pool("us", {"198.51.100.1"}, 1, 1, {"198.51.100.0/24"});
    w.service(zones::PolicyKind::Subnet);
    auto ev = w.eval();
    REQUIRE(ev.subnets.size() == 1);
    CHECK(ev.subnets[0].decision.label == "subnet:eu");
}
