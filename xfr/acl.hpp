// Who may transfer a zone: the [[secondaries]] entries covering the zone whose
// allow_transfer_from holds the client, and the TSIG key they require. Pure.
#pragma once

#include <string>

#include "core/address.hpp"
#include "xfr/options.hpp"

namespace signpost::xfr {

enum class AclVerdict : uint8_t {
    Allow,
    Refused,  // no entry for this zone lets this address transfer (the default: no ACL, no transfer)
    NeedKey,  // the address is allowed, but only with a key the query did not (validly) use
};
const char* to_string(AclVerdict v) noexcept;

struct AclDecision {
    AclVerdict verdict = AclVerdict::Refused;
    std::string reason;  // for the log: "127.0.0.9 is not in allow_transfer_from of example.com"
};

// Whether some entry covering `origin` (without the final dot) lists `client` in
// allow_transfer_from, whatever key it requires: the check made before a request
// is read past its question (the TSIG record and the IXFR's SOA are read only
// when this is true). check_transfer decides with the verified key afterwards.
bool address_may_transfer(const XfrOptions& options, const std::string& origin, const core::IpAddress& client);

// `origin` without the final dot; `key` the verified TSIG key name ("" when unsigned).
AclDecision check_transfer(const XfrOptions& options, const std::string& origin, const core::IpAddress& client,
                           const std::string& key);

}  // namespace signpost::xfr
