// Multivalue policy: up to max_addresses healthy addresses (per family) from
// every pool that is up, as several seeded shuffles so that picking a variant
// per query spreads the load. Pure: randomness comes from the caller's seed.
#include <algorithm>

#include "policy/outcome.hpp"
#include "policy/random.hpp"

namespace signpost::policy {

namespace {
constexpr std::size_t kShuffles = 8;
}

Outcome evaluate_multivalue(const Context& ctx) {
    Outcome out;
    Variant all;
    std::string up, down;
    for (std::size_t pos = 0; pos < ctx.pools.size(); ++pos) {
        if (!ctx.pools[pos].up) {
            if (!down.empty()) down += "; ";
            down += down_reason(ctx, pos);
            continue;
        }
        add_addresses(ctx, ctx.pool(pos), true, all);
        out.decision.basis.push_back(pos);
        if (!up.empty()) up += ", ";
        up += ctx.pool(pos).name;
    }
    if (out.decision.basis.empty()) {
        out.decision = all_down_draft(ctx);
        return out;
    }
    std::size_t max = std::max<uint32_t>(1, ctx.service.max_addresses);
    std::size_t count = (all.v4.size() > 1 || all.v6.size() > 1) ? kShuffles : 1;
    for (std::size_t i = 0; i < count; ++i) {
        SplitMix64 rng(ctx.seed ^ (0x9e3779b97f4a7c15ull * (i + 1)));
        Variant v = all;
        rng.shuffle(v.v4);
        rng.shuffle(v.v6);
        if (v.v4.size() > max) v.v4.resize(max);
        if (v.v6.size() > max) v.v6.resize(max);
        out.decision.decision.variants.push_back(std::move(v));
    }
    out.decision.decision.label = "multivalue";
    out.decision.decision.reason = "pools up: " + up + (down.empty() ? "" : "; " + down);
    return out;
}

}  // namespace signpost::policy
