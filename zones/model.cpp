#include "zones/model.hpp"

#include <algorithm>
#include <cstdio>

namespace signpost::zones {

const char* to_string(PolicyKind k) noexcept {
    switch (k) {
        case PolicyKind::Failover: return "failover";
        case PolicyKind::Weighted: return "weighted";
        case PolicyKind::Multivalue: return "multivalue";
        case PolicyKind::Subnet: return "subnet";
    }
    return "failover";
}
const char* to_string(AllDown a) noexcept {
    switch (a) {
        case AllDown::All: return "all";
        case AllDown::Primary: return "primary";
        case AllDown::Nothing: return "nothing";
    }
    return "all";
}
const char* to_string(Failback f) noexcept {
    switch (f) {
        case Failback::Auto: return "auto";
        case Failback::HoldDown: return "hold-down";
        case Failback::Gated: return "gated";
        case Failback::Manual: return "manual";
    }
    return "auto";
}

void set_serial(Zone& zone, uint32_t serial) {
    zone.soa.serial = serial;
    auto it = zone.nodes.find(zone.origin);
    if (it == zone.nodes.end()) return;
    for (auto& set : it->second.rrsets) {
        if (set.type != rrtype::SOA || set.rdatas.empty()) continue;
        auto& rd = set.rdatas.front();
        if (rd.size() < 20) continue;
        // SERIAL is the first of the five 32-bit fields that end the rdata.
        std::size_t off = rd.size() - 20;
        for (int i = 0; i < 4; ++i) rd[off + i] = char((serial >> (24 - 8 * i)) & 0xff);
    }
}

std::string static_digest(const Zone& zone) {
    // FNV-1a over a canonical walk (owners sorted, types sorted, serial zeroed).
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](const void* p, std::size_t n) {
        auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    std::vector<const Node*> nodes;
    for (auto& [name, node] : zone.nodes) nodes.push_back(&node);
    std::sort(nodes.begin(), nodes.end(), [](auto* a, auto* b) { return a->name < b->name; });
    for (auto* n : nodes) {
        mix(n->name.wire().data(), n->name.wire().size());
        std::vector<const RRset*> sets;
        for (auto& s : n->rrsets) sets.push_back(&s);
        std::sort(sets.begin(), sets.end(), [](auto* a, auto* b) { return a->type < b->type; });
        for (auto* s : sets) {
            mix(&s->type, sizeof s->type);
            mix(&s->ttl, sizeof s->ttl);
            for (auto rd : s->rdatas) {
                if (s->type == rrtype::SOA && rd.size() >= 20) std::fill(rd.end() - 20, rd.end() - 16, '\0');
                uint32_t len = uint32_t(rd.size());
                mix(&len, sizeof len);
                mix(rd.data(), rd.size());
            }
        }
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
    return buf;
}

const Zone* Catalog::find_zone(const core::Name& qname) const noexcept {
    const Zone* best = nullptr;
    for (auto& z : zones) {
        if (qname.is_subdomain_of(z.origin) && (!best || z.origin.wire_length() > best->origin.wire_length()))
            best = &z;
    }
    return best;
}

}  // namespace signpost::zones
