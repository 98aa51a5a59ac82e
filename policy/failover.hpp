// Failover: the first pool in priority order that is up, with the failback
// rules (auto, hold-down, gated, manual) deciding when traffic returns to a
// better pool. Private to policy/. Pure: health and time come from the caller.
#pragma once

#include <span>
#include <string>

#include "policy/pool_status.hpp"

namespace signpost::policy {

struct Choice {
    int pos = -1;        // Service::pools position answered from; -1: every pool is down
    std::string reason;  // why this pool and not a better one
};

// Picks a pool among `order` (Service::pools positions, best first) given the
// pool answered before (`current`, -1 for none). Never stays on a pool that is
// down; only the move back to a better pool is held by the failback rule.
Choice choose_pool(const Context& ctx, std::span<const std::size_t> order, int current);

// A decision answering the healthy addresses of pool `pos`.
Draft pool_draft(const Context& ctx, int pos, std::string label, std::string reason);

// "primary" for the first pool of the service, else "failover:<pool>".
std::string failover_label(const Context& ctx, std::size_t pos);

// The previous evaluation's pool (position), or -1.
int previous_pool(const Context& ctx);

}  // namespace signpost::policy
