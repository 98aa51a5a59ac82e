// A and AAAA: one pool choice per service over all endpoints; each family is
// answered from the chosen pool only, NODATA when it has none of that family.
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;

TEST_CASE("family: a v4-only chosen pool gives no v6, never another pool's") {
    World w;
    w.pool("primary", {"192.0.2.1"}).pool("secondary", {"198.51.100.1", "2001:db8::1"});
    auto ev = w.eval();
    CHECK(ev.decision.label == "primary");
    REQUIRE(ev.decision.variants.size() == 1);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"192.0.2.1"});
    CHECK(ev.decision.variants[0].v6.empty());  // AAAA: NODATA
}

TEST_CASE("family: the choice counts endpoints of both families") {
    World w;
    w.pool("primary", {"192.0.2.1", "2001:db8::1"}, 2).pool("secondary", {"198.51.100.1", "2001:db8:1::1"}, 2);
    SUBCASE("the v6 endpoint down takes the v4 answer to the secondary as well") { w.down("primary", 1); }
    SUBCASE("the v4 endpoint down takes the v6 answer to the secondary as well") { w.down("primary", 0); }
    auto ev = w.eval();
    CHECK(ev.decision.label == "failover:secondary");
    CHECK(texts(ev.decision.variants.at(0).v4) == Strings{"198.51.100.1"});
    CHECK(texts(ev.decision.variants.at(0).v6) == Strings{"2001:db8:1::1"});
}

TEST_CASE("family: a dead v6 endpoint is not answered while its pool stays up") {
    World w;
    w.pool("primary", {"192.0.2.1", "2001:db8::1"}).pool("secondary", {"198.51.100.1", "2001:db8:1::1"});
    w.down("primary", 1);
    auto ev = w.eval();
    CHECK(ev.decision.label == "primary");
    CHECK(texts(ev.decision.variants.at(0).v4) == Strings{"192.0.2.1"});
    CHECK(ev.decision.variants.at(0).v6.empty());  // AAAA: NODATA rather than the secondary's
}
