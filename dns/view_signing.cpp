// Signs a View's signed zones (issue 15) when it is built: every RRset the zone can
// serve (static data, the SOA, the state TXT, DNSKEY/CDS/CDNSKEY at the apex, every
// variant of every decision of every service at each of its owners) and an NSEC or
// NSEC3 chain with one record per answer shape at service owners. Signatures come from the
// SignatureCache, so a View built after a health change signs only what no earlier
// View signed. Control loop only; the query path reads View::sig_index_.
#include <algorithm>
#include <ctime>

#include "dns/signing.hpp"
#include "dns/view_impl.hpp"
#include "dnssec/denial.hpp"
#include "dnssec/sign.hpp"

namespace signpost::dns::detail {

namespace {

namespace rt = zones::rrtype;

std::string address_rdata(const core::IpAddress& a) {
    return std::string(reinterpret_cast<const char*>(a.bytes.data()), a.size());
}

class ZoneSigner {
public:
    ZoneSigner(View& view, ZoneData& z, const dnssec::ZoneKeys& keys, SignatureCache& cache, int64_t now)
        : view_(view), z_(z), settings_(z.zone->dnssec), cache_(cache), now_(now) {
        // Only keys whose state (ZoneKeys::at) says signing: a pre-published ZSK or a KSK
        // waiting for its DS is in the DNSKEY set and signs nothing yet.
        zsk_ = keys.signers(false);
        ksk_ = keys.signers(true);
    }

    void sign(std::vector<SigIndex::Item>& items) {
        z_.signed_zone = true;
        std::vector<uint32_t> owners;
        for (uint32_t i = 0; i < z_.nodes.size(); ++i) {
            const VNode& n = z_.nodes[i];
            NodeReach reach = node_reach(z_, n);
            if (reach == NodeReach::Other || n.empty()) continue;
            owners.push_back(i);
            auto owner = core::Name::from_wire(n.name);
            if (!owner) continue;
            for (const zones::RRset* s : n.rrsets) {
                // At a cut only the DS is the parent's (and signed); NS and glue are not.
                if (reach == NodeReach::Delegation && s->type != rt::DS) continue;
                bool key_set = n.apex && (s->type == rt::DNSKEY || s->type == rt::CDS || s->type == rt::CDNSKEY);
                items.push_back({s, nullptr, s->type, sign_set(*owner, s->type, s->ttl, s->rdatas, key_set)});
            }
            if (n.service >= 0 && reach == NodeReach::Exact && std::size_t(n.service) < view_.services_.size())
                sign_service(n, *owner, view_.services_[std::size_t(n.service)], items);
        }
        if (settings_.denial == zones::DenialKind::Nsec3) chain3(owners);
        else chain(owners);
    }

private:
    SigSet sigs(const core::Name& owner, uint16_t type, uint32_t ttl, std::span<const std::string> rdatas,
                bool key_set) {
        SigSet ss;
        for (const dnssec::Signer* s : key_set ? ksk_ : zsk_)
            ss.rrsigs.push_back(cache_.rrsig(*s, settings_, owner, type, ttl, rdatas, now_));
        return ss;
    }
    const SigSet* sign_set(const core::Name& owner, uint16_t type, uint32_t ttl, std::span<const std::string> rdatas,
                           bool key_set) {
        return &view_.sigsets_.emplace_back(sigs(owner, type, ttl, rdatas, key_set));
    }

    // The zone's service behind View service index i, or null.
    const zones::Service* service_of(int32_t i) const {
        if (!view_.catalog_ || i < 0 || std::size_t(i) >= view_.catalog_->services.size()) return nullptr;
        auto& ref = view_.catalog_->services[std::size_t(i)];
        return &view_.catalog_->zones[ref.zone].services[ref.service];
    }

    // Every variant of every decision the service may answer with at this owner. The
    // original TTL is the service's `ttl`: an unstable answer serves a lower TTL under
    // the same signature (a served TTL may be lower than the signed one, never higher).
    void sign_service(const VNode& n, const core::Name& owner, const ServiceData& sd, std::vector<SigIndex::Item>& items) {
        const zones::Service* svc = service_of(n.service);
        auto signed_ttl = [&](uint32_t ttl) { return std::max(ttl, svc ? svc->ttl : 0u); };
        auto decision = [&](const DecisionData& d) {
            if (!d.decision) return;
            const uint32_t ttl = signed_ttl(d.decision->ttl);
            for (const policy::Variant& v : d.decision->variants) {
                if (v.cname && n.cname_ok) {
                    std::string target = v.cname->wire();
                    items.push_back({&v, &n, rt::CNAME, sign_set(owner, rt::CNAME, ttl, {&target, 1}, false)});
                    continue;
                }
                for (bool six : {false, true}) {
                    std::vector<std::string> rdatas;
                    for (auto& a : six ? v.v6 : v.v4)
                        if (a.v6 == six) rdatas.push_back(address_rdata(a));
                    if (rdatas.empty()) continue;
                    uint16_t type = six ? rt::AAAA : rt::A;
                    items.push_back({&v, &n, type, sign_set(owner, type, ttl, rdatas, false)});
                }
            }
        };
        decision(sd.fallback);
        for (auto& d : sd.rules) decision(d);
        for (auto& d : sd.geo_rules) decision(d);
        for (auto& d : sd.geo_pools) decision(d);
        if (svc) presign_pools(*svc, owner);
    }

    // Answers other states give, signed ahead into the cache so that a failover finds
    // them: each pool's whole address set and every pool's together (all down).
    void presign_pools(const zones::Service& svc, const core::Name& owner) {
        const zones::Zone& zone = *z_.zone;
        std::vector<std::string> all[2];
        for (std::size_t p : svc.pools) {
            if (p >= zone.pools.size()) continue;
            std::vector<std::string> one[2];
            for (auto& e : zone.pools[p].endpoints) {
                if (e.hostname) continue;
                one[e.address.v6].push_back(address_rdata(e.address));
                all[e.address.v6].push_back(address_rdata(e.address));
            }
            for (int six = 0; six < 2; ++six)
                if (!one[six].empty()) sigs(owner, six ? rt::AAAA : rt::A, svc.ttl, one[six], false);
        }
        for (int six = 0; six < 2; ++six)
            if (!all[six].empty()) sigs(owner, six ? rt::AAAA : rt::A, svc.ttl, all[six], false);
    }

    // One NSEC per owner in canonical order, the last pointing back to the apex (RFC 4034 4.1.1).
    void chain(std::vector<uint32_t>& owners) {
        std::sort(owners.begin(), owners.end(), [&](uint32_t a, uint32_t b) {
            return dnssec::canonical_compare(z_.nodes[a].name, z_.nodes[b].name) < 0;
        });
        z_.nsec_of.assign(z_.nodes.size(), -1);
        z_.nsecs.resize(owners.size());
        for (std::size_t k = 0; k < owners.size(); ++k) {
            const VNode& n = z_.nodes[owners[k]];
            NsecData& d = z_.nsecs[k];
            d.node = owners[k];
            z_.nsec_of[owners[k]] = int32_t(k);
            const std::string_view next = z_.nodes[owners[(k + 1) % owners.size()]].name;
            const bool cut = node_reach(z_, n) == NodeReach::Delegation;
            const int shapes = shape_count(n, cut);
            auto owner = core::Name::from_wire(n.name);
            if (!owner) continue;
            for (int s = 0; s < shapes; ++s) {
                std::vector<uint16_t> types = shape_types(n, cut, s);
                // An unsigned delegation's NSEC has no RRSIG bit of its own data, but the NSEC
                // itself is signed, so RRSIG stays (RFC 4035 2.3).
                types.push_back(rt::NSEC);
                types.push_back(rt::RRSIG);
                d.rdata[s] = std::string(next) + dnssec::type_bitmap(types);
                d.sigs[s] = sigs(*owner, rt::NSEC, z_.negative_ttl, {&d.rdata[s], 1}, false);
            }
        }
    }

    // The types an owner's NSEC or NSEC3 shows for answer shape `s` (see NsecShape):
    // at a cut only NS and DS, elsewhere its RRsets and the shape's service types.
    static std::vector<uint16_t> shape_types(const VNode& n, bool cut, int s) {
        std::vector<uint16_t> types;
        for (const zones::RRset* r : n.rrsets)
            if (!cut || r->type == rt::NS || r->type == rt::DS) types.push_back(r->type);
        if (s & kShapeA && s != kShapeCname) types.push_back(rt::A);
        if (s & kShapeAAAA && s != kShapeCname) types.push_back(rt::AAAA);
        if (s == kShapeCname) types.push_back(rt::CNAME);
        return types;
    }
    // How many shapes the owner has: one without a service, else with or without CNAME.
    int shape_count(const VNode& n, bool cut) const {
        const bool service = n.service >= 0 && !cut;
        const bool cname = service && n.cname_ok && std::size_t(n.service) < view_.services_.size() &&
                           view_.services_[std::size_t(n.service)].any_cname;
        return !service ? 1 : cname ? kShapes : kShapeCname;
    }

    // The NSEC3 chain (RFC 5155): dnssec::Nsec3Chain over the owners' shape-less types
    // orders the hashes and adds the empty non-terminals; a service owner then gets one
    // NSEC3 per answer shape, as with NSEC. Every node outside occluded space learns its
    // own NSEC3 and the one covering its wildcard, so that answers only hash the next
    // closer name.
    void chain3(const std::vector<uint32_t>& owners) {
        auto apex = core::Name::from_wire(z_.origin);
        if (!apex) return;
        std::vector<dnssec::OwnerTypes> list;
        list.reserve(owners.size());
        for (uint32_t i : owners) {
            const VNode& n = z_.nodes[i];
            auto owner = core::Name::from_wire(n.name);
            if (!owner) continue;
            const bool cut = node_reach(z_, n) == NodeReach::Delegation;
            list.push_back({*owner, shape_types(n, cut, kShapeNone), cut});
        }
        dnssec::Nsec3Chain chain(*apex, std::move(list), {settings_.nsec3_salt, settings_.nsec3_iterations});
        const auto& records = chain.records();
        const auto& hashes = chain.hashes();
        z_.nsec3 = true;
        z_.nsec3_salt = settings_.nsec3_salt;
        z_.nsecs.assign(records.size(), NsecData{});
        z_.nsec3_hashes.resize(records.size());
        for (std::size_t k = 0; k < records.size(); ++k) {
            z_.nsecs[k].node = kNoNode;
            z_.nsecs[k].owner = records[k].owner.wire();
            std::copy_n(hashes[k].begin(), z_.nsec3_hashes[k].size(), z_.nsec3_hashes[k].begin());
        }
        z_.nsec_of.assign(z_.nodes.size(), -1);
        z_.wild_cover.assign(z_.nodes.size(), -1);
        for (uint32_t i = 0; i < z_.nodes.size(); ++i) {
            const VNode& n = z_.nodes[i];
            if (node_reach(z_, n) == NodeReach::Other) continue;
            auto name = core::Name::from_wire(n.name);
            if (!name) continue;
            if (auto k = chain.find(*name)) {
                z_.nsec_of[i] = int32_t(*k);
                z_.nsecs[*k].node = i;
            }
            z_.wild_cover[i] = int32_t(chain.covering(name->wildcard_child()));
        }
        for (std::size_t k = 0; k < records.size(); ++k) {
            NsecData& d = z_.nsecs[k];
            int shapes = 1;
            bool cut = false;
            if (d.node != kNoNode) {
                cut = node_reach(z_, z_.nodes[d.node]) == NodeReach::Delegation;
                shapes = shape_count(z_.nodes[d.node], cut);
            }
            for (int s = 0; s < shapes; ++s) {
                d.rdata[s] = d.node == kNoNode ? records[k].rdata
                                               : chain.rdata_with(k, shape_types(z_.nodes[d.node], cut, s), cut);
                d.sigs[s] = sigs(records[k].owner, rt::NSEC3, z_.negative_ttl, {&d.rdata[s], 1}, false);
            }
        }
    }

    View& view_;
    ZoneData& z_;
    const zones::DnssecSettings& settings_;
    SignatureCache& cache_;
    int64_t now_;
    std::vector<const dnssec::Signer*> zsk_, ksk_;
};

}  // namespace

void sign_view(View& view) {
    if (!view.options_.signing) return;
    SignatureCache own;
    SignatureCache& cache = view.options_.signatures ? *view.options_.signatures : own;
    const int64_t now = view.options_.now_unix ? view.options_.now_unix : int64_t(std::time(nullptr));
    cache.begin_build();
    std::vector<SigIndex::Item> items;
    for (auto& z : view.zones_) {
        if (!z.zone || !z.zone->dnssec.sign) continue;
        auto it = view.options_.signing->find(z.origin);
        if (it == view.options_.signing->end() || it->second.keys.empty()) continue;
        ZoneSigner(view, z, it->second, cache, now).sign(items);
        view.any_signed_ = true;
    }
    view.sig_index_.build(std::move(items));
    cache.end_build();
}

void SigIndex::build(std::vector<Item> items) {
    std::size_t cap = 8;
    while (cap < items.size() * 2 + 2) cap *= 2;
    slots_.assign(cap, Item{});
    mask_ = cap - 1;
    for (auto& it : items) {
        std::size_t i = hash(it.what, it.where, it.type) & mask_;
        while (slots_[i].sigs) i = (i + 1) & mask_;
        slots_[i] = it;
    }
}

}  // namespace signpost::dns::detail
