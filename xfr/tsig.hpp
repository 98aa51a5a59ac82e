// TSIG (RFC 8945) on whole DNS messages, through ldns: verify a signed
// message, sign a response or the next message of a multi-message answer.
// Wire in, wire out; no ldns types in this header.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "xfr/options.hpp"

namespace signpost::xfr {

enum class TsigStatus : uint8_t { Unsigned, Ok, BadKey, BadSig, BadTime, Malformed };
const char* to_string(TsigStatus s) noexcept;
// The TSIG error code (RFC 8945 §3): BADSIG 16, BADKEY 17, BADTIME 18; 0 otherwise.
uint16_t tsig_error_code(TsigStatus s) noexcept;

struct TsigResult {
    TsigStatus status = TsigStatus::Unsigned;
    std::string key_name;   // as sent, absolute, lower case ("transfer-key.")
    std::string algorithm;  // as sent ("hmac-sha256.")
    std::string mac;        // the MAC field in wire form (2-byte length + MAC): what a response signs over
    uint64_t time_signed = 0;
};

// Checks the TSIG record of `wire` against `keys` (unknown name or algorithm:
// BadKey; wrong MAC: BadSig; |now - time signed| > fudge: BadTime).
// `prior_mac` (wire form) is the request's MAC when verifying a response, or
// the previous message's MAC with `timers_only` for the next message of a
// multi-message answer (RFC 8945 §5.3.1). `now` in seconds since the epoch.
TsigResult tsig_verify(std::span<const uint8_t> wire, const XfrOptions& keys, uint64_t now,
                       const std::string& prior_mac = {}, bool timers_only = false);

// Signs `wire` (a message without TSIG) with `key`. `mac` holds the request's
// MAC (empty when signing a request) or, with `timers_only`, the previous
// message's MAC; on return it holds this message's MAC, ready for the next.
// Returns the signed message, or empty when ldns could not sign.
std::vector<uint8_t> tsig_sign(std::span<const uint8_t> wire, const TsigKey& key, std::string& mac,
                               bool timers_only = false, uint16_t fudge = 300);

// Appends an unsigned TSIG record that carries `error` (BADKEY/BADSIG) to the
// response `wire` (RFC 8945 §5.2: the MAC is empty) and bumps ARCOUNT.
void append_tsig_error(std::vector<uint8_t>& wire, const std::string& key_name, const std::string& algorithm,
                       uint16_t original_id, uint16_t error, uint64_t now);

}  // namespace signpost::xfr
