// What instances tell each other: GET /v1/cluster/verdicts returns this
// instance's own probe verdicts (only endpoints it probes and has a result for).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/quorum.hpp"

namespace signpost::cluster {

struct PeerVerdicts {
    std::string instance;
    std::map<std::string, Vote> by_endpoint;  // endpoint key → vote (vote.instance = `instance`)
};

std::string encode_verdicts(const PeerVerdicts& v);
// nullopt with `error` set on anything malformed: a peer's bad answer is its
// failure, never ours.
std::optional<PeerVerdicts> decode_verdicts(std::string_view body, std::string* error);

}  // namespace signpost::cluster
