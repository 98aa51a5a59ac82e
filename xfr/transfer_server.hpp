// Answers zone transfers (AXFR RFC 5936, IXFR RFC 1995) and TSIG-signed SOA
// queries from the versions the control loop publishes (TransferZones, carried in
// the DNS server's Snapshot), with TSIG (RFC 8945) and the address ACL. Called on
// DNS worker threads for those queries only; holds no state that changes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/address.hpp"
#include "core/name.hpp"
#include "xfr/history.hpp"
#include "xfr/options.hpp"

namespace signpost::xfr {

// The zones and versions transfers are served from: immutable once built, handed
// to the DNS workers inside dns::Snapshot::transfers.
struct TransferZones {
    struct Zone {
        core::Name origin;
        std::string text;  // "example.com"
        ZoneHistory history;
    };
    std::vector<Zone> zones;
};

class TransferServer {
public:
    explicit TransferServer(XfrOptions options);

    // Control loop: the content for the next snapshot, from each served zone's history.
    static std::shared_ptr<const TransferZones> make_zones(std::vector<std::pair<core::Name, ZoneHistory>> zones);

    // True when `query` is ours — AXFR/IXFR, or a query for a zone's SOA that
    // carries TSIG — and the response is in `out`: for TCP one or more framed
    // messages (2-byte length each), for UDP one message of at most `udp_max`
    // bytes (IXFR over UDP: the difference when it fits, else the current SOA,
    // RFC 1995 §2). False: the normal answer path answers it (`out` untouched).
    // `zones`: the snapshot's content the query is answered from (null: no zones).
    // Order of work: the header and question (parse_transfer_question), then the
    // address ACL of the zone asked for; only an address some [[secondaries]]
    // entry allows has the rest read (the IXFR's SOA, the TSIG record), then the
    // key checked (check_transfer). Any other address is answered as an unsigned
    // request (REFUSED for a served zone; a signed SOA query: false).
    // Any thread, any number at once. Logs every transfer and refusal.
    bool handle(const TransferZones* zones, std::span<const uint8_t> query, const core::IpAddress& client, bool tcp,
                std::size_t udp_max, std::string& out) const;

    const XfrOptions& options() const noexcept { return options_; }

private:
    XfrOptions options_;
};

}  // namespace signpost::xfr
