// A health check as configured: what to probe, how often, and how results turn
// into a state. Shared by the zone loader (which fills it) and probes/ (which runs it).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/duration.hpp"
#include "core/health.hpp"

namespace signpost::core {

enum class CheckKind : uint8_t { Http, Https, Tcp, Exec };
const char* to_string(CheckKind k) noexcept;

struct StatusRange {
    int low = 200;
    int high = 299;
    bool operator==(const StatusRange&) const = default;
};

struct CheckSpec {
    std::string name;  // unique within its zone
    CheckKind kind = CheckKind::Http;
    Millis interval{1000};
    Millis timeout{1000};        // at most interval; with timeout_auto the upper bound
    // timeout = "auto": the timeout follows the endpoint's measured latency
    // (probes/latency_stats.hpp), within timeout_min..timeout.
    bool timeout_auto = false;
    Millis timeout_min{50};
    Millis fast_interval{200};   // re-check interval while a change is suspected
    int rise = 2;                // consecutive successes to come up
    int fall = 3;                // consecutive failures to go down
    // Brownout warning (early-warning while still up): the recent latency is
    // warn_latency times its own baseline (and 50 ms above it), or warn_failures
    // of the last warn_window probes failed. 0 turns either rule off.
    double warn_latency = 4.0;
    double warn_failures = 0.25;
    int warn_window = 20;
    HealthState initial = HealthState::Down;  // until the first result decides
    // `initial` is known, not a guess: results move it by rise/fall from the
    // first one (no start-up rule). The control core sets it for a hostname's new
    // address while the endpoint's state is known; zone files never do.
    bool initial_known = false;

    // http / https
    std::string method = "GET";  // GET or HEAD
    std::string path = "/";
    uint16_t port = 0;           // 0: 80 for http, 443 for https; required for tcp
    std::string host;            // Host header and TLS SNI; empty: the service's name
    std::vector<StatusRange> expect_status{{200, 299}};
    std::string body_contains;   // empty: not checked
    std::vector<std::pair<std::string, std::string>> headers;
    bool tls_verify = true;
    std::string ca_file;
    int cert_warning_days = 0;   // 0: no warning
    bool follow_redirects = false;
    // Reuse one connection (and TLS session) across this check's probes of an
    // endpoint instead of a fresh connection per probe: far cheaper, but a
    // probe no longer proves that the endpoint accepts new connections.
    bool keepalive = false;

    // Hostname endpoints: up when all of the hostname's addresses pass (true),
    // or when any one does (false, the default). Zone key: addresses = "any" | "all".
    bool all_addresses = false;

    // exec: argv; the endpoint's address is passed in $SIGNPOST_ADDRESS
    std::vector<std::string> command;

    SourceLocation where;

    bool operator==(const CheckSpec&) const = default;
};

}  // namespace signpost::core
