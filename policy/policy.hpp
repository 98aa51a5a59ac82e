// Routing policies: which addresses a service answers, given the health of its
// endpoints, the time and what it answered before. Pure: no I/O, no clocks,
// no RNG of its own (the caller passes time and a seed).
#pragma once

#include <cstdint>
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
    std::vector<int> subnet_active;
    // When the answer last moved from one pool to another (not the first answer
    // after start): answers stay "unstable" (short TTL) for unstable_for after it.
    core::TimePoint moved_at{};
};

struct Evaluation {
    Decision decision;                // for clients matching no subnet rule
    std::vector<SubnetRule> subnets;  // subnet policy only, most specific first
    ServiceState state;               // pass back in next time
    bool changed = false;             // label differs from the previous state
    bool early_warning = false;       // the active pool has a suspect endpoint
    // The answer (or its TTL or reason) may change with time alone: evaluate
    // again on the next tick. Otherwise only a health change can move it.
    bool time_dependent = false;
};

// `health` is indexed by core::EndpointIndex (the catalog's endpoint list).
Evaluation evaluate(const zones::Zone& zone, const zones::Service& service,
                    std::span<const core::EndpointHealth> health, core::TimePoint now,
                    const ServiceState& previous, uint64_t seed);

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
