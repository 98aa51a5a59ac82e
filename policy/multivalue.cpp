// Multivalue policy: up to max_addresses healthy addresses (per family) from
// every pool that is up. Each family is shuffled once (seeded) and answered in
// its rotations, so that every address comes first in the same share of answers.
// Pure: randomness comes from the caller's seed.
#include <algorithm>
#include <numeric>

#include "policy/outcome.hpp"
#include "policy/random.hpp"

namespace signpost::policy {

namespace {

// At most this many variants (answer orders) per decision. Each is pre-rendered
// for every owner name and address type, so memory grows with it; up to 64
// healthy addresses per family every address comes first equally often.
constexpr std::size_t kMaxVariants = 64;

// The number of variants: a multiple of both families' address counts, so
// that each address of each family comes first in exactly 1/n of them; past
// kMaxVariants, kMaxVariants (each address first within 1/kMaxVariants of 1/n;
// with more than kMaxVariants addresses only kMaxVariants evenly spaced ones
// come first, but all of them are answered in turn as max_addresses allows).
std::size_t variant_count(std::size_t n4, std::size_t n6) {
    n4 = std::max<std::size_t>(n4, 1);
    n6 = std::max<std::size_t>(n6, 1);
    std::size_t lcm = n4 / std::gcd(n4, n6) * n6;
    return std::min(lcm, kMaxVariants);
}

// `all` rotated to start at `first`, cut to `max` addresses.
std::vector<core::IpAddress> rotation(const std::vector<core::IpAddress>& all, std::size_t first, std::size_t max) {
    std::vector<core::IpAddress> out;
    std::size_t n = std::min(all.size(), max);
    out.reserve(n);
    for (std::size_t k = 0; k < n; ++k) out.push_back(all[(first + k) % all.size()]);
    return out;
}

}  // namespace

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
    // One shuffle per family from the service's stable seed: the orders change
    // when the healthy set does, not on every evaluation.
    SplitMix64 rng(ctx.seed);
    rng.shuffle(all.v4);
    rng.shuffle(all.v6);
    std::size_t max = std::max<uint32_t>(1, ctx.service.max_addresses);
    std::size_t count = variant_count(all.v4.size(), all.v6.size());
    auto& variants = out.decision.decision.variants;
    variants.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        // Variant i starts family f at floor(i * n_f / count): exactly count / n_f
        // variants start at each address when n_f divides count.
        Variant v;
        v.ttl_cap = all.ttl_cap;  // always addresses: a multivalue answer is never a CNAME
        v.endpoints = all.endpoints;
        if (!all.v4.empty()) v.v4 = rotation(all.v4, i * all.v4.size() / count, max);
        if (!all.v6.empty()) v.v6 = rotation(all.v6, i * all.v6.size() / count, max);
        variants.push_back(std::move(v));
    }
    out.decision.decision.label = "multivalue";
    out.decision.decision.reason = "pools up: " + up + (down.empty() ? "" : "; " + down);
    return out;
}

}  // namespace signpost::policy
