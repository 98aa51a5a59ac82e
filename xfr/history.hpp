// The versions of one zone that IXFR can answer from: a bounded list of full
// snapshots, newest last, and the serial rule (never backwards, RFC 1982).
// Control loop writes; the transfer server reads immutable copies.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "xfr/zone_content.hpp"

namespace signpost::xfr {

struct ZoneVersion {
    uint32_t serial = 0;
    Record soa;  // with `serial`
    std::shared_ptr<const std::vector<Record>> records;
    // A signed zone: the RRSIGs of `soa` (they change with the serial, so they are
    // not among `records`); sent after the records. Empty for an unsigned zone.
    std::vector<Record> soa_signatures;
};

// What to send for an IXFR asking for changes since `client_serial`.
struct IxfrPlan {
    enum class Kind { UpToDate, Incremental, Full } kind = Kind::Full;
    Record old_soa;                     // Incremental: the client's version
    std::vector<Record> deleted, added;  // Incremental: one condensed step old → current
                                         // (a signed zone's SOA signatures included)
    bool larger_than_zone = false;      // Full although the serial is kept: the difference is bigger
};

class ZoneHistory {
public:
    explicit ZoneHistory(std::size_t max_versions = 32) : max_(max_versions ? max_versions : 1) {}

    // Records `content` as the current version unless it equals the current one.
    // The serial served is `content`'s SOA serial when that is after the current
    // serial (a reload chose it), else current + 1 when the content changed, else
    // unchanged. Returns true when a new version was added.
    bool update(const ZoneContent& content);
    // A signed zone: the current version's SOA signatures (soa_signatures()), set
    // right after update() made the version.
    void sign_current_soa(std::vector<Record> signatures);

    bool empty() const noexcept { return versions_.empty(); }
    const ZoneVersion& current() const { return versions_.back(); }
    const std::deque<ZoneVersion>& versions() const noexcept { return versions_; }

    // RFC 1995: nothing newer → UpToDate; a kept serial → the condensed difference
    // (Full when the difference would be larger than the zone); otherwise Full.
    IxfrPlan plan(uint32_t client_serial) const;

private:
    std::size_t max_;
    std::deque<ZoneVersion> versions_;
};

}  // namespace signpost::xfr
