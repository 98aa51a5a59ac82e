// What the policies know about a service's pools at one instant: which are up,
// for how long, which endpoints are suspect, and why the others are down.
// Private to policy/. Pure: health and time come from the caller.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "core/health.hpp"
#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::policy {

struct PoolStatus {
    const zones::Pool* pool = nullptr;
    std::size_t healthy = 0;   // endpoints that are up()
    bool up = false;           // healthy >= min_healthy (and at least one)
    bool suspect_up = false;   // an endpoint that is up is suspect: it may go down soon
    bool any_suspect = false;  // any endpoint is suspect (the answer may change soon)
    bool degraded_up = false;  // an endpoint that is up is degraded (a brownout): warn, move nothing
    core::Millis up_for{0};    // min over healthy endpoints of now - since
};

// Everything one evaluation reads; built once per evaluate() call.
struct Context {
    const zones::Zone& zone;
    const zones::Service& service;
    std::span<const core::EndpointHealth> health;
    std::span<const Resolved> resolved;  // hostname endpoints' addresses, indexed like health
    core::TimePoint now;
    const ServiceState& previous;
    uint64_t seed;
    std::vector<PoolStatus> pools;  // one per Service::pools position
    // Set while evaluating when the outcome depends on the clock as well as on
    // health (a hold-down running, an unstable window open): the caller must
    // evaluate again later even if no probe result arrives. Mutable because
    // the rules that notice it see the Context as const.
    mutable bool waits_on_time = false;

    Context(const zones::Zone& z, const zones::Service& s, std::span<const core::EndpointHealth> h,
            core::TimePoint n, const ServiceState& p, uint64_t sd, std::span<const Resolved> r = {});

    // Health of an endpoint; an index the table does not cover reads as the
    // initial state (up, not confirmed).
    const core::EndpointHealth& health_of(const zones::Endpoint& e) const noexcept;
    const zones::Pool& pool(std::size_t pos) const { return *pools[pos].pool; }
};

// A decision under construction, with the pools it answers from so the
// TTL and early-warning rules can look at them.
struct Draft {
    Decision decision;
    std::vector<std::size_t> basis;  // Service::pools positions answered from
    bool basis_all = false;          // every endpoint answered (all-down), not only healthy ones
};

// Appends `pool`'s healthy (or all) endpoints to `v`: their addresses by family,
// without duplicates (a hostname endpoint's current addresses, capping
// v.ttl_cap), and their indices. v.cname is the hostname while `v` holds exactly
// one endpoint and it is a hostname endpoint.
void add_addresses(const Context& ctx, const zones::Pool& pool, bool only_healthy, Variant& v);

// "endpoint 127.0.0.10 down: HTTP 503; endpoint 127.0.0.11 down" for `pool`'s
// endpoints that are down; empty when none is.
std::string down_endpoints(const Context& ctx, const zones::Pool& pool);

// "endpoint 127.0.0.10 down: HTTP 503; endpoint ... down: ..."; when endpoints are
// up but too few, says so: "pool eu has 1 healthy endpoint, needs 2".
std::string down_reason(const Context& ctx, std::size_t pos);

// The answer when no pool is up, per Service::all_down.
Draft all_down_draft(const Context& ctx);

// "5s", "1m30s" (whole seconds once above one second), for reasons.
std::string say_duration(core::Millis d);

}  // namespace signpost::policy
