// Hostname endpoints in the policies: a variant that is exactly one hostname
// endpoint carries it as a CNAME target; everything else is flattened to
// addresses, with the TTL cap of the addresses that came from hostnames.
#include "policy_fixture.hpp"

namespace signpost::policy::test {
namespace {

// Makes endpoint `i` of `pool` a hostname endpoint resolved to `addresses`.
void hostname(World& w, std::vector<Resolved>& resolved, std::string_view pool, std::size_t i, const char* name,
              std::vector<const char*> addresses, uint32_t cap = 20) {
    for (auto& p : w.zone.pools) {
        if (p.name != pool) continue;
        auto& e = p.endpoints.at(i);
        e.hostname = *core::Name::from_text(name, core::Name{});
        e.name = name;
        if (resolved.size() < w.health.size()) resolved.resize(w.health.size());
        resolved[e.index].addresses.clear();
        for (auto* a : addresses) resolved[e.index].addresses.push_back(ip(a));
        resolved[e.index].ttl_cap = cap;
        resolved[e.index].state = "ok";
    }
}

Evaluation run(World& w, const std::vector<Resolved>& resolved) {
    return evaluate(w.zone, w.service(), w.health, w.now, w.state, w.seed, resolved);
}

TEST_CASE("policy: one hostname endpoint answers CNAME and its addresses, capped by its TTL left") {
    World w;
    w.pool("primary", {"192.0.2.10"}).pool("secondary", {"192.0.2.11"});
    std::vector<Resolved> r;
    hostname(w, r, "primary", 0, "eu.lb.test.", {"127.0.0.10", "2001:db8::10"}, 20);
    hostname(w, r, "secondary", 0, "us.lb.test.", {"127.0.0.11"}, 300);
    auto ev = run(w, r);
    REQUIRE(ev.decision.variants.size() == 1);
    auto& v = ev.decision.variants[0];
    REQUIRE(v.cname);
    CHECK(v.cname->to_key() == "eu.lb.test");
    CHECK(texts(v.v4) == Strings{"127.0.0.10"});
    CHECK(texts(v.v6) == Strings{"2001:db8::10"});
    CHECK(v.ttl_cap == 20);
    CHECK(address_ttl(ev.decision.ttl, v) == 20);
    CHECK(v.endpoints.size() == 1);

    w.down("primary");
    ev = run(w, r);
    CHECK(ev.decision.label == "failover:secondary");
    REQUIRE(ev.decision.variants[0].cname);
    CHECK(ev.decision.variants[0].cname->to_key() == "us.lb.test");
    CHECK(address_ttl(ev.decision.ttl, ev.decision.variants[0]) == ev.decision.ttl);  // 300 > the service TTL
}

TEST_CASE("policy: a pool mixing a hostname with an address, or two hostnames, is flattened") {
    World w;
    w.pool("primary", {"192.0.2.10", "192.0.2.20"}).pool("secondary", {"192.0.2.11", "192.0.2.21"});
    std::vector<Resolved> r;
    hostname(w, r, "primary", 0, "eu.lb.test", {"127.0.0.10"});
    hostname(w, r, "secondary", 0, "us.lb.test", {"127.0.0.11"});
    hostname(w, r, "secondary", 1, "us2.lb.test", {"127.0.0.21", "127.0.0.11"});
    auto ev = run(w, r);
    CHECK_FALSE(ev.decision.variants[0].cname);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"127.0.0.10", "192.0.2.20"});
    // The address endpoint down: what is left is exactly the hostname → CNAME again.
    w.down("primary", 1);
    ev = run(w, r);
    REQUIRE(ev.decision.variants[0].cname);
    w.down("primary", 0);
    ev = run(w, r);
    CHECK(ev.decision.label == "failover:secondary");
    CHECK_FALSE(ev.decision.variants[0].cname);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"127.0.0.11", "127.0.0.21"});  // no duplicates
}

TEST_CASE("policy: all-down answers every hostname's last addresses, multivalue never answers a CNAME") {
    World w;
    w.pool("primary", {"192.0.2.10"}).pool("secondary", {"192.0.2.11"});
    std::vector<Resolved> r;
    hostname(w, r, "primary", 0, "eu.lb.test", {"127.0.0.10"});
    hostname(w, r, "secondary", 0, "us.lb.test", {"127.0.0.11"});
    w.down("primary").down("secondary");
    auto ev = run(w, r);
    CHECK(ev.decision.all_down);
    CHECK_FALSE(ev.decision.variants[0].cname);
    CHECK(texts(ev.decision.variants[0].v4) == Strings{"127.0.0.10", "127.0.0.11"});

    World m;
    m.pool("a", {"192.0.2.10"});
    std::vector<Resolved> rm;
    hostname(m, rm, "a", 0, "eu.lb.test", {"127.0.0.10", "127.0.0.12"}, 7);
    m.service(zones::PolicyKind::Multivalue);
    auto mv = run(m, rm);
    REQUIRE_FALSE(mv.decision.variants.empty());
    for (auto& v : mv.decision.variants) {
        CHECK_FALSE(v.cname);
        CHECK(v.ttl_cap == 7);
        CHECK(v.v4.size() == 2);
    }
}

TEST_CASE("policy: a hostname endpoint not resolved yet answers its CNAME and no addresses") {
    World w;
    w.pool("primary", {"192.0.2.10"});
    std::vector<Resolved> r;
    hostname(w, r, "primary", 0, "eu.lb.test", {});
    auto ev = run(w, r);
    REQUIRE(ev.decision.variants[0].cname);
    CHECK(ev.decision.variants[0].v4.empty());
    CHECK(ev.decision.variants[0].ttl_cap == UINT32_MAX);
}

}  // namespace
}  // namespace signpost::policy::test
