// Builds a View: indexes every zone's owner names (with empty non-terminals),
// marks zone cuts, adds service owners and state TXT records. Control loop only.
#include "dns/view.hpp"

#include <algorithm>
#include <unordered_map>

#include "dns/view_impl.hpp"

namespace signpost::dns {

namespace detail {

void NameIndex::build(const std::vector<std::string_view>& keys) {
    std::size_t cap = 8;
    while (cap < keys.size() * 2 + 2) cap *= 2;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (std::size_t k = 0; k < keys.size(); ++k) {
        auto key = keys[k];
        uint64_t h = hash_bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size());
        std::size_t i = h & mask_;
        while (slots_[i].value >= 0) i = (i + 1) & mask_;
        slots_[i] = Slot{h, key, int32_t(k)};
    }
}

}  // namespace detail

namespace {

void put16(std::string& s, uint16_t v) {
    s.push_back(char(v >> 8));
    s.push_back(char(v & 0xff));
}
void put32(std::string& s, uint32_t v) {
    put16(s, uint16_t(v >> 16));
    put16(s, uint16_t(v & 0xffff));
}

detail::DecisionData make_decision(const policy::Decision& d) {
    detail::DecisionData out;
    out.decision = &d;
    for (auto& v : d.variants) out.total_weight += v.weight;
    return out;
}

class ZoneBuilder {
public:
    ZoneBuilder(View& view, const zones::Zone& zone) : view_(view) {
        data_.zone = &zone;
        data_.origin = zone.origin.wire();
        data_.origin_labels = zone.origin.label_count();
    }

    detail::VNode& node(const core::Name& name) {
        auto it = where_.find(name.wire());
        if (it != where_.end()) return data_.nodes[it->second];
        // Ancestors up to the apex exist too (empty non-terminals).
        if (name.wire() != data_.origin && !name.is_root()) node(name.parent());
        where_.emplace(name.wire(), data_.nodes.size());
        detail::VNode n;
        n.name = name.wire();
        data_.nodes.push_back(std::move(n));
        return data_.nodes.back();
    }

    detail::ZoneData build() {
        const zones::Zone& zone = *data_.zone;
        auto& apex = node(zone.origin);
        (void)apex;
        for (auto& [name, n] : zone.nodes) {
            if (!name.is_subdomain_of(zone.origin)) continue;
            auto& vn = node(name);
            for (auto& rrset : n.rrsets) {
                if (rrset.type == zones::rrtype::SOA) continue;  // the zone's Soa is the one source
                if (rrset.rdatas.empty()) continue;
                vn.rrsets.push_back(&rrset);
            }
        }
        // The SOA from zones::Soa.
        {
            auto& soa = zone.soa;
            zones::RRset s;
            s.type = zones::rrtype::SOA;
            s.ttl = soa.ttl;
            std::string rd = soa.mname.wire() + soa.rname.wire();
            put32(rd, soa.serial);
            put32(rd, soa.refresh);
            put32(rd, soa.retry);
            put32(rd, soa.expire);
            put32(rd, soa.minimum);
            s.rdatas.push_back(std::move(rd));
            view_.owned_.push_back(std::move(s));
            data_.soa = &view_.owned_.back();
            data_.negative_ttl = std::min(soa.ttl, soa.minimum);
            node(zone.origin).rrsets.push_back(data_.soa);
        }
        // Services: owners answer A/AAAA; a state TXT at <service>._signpost.<origin>.
        for (auto& svc : zone.services) {
            if (svc.index >= view_.services_.size()) continue;
            for (auto& owner : svc.owners) {
                if (!owner.is_subdomain_of(zone.origin)) continue;
                node(owner).service = int32_t(svc.index);
            }
            auto state_name = core::Name::from_text(svc.name + "._signpost", zone.origin);
            if (!state_name) continue;
            const policy::Decision& d = view_.evaluations_[svc.index].decision;
            zones::RRset txt;
            txt.type = zones::rrtype::TXT;
            txt.ttl = d.ttl;
            std::string rd;
            for (const std::string* str : {&d.label, &d.reason}) {
                std::size_t n = std::min<std::size_t>(str->size(), 255);
                rd.push_back(char(n));
                rd.append(*str, 0, n);
            }
            txt.rdatas.push_back(std::move(rd));
            view_.owned_.push_back(std::move(txt));
            auto& tn = node(*state_name);
            tn.rrsets.erase(std::remove_if(tn.rrsets.begin(), tn.rrsets.end(),
                                           [](auto* s) { return s->type == zones::rrtype::TXT; }),
                            tn.rrsets.end());
            tn.rrsets.push_back(&view_.owned_.back());
        }
        for (auto& n : data_.nodes) {
            std::stable_sort(n.rrsets.begin(), n.rrsets.end(),
                             [](auto* a, auto* b) { return a->type < b->type; });
            n.apex = n.name == data_.origin;
            n.cut = !n.apex && n.find(zones::rrtype::NS) != nullptr;
        }
        return std::move(data_);
    }

private:
    View& view_;
    detail::ZoneData data_;
    std::unordered_map<std::string, std::size_t> where_;
};

}  // namespace

std::shared_ptr<const View> build_view(std::shared_ptr<const zones::Catalog> catalog,
                                       std::span<const policy::Evaluation> services, uint64_t generation,
                                       ViewOptions options) {
    auto view = std::make_shared<View>();
    view->catalog_ = std::move(catalog);
    view->generation_ = generation;
    view->options_ = options;
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
    for (std::size_t i = 0; i < nservices; ++i) {
        auto& ev = view->evaluations_[i];
        auto& sd = view->services_[i];
        sd.fallback = make_decision(ev.decision);
        for (auto& rule : ev.subnets) sd.subnets.push_back({rule.prefix, make_decision(rule.decision)});
        std::stable_sort(sd.subnets.begin(), sd.subnets.end(),
                         [](auto& a, auto& b) { return a.prefix.length > b.prefix.length; });
        sd.subnet_dependent = !sd.subnets.empty();
    }

    for (std::size_t zi = 0; zi < cat.zones.size(); ++zi) {
        auto& z = cat.zones[zi];
        // Two zones with one origin: the first wins (the loader rejects this anyway).
        bool dup = false;
        for (auto& existing : view->zones_) dup = dup || existing.origin == z.origin.wire();
        if (dup) continue;
        view->zones_.push_back(ZoneBuilder(*view, z).build());
        view->zones_.back().stable_id = zi < options.zone_ids.size() ? int32_t(options.zone_ids[zi]) : int32_t(zi);
    }
    std::vector<std::string_view> origins;
    for (auto& zd : view->zones_) {
        std::vector<std::string_view> keys;
        keys.reserve(zd.nodes.size());
        for (auto& n : zd.nodes) keys.emplace_back(n.name);
        zd.index.build(keys);
        origins.emplace_back(zd.origin);
    }
    view->zone_index_.build(origins);
    if (view->options_.prerender) detail::prerender(*view);
    return view;
}

uint64_t view_generation(const View& view) noexcept { return view.generation_; }

}  // namespace signpost::dns
