// Routing policies: which addresses a service answers, given the health of its
// endpoints, the time and what it answered before. Pure: no I/O, no clocks,
// no RNG of its own (the caller passes time and a seed).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "core/health.hpp"
#include "policy/choice.hpp"
#include "zones/model.hpp"

namespace signpost::policy {

// One possible answer. A query picks one variant (at random, by weight).
struct Variant {
    std::vector<core::IpAddress> v4;
    std::vector<core::IpAddress> v6;
    uint32_t weight = 1;
    // Set when the variant is exactly one hostname endpoint: owners that may hold
    // a CNAME answer `CNAME <cname>` (with the decision's TTL, any query type); the
    // apex and `flatten = true` owners answer v4/v6 (the hostname's addresses).
    std::optional<core::Name> cname;
    // Addresses that came from hostnames carry at most this TTL (the records' TTL
    // left, resolve::flattened_ttl_cap); UINT32_MAX when none did.
    uint32_t ttl_cap = UINT32_MAX;
    // The endpoints the variant carries (catalog indices), for drains.
    std::vector<core::EndpointIndex> endpoints;
};

// The TTL an address answer of `v` carries under decision TTL `ttl`.
inline uint32_t address_ttl(uint32_t ttl, const Variant& v) noexcept { return ttl < v.ttl_cap ? ttl : v.ttl_cap; }

// The current addresses of a hostname endpoint, indexed like the catalog's
// endpoints (empty for address endpoints); the control core fills it from the resolver.
struct Resolved {
    std::vector<core::IpAddress> addresses;
    uint32_t ttl_cap = UINT32_MAX;
    std::string state;  // "" for address endpoints; "ok", "failing: timeout ...", "NXDOMAIN for x"
};

struct Decision {
    std::vector<Variant> variants;  // empty: answer NODATA
    std::string label;              // "primary", "failover:<pool>", "all-down", "weighted", ...
    std::string reason;             // why, in words: "endpoint fra-1 down: HTTP 503"
    uint32_t ttl = 30;              // already shortened while unstable
    int active_pool = -1;           // index into Service::pools, -1 when none/several
    bool all_down = false;
    bool unstable = false;
};

// Whether two decisions answer the same records: the same variants (addresses, weights,
// CNAME target, TTL cap) in the same order, under the same TTL. Label and reason (the
// state TXT's words) are not compared.
bool same_records(const Decision& a, const Decision& b) noexcept;

// For the subnet policy: clients inside `prefix` get `decision`.
struct SubnetRule {
    core::IpPrefix prefix;
    Decision decision;
};

// What the policy remembers between evaluations of one service.
struct ServiceState {
    int active_pool = -1;          // for failover-like policies
    std::string label;
    core::TimePoint since{};       // when label last changed
    bool released = false;         // manual failback: operator allowed return to primary
    // Subnet policy: the pool each pool's subnet rule answers with, indexed by
    // position in Service::pools (-1: no rule for that pool, or all down).
    // Geo policy: the pool each rule answers with, indexed by rule.
    std::vector<int> subnet_active;
    // When the answer last moved from one pool to another (not the first answer
    // after start): answers stay "unstable" (short TTL) for unstable_for after it.
    core::TimePoint moved_at{};
};

struct Evaluation {
    Decision decision;                // for clients matching no subnet rule
    std::vector<SubnetRule> subnets;  // subnet policy only, most specific first
    // Geo policy only: geo_rules[i] answers clients of zones::Service::geo_rules[i]
    // (failover over the rule's pools); with `nearest`, geo_pools[p] answers the
    // clients whose closest up pool is position p of Service::pools. A pool that
    // is down or has no location has an empty entry (no label, no variants).
    std::vector<Decision> geo_rules;
    std::vector<Decision> geo_pools;
    ServiceState state;               // pass back in next time
    bool changed = false;             // label differs from the previous state
    bool early_warning = false;       // the active pool has a suspect or degraded endpoint
    // The answer (or its TTL or reason) may change with time alone: evaluate
    // again on the next tick. Otherwise only a health change can move it.
    bool time_dependent = false;
};

// `health` is indexed by core::EndpointIndex (the catalog's endpoint list).
// `resolved` (indexed like `health`) gives hostname endpoints their addresses;
// hostname endpoints without an entry answer no addresses (a CNAME still works).
Evaluation evaluate(const zones::Zone& zone, const zones::Service& service,
                    std::span<const core::EndpointHealth> health, core::TimePoint now,
                    const ServiceState& previous, uint64_t seed, std::span<const Resolved> resolved = {});

// The subnet rule that applies to `client`: the index of the first rule in
// `evaluation.subnets` containing it (most specific first), or subnets.size()
// when none does. policy::match_subnet (choice.hpp) is the one implementation.
// Runs per query: no allocation, no locks.
std::size_t subnet_rule_for(const Evaluation& evaluation, const core::IpAddress& client) noexcept;

// The decision that applies to `client`: that rule's, else `evaluation.decision`.
const Decision& decision_for(const Evaluation& evaluation, const core::IpAddress& client) noexcept;

// Picking a variant per query: policy::pick_variant over policy::cumulative_weights
// (choice.hpp), the form the answer path keeps.

}  // namespace signpost::policy
