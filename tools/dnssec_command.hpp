// DNSSEC wiring for the daemon and the CLI: where the keys are, the start-up check of
// signed zones, and `signpost dnssec ds ZONE`. The rules live in dnssec/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/server_config.hpp"
#include "zones/model.hpp"

namespace CLI {
class App;
}

namespace signpost::tools {

// dnssec_key_dir, else the state file's directory ("." for a bare file name), else "".
std::string dnssec_key_dir(const ServerConfig& cfg);

// Why the daemon must not serve `catalog` (each line names the zone and what to do);
// empty when no zone asks for signing. A signed zone is never served unsigned: the key
// directory must be usable and the zone's keys sound, and until answers are signed
// (docs/dnssec.md, "What is done") `sign = true` stops the start and fails a reload.
std::vector<std::string> dnssec_start_errors(const zones::Catalog& catalog, const ServerConfig& cfg);

// `signpost dnssec ds ZONE [--zones DIR] [--config FILE] [--key-dir DIR] [--create]`.
void add_dnssec_commands(CLI::App& app);
// After app.parse(): the exit code when a dnssec subcommand ran, else nullopt.
std::optional<int> run_dnssec_commands();

}  // namespace signpost::tools
