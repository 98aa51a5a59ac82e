// What signpost knows about one endpoint hostname ("eu.lb.example.net"): the
// addresses it resolved to, the record TTL, and how the last attempt went.
// The resolver (resolve/) produces it; the control core reads it to probe each
// address and to answer flattened records. Plain data: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/duration.hpp"

namespace signpost::core {

enum class ResolveState : uint8_t {
    Pending,   // never answered yet (first query in flight)
    Ok,        // the last attempt answered addresses
    Failing,   // the last attempt failed (timeout, SERVFAIL, ...): `addresses` are the last good ones
    Negative,  // the name does not exist or has no A/AAAA (NXDOMAIN, NODATA): no addresses
};
inline const char* to_string(ResolveState s) noexcept {
    switch (s) {
        case ResolveState::Pending: return "pending";
        case ResolveState::Ok: return "ok";
        case ResolveState::Failing: return "failing";
        case ResolveState::Negative: return "negative";
    }
    return "?";
}

struct Resolution {
    std::string name;                  // lower case, no final dot: "eu.lb.example.net"
    ResolveState state = ResolveState::Pending;
    std::vector<IpAddress> addresses;  // IPv4 first, then IPv6; sorted, no duplicates
    uint32_t ttl = 0;                  // record TTL as received (lowest of the chain and the A/AAAA sets)
    TimePoint resolved_at{};           // when `addresses` were received (steady clock)
    TimePoint next_refresh{};          // when the resolver asks again
    std::string error;                 // the last failure in words: "NXDOMAIN for eu.lb.example.net"
    std::string server;                // the resolver that answered (or failed) last: "127.0.0.53:53"
    uint64_t answers = 0, failures = 0;

    bool operator==(const Resolution&) const = default;
};

}  // namespace signpost::core
