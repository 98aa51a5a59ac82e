// Geo policy: each rule (continents, countries, subdivisions, ASNs) gets failover
// over its own pool list; other clients the service's pools, or with `nearest`
// the closest pool that is up. Which applies is chosen per query (geo_choice.hpp).
// Pure: no I/O, no clocks.
#include <algorithm>

#include "policy/failover.hpp"
#include "policy/outcome.hpp"

namespace signpost::policy {

Outcome evaluate_geo(const Context& ctx) {
    Outcome out = evaluate_failover(ctx);
    const auto& svc = ctx.service;
    bool home = out.active_pool == 0;
    const auto& prev = ctx.previous.subnet_active;
    out.subnet_active.assign(svc.geo_rules.size(), -1);
    for (std::size_t ri = 0; ri < svc.geo_rules.size(); ++ri) {
        const auto& rule = svc.geo_rules[ri];
        std::vector<std::size_t> order;  // zone pool indices -> Service::pools positions
        for (auto zi : rule.pools) {
            auto it = std::find(svc.pools.begin(), svc.pools.end(), zi);
            if (it != svc.pools.end()) order.push_back(std::size_t(it - svc.pools.begin()));
        }
        int current = prev.size() == svc.geo_rules.size() ? prev[ri] : -1;
        if (current >= int(ctx.pools.size())) current = -1;
        Draft d;
        Choice c;
        if (!order.empty()) c = choose_pool(ctx, order, current);
        out.subnet_active[ri] = c.pos;
        if (c.pos < 0) {
            d = all_down_draft(ctx);
            home = false;
        } else {
            bool first = std::size_t(c.pos) == order.front();
            if (!first) home = false;
            std::string label = (first ? "geo:" : "failover:") + ctx.pool(std::size_t(c.pos)).name;
            d = pool_draft(ctx, c.pos, std::move(label), std::move(c.reason));
        }
        out.geo_rules.push_back(std::move(d));
    }
    if (svc.nearest) {
        out.geo_pools.resize(ctx.pools.size());
        for (std::size_t pos = 0; pos < ctx.pools.size(); ++pos) {
            const auto& st = ctx.pools[pos];
            if (!st.up || !st.pool->location) continue;
            std::string reason = "pool " + st.pool->name + " up, the closest to the client that is";
            std::string inner = down_endpoints(ctx, *st.pool);
            if (!inner.empty()) reason += "; " + inner;
            out.geo_pools[pos] = pool_draft(ctx, int(pos), "nearest:" + st.pool->name, std::move(reason));
        }
    }
    out.released = ctx.previous.released && !home;
    return out;
}

}  // namespace signpost::policy
