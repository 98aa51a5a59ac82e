// Pre-renders a View's common answers when it is built (the fast path): for each
// owner name and type, the reply the general renderer (dns/answer.cpp) gives,
// once per variant of each decision of a service (subnet rules and geo rules too).
// Control loop only; the query path only picks and copies.
#include <algorithm>
#include <vector>

#include "dns/view_impl.hpp"

namespace signpost::dns::detail {

namespace rt = zones::rrtype;

namespace {

// Every decision a subnet-dependent service answers some client with, in the order
// of its blobs: fallback, subnet rules, geo rules, nearest pools.
template <class F>
void for_each_decision(ServiceData& sd, F f) {
    f(sd.fallback);
    for (auto& d : sd.rules) f(d);
    for (auto& d : sd.geo_rules) f(d);
    for (auto& d : sd.geo_pools) f(d);
}

// A subnet-dependent service's A or AAAA at node n: one blob per variant of every
// decision (one NODATA blob for a decision without variants), so that a query needs
// only the client's decision and a variant pick. Any blob that cannot be rendered
// (too large, a chain into another client-dependent answer) leaves the type to the
// general renderer.
void render_dependent(View& view, std::vector<uint8_t>& scratch, const ZoneData& z, const VNode& n, uint16_t type,
                      FastType& ft) {
    auto& sd = view.services_[std::size_t(n.service)];
    std::size_t total = 0;
    for_each_decision(sd, [&](DecisionData& d) {
        d.blob_offset = uint32_t(total);  // the same for every type and owner of the service
        total += std::max<std::size_t>(1, d.decision->variants.size());
    });
    if (total >= 0xffff) return;
    std::size_t first = view.blobs_.size(), arena = view.arena_.size(), relocs = view.relocs_.size();
    bool ok = true;
    for (bool dnssec : {false, true}) {
        if (dnssec && !z.signed_zone) break;
        for_each_decision(sd, [&](DecisionData& d) {
            auto& vs = d.decision->variants;
            if (!ok) return;
            if (vs.empty()) {
                ok = render_blob(view, scratch, z, n.name, type, RenderMode::Resolve, n.service, &d, nullptr,
                                 dnssec) >= 0;
                return;
            }
            for (auto& v : vs)
                if (ok)
                    ok = render_blob(view, scratch, z, n.name, type, RenderMode::Resolve, n.service, &d, &v,
                                     dnssec) >= 0;
        });
    }
    if (!ok) {  // none of them is used: give the space back
        view.blobs_.resize(first);
        view.arena_.resize(arena);
        view.relocs_.resize(relocs);
        return;
    }
    ft.service = n.service;
    ft.blob = uint32_t(first);
    ft.count = uint16_t(total);
}

}  // namespace

void prerender(View& view) {
    std::vector<uint8_t> scratch(65535);
    // Room for the usual count (a type per RRset, A and AAAA per service owner, a
    // negative blob per zone, a referral per cut), so 100,000 names do not grow
    // these vectors by doubling; several variants per service may still grow them.
    std::size_t types = 0, blobs = 0;
    for (auto& z : view.zones_) {
        blobs += 1;
        for (auto& n : z.nodes) types += n.rrsets.size() + (n.service >= 0 ? 2 : 0) + (n.cut ? 1 : 0);
    }
    blobs += types;
    view.fast_types_.reserve(types);
    view.blobs_.reserve(blobs);
    for (auto& z : view.zones_) {
        z.negative_blob = render_blob(view, scratch, z, z.origin, rt::SOA, RenderMode::Negative);
        // *.<parent>: misses below the parent need the wildcard rules.
        for (auto& n : z.nodes) {
            if (n.name.size() > 2 && n.name[0] == 1 && n.name[1] == '*') {
                auto* parent = z.find(reinterpret_cast<const uint8_t*>(n.name.data()) + 2, n.name.size() - 2);
                if (parent) const_cast<VNode*>(parent)->fast_flags |= kWildChild;
            }
        }
        for (auto& n : z.nodes) {
            NodeReach reach = node_reach(z, n);
            if (reach == NodeReach::Other) continue;  // occluded (below a cut): the general renderer
            if (reach == NodeReach::Delegation) {
                int32_t b = render_blob(view, scratch, z, n.name, rt::A, RenderMode::Resolve);
                if (b < 0) continue;
                n.fast_first = uint32_t(b);
                n.fast_flags |= kFastReady;
                continue;
            }
            if (n.find(rt::CNAME)) continue;  // CNAME chains: general renderer
            uint32_t first = uint32_t(view.fast_types_.size());
            // One type's blobs: each variant's (or the one answer), then in a signed zone the
            // same with DO (FastType). Any blob that cannot be rendered leaves the type to the
            // general renderer; its bytes stay in the arena (rare).
            auto add = [&](uint16_t type) {
                FastType ft;
                ft.type = type;
                if (n.service >= 0 && (type == rt::A || type == rt::AAAA)) {
                    auto& sd = view.services_[std::size_t(n.service)];
                    auto& vs = sd.fallback.decision->variants;
                    if (sd.subnet_dependent) {
                        render_dependent(view, scratch, z, n, type, ft);
                    } else if (vs.size() < 0xffff) {
                        const bool none = vs.empty();
                        ft.service = none ? -1 : n.service;
                        ft.blob = uint32_t(view.blobs_.size());
                        ft.count = uint16_t(none ? 1 : vs.size());
                        for (bool dnssec : {false, true}) {
                            if (dnssec && !z.signed_zone) break;
                            for (std::size_t k = 0; k < ft.count; ++k) {
                                if (render_blob(view, scratch, z, n.name, type, RenderMode::Resolve, n.service,
                                                &sd.fallback, none ? nullptr : &vs[k], dnssec) < 0) {
                                    ft.count = 0;
                                    break;
                                }
                            }
                            if (ft.count == 0) break;
                        }
                    }
                } else {
                    ft.blob = uint32_t(view.blobs_.size());
                    ft.count = 1;
                    for (bool dnssec : {false, true}) {
                        if (dnssec && !z.signed_zone) break;
                        if (render_blob(view, scratch, z, n.name, type, RenderMode::Resolve, -1, nullptr, nullptr,
                                        dnssec) < 0) {
                            ft.count = 0;
                            break;
                        }
                    }
                }
                view.fast_types_.push_back(ft);
            };
            for (auto* s : n.rrsets)
                if (n.service < 0 || (s->type != rt::A && s->type != rt::AAAA)) add(s->type);
            if (n.service >= 0) {
                add(rt::A);
                add(rt::AAAA);
            }
            n.fast_first = first;
            n.fast_count = uint16_t(view.fast_types_.size() - first);
            if (z.negative_blob >= 0) n.fast_flags |= kFastReady;
            // A hostname variant answers CNAME for every type here: types without a
            // blob (MX, TXT, ANY's kin, ...) are not the zone's NODATA; A and AAAA
            // stay pre-rendered per variant above.
            if (n.cname_ok && view.services_[std::size_t(n.service)].any_cname) n.fast_flags |= kSlowOthers;
        }
    }
    // The vectors grew by doubling; a View lives until the next change.
    view.fast_types_.shrink_to_fit();
    view.blobs_.shrink_to_fit();
    view.arena_.shrink_to_fit();
    view.relocs_.shrink_to_fit();
}

}  // namespace signpost::dns::detail
