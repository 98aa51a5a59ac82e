// Weighted policy: one variant per pool that is up, weighted by the pool's
// weight; the DNS path picks a variant per query. Pure: no I/O, no clocks.
#include <algorithm>

#include "policy/outcome.hpp"

namespace signpost::policy {

Outcome evaluate_weighted(const Context& ctx) {
    Outcome out;
    std::string up, down;
    for (std::size_t pos = 0; pos < ctx.pools.size(); ++pos) {
        if (!ctx.pools[pos].up) {
            if (!down.empty()) down += "; ";
            down += down_reason(ctx, pos);
            continue;
        }
        Variant v;
        add_addresses(ctx, ctx.pool(pos), true, v);
        v.weight = std::max<uint32_t>(1, ctx.pool(pos).weight);
        out.decision.decision.variants.push_back(std::move(v));
        out.decision.basis.push_back(pos);
        if (!up.empty()) up += ", ";
        up += ctx.pool(pos).name + " (" + std::to_string(std::max<uint32_t>(1, ctx.pool(pos).weight)) + ")";
    }
    if (out.decision.basis.empty()) {
        out.decision = all_down_draft(ctx);
        return out;
    }
    out.decision.decision.label = "weighted";
    out.decision.decision.reason = "pools up: " + up + (down.empty() ? "" : "; " + down);
    return out;
}

}  // namespace signpost::policy
