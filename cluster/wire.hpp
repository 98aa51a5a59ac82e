// What instances tell each other: GET /v1/cluster/verdicts returns this
// instance's own probe verdicts (only endpoints it probes and has a result for)
// and its log of operator commands (docs/cluster.md "Replicated commands").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/quorum.hpp"
#include "control/replicated_commands.hpp"

namespace signpost::cluster {

struct PeerVerdicts {
    std::string instance;
    std::map<std::string, Vote> by_endpoint;  // endpoint key → vote (vote.instance = `instance`)
    std::vector<control::ReplicatedCommand> commands;  // the instance's command log
    // Set when the answer's "commands" were malformed: the verdicts still count,
    // the commands are ignored (the previous good ones are kept).
    std::string commands_error;
    // Hooks once per cluster: while the instance is the emitter, every event it
    // decided at or before this wall time (Unix ms) is delivered or given up.
    std::optional<int64_t> hook_watermark_ms;
};

// One command record as JSON (the peer protocol, the state file, /v1/status):
// {"kind","target","state"(override),"active"(drain),"reason","expires_ms","at_ms","origin"}.
nlohmann::json command_json(const control::ReplicatedCommand& c);
// nullopt with `error` set on a malformed record.
std::optional<control::ReplicatedCommand> command_from_json(const nlohmann::json& j, std::string* error);

std::string encode_verdicts(const PeerVerdicts& v);
// nullopt with `error` set on anything malformed: a peer's bad answer is its
// failure, never ours.
std::optional<PeerVerdicts> decode_verdicts(std::string_view body, std::string* error);

}  // namespace signpost::cluster
