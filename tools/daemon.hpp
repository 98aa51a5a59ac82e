// The `serve` command: wires the modules together on one control loop.
// Loads zones, runs probes, evaluates policies on health changes, publishes
// Views to the DNS workers, reloads on SIGHUP, stops cleanly on SIGTERM/SIGINT.
#pragma once

#include <memory>

#include "tools/serve_config.hpp"
#include "tools/server_config.hpp"

namespace signpost::tools {

// Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean
// stop, 1 when the zones do not load, 2 when the listeners cannot be bound.
// Every reload reads the config again from `flags` (file, then flags on top).
int run_daemon(const ServerConfig& config, const ServeFlags& flags);

}  // namespace signpost::tools
