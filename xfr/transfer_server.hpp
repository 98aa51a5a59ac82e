// Answers zone transfers (AXFR RFC 5936, IXFR RFC 1995) and TSIG-signed SOA
// queries from the versions the control loop publishes, with TSIG (RFC 8945)
// and the address ACL. Called on DNS worker threads for those queries only.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/address.hpp"
#include "core/name.hpp"
#include "xfr/history.hpp"
#include "xfr/options.hpp"

namespace signpost::xfr {

class TransferServer {
public:
    explicit TransferServer(XfrOptions options);

    // Control loop: the zones and versions transfers are served from from now on.
    void publish(std::vector<std::pair<core::Name, ZoneHistory>> zones);

    // True when `query` is ours — AXFR/IXFR, or a query for a zone's SOA that
    // carries TSIG — and the response is in `out`: for TCP one or more framed
    // messages (2-byte length each), for UDP one message of at most `udp_max`
    // bytes (IXFR over UDP: the difference when it fits, else the current SOA,
    // RFC 1995 §2). False: the normal answer path answers it (`out` untouched).
    // Any thread; takes a mutex for a pointer copy. Logs every transfer and refusal.
    bool handle(std::span<const uint8_t> query, const core::IpAddress& client, bool tcp, std::size_t udp_max,
                std::string& out);

    const XfrOptions& options() const noexcept { return options_; }

private:
    struct Zone {
        core::Name origin;
        std::string text;  // "example.com"
        ZoneHistory history;
    };
    using Zones = std::vector<Zone>;

    XfrOptions options_;
    std::mutex mutex_;
    std::shared_ptr<const Zones> zones_;
};

}  // namespace signpost::xfr
