// The daemon's state file: endpoint health, operator overrides and drains,
// service states and zone serials, so a restart answers at once with the last
// known good answers. Written atomically (temp file + fsync + rename).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/health.hpp"

namespace signpost::tools {

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
struct PersistedState {
    std::map<std::string, PersistedEndpoint> endpoints;   // by endpoint key
    std::map<std::string, PersistedOverride> overrides;   // by endpoint or pool key
    std::map<std::string, int64_t> drains;                // endpoint key -> since (Unix ms)
    std::map<std::string, PersistedService> services;     // by service key
    std::map<std::string, uint32_t> serials;              // origin -> last served serial
    std::map<std::string, std::string> zone_digests;      // origin -> content digest at that serial
};

// Reads the state file; nullopt (with `error` set) when it is missing or unreadable.
std::optional<PersistedState> load_state(const std::string& path, std::string* error);
// Writes atomically; returns false with `error` set on failure (the old file stays).
bool save_state(const std::string& path, const PersistedState& state, std::string* error);

int64_t unix_ms_now();
const char* to_string(core::Override o) noexcept;
std::optional<core::Override> parse_override(const std::string& s) noexcept;

}  // namespace signpost::tools
