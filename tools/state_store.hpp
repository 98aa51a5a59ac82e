// The daemon's state file: endpoint health, operator overrides and drains,
// service states and zone serials, so a restart answers at once with the last
// known good answers. Written atomically (temp file + fsync + rename).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "control/persisted_state.hpp"
#include "core/health.hpp"

namespace signpost::tools {

// The content lives with the control core that keeps it.
using control::PersistedEndpoint;
using control::PersistedOverride;
using control::PersistedService;
using control::PersistedState;

// Reads the state file; nullopt (with `error` set) when it is missing or unreadable.
std::optional<PersistedState> load_state(const std::string& path, std::string* error);
// Reads the state file for a start: nullopt (logged: starting cold) when there is
// none, or it cannot be read; `path` empty: no state file configured.
std::optional<PersistedState> read_state_file(const std::string& path);
// Writes atomically; returns false with `error` set on failure (the old file stays).
bool save_state(const std::string& path, const PersistedState& state, std::string* error);

int64_t unix_ms_now();
const char* to_string(core::Override o) noexcept;
std::optional<core::Override> parse_override(const std::string& s) noexcept;

}  // namespace signpost::tools
