// Configuration of zone transfers: TSIG keys and the secondaries that may
// transfer (and are NOTIFYed). Plain data, filled from the server config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/address.hpp"

namespace signpost::xfr {

struct TsigKey {
    std::string name;       // "transfer-key." (absolute, lower case)
    std::string algorithm;  // "hmac-sha256." (ldns spelling, absolute)
    std::string secret;     // base64, as in the config
    bool operator==(const TsigKey&) const = default;
};

struct Secondary {
    std::vector<std::string> zones;                  // origins without the final dot; "*" = every zone
    std::optional<core::IpAddress> notify_address;   // NOTIFY target; none: transfers only
    uint16_t notify_port = 53;
    std::vector<core::IpPrefix> allow_transfer_from; // who may AXFR/IXFR these zones
    std::string key;                                 // TsigKey::name required of transfers and used on NOTIFY; empty: none

    bool covers(const std::string& origin) const;    // origin without the final dot
    bool operator==(const Secondary&) const = default;
};

struct XfrOptions {
    std::vector<TsigKey> keys;
    std::vector<Secondary> secondaries;
    // Some secondary transfers the zone (it needs versions and NOTIFY).
    bool transferred(const std::string& origin) const {
        for (auto& s : secondaries)
            if (s.covers(origin)) return true;
        return false;
    }
    std::size_t history = 32;          // versions kept per zone for IXFR
    unsigned notify_tries = 5;         // NOTIFY attempts per change and secondary
    unsigned notify_first_retry_ms = 1000;  // doubled after each unanswered try
    std::size_t message_size = 16384;  // target size of one AXFR/IXFR message (≤ 65535)
    // Where NOTIFY leaves from (empty: the kernel's choice). Secondaries accept
    // NOTIFY by source address; a multi-homed primary must pick the one they know.
    std::string notify_source_v4, notify_source_v6;

    const TsigKey* find_key(const std::string& name) const;  // name absolute or not, any case
};

// "hmac-sha256" → "hmac-sha256."; nullopt when ldns cannot do the algorithm.
std::optional<std::string> canonical_algorithm(const std::string& text);
// "transfer-key" → "transfer-key." (lower case).
std::string canonical_key_name(const std::string& text);

}  // namespace signpost::xfr
