// What the control core keeps across a restart (the state file's content):
// endpoint health, operator overrides and drains, service states, serials and
// the event sequence. tools/state_store reads and writes it; this is only data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/replicated_commands.hpp"
#include "core/health.hpp"

namespace signpost::control {

struct PersistedEndpoint {
    core::HealthState state = core::HealthState::Down;
    int64_t since_ms = 0;  // Unix milliseconds
    std::string reason;
};
struct PersistedOverride {
    core::Override state = core::Override::Auto;
    std::string reason;
    int64_t set_ms = 0;
    std::optional<int64_t> expires_ms;  // Unix milliseconds
};
struct PersistedService {
    std::string label;
    int active_pool = -1;
    bool released = false;
    int64_t since_ms = 0;  // Unix milliseconds the answer has been `label`; 0: unknown (older files)
};
struct PersistedTxt {  // one runtime TXT value (control/runtime_records.hpp)
    std::string value;
    uint32_t ttl = 60;
    int64_t set_ms = 0;      // Unix milliseconds
    int64_t expires_ms = 0;  // Unix milliseconds
};
struct PersistedState {
    int64_t written_ms = 0;                               // when the file was written (Unix ms); 0: unknown
    uint64_t event_seq = 0;                               // the last event's seq
    std::map<std::string, PersistedEndpoint> endpoints;   // by endpoint key
    std::map<std::string, PersistedOverride> overrides;   // by endpoint or pool key
    std::map<std::string, int64_t> drains;                // endpoint key -> since (Unix ms)
    std::map<std::string, PersistedService> services;     // by service key
    std::map<std::string, uint32_t> serials;              // origin -> last served serial
    std::map<std::string, std::string> zone_digests;      // origin -> content digest at that serial
    std::map<std::string, std::vector<PersistedTxt>> runtime_txt;  // owner -> runtime TXT values
    // The operator commands' log (made here or at peers) and its clock; absent
    // in older files (restore() then rebuilds it from overrides and drains).
    std::vector<ReplicatedCommand> commands;
    int64_t command_clock_ms = 0;
    bool has_commands = false;
};

}  // namespace signpost::control
