// evaluate(): runs the service's policy kind, then the rules every kind shares:
// TTL while unstable, change tracking, early warning. Pure: no I/O, no clocks.
#include "policy/policy.hpp"

#include <algorithm>

#include "policy/outcome.hpp"

namespace signpost::policy {

namespace {

struct Kind {
    zones::PolicyKind kind;
    Evaluator evaluate;
};

// The one list of policy kinds (names and validation live in zones/).
constexpr Kind kKinds[] = {
    {zones::PolicyKind::Failover, &evaluate_failover},
    {zones::PolicyKind::Weighted, &evaluate_weighted},
    {zones::PolicyKind::Multivalue, &evaluate_multivalue},
    {zones::PolicyKind::Subnet, &evaluate_subnet},
    {zones::PolicyKind::Geo, &evaluate_geo},
};

Evaluator evaluator_for(zones::PolicyKind k) {
    for (auto& kind : kKinds)
        if (kind.kind == k) return kind.evaluate;
    return &evaluate_failover;
}

// Sets ttl and unstable; returns whether an answered pool has a suspect or degraded endpoint still up.
bool settle(const Context& ctx, Draft& d, core::TimePoint since) {
    const auto& svc = ctx.service;
    bool in_window = ctx.now - since < svc.unstable_for;
    if (in_window) ctx.waits_on_time = true;  // the TTL goes back up when the window closes
    bool unstable = d.decision.all_down || in_window;
    bool warn = false;
    for (std::size_t pos : d.basis) {
        auto& st = ctx.pools[pos];
        if (st.any_suspect) unstable = true;
        // The early warning: an answered endpoint is failing (suspect) or browning
        // out (degraded) while still up.
        if ((st.suspect_up || st.degraded_up) && !d.decision.all_down) warn = true;
        for (auto& e : st.pool->endpoints) {
            auto& h = ctx.health_of(e);
            if ((d.basis_all || h.up()) && !h.confirmed) unstable = true;
        }
    }
    // A pool ranked ahead of the answered one that is not confirmed yet (a warm
    // restart's persisted "down") may take the answer back at its first probe.
    if (!d.basis.empty()) {
        std::size_t first = *std::min_element(d.basis.begin(), d.basis.end());
        for (std::size_t pos = 0; pos < first && pos < ctx.pools.size(); ++pos)
            for (auto& e : ctx.pools[pos].pool->endpoints)
                if (!ctx.health_of(e).confirmed) unstable = true;
    }
    d.decision.unstable = unstable;
    d.decision.ttl = unstable ? std::min(svc.unstable_ttl, svc.ttl) : svc.ttl;
    return warn;
}

}  // namespace

bool same_records(const Decision& a, const Decision& b) noexcept {
    if (a.ttl != b.ttl || a.variants.size() != b.variants.size()) return false;
    for (std::size_t i = 0; i < a.variants.size(); ++i) {
        auto& x = a.variants[i];
        auto& y = b.variants[i];
        if (x.v4 != y.v4 || x.v6 != y.v6 || x.weight != y.weight || x.cname != y.cname || x.ttl_cap != y.ttl_cap)
            return false;
    }
    return true;
}

Evaluation evaluate(const zones::Zone& zone, const zones::Service& service,
                    std::span<const core::EndpointHealth> health, core::TimePoint now,
                    const ServiceState& previous, uint64_t seed, std::span<const Resolved> resolved) {
    Context ctx(zone, service, health, now, previous, seed, resolved);
    Outcome out = evaluator_for(service.policy)(ctx);

    Evaluation ev;
    ev.changed = out.decision.decision.label != previous.label || out.subnet_active != previous.subnet_active;
    ev.state.active_pool = out.active_pool;
    ev.state.label = out.decision.decision.label;
    ev.state.since = ev.changed ? now : previous.since;
    ev.state.released = out.released;
    ev.state.subnet_active = out.subnet_active;

    // A service's first answer is not a move: it is unstable only while its
    // endpoints are unconfirmed or suspect.
    ev.state.moved_at = ev.changed && !previous.label.empty() ? now : previous.moved_at;
    auto changed_at = ev.state.moved_at;
    ev.early_warning = settle(ctx, out.decision, changed_at);
    ev.decision = std::move(out.decision.decision);
    ev.subnets.reserve(out.rules.size());
    for (auto& r : out.rules) {
        if (settle(ctx, r.draft, changed_at)) ev.early_warning = true;
        ev.subnets.push_back({r.prefix, std::move(r.draft.decision)});
    }
    for (auto* list : {&out.geo_rules, &out.geo_pools}) {
        auto& into = list == &out.geo_rules ? ev.geo_rules : ev.geo_pools;
        into.reserve(list->size());
        for (auto& d : *list) {
            if (!d.decision.label.empty() && settle(ctx, d, changed_at)) ev.early_warning = true;
            into.push_back(std::move(d.decision));
        }
    }
    ev.time_dependent = ctx.waits_on_time;
    return ev;
}

std::size_t subnet_rule_for(const Evaluation& evaluation, const core::IpAddress& client) noexcept {
    return match_subnet(evaluation.subnets, [](const SubnetRule& r) -> const core::IpPrefix& { return r.prefix; },
                        client)
        .rule;
}

const Decision& decision_for(const Evaluation& evaluation, const core::IpAddress& client) noexcept {
    std::size_t rule = subnet_rule_for(evaluation, client);
    return rule < evaluation.subnets.size() ? evaluation.subnets[rule].decision : evaluation.decision;
}

}  // namespace signpost::policy
