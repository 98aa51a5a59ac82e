// Which server config keys a reload (SIGHUP, `signpost reload`) changes while
// running, and which need a restart. Pure: compares two loaded configs.
#pragma once

#include <string>
#include <vector>

#include "tools/server_config.hpp"

namespace signpost::tools {

struct ConfigKey {
    const char* name;  // as in the config file: "rrl", "api.token", "listen"
    bool live;         // true: a reload applies it; false: only a restart does
};

// Every key group the server config has, in the file's order (docs/operations.md
// prints this table).
const std::vector<ConfigKey>& config_keys();

struct ConfigChanges {
    std::vector<std::string> live;     // changed and applied now
    std::vector<std::string> restart;  // changed, kept as they are until a restart
};

// What differs between the running config and the one just read.
ConfigChanges config_changes(const ServerConfig& running, const ServerConfig& read);

// The config a reload runs with: `read`, except the keys that need a restart,
// which keep their running values.
ServerConfig config_to_apply(const ServerConfig& running, const ServerConfig& read);

}  // namespace signpost::tools
