// Signs a View's signed zones (issue 15) when it is built: every RRset the zone can
// serve (static data, the SOA, the state TXT, DNSKEY/CDS/CDNSKEY at the apex, every
// variant of every decision of every service at each of its owners) and an NSEC or
// NSEC3 chain with one record per answer shape at service owners. What no health change
// alters (a SignedZone) is taken over from the View before while its inputs are the
// same, so that a flip neither looks up nor sorts it again; when they differ (a reload,
// a key rollover) each of its signatures whose signed data is unchanged is found in the
// View before by name (SignedLookup), so a reload signs only what changed. The rest (a
// service's answers no SignedZone presigned, the apex's own sets, the state TXT) comes
// from the SignatureCache, so a View built after a health change signs only what no
// earlier View signed. A state TXT whose text is unchanged keeps the View before's
// signatures, and over ViewOptions::state_signature_budget a changed one keeps its
// previous text until sign_pending() has signed the new one. Control loop only; the
// query path reads View::sig_index_ and ZoneData::denial().
#include <algorithm>
#include <ctime>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "dns/signing.hpp"
#include "core/wire.hpp"
#include "dns/view_impl.hpp"
#include "dnssec/denial.hpp"
#include "dnssec/sign.hpp"

namespace signpost::dns::detail {

namespace rt = zones::rrtype;

namespace {

std::string address_rdata(const core::IpAddress& a) {
    return std::string(reinterpret_cast<const char*>(a.bytes.data()), a.size());
}

// The signatures a signed zone of a View serves, found by what they sign (owner name,
// type, original TTL, rdata) rather than by the RRset objects that hold them: a View
// built after a reload (a new catalog), with other keys or other shapes takes those whose
// signed data is unchanged, and a transfer of the zone finds them, instead of signing
// again or keeping a second index of every signature (SignatureCache::Keep::No).
class SignedLookup {
public:
    explicit SignedLookup(const ZoneData* z) : z_(z && z->signing ? z : nullptr) {}

    // A static RRset's (the catalog's: not the View's own), its records in any order
    // (a transfer's are sorted; a signature covers the canonical order either way).
    const SigSet* rrset(std::string_view owner, uint16_t type, uint32_t ttl, const zones::RdataList& rdatas) const {
        const VNode* n = node(owner);
        const zones::RRset* s = n ? n->find(type) : nullptr;
        if (!s || s->ttl != ttl || !same_records(s->rdatas, rdatas)) return nullptr;
        return z_->signing->statics.find(s);
    }
    // A presigned address set's (`rdatas` sorted, distinct).
    const SigSet* presigned(std::string_view owner, uint16_t type, uint32_t ttl,
                            const std::vector<std::string>& rdatas) const {
        const VNode* n = node(owner);
        const std::vector<Presigned>* list = n ? z_->signing->presigned_at(index(*n)) : nullptr;
        if (list)
            for (const Presigned& p : *list)
                if (p.type == type && p.ttl == ttl && p.rdatas == rdatas) return &p.sigs;
        return nullptr;
    }
    // An NSEC's at `owner`, or an NSEC3's (`owner` its hashed name), of any shape.
    const SigSet* denial(std::string_view owner, uint16_t type, std::string_view rdata) const {
        if (!z_) return nullptr;
        const Denial& dn = z_->signing->denial;
        int64_t k = -1;
        if (type == rt::NSEC && !dn.nsec3) {
            if (const VNode* n = node(owner); n && index(*n) < dn.nsec_of.size()) k = dn.nsec_of[index(*n)];
        } else if (type == rt::NSEC3 && dn.nsec3) {
            // The owners are in hash order, and so in byte order: every first label is a
            // hash of the same length (base32hex keeps the order) over the same origin.
            auto it = std::lower_bound(dn.nsec3_owners.begin(), dn.nsec3_owners.end(), owner,
                                       [](const std::string& a, std::string_view b) { return a < b; });
            if (it != dn.nsec3_owners.end() && *it == owner) k = it - dn.nsec3_owners.begin();
        }
        if (k < 0 || std::size_t(k) >= dn.nsecs.size()) return nullptr;
        const NsecData& d = dn.nsecs[std::size_t(k)];
        // NSEC: the next owner's name, then the record's bit maps.
        const std::string_view next = dn.nsec3 ? std::string_view() : dn.next_name(std::size_t(k), z_->nodes);
        if (!rdata.starts_with(next)) return nullptr;
        rdata.remove_prefix(next.size());
        for (uint32_t r = d.first; r < d.first + d.count && r < dn.records.size(); ++r)
            if (dn.bytes(dn.records[r]) == rdata) return &dn.records[r].sigs;
        return nullptr;
    }
    // The RRSIG in `sigs` that `signer` made over `type` with original TTL `ttl` and that
    // may still be served at `now` (more than `refresh` seconds from expiring); empty:
    // none. A key is known by its DNSKEY among the zone's signers, not by its tag alone
    // (two keys may share a tag).
    core::SharedBytes usable(const SigSet* sigs, const dnssec::Signer& signer, uint16_t type, uint32_t ttl,
                             int64_t now, int64_t refresh) const {
        if (!sigs || std::find(z_->signing->keys.begin(), z_->signing->keys.end(), signer.dnskey()) ==
                         z_->signing->keys.end())
            return {};
        for (const core::SharedBytes& r : *sigs)
            if (rrsig_made_by(r.view(), signer, type, ttl) && rrsig_expiration(r.view(), now) - now >= refresh)
                return r;
        return {};
    }

private:
    // The same set of records (an RRset holds no duplicates).
    static bool same_records(const zones::RdataList& a, const zones::RdataList& b) noexcept {
        if (a == b) return true;
        if (a.packed().size() != b.packed().size()) return false;
        std::size_t n = 0;
        for (std::string_view rd : b) {
            if (!a.contains(rd)) return false;
            ++n;
        }
        return n == a.size();
    }
    const VNode* node(std::string_view owner) const noexcept {
        return z_ ? z_->find(reinterpret_cast<const uint8_t*>(owner.data()), owner.size()) : nullptr;
    }
    uint32_t index(const VNode& n) const noexcept { return uint32_t(&n - z_->nodes.data()); }
    const ZoneData* z_;
};

// Signs one zone of a View. What no health change alters (static RRsets, the denial
// chain, each owner's presigned address sets) goes into a SignedZone, taken from the
// previous View when its inputs are the same; the View's own RRsets (SOA, keys, state
// TXT) and its services' current answers are looked up per View.
class ZoneSigner {
public:
    ZoneSigner(View& view, ZoneData& z, const dnssec::ZoneKeys& keys, SignatureCache& cache, int64_t now,
               const std::unordered_set<const zones::RRset*>& own)
        : view_(view), z_(z), settings_(z.zone->dnssec()), cache_(cache), now_(now), own_(own) {
        // Only keys whose state (ZoneKeys::at) says signing: a pre-published ZSK or a KSK
        // waiting for its DS is in the DNSKEY set and signs nothing yet.
        zsk_ = keys.signers(false);
        ksk_ = keys.signers(true);
        for (auto* list : {&zsk_, &ksk_}) {
            for (const dnssec::Signer* s : *list) keys_.push_back(s->dnskey());
            keys_.emplace_back();  // ZSKs, then KSKs
        }
    }

    void sign(std::vector<SigIndex::Item>& items, const ZoneData* before) {
        z_.signed_zone = true;
        auto made = std::make_shared<SignedZone>();
        inputs(*made);
        if (before && before->signing && same_inputs(*before->signing, *made) && fresh(before->signing->expiration)) {
            z_.signing = before->signing;
            cache_.note_expiration(z_.signing->expiration);
        } else {
            carry_ = SignedLookup(before);
            make(*made);
            z_.signing = std::move(made);
        }
        const SignedZone& sz = *z_.signing;  // its statics: sign_view adds them
        // This View's own RRsets at the apex: the SOA when the catalog's differs, the key
        // sets, NSEC3PARAM. (The state TXT records are signed by sign_state().)
        for (const VNode& n : z_.nodes) {
            if (!n.apex) continue;
            std::optional<core::Name> owner;
            for (const zones::RRset* s : n.rrsets) {
                if (!own_.count(s)) continue;  // no state TXT at the apex
                if (!owner && !(owner = core::Name::from_wire(n.name()))) break;
                bool key_set = s->type == rt::DNSKEY || s->type == rt::CDS || s->type == rt::CDNSKEY;
                items.push_back({s, nullptr, s->type, sign_set(*owner, s->type, s->ttl, s->rdatas, key_set)});
            }
            break;
        }
        // The services' current answers, at the owners that answer them (SignedZone::presigned).
        for (auto& [node, pre] : sz.presigned) {
            const VNode& n = z_.nodes[node];
            if (n.service >= 0 && std::size_t(n.service) < view_.services_.size())
                sign_service(node, pre, view_.services_[std::size_t(n.service)], items);
        }
    }

    // Service i's state TXT (in this zone): its signatures from the View before when the
    // text is the same, else from the cache (or signed) while `budget` lasts; over it the
    // TXT keeps its previous text (still signed) and its new one is listed in View::pending_.
    // A cache lookup costs a few microseconds, so over the budget none is made.
    void sign_state(std::size_t i, std::vector<SigIndex::Item>& items, const View* before, std::size_t& budget) {
        auto& st = view_.state_txts_[i];
        const VNode& n = z_.nodes[st.node];
        const View::StateTxt* was = nullptr;
        if (before && i < before->state_txts_.size()) {
            const auto& b = before->state_txts_[i];
            if (b.txt && b.sigs && b.zone < before->zones_.size()) {
                const ZoneData& bz = before->zones_[b.zone];
                if (bz.signing && b.node < bz.nodes.size() && bz.nodes[b.node].name() == n.name() && fresh(b.expiration) &&
                    bz.signing->keys == keys_)
                    was = &b;
            }
        }
        if (was && was->txt->ttl == st.txt->ttl && was->txt->rdatas == st.txt->rdatas) {
            st.sigs = was->sigs;
            st.expiration = was->expiration;
        } else if (budget == 0 && was) {
            // Over budget: serve the previous text under its signatures; sign the new one later.
            auto owner = core::Name::from_wire(n.name());
            if (owner && !st.txt->rdatas.empty())
                view_.pending_.push_back({st.zone, *owner, st.txt->ttl, std::string(st.txt->rdatas.front())});
            st.txt->ttl = was->txt->ttl;
            st.txt->rdatas = was->txt->rdatas;
            st.sigs = was->sigs;
            st.expiration = was->expiration;
        } else {
            auto owner = core::Name::from_wire(n.name());
            if (!owner) return;
            if (budget > 0 && budget != SIZE_MAX) --budget;
            auto sigs = std::make_shared<SigSet>(sigs_of(*owner, rt::TXT, st.txt->ttl, st.txt->rdatas, false));
            st.expiration = min_expiration(*sigs);
            st.sigs = std::move(sigs);
        }
        cache_.note_expiration(st.expiration);
        items.push_back({st.txt, nullptr, rt::TXT, st.sigs.get()});
    }

private:
    // The inputs a SignedZone is made from (see SignedZone).
    void inputs(SignedZone& sz) {
        sz.table = z_.zone->nodes.identity();
        sz.keys = keys_;
        sz.negative_ttl = z_.negative_ttl;
        // Which owners are where and what they are is the table's (and the zone's
        // services', loaded with it); what a View may change is whether a service
        // owner answers CNAME (shape_count).
        for (const VNode& n : z_.nodes)
            if (n.service >= 0)
                sz.shapes.push_back(n.cname_ok && std::size_t(n.service) < view_.services_.size() &&
                                    view_.services_[std::size_t(n.service)].any_cname);
    }
    static bool same_inputs(const SignedZone& a, const SignedZone& b) {
        // A table that was never filled has no identity: never taken for another.
        return a.table && a.table == b.table && a.keys == b.keys && a.negative_ttl == b.negative_ttl &&
               a.shapes == b.shapes;
    }
    // Signatures expiring at `expiration` may still be served: `refresh` is not reached
    // (SignatureCache makes them again past it).
    bool fresh(int64_t expiration) const { return expiration - now_ >= settings_.refresh.count() / 1000; }

    // Everything of a SignedZone but its inputs.
    void make(SignedZone& sz) {
        std::unordered_set<const zones::RRset*> states;  // this View's state TXT records: signed per View
        for (auto& st : view_.state_txts_)
            if (st.txt) states.insert(st.txt);
        std::vector<uint32_t> owners;
        for (uint32_t i = 0; i < z_.nodes.size(); ++i) {
            const VNode& n = z_.nodes[i];
            NodeReach reach = node_reach(z_, n);
            if (reach == NodeReach::Other || n.empty()) continue;
            owners.push_back(i);
            auto owner = core::Name::from_wire(n.name());
            if (!owner) continue;
            for (const zones::RRset* s : n.rrsets) {
                if (own_.count(s) || states.count(s)) continue;  // this View's own: signed per View
                // At a cut only the DS is the parent's (and signed); NS and glue are not.
                if (reach == NodeReach::Delegation && s->type != rt::DS) continue;
                const SigSet* was = carry_.rrset(n.name(), s->type, s->ttl, s->rdatas);
                sz.statics.add(s, sigs_of(*owner, s->type, s->ttl, s->rdatas, false, was, true));
            }
            if (n.service >= 0 && reach == NodeReach::Exact) presign_pools(sz, i, *owner);  // in node order
        }
        sz.statics.build();
        if (settings_.denial == zones::DenialKind::Nsec3) chain3(sz.denial, owners);
        else chain(sz.denial, owners);
        sz.denial.seal();
        sz.expiration = 0;
        sz.statics.for_each([&](const zones::RRset*, const SigSet& ss) { fold(sz.expiration, min_expiration(ss)); });
        for (auto& r : sz.denial.records) fold(sz.expiration, min_expiration(r.sigs));
        for (auto& [node, list] : sz.presigned)
            for (auto& p : list) fold(sz.expiration, min_expiration(p.sigs));
        cache_.note_expiration(sz.expiration);
    }
    static void fold(int64_t& acc, int64_t e) {
        if (e != 0 && (acc == 0 || e < acc)) acc = e;
    }
    int64_t min_expiration(const SigSet& ss) const {
        int64_t m = 0;
        for (auto& r : ss) fold(m, rrsig_expiration(r.view(), now_));
        return m;
    }

    // Per signing key: its signature in `was` (the same data's in the View before, see
    // SignedLookup) while fresh, else the cache's or a new one. `in_signed_zone`: the
    // signatures go into a SignedZone, where the View after finds them; the cache does
    // not keep them (SignatureCache::Keep::No).
    SigSet sigs_of(const core::Name& owner, uint16_t type, uint32_t ttl, const zones::RdataList& rdatas,
                   bool key_set, const SigSet* was = nullptr, bool in_signed_zone = false) {
        SigSet ss;
        const int64_t refresh = settings_.refresh.count() / 1000;
        for (const dnssec::Signer* s : key_set ? ksk_ : zsk_) {
            core::SharedBytes r = carry_.usable(was, *s, type, ttl, now_, refresh);
            if (r.empty())
                r = cache_.rrsig(*s, settings_, owner, type, ttl, rdatas, now_,
                                 in_signed_zone ? SignatureCache::Keep::No : SignatureCache::Keep::Yes);
            ss.push_back(std::move(r));
        }
        return ss;
    }
    // A SigSet this View keeps (its own RRsets, answers no SignedZone presigned).
    const SigSet* sign_set(const core::Name& owner, uint16_t type, uint32_t ttl, const zones::RdataList& rdatas,
                           bool key_set) {
        auto ss = std::make_shared<SigSet>(sigs_of(owner, type, ttl, rdatas, key_set));
        cache_.note_expiration(min_expiration(*ss));
        view_.sigsets_.push_back(ss);
        return ss.get();
    }

    // The zone's service behind View service index i, or null.
    const zones::Service* service_of(int32_t i) const {
        if (!view_.catalog_ || i < 0 || std::size_t(i) >= view_.catalog_->services.size()) return nullptr;
        auto& ref = view_.catalog_->services[std::size_t(i)];
        return &view_.catalog_->zones[ref.zone].services[ref.service];
    }

    // Every variant of every decision the service may answer with at this owner: a
    // presigned address set when one matches, else signed (or found in the cache) for
    // this View. The original TTL is the service's `ttl`: an unstable answer serves a
    // lower TTL under the same signature (a served TTL may be lower than the signed one,
    // never higher).
    void sign_service(uint32_t node, const std::vector<Presigned>& pre, const ServiceData& sd,
                      std::vector<SigIndex::Item>& items) {
        const VNode& n = z_.nodes[node];
        const zones::Service* svc = service_of(n.service);
        auto signed_ttl = [&](uint32_t ttl) { return std::max(ttl, svc ? svc->ttl : 0u); };
        std::optional<core::Name> owner;
        auto sign_new = [&](uint16_t type, uint32_t ttl, const zones::RdataList& rdatas) -> const SigSet* {
            if (!owner && !(owner = core::Name::from_wire(n.name()))) return nullptr;
            return sign_set(*owner, type, ttl, rdatas, false);
        };
        auto decision = [&](const DecisionData& d) {
            if (!d.decision) return;
            const uint32_t ttl = signed_ttl(d.decision->ttl);
            for (const policy::Variant& v : d.decision->variants) {
                if (v.cname && n.cname_ok) {
                    std::string target(v.cname->wire());
                    if (auto* ss = sign_new(rt::CNAME, ttl, zones::RdataList{target})) items.push_back({&v, &n, rt::CNAME, ss});
                    continue;
                }
                for (bool six : {false, true}) {
                    const uint16_t type = six ? rt::AAAA : rt::A;
                    std::size_t count = 0;
                    for (auto& a : six ? v.v6 : v.v4) count += a.v6 == six;
                    if (count == 0) continue;
                    const SigSet* found = nullptr;
                    for (auto& p : pre)
                        if (p.type == type && p.ttl == ttl && same_set(p.rdatas, six ? v.v6 : v.v4, six, count)) {
                            found = &p.sigs;
                            break;
                        }
                    if (!found) {
                        std::vector<std::string> rdatas;
                        for (auto& a : six ? v.v6 : v.v4)
                            if (a.v6 == six) rdatas.push_back(address_rdata(a));
                        found = sign_new(type, ttl, rdatas);
                    }
                    if (found) items.push_back({&v, &n, type, found});
                }
            }
        };
        decision(sd.fallback);
        for (auto& d : sd.rules) decision(d);
        for (auto& d : sd.geo_rules) decision(d);
        for (auto& d : sd.geo_pools) decision(d);
    }
    // The addresses of one family (`count` of them) are the sorted, distinct `rdatas`
    // (an RRset is a set: a repeated address is signed once).
    static bool same_set(const std::vector<std::string>& rdatas, const std::vector<core::IpAddress>& addrs, bool six,
                         std::size_t count) {
        if (count < rdatas.size()) return false;
        for (auto& a : addrs) {
            if (a.v6 != six) continue;
            std::string_view rd(reinterpret_cast<const char*>(a.bytes.data()), a.size());
            if (!std::binary_search(rdatas.begin(), rdatas.end(), rd,
                                    [](std::string_view x, std::string_view y) { return x < y; }))
                return false;
        }
        // Every address is in the set; the set holds no address the answer lacks.
        if (count == rdatas.size()) return true;
        for (auto& r : rdatas) {
            bool seen = false;
            for (auto& a : addrs)
                if (a.v6 == six && std::string_view(reinterpret_cast<const char*>(a.bytes.data()), a.size()) == r) {
                    seen = true;
                    break;
                }
            if (!seen) return false;
        }
        return true;
    }

    // Answers other states give, signed ahead so that a failover finds them: each
    // pool's whole address set and every pool's together (all down).
    void presign_pools(SignedZone& sz, uint32_t node, const core::Name& owner) {
        std::vector<Presigned>& list = sz.presigned.emplace_back(node, std::vector<Presigned>{}).second;
        const zones::Service* svc = service_of(z_.nodes[node].service);
        if (!svc) return;
        const zones::Zone& zone = *z_.zone;
        auto add = [&](int six, std::vector<std::string> rdatas) {
            if (rdatas.empty()) return;
            std::sort(rdatas.begin(), rdatas.end());
            rdatas.erase(std::unique(rdatas.begin(), rdatas.end()), rdatas.end());
            for (auto& p : list)
                if (p.type == (six ? rt::AAAA : rt::A) && p.rdatas == rdatas) return;
            Presigned p;
            p.type = six ? rt::AAAA : rt::A;
            p.ttl = svc->ttl;
            p.sigs = sigs_of(owner, p.type, p.ttl, rdatas, false, carry_.presigned(owner.wire(), p.type, p.ttl, rdatas),
                             true);
            p.rdatas = std::move(rdatas);
            list.push_back(std::move(p));
        };
        std::vector<std::string> all[2];
        for (std::size_t p : svc->pools) {
            if (p >= zone.pools.size()) continue;
            std::vector<std::string> one[2];
            for (auto& e : zone.pools[p].endpoints) {
                if (e.hostname) continue;
                one[e.address.v6].push_back(address_rdata(e.address));
                all[e.address.v6].push_back(address_rdata(e.address));
            }
            for (int six = 0; six < 2; ++six) add(six, std::move(one[six]));
        }
        for (int six = 0; six < 2; ++six) add(six, std::move(all[six]));
    }

    // One NSEC per owner in canonical order, the last pointing back to the apex (RFC 4034 4.1.1).
    void chain(Denial& dn, std::vector<uint32_t>& owners) {
        std::sort(owners.begin(), owners.end(), [&](uint32_t a, uint32_t b) {
            return dnssec::canonical_compare(z_.nodes[a].name(), z_.nodes[b].name()) < 0;
        });
        dn.nsec_of.assign(z_.nodes.size(), -1);
        dn.nsecs.resize(owners.size());
        dn.records.reserve(owners.size());
        std::unordered_map<std::string, uint32_t> bitmaps;  // most owners share theirs
        for (std::size_t k = 0; k < owners.size(); ++k) {
            const VNode& n = z_.nodes[owners[k]];
            NsecData& d = dn.nsecs[k];
            d.node = owners[k];
            d.first = uint32_t(dn.records.size());
            dn.nsec_of[owners[k]] = int32_t(k);
            const std::string_view next = z_.nodes[owners[(k + 1) % owners.size()]].name();
            const bool cut = node_reach(z_, n) == NodeReach::Delegation;
            const int shapes = shape_count(n, cut);
            auto owner = core::Name::from_wire(n.name());
            if (!owner) continue;
            for (int s = 0; s < shapes; ++s) {
                std::vector<uint16_t> types = shape_types(n, cut, s);
                // An unsigned delegation's NSEC has no RRSIG bit of its own data, but the NSEC
                // itself is signed, so RRSIG stays (RFC 4035 2.3).
                types.push_back(rt::NSEC);
                types.push_back(rt::RRSIG);
                const std::string bitmap = dnssec::type_bitmap(types);
                const std::string rdata = std::string(next) + bitmap;
                NsecRecord& r = dn.add(bitmap, &bitmaps);
                r.sigs = sigs_of(*owner, rt::NSEC, z_.negative_ttl, zones::RdataList{rdata}, false,
                                 carry_.denial(n.name(), rt::NSEC, rdata), true);
            }
            d.count = uint8_t(shapes);
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
    void chain3(Denial& dn, const std::vector<uint32_t>& owners) {
        auto apex = core::Name::from_wire(z_.origin);
        if (!apex) return;
        std::vector<dnssec::OwnerTypes> list;
        list.reserve(owners.size());
        for (uint32_t i : owners) {
            const VNode& n = z_.nodes[i];
            auto owner = core::Name::from_wire(n.name());
            if (!owner) continue;
            const bool cut = node_reach(z_, n) == NodeReach::Delegation;
            list.push_back({*owner, shape_types(n, cut, kShapeNone), cut});
        }
        dnssec::Nsec3Chain chain(*apex, std::move(list), {settings_.nsec3_salt, settings_.nsec3_iterations});
        const auto& records = chain.records();
        const auto& hashes = chain.hashes();
        dn.nsec3 = true;
        dn.nsec3_salt = settings_.nsec3_salt;
        dn.nsecs.assign(records.size(), NsecData{});
        dn.nsec3_owners.resize(records.size());
        dn.nsec3_hashes.resize(records.size());
        for (std::size_t k = 0; k < records.size(); ++k) {
            dn.nsecs[k].node = kNoNode;
            dn.nsec3_owners[k] = records[k].owner.wire();
            std::copy_n(hashes[k].begin(), dn.nsec3_hashes[k].size(), dn.nsec3_hashes[k].begin());
        }
        dn.nsec_of.assign(z_.nodes.size(), -1);
        dn.wild_cover.assign(z_.nodes.size(), -1);
        for (uint32_t i = 0; i < z_.nodes.size(); ++i) {
            const VNode& n = z_.nodes[i];
            if (node_reach(z_, n) == NodeReach::Other) continue;
            auto name = core::Name::from_wire(n.name());
            if (!name) continue;
            if (auto k = chain.find(*name)) {
                dn.nsec_of[i] = int32_t(*k);
                dn.nsecs[*k].node = i;
            }
            dn.wild_cover[i] = int32_t(chain.covering(name->wildcard_child()));
        }
        for (std::size_t k = 0; k < records.size(); ++k) {
            NsecData& d = dn.nsecs[k];
            int shapes = 1;
            bool cut = false;
            if (d.node != kNoNode) {
                cut = node_reach(z_, z_.nodes[d.node]) == NodeReach::Delegation;
                shapes = shape_count(z_.nodes[d.node], cut);
            }
            d.first = uint32_t(dn.records.size());
            for (int s = 0; s < shapes; ++s) {
                const std::string rdata = d.node == kNoNode
                                              ? records[k].rdata
                                              : chain.rdata_with(k, shape_types(z_.nodes[d.node], cut, s), cut);
                NsecRecord& r = dn.add(rdata);
                r.sigs = sigs_of(records[k].owner, rt::NSEC3, z_.negative_ttl, zones::RdataList{rdata}, false,
                                 carry_.denial(records[k].owner.wire(), rt::NSEC3, rdata), true);
            }
            d.count = uint8_t(shapes);
        }
    }

    View& view_;
    ZoneData& z_;
    const zones::DnssecSettings& settings_;
    SignatureCache& cache_;
    int64_t now_;
    const std::unordered_set<const zones::RRset*>& own_;  // the View's own RRsets but state TXT
    std::vector<const dnssec::Signer*> zsk_, ksk_;
    std::vector<std::string> keys_;  // SignedZone::keys of these signers
    SignedLookup carry_{nullptr};    // the zone in the View before, while make() runs
};

}  // namespace

void sign_view(View& view, const View* before) {
    if (!view.options_.signing) return;
    SignatureCache own;
    SignatureCache& cache = view.options_.signatures ? *view.options_.signatures : own;
    const int64_t now = view.options_.now_unix ? view.options_.now_unix : int64_t(std::time(nullptr));
    cache.begin_build();
    // The View's own RRsets but its state TXT records (the only TXT it makes).
    std::unordered_set<const zones::RRset*> owned;
    for (auto& s : view.owned_)
        if (s.type != rt::TXT) owned.insert(&s);
    std::vector<SigIndex::Item> items;
    std::vector<std::unique_ptr<ZoneSigner>> signers(view.zones_.size());
    for (std::size_t zi = 0; zi < view.zones_.size(); ++zi) {
        auto& z = view.zones_[zi];
        if (!z.zone || !z.zone->dnssec().sign) continue;
        auto it = view.options_.signing->find(z.origin);
        if (it == view.options_.signing->end() || it->second.keys.empty()) continue;
        const ZoneData* was = nullptr;
        if (before) {
            int32_t k = before->find_zone(reinterpret_cast<const uint8_t*>(z.origin.data()), z.origin.size());
            if (k >= 0) was = &before->zones_[std::size_t(k)];
        }
        signers[zi] = std::make_unique<ZoneSigner>(view, z, it->second, cache, now, owned);
        signers[zi]->sign(items, was);
        view.any_signed_ = true;
    }
    std::size_t budget = view.options_.state_signature_budget;
    for (std::size_t i = 0; i < view.state_txts_.size(); ++i)
        if (view.state_txts_[i].txt && view.state_txts_[i].zone < signers.size() && signers[view.state_txts_[i].zone])
            signers[view.state_txts_[i].zone]->sign_state(i, items, before, budget);
    // The largest zone's static signatures stay in its SignedZone's index (the View's
    // falls back to it); the other zones' are added to the View's.
    const ZoneData* base = nullptr;
    for (auto& z : view.zones_)
        if (z.signing && (!base || z.signing->statics.size() > base->signing->statics.size())) base = &z;
    for (auto& z : view.zones_)
        if (z.signing && &z != base)
            z.signing->statics.for_each(
                [&](const zones::RRset* s, const SigSet& ss) { items.push_back({s, nullptr, s->type, &ss}); });
    if (base) view.sig_index_.build(std::move(items), &base->signing->statics, base->signing);
    else view.sig_index_.build(std::move(items));
    cache.end_build();
}

const std::vector<Presigned>* SignedZone::presigned_at(uint32_t node) const noexcept {
    auto it = std::lower_bound(presigned.begin(), presigned.end(), node,
                               [](const auto& p, uint32_t n) { return p.first < n; });
    return it != presigned.end() && it->first == node ? &it->second : nullptr;
}

const SigSet* SigIndex::find_static(const void* what) const noexcept { return base_->find(what); }

namespace {

// Open addressing over 4-byte slots (entry index + 1; 0: empty) for `n` entries, at most
// half full (the smallest power of two, at least 8, over 2n + 2); `hash_of(k)` places
// entry k. SigIndex and StaticSigs share it.
template <class HashOf>
void index_slots(std::vector<uint32_t>& slots, std::size_t& mask, std::size_t n, HashOf hash_of) {
    std::size_t cap = 8;
    while (cap < n * 2 + 2) cap *= 2;
    slots.assign(cap, 0);
    mask = cap - 1;
    for (std::size_t k = 0; k < n; ++k) {
        std::size_t i = hash_of(k) & mask;
        while (slots[i] != 0) i = (i + 1) & mask;
        slots[i] = uint32_t(k + 1);
    }
}

}  // namespace

void StaticSigs::build() {
    rrsets_.shrink_to_fit();
    sigs_.shrink_to_fit();
    index_slots(slots_, mask_, rrsets_.size(), [this](std::size_t k) { return hash(rrsets_[k]); });
}

void SigIndex::build(std::vector<Item> items, const StaticSigs* base, std::shared_ptr<const void> owner) {
    base_ = base;
    base_owner_ = std::move(owner);
    items_ = std::move(items);
    std::erase_if(items_, [](const Item& it) { return !it.sigs; });
    items_.shrink_to_fit();
    index_slots(slots_, mask_, items_.size(), [this](std::size_t k) {
        const Item& it = items_[k];
        return hash(it.what, it.where, it.type);
    });
}

}  // namespace signpost::dns::detail

namespace signpost::dns {

std::size_t pending_signatures(const View& view) noexcept { return view.pending_.size(); }

core::SharedBytes served_signature(const View& view, const dnssec::Signer& signer, const core::Name& owner,
                                   uint16_t type, uint32_t ttl, const zones::RdataList& rdatas, int64_t now,
                                   int64_t refresh) {
    const std::string_view origin = signer.zone().wire();
    const int32_t zi = view.find_zone(reinterpret_cast<const uint8_t*>(origin.data()), origin.size());
    if (zi < 0) return {};
    const detail::SignedLookup lookup(&view.zones_[std::size_t(zi)]);
    const std::string_view name = owner.wire();
    const detail::SigSet* sigs = nullptr;
    if (type == zones::rrtype::NSEC || type == zones::rrtype::NSEC3) {
        if (rdatas.size() == 1) sigs = lookup.denial(name, type, rdatas.front());
    } else if (!(sigs = lookup.rrset(name, type, ttl, rdatas)) &&
               (type == zones::rrtype::A || type == zones::rrtype::AAAA)) {
        std::vector<std::string> sorted(rdatas.begin(), rdatas.end());
        std::sort(sorted.begin(), sorted.end());
        sigs = lookup.presigned(name, type, ttl, sorted);
    }
    return lookup.usable(sigs, signer, type, ttl, now, refresh);
}

std::string transfer_signature(const View* view, SignatureCache& cache, const zones::DnssecSettings& settings,
                               const dnssec::Signer& signer, const core::Name& owner, uint16_t type, uint32_t ttl,
                               const zones::RdataList& rdatas, int64_t now) {
    if (view)
        if (auto served = served_signature(*view, signer, owner, type, ttl, rdatas, now, settings.refresh.count() / 1000);
            !served.empty())
            return std::string(served.view());
    return std::string(cache.rrsig(signer, settings, owner, type, ttl, rdatas, now).view());
}

std::size_t sign_pending(const View& view, SignatureCache& cache, std::size_t from, std::size_t budget) {
    const int64_t now = view.options_.now_unix ? view.options_.now_unix : int64_t(std::time(nullptr));
    std::size_t i = from;
    for (; i < view.pending_.size() && i - from < budget; ++i) {
        const auto& p = view.pending_[i];
        if (!view.options_.signing || p.zone >= view.zones_.size()) continue;
        const auto& z = view.zones_[p.zone];
        auto it = view.options_.signing->find(z.origin);
        if (it == view.options_.signing->end() || !z.zone) continue;
        for (const dnssec::Signer* s : it->second.signers(false))
            cache.rrsig(*s, z.zone->dnssec(), p.owner, zones::rrtype::TXT, p.ttl, zones::RdataList{p.rdata}, now);
    }
    return i;
}

}  // namespace signpost::dns
