// The config `signpost serve` runs with: the --config file, then the flags on
// top. Read at start and again by every reload (SIGHUP, `signpost reload`), so
// a flag keeps winning over the file after a reload too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/server_config.hpp"

namespace signpost::tools {

struct ServeFlags {
    std::string config_file;  // empty: defaults and flags only
    std::string zones_dir, log_level, state_file, api_listen, user, group;
    std::vector<std::string> listen;
    int workers = -1;  // -1: not given
    bool no_api = false, query_log = false;
};

// The composed config, or nullopt with `errors` (file:line:col for the file's,
// "signpost serve: --flag VALUE: why" for the flags'). Warnings are appended to `warnings`.
std::optional<ServerConfig> compose_server_config(const ServeFlags& flags, std::vector<std::string>& errors,
                                                  std::vector<std::string>& warnings);

}  // namespace signpost::tools
