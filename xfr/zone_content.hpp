// What a secondary receives for one zone: the static records plus every
// service's current answer, as plain records. Pure: built on the control loop.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::xfr {

// One resource record; owner is canonical (lower case) uncompressed wire, rdata
// uncompressed wire. Class is always IN.
struct Record {
    std::string owner;
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::string rdata;

    auto operator<=>(const Record&) const = default;
    std::size_t wire_size() const { return owner.size() + 10 + rdata.size(); }
};

struct ZoneContent {
    core::Name origin;
    Record soa;                   // its serial is whatever the catalog says; History decides
    std::vector<Record> records;  // everything but the SOA, sorted, no duplicates
};

// The zone as the DNS path answers it from `evaluations` (indexed by
// Service::index): static RRsets (SOA from zones::Soa), service owners with
// the A/AAAA of their default decision (weighted/multivalue: the union of
// every variant's addresses, TTL policy::address_ttl, the lowest of them; static
// A/AAAA there are shadowed), and the state TXT record `<service>._signpost.<origin>`.
// When the decision's first variant is a hostname endpoint (Variant::cname), owners
// that may hold a CNAME (not the apex, service not `flatten`) carry
// `CNAME <hostname>` with the decision's TTL instead of addresses, never both.
// A missing evaluation answers nothing and its state TXT says "unknown".
ZoneContent render_zone(const zones::Zone& zone, std::span<const policy::Evaluation> evaluations);

// RFC 1982 serial arithmetic: true when a is after b.
inline bool serial_gt(uint32_t a, uint32_t b) noexcept { return a != b && int32_t(a - b) > 0; }

// The SOA record `soa` with its serial replaced.
Record with_serial(const Record& soa, uint32_t serial);
uint32_t serial_of(const Record& soa);

// Records in `a` and not in `b` (both sorted).
std::vector<Record> minus(const std::vector<Record>& a, const std::vector<Record>& b);

// A short stable digest (hex) of the content but the SOA serial: equal digests, equal zones.
uint64_t content_digest(const ZoneContent& c);

}  // namespace signpost::xfr
