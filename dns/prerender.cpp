// Pre-renders a View's common answers when it is built (the fast path): for each
// owner name and type, the reply the general renderer (dns/answer.cpp) gives,
// once per variant of each decision of a service (subnet rules and geo rules too).
// A View built after another (a health change) copies the answers of the nodes that
// cannot have changed and renders the rest, within ViewOptions::prerender_budget.
// Control loop only; the query path only picks and copies.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <optional>
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
                      FastType& ft, RenderNotes& notes) {
    auto& sd = view.services_[std::size_t(n.service)];
    std::size_t total = 0;
    for_each_decision(sd, [&](DecisionData& d) {
        d.blob_offset = uint32_t(total);  // the same for every type and owner of the service
        total += std::max<std::size_t>(1, d.decision->variants.size());
    });
    if (total >= 0xffff) return;
    std::size_t first = view.blobs_.size(), arena = view.arena_.size(), relocs = view.relocs_.size();
    std::size_t splices = view.splices_.size(), blob_splices = view.blob_splices_.size();
    bool ok = true;
    for (bool dnssec : {false, true}) {
        if (dnssec && !z.signed_zone) break;
        for_each_decision(sd, [&](DecisionData& d) {
            auto& vs = d.decision->variants;
            if (!ok) return;
            if (vs.empty()) {
                ok = render_blob(view, scratch, z, n.name(), type, RenderMode::Resolve, n.service, &d, nullptr,
                                 dnssec, &notes) >= 0;
                return;
            }
            for (auto& v : vs)
                if (ok)
                    ok = render_blob(view, scratch, z, n.name(), type, RenderMode::Resolve, n.service, &d, &v,
                                     dnssec, &notes) >= 0;
        });
    }
    if (!ok) {  // none of them is used: give the space back
        view.blobs_.resize(first);
        view.arena_.resize(arena);
        view.relocs_.resize(relocs);
        view.splices_.resize(splices);
        view.blob_splices_.resize(blob_splices);
        return;
    }
    ft.service = n.service;
    ft.blob = uint32_t(first);
    ft.count = uint16_t(total);
}


// Which of a View's nodes answer exactly what the View before answered there, so that
// its pre-rendered answers can be copied instead of rendered: the same catalog, the same
// node (name, RRsets by identity or content, signatures by content), the same records of
// its service (policy::same_records) under the same signatures (the same SigSet: a
// SignedZone's presigned sets are shared while the zone's signing is), and no other
// service read while rendering it (kOtherServices). A subnet-dependent service is always
// rendered anew. A refreshed signature is a different SigSet or a different RRSIG, so
// a copy never serves signatures older than the View's own.
class Reuse {
public:
    Reuse(const View& view, const View* before) : view_(view) {
        if (before && before->catalog_ && before->catalog_ == view.catalog_ && before->options_.prerender &&
            before->options_.udp_payload_size == view.options_.udp_payload_size &&
            before->zones_.size() == view.zones_.size())
            before_ = before;
        services_.assign(view.services_.size(), kUnknown);
    }
    const View* before() const noexcept { return before_; }

    // The View before's zone at the same position when its nodes can be compared, or null.
    const ZoneData* zone(std::size_t zi) const {
        if (!before_) return nullptr;
        const ZoneData& z = view_.zones_[zi];
        const ZoneData& b = before_->zones_[zi];
        if (b.origin != z.origin || b.nodes.size() != z.nodes.size() || b.signed_zone != z.signed_zone ||
            b.signing != z.signing || b.negative_blob < 0 || !same_rrset(z, z.soa, b.soa))
            return nullptr;
        return &b;
    }

    bool same_node(const ZoneData& z, const VNode& n, const VNode& b) {
        if (b.fast_flags & (kOtherServices | kDeferred)) return false;
        if (n.name() != b.name() || n.service != b.service || n.rrsets.size() != b.rrsets.size()) return false;
        for (std::size_t i = 0; i < n.rrsets.size(); ++i)
            if (!same_rrset(z, n.rrsets[i], b.rrsets[i])) return false;
        return n.service < 0 || same_service(z, n, b);
    }

private:
    // The catalog's RRsets are the same object, whose signatures are the zone's SignedZone's
    // (shared); the View's own (SOA, keys, state TXT) compare by content and signatures.
    bool same_rrset(const ZoneData& z, const zones::RRset* a, const zones::RRset* b) const {
        if (a == b) return true;
        if (!a || !b || a->type != b->type || a->ttl != b->ttl || a->rdatas != b->rdatas) return false;
        if (!z.signed_zone) return true;
        return same_sigs(view_.sig_index_.find(a, nullptr, a->type), before_->sig_index_.find(b, nullptr, b->type));
    }
    static bool same_sigs(const SigSet* a, const SigSet* b) {
        return a == b || (a && b && *a == *b);
    }
    bool same_service(const ZoneData& z, const VNode& n, const VNode& b) {
        const std::size_t s = std::size_t(n.service);
        if (s >= view_.services_.size() || s >= before_->services_.size()) return false;
        const ServiceData& sd = view_.services_[s];
        const ServiceData& bd = before_->services_[s];
        if (services_[s] == kUnknown)
            services_[s] = !sd.subnet_dependent && !bd.subnet_dependent && sd.fallback.decision &&
                                   bd.fallback.decision &&
                                   policy::same_records(*sd.fallback.decision, *bd.fallback.decision)
                               ? kSame
                               : kChanged;
        if (services_[s] == kChanged) return false;
        if (!z.signed_zone) return true;
        // Each variant's signatures at this owner (its addresses, or its CNAME).
        auto& vs = sd.fallback.decision->variants;
        auto& bs = bd.fallback.decision->variants;
        for (std::size_t k = 0; k < vs.size(); ++k)
            for (uint16_t type : {rt::A, rt::AAAA, rt::CNAME})
                if (!same_sigs(view_.sig_index_.find(&vs[k], &n, type), before_->sig_index_.find(&bs[k], &b, type)))
                    return false;
        return true;
    }

    enum : uint8_t { kUnknown, kSame, kChanged };
    const View& view_;
    const View* before_ = nullptr;
    std::vector<uint8_t> services_;  // by service index: records unchanged since `before_`
};

// Copies the blobs of nodes taken from the View before, in runs: the blobs of the nodes
// copied one after another lie one after another in that View (a run carries along
// up to kGap blobs between them: a failed render's, a name not copied, a zone's negative
// answer, all unused in the new View), so a run is copied with three bulk
// copies (blobs, arena bytes, relocations) and each blob's offsets moved by as much.
// A blob's index in the new View is known when its node is copied (the run's start
// plus its distance); flush() before anything else appends blobs (a render).
class BlobCopier {
public:
    BlobCopier(View& view, const View& from) : view_(view), from_(from) {}

    // Blobs [i, i + n) of the View before join the run; returns the new index of i.
    uint32_t take(uint32_t i, uint32_t n = 1) {
        if (begin_ == end_ || i < end_ || i > end_ + kGap) {
            flush();
            begin_ = end_ = i;
            base_ = uint32_t(view_.blobs_.size());
        }
        end_ = i + n;
        return base_ + (i - begin_);
    }
    void flush() {
        if (begin_ == end_) return;
        const Blob* b = from_.blobs_.data();
        const uint32_t arena_from = b[begin_].off, arena_to = b[end_ - 1].off + b[end_ - 1].len;
        const uint32_t relocs_from = b[begin_].reloc, relocs_to = b[end_ - 1].reloc + b[end_ - 1].nreloc;
        const uint32_t arena_at = uint32_t(view_.arena_.size()), relocs_at = uint32_t(view_.relocs_.size());
        view_.arena_.insert(view_.arena_.end(), from_.arena_.begin() + arena_from, from_.arena_.begin() + arena_to);
        view_.relocs_.insert(view_.relocs_.end(), from_.relocs_.begin() + relocs_from,
                             from_.relocs_.begin() + relocs_to);
        for (uint32_t i = begin_; i < end_; ++i) {
            Blob x = b[i];
            x.off = x.off - arena_from + arena_at;
            x.reloc = x.reloc - relocs_from + relocs_at;
            if (view_.any_signed_) {  // the RRSIGs a DO=1 blob leaves out (Splice): handles, not bytes
                view_.blob_splices_.push_back(uint32_t(view_.splices_.size()));
                for (auto& sp : from_.splices_of(&b[i])) view_.splices_.push_back(sp);
            }
            view_.blobs_.push_back(x);
        }
        begin_ = end_ = 0;
    }

private:
    static constexpr uint32_t kGap = 2;  // unused blobs a run may carry along
    View& view_;
    const View& from_;
    uint32_t begin_ = 0, end_ = 0, base_ = 0;
};

// Node `n` answers what `b` answered in `from`: its fast path is a copy of b's.
void copy_node(View& view, const View& from, BlobCopier& blobs, bool signed_zone, const VNode& b, VNode& n) {
    n.fast_flags |= b.fast_flags & (kFastReady | kSlowOthers);
    if (!(b.fast_flags & kFastReady)) return;
    if (b.cut) {
        n.fast_first = blobs.take(b.fast_first);
        return;
    }
    n.fast_first = uint32_t(view.fast_types_.size());
    n.fast_count = b.fast_count;
    for (uint32_t t = b.fast_first; t < b.fast_first + b.fast_count; ++t) {
        FastType ft = from.fast_types_[t];
        if (ft.count > 0) ft.blob = blobs.take(ft.blob, ft.count * (signed_zone ? 2u : 1u));  // DO=1 copies follow
        view.fast_types_.push_back(ft);
    }
}

}  // namespace

void prerender(View& view, const View* before) {
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
    Reuse reuse(view, before);
    if (reuse.before()) {  // about the View before's sizes
        types = std::max(types, before->fast_types_.size());
        blobs = std::max(blobs, before->blobs_.size());
        view.arena_.reserve(before->arena_.size() + before->arena_.size() / 16);
        view.relocs_.reserve(before->relocs_.size() + before->relocs_.size() / 16);
    }
    view.fast_types_.reserve(types + types / 16);
    view.blobs_.reserve(blobs + blobs / 16);
    std::optional<BlobCopier> copier;
    if (reuse.before()) copier.emplace(view, *reuse.before());
    std::size_t budget = view.options_.prerender_budget;
    for (std::size_t zi = 0; zi < view.zones_.size(); ++zi) {
        auto& z = view.zones_[zi];
        const ZoneData* bz = reuse.zone(zi);
        if (copier) copier->flush();
        z.negative_blob = render_blob(view, scratch, z, z.origin, rt::SOA, RenderMode::Negative);
        // *.<parent>: misses below the parent need the wildcard rules.
        for (auto& n : z.nodes) {
            if (n.name().size() > 2 && n.name()[0] == 1 && n.name()[1] == '*') {
                auto* parent = z.find(reinterpret_cast<const uint8_t*>(n.name().data()) + 2, n.name().size() - 2);
                if (parent) const_cast<VNode*>(parent)->fast_flags |= kWildChild;
            }
        }
        for (std::size_t ni = 0; ni < z.nodes.size(); ++ni) {
            VNode& n = z.nodes[ni];
            if (bz && reuse.same_node(z, n, bz->nodes[ni])) {
                copy_node(view, *reuse.before(), *copier, z.signed_zone, bz->nodes[ni], n);
                ++view.copied_nodes_;
                continue;
            }
            NodeReach reach = node_reach(z, n);
            if (reach == NodeReach::Other) continue;  // occluded (below a cut): the general renderer
            if (reach == NodeReach::Exact && n.find(rt::CNAME)) continue;  // CNAME chains: general renderer
            // A flip of many services: the first `budget` changed nodes now, the rest later.
            if (bz) {
                if (budget == 0) {
                    n.fast_flags |= kDeferred;
                    ++view.deferred_;
                    continue;
                }
                if (budget != SIZE_MAX) --budget;
            }
            ++view.rendered_nodes_;
            if (copier) copier->flush();  // the render appends blobs
            RenderNotes notes;
            notes.own_service = n.service;
            if (reach == NodeReach::Delegation) {
                int32_t b = render_blob(view, scratch, z, n.name(), rt::A, RenderMode::Resolve, -1, nullptr, nullptr,
                                        false, &notes);
                if (notes.other_services) n.fast_flags |= kOtherServices;
                if (b < 0) continue;
                n.fast_first = uint32_t(b);
                n.fast_flags |= kFastReady;
                continue;
            }
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
                        render_dependent(view, scratch, z, n, type, ft, notes);
                    } else if (vs.size() < 0xffff) {
                        const bool none = vs.empty();
                        ft.service = none ? -1 : n.service;
                        ft.blob = uint32_t(view.blobs_.size());
                        ft.count = uint16_t(none ? 1 : vs.size());
                        for (bool dnssec : {false, true}) {
                            if (dnssec && !z.signed_zone) break;
                            for (std::size_t k = 0; k < ft.count; ++k) {
                                if (render_blob(view, scratch, z, n.name(), type, RenderMode::Resolve, n.service,
                                                &sd.fallback, none ? nullptr : &vs[k], dnssec, &notes) < 0) {
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
                        if (render_blob(view, scratch, z, n.name(), type, RenderMode::Resolve, -1, nullptr, nullptr,
                                        dnssec, &notes) < 0) {
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
            if (notes.other_services) n.fast_flags |= kOtherServices;
            n.fast_first = first;
            n.fast_count = uint16_t(view.fast_types_.size() - first);
            if (z.negative_blob >= 0) n.fast_flags |= kFastReady;
            // A hostname variant answers CNAME for every type here: types without a
            // blob (MX, TXT, ANY's kin, ...) are not the zone's NODATA; A and AAAA
            // stay pre-rendered per variant above.
            if (n.cname_ok && view.services_[std::size_t(n.service)].any_cname) n.fast_flags |= kSlowOthers;
        }
    }
    if (copier) copier->flush();
    // A View lives until the next change: give back what the reservations or growth left
    // unused, unless it is little (a copy of the arena costs more than it saves).
    auto fit = [](auto& v) {
        if (v.capacity() - v.size() > v.size() / 8) v.shrink_to_fit();
    };
    fit(view.fast_types_);
    fit(view.blobs_);
    fit(view.arena_);
    fit(view.relocs_);
    fit(view.splices_);
    fit(view.blob_splices_);
    assert(!view.any_signed_ || view.blob_splices_.size() == view.blobs_.size());
}

}  // namespace signpost::dns::detail
