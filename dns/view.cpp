// Builds a View: indexes every zone's owner names (with empty non-terminals),
// marks zone cuts, adds service owners and state TXT records. Control loop only.
#include "dns/view.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

#include "core/wire.hpp"
#include "dns/view_impl.hpp"
#include "dnssec/denial.hpp"

namespace signpost::dns {

namespace detail {

void NameIndex::build(const std::vector<std::string_view>& keys) {
    // At most half full, so that probes stay short; but a table of up to 16 slots (two
    // cache lines, all a lookup can read) may be three quarters full: the names of a
    // small zone (10 names: 16 slots, not 32) cost half the index, a probe no more reads.
    std::size_t cap = 8;
    while (cap < keys.size() * 2 + 2 && !(cap <= 16 && keys.size() * 4 + 4 <= cap * 3)) cap *= 2;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (std::size_t k = 0; k < keys.size(); ++k) {
        auto key = keys[k];
        uint64_t h = hash_bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size());
        std::size_t i = h & mask_;
        while (slots_[i].value >= 0) i = (i + 1) & mask_;
        slots_[i] = Slot{uint32_t(h >> 32), int32_t(k)};
    }
}

}  // namespace detail

namespace {

using core::put32;

detail::DecisionData make_decision(const policy::Decision& d) {
    detail::DecisionData out;
    out.decision = &d;
    out.cumulative = policy::cumulative_weights(d);
    return out;
}

// The keys of a signed zone, or null (unsigned, or no keys given: see ViewOptions::signing).
const dnssec::ZoneKeys* zone_keys(const ViewOptions& o, const zones::Zone& zone) {
    if (!zone.dnssec().sign || !o.signing) return nullptr;
    auto it = o.signing->find(zone.origin.wire());
    return it == o.signing->end() || it->second.keys.empty() ? nullptr : &it->second;
}

// The key sets a signed zone publishes at its apex, by type: DNSKEY, CDS, CDNSKEY (empty
// rdatas: none of that type). ZoneBuilder makes them; clone_zones compares them.
std::array<std::pair<uint16_t, zones::RdataList>, 3> apex_key_sets(const dnssec::ZoneKeys& keys) {
    return {{{zones::rrtype::DNSKEY, keys.dnskey_rdatas()},
             {zones::rrtype::CDS, keys.cds_rdatas()},
             {zones::rrtype::CDNSKEY, keys.cdnskey_rdatas()}}};
}

// A service's state TXT: its label and the reason, under its TTL.
void set_state_txt(zones::RRset& txt, const policy::Decision& d) {
    txt.type = zones::rrtype::TXT;
    txt.ttl = d.ttl;
    std::string rd;
    for (const std::string* str : {&d.label, &d.reason}) {
        std::size_t n = std::min<std::size_t>(str->size(), 255);
        rd.push_back(char(n));
        rd.append(*str, 0, n);
    }
    txt.rdatas = zones::RdataList{rd};
}

// Builds one zone's nodes. RRsets are gathered as (node, RRset) pairs and laid
// out in View::node_rrsets_ at the end, so a node owns no vector of its own.
class ZoneBuilder {
public:
    ZoneBuilder(View& view, const zones::Zone& zone, uint32_t index) : view_(view), index_(index) {
        data_.zone = &zone;
        data_.origin = zone.origin.wire();
        data_.origin_labels = zone.origin.label_count();
    }

    // The node at `name`, created with its ancestors up to the apex (empty
    // non-terminals) unless `ancestors` is false. `stable_name` is the name's bytes where
    // they live as long as the View (inside the catalog's own Name), or empty: the View
    // keeps a copy.
    uint32_t node(const core::Name& name, std::string_view stable_name = {}, bool ancestors = true) {
        auto it = where_.find(name.wire());
        if (it != where_.end()) return it->second;
        if (ancestors && name.wire() != data_.origin && !name.is_root()) node(name.parent());
        if (stable_name.empty()) stable_name = view_.owned_names_->emplace_back(name.wire());
        uint32_t index = uint32_t(data_.nodes.size());
        where_.emplace(stable_name, index);
        detail::VNode n;
        n.set_name(stable_name);
        data_.nodes.push_back(n);
        return index;
    }

    detail::ZoneData build() {
        const zones::Zone& zone = *data_.zone;
        data_.nodes.reserve(zone.nodes.size() + zone.services.size() + 1);
        where_.reserve(zone.nodes.size() + zone.services.size() + 1);
        uint32_t apex = zone.nodes.find(zone.origin) != zone.nodes.end()
                            ? node(zone.origin, zone.nodes.find(zone.origin)->first.wire())
                            : node(zone.origin);
        // The catalog's names first, so that only empty non-terminals need a copy.
        for (auto& [name, n] : zone.nodes)
            if (name.is_subdomain_of(zone.origin)) node(name, name.wire(), false);
        for (auto& [name, n] : zone.nodes) {
            if (!name.is_subdomain_of(zone.origin)) continue;
            if (name != zone.origin) node(name.parent());  // empty non-terminals above it
            uint32_t vn = node(name);
            for (auto& rrset : n.rrsets) {
                if (rrset.type == zones::rrtype::SOA) continue;  // the zone's Soa is the one source
                if (rrset.rdatas.empty()) continue;
                sets_.push_back({vn, &rrset});
            }
        }
        data_.soa = soa_rrset(zone);
        data_.negative_ttl = std::min(zone.soa.ttl, zone.soa.minimum);
        sets_.push_back({apex, data_.soa, data_.soa == last_owned() ? int32_t(view_.owned_.size() - 1) : -1});
        // A signed zone publishes its keys, and CDS/CDNSKEY for parents that read them
        // (RFC 7344); they replace any static records of those types.
        if (auto* keys = signing_keys(zone)) {
            sets_.erase(std::remove_if(sets_.begin(), sets_.end(),
                                       [&](auto& p) {
                                           auto t = p.second->type;
                                           return p.first == apex && (t == zones::rrtype::DNSKEY ||
                                                                      t == zones::rrtype::CDS ||
                                                                      t == zones::rrtype::CDNSKEY ||
                                                                      t == zones::rrtype::NSEC3PARAM);
                                       }),
                        sets_.end());
            for (auto& [type, rdatas] : apex_key_sets(*keys)) {
                if (rdatas.empty()) continue;
                zones::RRset s;
                s.type = type;
                s.ttl = zone.soa.ttl;
                s.rdatas = std::move(rdatas);
                view_.owned_.push_back(std::move(s));
                sets_.push_back({apex, &view_.owned_.back(), int32_t(view_.owned_.size() - 1)});
            }
            // NSEC3 (RFC 5155 4): the chain's parameters at the apex, with the NSEC3s' TTL.
            if (zone.dnssec().denial == zones::DenialKind::Nsec3) {
                zones::RRset s;
                s.type = zones::rrtype::NSEC3PARAM;
                s.ttl = data_.negative_ttl;
                s.rdatas.push_back(dnssec::nsec3param_rdata({zone.dnssec().nsec3_salt, zone.dnssec().nsec3_iterations}));
                view_.owned_.push_back(std::move(s));
                sets_.push_back({apex, &view_.owned_.back(), int32_t(view_.owned_.size() - 1)});
            }
        }
        // Services: owners answer A/AAAA; a state TXT at <service>._signpost.<origin>.
        for (auto& svc : zone.services) {
            if (svc.index >= view_.services_.size()) continue;
            for (auto& owner : svc.owners) {
                if (!owner.is_subdomain_of(zone.origin)) continue;
                auto& vn = data_.nodes[node(owner)];
                vn.service = int32_t(svc.index);
                // A CNAME cannot sit beside SOA and NS (the apex); `flatten` asks for addresses.
                vn.cname_ok = owner != zone.origin && !svc.flatten;
            }
            auto state_name = core::Name::from_text(svc.name + "._signpost", zone.origin);
            if (!state_name) continue;
            zones::RRset& txt = view_.owned_.emplace_back();
            set_state_txt(txt, view_.evaluations_[svc.index].decision);
            uint32_t at = node(*state_name);
            state_txt_[at] = int32_t(view_.owned_.size() - 1);
            auto& st = view_.state_txts_[svc.index];
            st.zone = index_;
            st.node = at;
            st.txt = &txt;
            st.owned = uint32_t(view_.owned_.size() - 1);
        }
        // A state TXT replaces any static TXT at its name (one pass, not one per service).
        if (!state_txt_.empty()) {
            sets_.erase(std::remove_if(sets_.begin(), sets_.end(),
                                       [&](auto& p) {
                                           return p.second->type == zones::rrtype::TXT && state_txt_.count(p.first);
                                       }),
                        sets_.end());
            for (auto& [n, k] : state_txt_) sets_.push_back({n, &view_.owned_[std::size_t(k)], k});
        }
        // Each node's RRsets ordered by type, in the order they were added for one type.
        std::stable_sort(sets_.begin(), sets_.end(), [](auto& a, auto& b) {
            return a.first != b.first ? a.first < b.first : a.second->type < b.second->type;
        });
        auto& all = view_.node_rrsets_;  // reserved by build_view: pointers into it stay valid
        view_.owned_slots_.resize(view_.owned_.size(), UINT32_MAX);
        for (std::size_t i = 0; i < sets_.size();) {
            std::size_t first = all.size();
            uint32_t n = sets_[i].first;
            for (; i < sets_.size() && sets_[i].first == n; ++i) {
                if (sets_[i].owned >= 0) view_.owned_slots_[std::size_t(sets_[i].owned)] = uint32_t(all.size());
                all.push_back(sets_[i].second);
            }
            data_.nodes[n].rrsets = {all.data() + first, all.size() - first};
        }
        for (auto& n : data_.nodes) {
            n.apex = n.name() == data_.origin;
            n.cut = !n.apex && n.find(zones::rrtype::NS) != nullptr;
        }
        data_.nodes.shrink_to_fit();
        return std::move(data_);
    }

private:
    const dnssec::ZoneKeys* signing_keys(const zones::Zone& zone) const { return zone_keys(view_.options_, zone); }
    const zones::RRset* last_owned() const { return view_.owned_.empty() ? nullptr : &view_.owned_.back(); }

    // The zone's SOA from zones::Soa: the catalog's apex SOA when it says the
    // same (the usual case: no copy), otherwise one the View keeps.
    const zones::RRset* soa_rrset(const zones::Zone& zone) {
        auto& soa = zone.soa;
        std::string rd(soa.mname.wire());
        rd += soa.rname.wire();
        put32(rd, soa.serial);
        put32(rd, soa.refresh);
        put32(rd, soa.retry);
        put32(rd, soa.expire);
        put32(rd, soa.minimum);
        if (auto* apex = zone.find_node(zone.origin)) {
            auto* s = apex->find(zones::rrtype::SOA);
            if (s && s->ttl == soa.ttl && s->rdatas == zones::RdataList{rd}) return s;
        }
        zones::RRset s;
        s.type = zones::rrtype::SOA;
        s.ttl = soa.ttl;
        s.rdatas.push_back(std::move(rd));
        view_.owned_.push_back(std::move(s));
        return &view_.owned_.back();
    }

    View& view_;
    uint32_t index_;  // in View::zones_
    detail::ZoneData data_;
    std::unordered_map<std::string_view, uint32_t> where_;  // name -> index in data_.nodes
    // (node, RRset, its index in View::owned_ or -1: the catalog's)
    struct Set {
        uint32_t first;
        const zones::RRset* second;
        int32_t owned = -1;
    };
    std::vector<Set> sets_;
    std::unordered_map<uint32_t, int32_t> state_txt_;  // node -> its service's state TXT (View::owned_ index)
};

// The zones of a View built from the same catalog as `before` have `before`'s nodes, names,
// indexes and RRsets but for the View's own RRsets (the SOA when the catalog's differs,
// the key sets, the state TXT records): those are copied with the new state TXT texts,
// and the nodes point at them. Works when the catalog is the same object, the zone ids
// are, and each zone is signed with the same key sets (DNSKEY, CDS, CDNSKEY) or unsigned
// in both. Returns false (nothing changed) otherwise: the zones are built afresh.
bool clone_zones(View& view, const View& before) {
    if (!before.catalog_ || before.catalog_ != view.catalog_ || before.options_.zone_ids != view.options_.zone_ids ||
        before.owned_slots_.size() != before.owned_.size() || before.state_txts_.size() != view.state_txts_.size() ||
        before.zones_.empty())
        return false;
    for (auto& z : before.zones_) {
        if (!z.zone || z.nodes.empty() || !z.nodes[0].apex) return false;
        const dnssec::ZoneKeys* keys = zone_keys(view.options_, *z.zone);
        if (bool(keys) != z.signed_zone) return false;
        if (!keys) continue;
        const detail::VNode& apex = z.nodes[0];
        for (auto& [type, rdatas] : apex_key_sets(*keys)) {
            const zones::RRset* had = apex.find(type);
            if (rdatas.empty() ? had != nullptr : !had || had->rdatas != rdatas) return false;
        }
    }
    view.zones_ = before.zones_;
    view.node_rrsets_ = before.node_rrsets_;
    view.owned_names_ = before.owned_names_;
    view.owned_slots_ = before.owned_slots_;
    // The View's own RRsets: the state TXT records made from the new decisions (not
    // copied, then overwritten), the others (SOA, key sets) copied.
    std::vector<int32_t> state_of(before.owned_.size(), -1);  // owned_ index -> service
    for (std::size_t i = 0; i < before.state_txts_.size(); ++i)
        if (before.state_txts_[i].txt && before.state_txts_[i].owned < state_of.size())
            state_of[before.state_txts_[i].owned] = int32_t(i);
    for (std::size_t k = 0; k < before.owned_.size(); ++k) {
        if (state_of[k] < 0) view.owned_.push_back(before.owned_[k]);
        else set_state_txt(view.owned_.emplace_back(), view.evaluations_[std::size_t(state_of[k])].decision);
    }
    const zones::RRset* const* from = before.node_rrsets_.data();
    const zones::RRset** to = view.node_rrsets_.data();
    for (std::size_t k = 0; k < view.owned_.size(); ++k)
        if (view.owned_slots_[k] != UINT32_MAX) to[view.owned_slots_[k]] = &view.owned_[k];
    for (auto& z : view.zones_) {
        for (auto& n : z.nodes) {
            if (!n.rrsets.empty()) n.rrsets = {to + (n.rrsets.data() - from), n.rrsets.size()};  // else no data()
            n.fast_flags = 0;
            n.fast_count = 0;
            n.fast_first = 0;
        }
        z.soa = z.nodes[0].find(zones::rrtype::SOA);
        z.negative_blob = -1;
        z.signed_zone = false;
        z.signing.reset();
    }
    for (std::size_t i = 0; i < view.state_txts_.size(); ++i) {
        const View::StateTxt& b = before.state_txts_[i];
        if (!b.txt || b.owned >= view.owned_.size()) continue;
        View::StateTxt& st = view.state_txts_[i];
        st.zone = b.zone;
        st.node = b.node;
        st.owned = b.owned;
        st.txt = &view.owned_[b.owned];
    }
    return true;
}

// Builds every zone of the View's catalog (ZoneBuilder) and its name index.
void build_zones(View& view) {
    const zones::Catalog& cat = *view.catalog_;
    // Every node's RRset pointers in one vector that never reallocates (VNodes
    // point into it): at most each catalog RRset, an SOA per zone, a TXT per service.
    std::size_t max_rrsets = 0;
    for (auto& z : cat.zones) {
        for (auto& [name, n] : z.nodes) max_rrsets += n.rrsets.size();
        max_rrsets += 1 + z.services.size();             // SOA, state TXTs
        if (z.dnssec().sign) max_rrsets += 4;            // DNSKEY/CDS/CDNSKEY, NSEC3PARAM (signing_keys)
    }
    view.node_rrsets_.reserve(max_rrsets);
    view.zones_.reserve(cat.zones.size());
    std::unordered_set<std::string_view> origins_seen;
    origins_seen.reserve(cat.zones.size());
    const auto& ids = view.options_.zone_ids;
    for (std::size_t zi = 0; zi < cat.zones.size(); ++zi) {
        auto& z = cat.zones[zi];
        // Two zones with one origin: the first wins (the loader rejects this anyway).
        if (!origins_seen.insert(z.origin.wire()).second) continue;
        view.zones_.push_back(ZoneBuilder(view, z, uint32_t(view.zones_.size())).build());
        view.zones_.back().stable_id = zi < ids.size() ? int32_t(ids[zi]) : int32_t(zi);
    }
    std::vector<std::string_view> keys;
    for (auto& zd : view.zones_) {
        keys.clear();
        for (auto& n : zd.nodes) keys.emplace_back(n.name());
        zd.index.build(keys);
    }
}

}  // namespace

std::shared_ptr<const View> build_view(std::shared_ptr<const zones::Catalog> catalog,
                                       std::span<const policy::Evaluation> services, uint64_t generation,
                                       ViewOptions options) {
    auto view = std::make_shared<View>();
    view->catalog_ = std::move(catalog);
    view->generation_ = generation;
    view->options_ = options;
    view->options_.previous.reset();  // read below; a View never holds the one before it
    if (view->options_.udp_payload_size < 512) view->options_.udp_payload_size = 512;
    if (!view->catalog_) return view;
    const zones::Catalog& cat = *view->catalog_;

    std::size_t nservices = cat.services.size();
    for (auto& z : cat.zones)
        for (auto& s : z.services) nservices = std::max(nservices, s.index + 1);
    view->evaluations_.resize(nservices);
    for (std::size_t i = 0; i < nservices && i < services.size(); ++i) view->evaluations_[i] = services[i];
    // Missing evaluations: NODATA (no variants), labelled so the state TXT says so.
    for (std::size_t i = services.size(); i < nservices; ++i) {
        view->evaluations_[i].decision.label = "unknown";
        view->evaluations_[i].decision.reason = "no evaluation yet";
    }
    view->services_.resize(nservices);
    view->state_txts_.resize(nservices);
    for (std::size_t i = 0; i < nservices; ++i) {
        auto& ev = view->evaluations_[i];
        auto& sd = view->services_[i];
        sd.fallback = make_decision(ev.decision);
        // Most specific first, as the policy orders them (kept for hand-built evaluations).
        std::vector<const policy::SubnetRule*> rules;
        for (auto& rule : ev.subnets) rules.push_back(&rule);
        std::stable_sort(rules.begin(), rules.end(),
                         [](auto* a, auto* b) { return a->prefix.length > b->prefix.length; });
        for (auto* rule : rules) {
            sd.prefixes.push_back(rule->prefix);
            sd.rules.push_back(make_decision(rule->decision));
        }
        sd.subnet_dependent = !sd.prefixes.empty();
        auto has_cname = [](const policy::Decision& d) {
            return std::any_of(d.variants.begin(), d.variants.end(), [](auto& v) { return v.cname.has_value(); });
        };
        sd.any_cname = has_cname(ev.decision) ||
                       std::any_of(ev.subnets.begin(), ev.subnets.end(), [&](auto& r) { return has_cname(r.decision); });
        // Geo services: every client's answer depends on where it is.
        if (i < cat.services.size()) {
            auto& ref = cat.services[i];
            auto& zone = cat.zones[ref.zone];
            auto& svc = zone.services[ref.service];
            if (svc.policy == zones::PolicyKind::Geo) {
                sd.geo = true;
                sd.subnet_dependent = true;
                sd.geo_match = policy::GeoMatcher(zone, svc);
                view->geo_fields_ |= sd.geo_match.fields();
                for (auto& d : ev.geo_rules) {
                    sd.geo_rules.push_back(make_decision(d));
                    sd.any_cname = sd.any_cname || has_cname(d);
                }
                for (auto& d : ev.geo_pools) {
                    sd.geo_pools.push_back(make_decision(d));
                    sd.geo_up.push_back(!d.label.empty());
                    sd.any_cname = sd.any_cname || has_cname(d);
                }
                const detail::ServiceData* before = nullptr;
                if (auto& prev = options.previous; prev && prev->catalog_)
                    for (std::size_t k = 0; k < prev->catalog_->services.size() && k < prev->services_.size(); ++k)
                        if (prev->catalog_->services[k].key == ref.key) before = &prev->services_[k];
                if (before && before->geo_counts && before->geo_counts->rules() == sd.geo_rules.size() &&
                    before->geo_counts->pools() == sd.geo_pools.size())
                    sd.geo_counts = before->geo_counts;
                else
                    sd.geo_counts = std::make_shared<detail::GeoCounts>(sd.geo_rules.size(), sd.geo_pools.size());
            }
        }
    }

    // A View after another of the same catalog (a health change) has its nodes; else
    // every zone's nodes are built.
    if (!options.previous || !clone_zones(*view, *options.previous)) build_zones(*view);
    std::vector<std::string_view> origins;
    for (auto& zd : view->zones_) origins.emplace_back(zd.origin);
    view->zone_index_.build(origins);
    detail::sign_view(*view, options.previous.get());
    if (view->options_.prerender) detail::prerender(*view, options.previous.get());
    return view;
}

uint64_t view_generation(const View& view) noexcept { return view.generation_; }

std::size_t deferred_renders(const View& view) noexcept { return view.deferred_; }

PrerenderCounts prerender_counts(const View& view) noexcept {
    return {view.rendered_nodes_, view.copied_nodes_, view.deferred_};
}

std::shared_ptr<const std::vector<policy::Evaluation>> view_evaluations(std::shared_ptr<const View> view) {
    if (!view) return nullptr;
    const auto* evaluations = &view->evaluations_;
    return {std::move(view), evaluations};  // shares the View's ownership
}

std::vector<GeoAnswerCount> geo_answer_counts(const View& view) {
    std::vector<GeoAnswerCount> out;
    if (!view.catalog_) return out;
    auto& cat = *view.catalog_;
    for (std::size_t i = 0; i < view.services_.size() && i < cat.services.size(); ++i) {
        auto& sd = view.services_[i];
        if (!sd.geo || !sd.geo_counts) continue;
        auto& ref = cat.services[i];
        auto& svc = cat.zones[ref.zone].services[ref.service];
        auto& c = *sd.geo_counts;
        for (std::size_t r = 0; r < c.rules(); ++r) out.push_back({ref.key, std::to_string(r + 1), c.total(c.rule(r))});
        for (std::size_t p = 0; p < c.pools() && p < svc.pools.size(); ++p)
            if (cat.zones[ref.zone].pools[svc.pools[p]].location)
                out.push_back({ref.key, "nearest:" + cat.zones[ref.zone].pools[svc.pools[p]].name, c.total(c.pool(p))});
        out.push_back({ref.key, "default", c.total(c.fallback())});
    }
    return out;
}

}  // namespace signpost::dns
