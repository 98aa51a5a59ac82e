// Renders a zone's evaluated content into records for AXFR/IXFR, the same
// way dns/view.cpp renders it for queries. No I/O.
#include "xfr/zone_content.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/wire.hpp"

namespace signpost::xfr {

namespace {

using core::put32;

std::size_t serial_offset(const std::string& rdata) {
    // mname and rname are uncompressed wire names.
    std::size_t off = 0;
    for (int names = 0; names < 2 && off < rdata.size(); ++names) {
        while (off < rdata.size() && rdata[off] != 0) off += 1 + uint8_t(rdata[off]);
        ++off;
    }
    return off;
}

}  // namespace

Record with_serial(const Record& soa, uint32_t serial) {
    Record r = soa;
    std::size_t off = serial_offset(r.rdata);
    if (off + 4 <= r.rdata.size())
        for (int i = 0; i < 4; ++i) r.rdata[off + std::size_t(i)] = char((serial >> (24 - 8 * i)) & 0xff);
    return r;
}

uint32_t serial_of(const Record& soa) {
    std::size_t off = serial_offset(soa.rdata);
    if (off + 4 > soa.rdata.size()) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | uint8_t(soa.rdata[off + std::size_t(i)]);
    return v;
}

ZoneContent render_zone(const zones::Zone& zone, std::span<const policy::Evaluation> evaluations) {
    ZoneContent out;
    out.origin = zone.origin;
    auto& soa = zone.soa;
    out.soa.owner = std::string(zone.origin.wire());
    out.soa.type = zones::rrtype::SOA;
    out.soa.ttl = soa.ttl;
    out.soa.rdata = std::string(soa.mname.wire());
    out.soa.rdata += soa.rname.wire();
    for (uint32_t v : {soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum}) put32(out.soa.rdata, v);

    // Owners whose A/AAAA come from a service, and state TXT owners.
    std::set<std::string, std::less<>> service_owners, state_owners;
    for (auto& svc : zone.services) {
        for (auto& o : svc.owners)
            if (o.is_subdomain_of(zone.origin)) service_owners.emplace(o.wire());
        if (auto n = core::Name::from_text(svc.name + "._signpost", zone.origin)) state_owners.emplace(n->wire());
    }
    for (auto& [name, node] : zone.nodes) {
        if (!name.is_subdomain_of(zone.origin)) continue;
        for (auto& rrset : node.rrsets) {
            if (rrset.type == zones::rrtype::SOA) continue;
            if ((rrset.type == zones::rrtype::A || rrset.type == zones::rrtype::AAAA) &&
                service_owners.count(name.wire()))
                continue;
            if (rrset.type == zones::rrtype::TXT && state_owners.count(name.wire())) continue;
            for (auto rd : rrset.rdatas) out.records.push_back({std::string(name.wire()), rrset.type, rrset.ttl, std::string(rd)});
        }
    }
    for (auto& svc : zone.services) {
        policy::Decision missing;
        missing.label = "unknown";
        missing.reason = "no evaluation yet";
        const policy::Decision& d = svc.index < evaluations.size() ? evaluations[svc.index].decision : missing;
        std::set<std::string> v4, v6;
        uint32_t address_ttl = d.ttl;  // one TTL per RRset: the lowest a variant carries
        for (auto& v : d.variants) {
            for (auto& a : v.v4) v4.insert(std::string(reinterpret_cast<const char*>(a.bytes.data()), 4));
            for (auto& a : v.v6) v6.insert(std::string(reinterpret_cast<const char*>(a.bytes.data()), 16));
            if (!v.v4.empty() || !v.v6.empty()) address_ttl = std::min(address_ttl, policy::address_ttl(d.ttl, v));
        }
        // A hostname endpoint as the first variant: CNAME at owners that may hold one
        // (as dns/ answers it; a CNAME RRset holds one target, so the first variant's).
        const policy::Variant* cname = !d.variants.empty() && d.variants.front().cname ? &d.variants.front() : nullptr;
        for (auto& o : svc.owners) {
            if (!o.is_subdomain_of(zone.origin)) continue;
            if (cname && o != zone.origin && !svc.flatten) {
                out.records.push_back({std::string(o.wire()), zones::rrtype::CNAME, d.ttl, std::string(cname->cname->wire())});
                continue;
            }
            for (auto& a : v4) out.records.push_back({std::string(o.wire()), zones::rrtype::A, address_ttl, a});
            for (auto& a : v6) out.records.push_back({std::string(o.wire()), zones::rrtype::AAAA, address_ttl, a});
        }
        auto state = core::Name::from_text(svc.name + "._signpost", zone.origin);
        if (!state) continue;
        std::string rd;
        for (const std::string* s : {&d.label, &d.reason}) {
            std::size_t n = std::min<std::size_t>(s->size(), 255);
            rd.push_back(char(n));
            rd.append(*s, 0, n);
        }
        out.records.push_back({std::string(state->wire()), zones::rrtype::TXT, d.ttl, rd});
    }
    std::sort(out.records.begin(), out.records.end());
    out.records.erase(std::unique(out.records.begin(), out.records.end()), out.records.end());
    return out;
}

std::vector<Record> minus(const std::vector<Record>& a, const std::vector<Record>& b) {
    std::vector<Record> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

uint64_t content_digest(const ZoneContent& c) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](const std::string& s) {
        for (unsigned char ch : s) {
            h ^= ch;
            h *= 1099511628211ull;
        }
        h ^= 0xff;
        h *= 1099511628211ull;
    };
    auto rec = [&](const Record& r) {
        mix(r.owner);
        mix(fmt::format("{} {}", r.type, r.ttl));
        mix(r.rdata);
    };
    rec(with_serial(c.soa, 0));
    for (auto& r : c.records) rec(r);
    return h;
}

}  // namespace signpost::xfr
