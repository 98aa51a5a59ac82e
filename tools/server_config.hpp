// The server configuration file (`serve --config FILE`): where to listen, how
// many workers, limits. Command-line flags override its keys.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "dns/server.hpp"

namespace signpost::tools {

struct ServerConfig {
    std::string zones_dir;
    dns::ServerOptions dns;
    std::string log_level = "info";
};

// Reads a TOML server config; errors carry file:line:col.
std::optional<ServerConfig> load_server_config(const std::string& path, core::Diagnostics& diags);

}  // namespace signpost::tools
