// Builds zones, services and health tables in code for the policy tests, and
// steps a service through time the way the control loop does (injected time).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "policy/policy.hpp"

namespace signpost::policy::test {

using namespace std::chrono_literals;

inline core::IpAddress ip(std::string_view text) {
    auto a = core::IpAddress::parse(text);
    REQUIRE(a);
    return *a;
}
inline core::IpPrefix prefix(std::string_view text) {
    auto p = core::IpPrefix::parse(text);
    REQUIRE(p);
    return *p;
}
inline std::vector<std::string> texts(const std::vector<core::IpAddress>& list) {
    std::vector<std::string> out;
    for (auto& a : list) out.push_back(a.to_string());
    return out;
}
using Strings = std::vector<std::string>;

struct World {
    zones::Zone zone;
    std::vector<core::EndpointHealth> health;
    core::TimePoint now = core::TimePoint{} + 10h;
    policy::ServiceState state;
    uint64_t seed = 1;

    World() { zone.origin = *core::Name::from_text("example.com.", core::Name{}); }

    // A pool whose endpoints are named after their addresses; all up and confirmed
    // for an hour.
    World& pool(std::string name, std::vector<std::string> addresses, uint32_t min_healthy = 1, uint32_t weight = 1,
                std::vector<std::string> subnets = {}) {
        zones::Pool p;
        p.name = std::move(name);
        p.min_healthy = min_healthy;
        p.weight = weight;
        for (auto& s : subnets) p.subnets.push_back(prefix(s));
        for (auto& a : addresses) {
            zones::Endpoint e;
            e.name = a;
            e.address = ip(a);
            e.check_address = e.address;
            e.index = core::EndpointIndex(health.size());
            p.endpoints.push_back(e);
            core::EndpointHealth h;
            h.state = core::HealthState::Up;
            h.confirmed = true;
            h.since = now - 1h;
            h.reason = "HTTP 200";
            health.push_back(h);
        }
        zone.pools.push_back(std::move(p));
        return *this;
    }

    // The one service, over every pool in the order they were added.
    zones::Service& service(zones::PolicyKind kind = zones::PolicyKind::Failover) {
        if (zone.services.empty()) {
            zones::Service s;
            s.name = "site";
            s.policy = kind;
            s.ttl = 30;
            s.unstable_ttl = 5;
            s.unstable_for = 60s;
            for (std::size_t i = 0; i < zone.pools.size(); ++i) s.pools.push_back(i);
            zone.services.push_back(s);
        }
        return zone.services[0];
    }

    core::EndpointHealth& at(std::string_view pool_name, std::size_t endpoint = 0) {
        for (auto& p : zone.pools)
            if (p.name == pool_name) return health.at(p.endpoints.at(endpoint).index);
        FAIL("no pool " << pool_name);
        return health.at(0);
    }

    // Health changes happen "now", as a probe result would report them.
    World& down(std::string_view pool_name, std::size_t endpoint = 0, std::string reason = "HTTP 503") {
        auto& h = at(pool_name, endpoint);
        if (h.up()) h.since = now;
        h.state = core::HealthState::Down;
        h.suspect = false;
        h.confirmed = true;
        h.reason = std::move(reason);
        return *this;
    }
    World& up(std::string_view pool_name, std::size_t endpoint = 0) {
        auto& h = at(pool_name, endpoint);
        if (!h.up()) h.since = now;
        h.state = core::HealthState::Up;
        h.suspect = false;
        h.confirmed = true;
        h.reason = "HTTP 200";
        return *this;
    }
    World& suspect(std::string_view pool_name, std::size_t endpoint = 0, std::string reason = "HTTP 503") {
        auto& h = at(pool_name, endpoint);
        h.suspect = true;
        h.reason = std::move(reason);
        return *this;
    }

    // One evaluation at `now`, remembered for the next one (as the control loop does).
    policy::Evaluation eval() {
        service();
        auto ev = policy::evaluate(zone, zone.services[0], health, now, state, seed);
        state = ev.state;
        return ev;
    }
    // Advance the clock, then evaluate.
    policy::Evaluation after(core::Millis d) {
        now += d;
        return eval();
    }
    // Evaluate once and let the answer settle (past unstable_for).
    policy::Evaluation settled() {
        eval();
        return after(service().unstable_for);
    }
};

}  // namespace signpost::policy::test
