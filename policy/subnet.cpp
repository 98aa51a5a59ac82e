// Subnet policy: clients inside a pool's prefixes get failover over [that pool,
// then the service's pools in order]; everyone else gets plain failover.
// Pure: no I/O, no clocks.
#include <algorithm>

#include "policy/failover.hpp"
#include "policy/outcome.hpp"

namespace signpost::policy {

Outcome evaluate_subnet(const Context& ctx) {
    Outcome out = evaluate_failover(ctx);
    bool home = out.active_pool == 0;

    std::size_t n = ctx.pools.size();
    const auto& prev = ctx.previous.subnet_active;
    out.subnet_active.assign(n, -1);
    for (std::size_t home_pos = 0; home_pos < n; ++home_pos) {
        const auto& pool = ctx.pool(home_pos);
        if (pool.subnets.empty()) continue;
        std::vector<std::size_t> order{home_pos};
        for (std::size_t i = 0; i < n; ++i)
            if (i != home_pos) order.push_back(i);
        int current = prev.size() == n ? prev[home_pos] : -1;
        if (current >= int(n)) current = -1;
        Choice c = choose_pool(ctx, order, current);
        out.subnet_active[home_pos] = c.pos;
        if (c.pos != int(home_pos)) home = false;
        Draft d;
        if (c.pos < 0) {
            d = all_down_draft(ctx);
        } else {
            std::string label = c.pos == int(home_pos) ? "subnet:" + pool.name : "failover:" + ctx.pool(std::size_t(c.pos)).name;
            d = pool_draft(ctx, c.pos, std::move(label), std::move(c.reason));
        }
        for (auto& prefix : pool.subnets) {
            bool seen = std::any_of(out.rules.begin(), out.rules.end(), [&](auto& r) { return r.prefix == prefix; });
            if (!seen) out.rules.push_back({prefix, d});  // an earlier pool keeps a prefix listed twice
        }
    }
    std::stable_sort(out.rules.begin(), out.rules.end(),
                     [](const DraftRule& a, const DraftRule& b) { return a.prefix.length > b.prefix.length; });
    out.released = ctx.previous.released && !home;
    return out;
}

}  // namespace signpost::policy
