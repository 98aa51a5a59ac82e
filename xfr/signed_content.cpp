// Signs a transferred zone's records (see signed_content.hpp). No I/O.
#include "xfr/signed_content.hpp"

#include <algorithm>
#include <map>

#include "dnssec/denial.hpp"
#include "dnssec/sign.hpp"

namespace signpost::xfr {

namespace {

namespace rt = zones::rrtype;

bool key_set_type(uint16_t t) { return t == rt::DNSKEY || t == rt::CDS || t == rt::CDNSKEY; }

// The keys that sign `type`: the SEP keys for the apex key sets, else the zone signing
// keys; only those whose state says signing (the View's rule: ZoneKeys::signers).
std::vector<const dnssec::Signer*> signers_for(const dnssec::ZoneKeys& keys, bool key_set) {
    return keys.signers(key_set);
}

void add_signatures(std::vector<Record>& out, const Record& first, const zones::RdataList& rdatas,
                    const dnssec::ZoneKeys& keys, const RrsigFn& rrsig) {
    auto owner = core::Name::from_wire(first.owner);
    if (!owner) return;
    for (const dnssec::Signer* s : signers_for(keys, key_set_type(first.type)))
        out.push_back({first.owner, rt::RRSIG, first.ttl, rrsig(*s, *owner, first.type, first.ttl, rdatas)});
}

}  // namespace

void sign_content(ZoneContent& content, const dnssec::ZoneKeys& keys, uint32_t nsec_ttl, const RrsigFn& rrsig,
                  const std::optional<dnssec::Nsec3Params>& nsec3) {
    const std::string apex(content.origin.wire());
    auto& recs = content.records;
    // The keys' DNSKEY, CDS and CDNSKEY replace any at the apex; no RRSIG or NSEC comes in.
    std::erase_if(recs, [&](const Record& r) {
        return r.type == rt::RRSIG || r.type == rt::NSEC || r.type == rt::NSEC3 || r.type == rt::NSEC3PARAM ||
               (r.owner == apex && key_set_type(r.type));
    });
    for (auto [type, rdatas] : {std::pair{rt::DNSKEY, keys.dnskey_rdatas()}, std::pair{rt::CDS, keys.cds_rdatas()},
                                std::pair{rt::CDNSKEY, keys.cdnskey_rdatas()}})
        for (auto& rd : rdatas) recs.push_back({apex, type, content.soa.ttl, rd});
    if (nsec3) recs.push_back({apex, rt::NSEC3PARAM, nsec_ttl, dnssec::nsec3param_rdata(*nsec3)});
    std::sort(recs.begin(), recs.end());
    recs.erase(std::unique(recs.begin(), recs.end()), recs.end());

    // Delegation points: owners with NS below the apex. Names at or below one are
    // not authoritative, except the DS at the cut itself.
    std::vector<core::Name> cuts;
    for (auto& r : recs)
        if (r.type == rt::NS && r.owner != apex)
            if (auto n = core::Name::from_wire(r.owner)) cuts.push_back(*n);
    auto below_cut = [&](const core::Name& n, bool& at_cut) {
        at_cut = false;
        for (auto& c : cuts) {
            if (n == c) at_cut = true;
            else if (n.is_subdomain_of(c)) return true;
        }
        return false;
    };

    // Owner types for the chain (the SOA is at the apex), and the RRsets to sign.
    std::map<core::Name, dnssec::OwnerTypes, dnssec::CanonicalLess> owners;
    owners[content.origin] = {content.origin, {rt::SOA}, false};
    std::vector<Record> sigs;
    for (std::size_t i = 0; i < recs.size();) {
        std::size_t j = i;
        std::vector<std::string> rdatas;
        for (; j < recs.size() && recs[j].owner == recs[i].owner && recs[j].type == recs[i].type; ++j)
            rdatas.push_back(recs[j].rdata);
        const Record& first = recs[i];
        i = j;
        auto name = core::Name::from_wire(first.owner);
        if (!name || !name->is_subdomain_of(content.origin)) continue;
        bool at_cut = false;
        if (below_cut(*name, at_cut)) continue;  // glue
        auto& o = owners[*name];
        o.name = *name;
        o.types.push_back(first.type);
        o.delegation = at_cut;
        if (at_cut && first.type != rt::DS) continue;  // the child's NS: not ours to sign
        add_signatures(sigs, first, rdatas, keys, rrsig);
    }
    std::vector<dnssec::OwnerTypes> list;
    list.reserve(owners.size());
    for (auto& [n, o] : owners) list.push_back(std::move(o));
    auto add_chain = [&](const std::vector<dnssec::DenialRecord>& chain, uint16_t type) {
        for (auto& d : chain) {
            Record r{std::string(d.owner.wire()), type, nsec_ttl, d.rdata};
            add_signatures(sigs, r, zones::RdataList{r.rdata}, keys, rrsig);
            recs.push_back(std::move(r));
        }
    };
    if (nsec3) add_chain(dnssec::Nsec3Chain(content.origin, std::move(list), *nsec3).records(), rt::NSEC3);
    else add_chain(dnssec::NsecChain(content.origin, std::move(list)).records(), rt::NSEC);
    recs.insert(recs.end(), std::make_move_iterator(sigs.begin()), std::make_move_iterator(sigs.end()));
    std::sort(recs.begin(), recs.end());
    recs.erase(std::unique(recs.begin(), recs.end()), recs.end());
}

std::vector<Record> soa_signatures(const Record& soa, const dnssec::ZoneKeys& keys, const RrsigFn& rrsig) {
    std::vector<Record> out;
    add_signatures(out, soa, zones::RdataList{soa.rdata}, keys, rrsig);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace signpost::xfr
