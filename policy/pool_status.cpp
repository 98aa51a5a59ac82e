// Pool health as the policies see it, and the words that explain it.
// Pure: no I/O, no clocks.
#include "policy/pool_status.hpp"

#include <algorithm>

namespace signpost::policy {

namespace {
const core::EndpointHealth kUnknown{};  // up, not confirmed: the initial state

void add_unique(std::vector<core::IpAddress>& list, const core::IpAddress& a) {
    if (std::find(list.begin(), list.end(), a) == list.end()) list.push_back(a);
}
}  // namespace

Context::Context(const zones::Zone& z, const zones::Service& s, std::span<const core::EndpointHealth> h,
                 core::TimePoint n, const ServiceState& p, uint64_t sd, std::span<const Resolved> r)
    : zone(z), service(s), health(h), resolved(r), now(n), previous(p), seed(sd) {
    pools.reserve(s.pools.size());
    for (std::size_t pi : s.pools) {
        PoolStatus st;
        st.pool = &z.pools.at(pi);
        bool first = true;
        for (auto& e : st.pool->endpoints) {
            auto& h = health_of(e);
            if (h.suspect) st.any_suspect = true;
            if (!h.up()) continue;
            ++st.healthy;
            if (h.suspect) st.suspect_up = true;
            if (h.degraded) st.degraded_up = true;
            auto for_ = std::chrono::duration_cast<core::Millis>(now - h.since);
            if (for_ < core::Millis{0}) for_ = core::Millis{0};
            if (first || for_ < st.up_for) st.up_for = for_;
            first = false;
        }
        st.up = st.healthy > 0 && st.healthy >= st.pool->min_healthy;
        pools.push_back(st);
    }
}

const core::EndpointHealth& Context::health_of(const zones::Endpoint& e) const noexcept {
    return e.index < health.size() ? health[e.index] : kUnknown;
}

void add_addresses(const Context& ctx, const zones::Pool& pool, bool only_healthy, Variant& v) {
    for (auto& e : pool.endpoints) {
        auto& h = ctx.health_of(e);
        if (h.drained || (only_healthy && !h.up())) continue;
        if (std::find(v.endpoints.begin(), v.endpoints.end(), e.index) != v.endpoints.end()) continue;
        if (v.endpoints.empty() && e.hostname) v.cname = *e.hostname;
        else v.cname.reset();
        v.endpoints.push_back(e.index);
        if (!e.hostname) {
            add_unique(e.address.v6 ? v.v6 : v.v4, e.address);
            continue;
        }
        if (e.index >= ctx.resolved.size()) continue;  // not resolved yet: no addresses
        auto& r = ctx.resolved[e.index];
        for (auto& a : r.addresses) add_unique(a.v6 ? v.v6 : v.v4, a);
        if (!r.addresses.empty()) v.ttl_cap = std::min(v.ttl_cap, r.ttl_cap);
    }
}

std::string down_endpoints(const Context& ctx, const zones::Pool& pool) {
    std::string out;
    for (auto& e : pool.endpoints) {
        auto& h = ctx.health_of(e);
        if (h.up()) continue;
        if (!out.empty()) out += "; ";
        out += "endpoint " + e.name + " down";
        if (!h.reason.empty()) out += ": " + h.reason;
    }
    return out;
}

std::string down_reason(const Context& ctx, std::size_t pos) {
    auto& st = ctx.pools[pos];
    std::string out = down_endpoints(ctx, *st.pool);
    if (st.healthy > 0 || out.empty()) {
        if (!out.empty()) out += "; ";
        out += "pool " + st.pool->name + " has " + std::to_string(st.healthy) + " healthy endpoint" +
               (st.healthy == 1 ? "" : "s") + ", needs " + std::to_string(std::max<uint32_t>(1, st.pool->min_healthy));
    }
    return out;
}

Draft all_down_draft(const Context& ctx) {
    Draft d;
    d.decision.label = "all-down";
    d.decision.all_down = true;
    d.decision.active_pool = -1;
    std::string why;
    for (std::size_t pos = 0; pos < ctx.pools.size(); ++pos) {
        if (!why.empty()) why += "; ";
        why += down_reason(ctx, pos);
    }
    if (why.empty()) why = "service has no pools";
    switch (ctx.service.all_down) {
        case zones::AllDown::All: {
            Variant v;
            for (std::size_t pos = 0; pos < ctx.pools.size(); ++pos) {
                add_addresses(ctx, ctx.pool(pos), false, v);
                d.basis.push_back(pos);
            }
            d.decision.variants.push_back(std::move(v));
            d.decision.reason = "all pools down, answering every address: " + why;
            break;
        }
        case zones::AllDown::Primary: {
            if (!ctx.pools.empty()) {
                Variant v;
                add_addresses(ctx, ctx.pool(0), false, v);
                d.basis.push_back(0);
                d.decision.variants.push_back(std::move(v));
                d.decision.reason = "all pools down, answering pool " + ctx.pool(0).name + ": " + why;
            } else {
                d.decision.reason = "no pools";
            }
            break;
        }
        case zones::AllDown::Nothing:
            d.decision.reason = "all pools down, answering nothing: " + why;
            break;
    }
    d.basis_all = true;
    return d;
}

std::string say_duration(core::Millis d) {
    if (d >= core::Millis{1000}) d = std::chrono::duration_cast<std::chrono::seconds>(d);
    return core::format_duration(d);
}

}  // namespace signpost::policy
