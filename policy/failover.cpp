// Failover policy and the failback rules shared with the subnet policy.
// Pure: no I/O, no clocks.
#include "policy/failover.hpp"

#include "policy/outcome.hpp"

#include <algorithm>

namespace signpost::policy {

namespace {

struct Gate {
    bool found = false;
    bool up = true;
    std::string reason;
};

// The `failback_gate` endpoint ("pool/endpoint" in this zone).
Gate find_gate(const Context& ctx) {
    Gate g;
    const std::string& spec = ctx.service.failback_gate;
    auto slash = spec.find('/');
    if (slash == std::string::npos) return g;
    std::string_view pool_name(spec.data(), slash);
    std::string_view ep_name(spec.data() + slash + 1, spec.size() - slash - 1);
    for (auto& p : ctx.zone.pools) {
        if (p.name != pool_name) continue;
        for (auto& e : p.endpoints) {
            if (e.name != ep_name) continue;
            auto& h = ctx.health_of(e);
            g.found = true;
            g.up = h.up();
            g.reason = h.reason;
            return g;
        }
    }
    return g;
}

// The reason we are not on any pool better than `chosen` in `order`.
std::string why_not_better(const Context& ctx, std::span<const std::size_t> order, std::size_t chosen,
                           const std::string& held) {
    std::string out;
    for (std::size_t pos : order) {
        if (pos == chosen) break;
        if (ctx.pools[pos].up) continue;  // explained by `held`
        if (!out.empty()) out += "; ";
        out += down_reason(ctx, pos);
    }
    if (!held.empty()) {
        if (!out.empty()) out += "; ";
        out += held;
    }
    return out;
}

}  // namespace

int previous_pool(const Context& ctx) {
    const auto& prev = ctx.previous;
    // A label naming a pool survives reloads that reorder pools; prefer it.
    for (std::string_view prefix : {"failover:", "subnet:"}) {
        if (prev.label.rfind(prefix, 0) == 0) {
            std::string_view name = std::string_view(prev.label).substr(prefix.size());
            for (std::size_t pos = 0; pos < ctx.pools.size(); ++pos)
                if (ctx.pool(pos).name == name) return int(pos);
        }
    }
    if (prev.active_pool >= 0 && std::size_t(prev.active_pool) < ctx.pools.size()) return prev.active_pool;
    return -1;
}

Choice choose_pool(const Context& ctx, std::span<const std::size_t> order, int current) {
    Choice c;
    auto rank = [&](int pos) -> std::ptrdiff_t {
        auto it = std::find(order.begin(), order.end(), std::size_t(pos));
        return it == order.end() ? std::ptrdiff_t(order.size()) : it - order.begin();
    };
    std::ptrdiff_t best = -1;
    for (std::size_t i = 0; i < order.size(); ++i)
        if (ctx.pools[order[i]].up) {
            best = std::ptrdiff_t(i);
            break;
        }
    if (best < 0) return c;  // all down

    std::ptrdiff_t cur = current >= 0 ? rank(current) : std::ptrdiff_t(order.size());
    bool cur_up = cur < std::ptrdiff_t(order.size()) && ctx.pools[order[cur]].up;
    std::ptrdiff_t take = best;
    std::string held;

    if (cur_up && cur > best) {
        // Traffic is on a worse pool that is still up: the failback rule decides.
        const auto& svc = ctx.service;
        const std::string& cur_name = ctx.pool(order[cur]).name;
        switch (svc.failback) {
            case zones::Failback::Auto: break;
            case zones::Failback::HoldDown: {
                take = cur;
                for (std::ptrdiff_t i = best; i < cur; ++i) {
                    auto& st = ctx.pools[order[i]];
                    if (!st.up) continue;
                    if (!st.suspect_up && st.up_for >= svc.hold_down) {
                        take = i;
                        break;
                    }
                    if (!st.suspect_up) ctx.waits_on_time = true;  // the hold-down runs out by itself
                    if (held.empty()) {
                        held = "pool " + st.pool->name + (st.suspect_up ? " up but suspect" : " up for " + say_duration(st.up_for)) +
                               ", hold-down " + say_duration(svc.hold_down) + " before leaving " + cur_name;
                    }
                }
                break;
            }
            case zones::Failback::Gated: {
                Gate g = find_gate(ctx);
                if (g.found && !g.up) {
                    take = cur;
                    held = "pool " + ctx.pool(order[best]).name + " up, failback gate " + svc.failback_gate + " down" +
                           (g.reason.empty() ? "" : ": " + g.reason);
                }
                break;
            }
            case zones::Failback::Manual:
                if (!ctx.previous.released) {
                    take = cur;
                    held = "pool " + ctx.pool(order[best]).name + " up, staying on " + cur_name +
                           " until an operator releases it";
                }
                break;
        }
    }

    c.pos = int(order[take]);
    if (take == 0) {
        c.reason = "pool " + ctx.pool(order[0]).name + " up";
        std::string inner = down_endpoints(ctx, ctx.pool(order[0]));
        if (!inner.empty()) c.reason += "; " + inner;
    } else {
        c.reason = why_not_better(ctx, order, order[take], held);
    }
    return c;
}

Draft pool_draft(const Context& ctx, int pos, std::string label, std::string reason) {
    Draft d;
    Variant v;
    add_addresses(ctx, ctx.pool(std::size_t(pos)), true, v);
    d.decision.variants.push_back(std::move(v));
    d.decision.label = std::move(label);
    d.decision.reason = std::move(reason);
    d.decision.active_pool = pos;
    d.basis.push_back(std::size_t(pos));
    return d;
}

std::string failover_label(const Context& ctx, std::size_t pos) {
    return pos == 0 ? std::string("primary") : "failover:" + ctx.pool(pos).name;
}

Outcome evaluate_failover(const Context& ctx) {
    std::vector<std::size_t> order(ctx.pools.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    Choice c = choose_pool(ctx, order, previous_pool(ctx));
    Outcome out;
    out.active_pool = c.pos;
    // A release is used up once traffic is back on the first pool.
    out.released = ctx.previous.released && c.pos != 0;
    if (c.pos < 0)
        out.decision = all_down_draft(ctx);
    else
        out.decision = pool_draft(ctx, c.pos, failover_label(ctx, std::size_t(c.pos)), std::move(c.reason));
    return out;
}

}  // namespace signpost::policy
