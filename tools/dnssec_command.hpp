// DNSSEC wiring for the daemon and the CLI: where the keys are, the start-up check of
// signed zones, and `signpost dnssec ds ZONE`. The rules live in dnssec/.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dns/signing.hpp"
#include "tools/server_config.hpp"
#include "zones/model.hpp"

namespace CLI {
class App;
}

namespace signpost::tools {

// dnssec_key_dir, else the state file's directory ("." for a bare file name), else "".
std::string dnssec_key_dir(const ServerConfig& cfg);

// The keys of every signed zone of `catalog` (dns::ViewOptions::signing), generated
// where missing (a CSK, or a KSK and a ZSK). A signed zone is never served unsigned:
// an unusable key directory, a broken key file or a transferred signed zone (signed
// transfers are not built yet) is an error naming the zone and what to do, and errors
// stop a start and fail a reload (keys is null then). Without `create` nothing is
// written: missing keys are no error (`signpost check --config`: serve makes them).
struct DnssecKeys {
    std::shared_ptr<const dns::SigningKeys> keys;
    std::vector<std::string> errors;
    std::vector<std::string> generated;  // key file paths made now, for the log
};
DnssecKeys dnssec_load_keys(const zones::Catalog& catalog, const ServerConfig& cfg, int64_t now_unix,
                            bool create = true);

// `signpost dnssec ds ZONE [--zones DIR] [--config FILE] [--key-dir DIR] [--create]`,
// `signpost dnssec rollover ZONE --zsk|--ksk|--csk` and `signpost dnssec ds-seen ZONE
// TAG` (dnssec/rollover.hpp), which write the key files and then ask the running server
// to reload with `reload` (POST /v1/reload: tools/client_commands.hpp's api_reload;
// null: they tell the user to reload).
using ReloadFn = int (*)(const std::string& api, const std::string& token);
void add_dnssec_commands(CLI::App& app, ReloadFn reload = nullptr);
// After app.parse(): the exit code when a dnssec subcommand ran, else nullopt.
std::optional<int> run_dnssec_commands();

}  // namespace signpost::tools
