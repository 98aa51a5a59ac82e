// The CLI commands that talk to a running server's HTTP API: status, explain,
// override, drain, release, reload. Blocking libcurl; no server logic here.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace signpost::tools {

// Adds the client subcommands to `app` (call before app.parse()). Each takes
// --api URL (default $SIGNPOST_API, else http://127.0.0.1:8054), --token T
// (default $SIGNPOST_TOKEN) and --json (print the API's JSON as is).
void add_client_commands(CLI::App& app);

// After app.parse(): runs the client subcommand that was chosen and returns its
// exit code (0 ok, 1 the API refused or answered an error, 2 the API cannot be
// reached); nullopt when none of them was chosen.
std::optional<int> run_client_commands();

// POST /v1/reload to `api` (host:port or a URL) with `token` (may be empty), printing the
// API's answer; 0 done, 1 the API refused or the reload failed, 2 the API cannot be reached.
// For commands that change files the daemon reads (signpost dnssec rollover).
int api_reload(const std::string& api, const std::string& token);

}  // namespace signpost::tools
