// Runs every endpoint's checks on the control loop (libuv + libcurl multi) and
// turns raw pass/fail results into a stable health state (rise/fall).
// Knows endpoints by key and index, never zones or DNS.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/check_spec.hpp"
#include "core/health.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::probes {

struct ProbeTarget {
    std::string key;                       // stable across reloads: "example.com/primary/127.0.0.10"
    core::EndpointIndex index = 0;         // dense index (may change across reloads)
    std::string address;                   // where probes connect (IPv4 or IPv6 text)
    std::string host;                      // Host header / SNI when the check sets none
    std::vector<core::CheckSpec> checks;   // all must pass
};

// One check of an endpoint, for a status page.
struct CheckStatus {
    std::string name;
    core::CheckKind kind = core::CheckKind::Http;
    core::HealthState state = core::HealthState::Down;
    bool suspect = false;
    bool confirmed = false;
    std::string last_result;
    double last_latency_ms = 0;
    uint32_t consecutive_ok = 0, consecutive_fail = 0;
    uint64_t checks_run = 0;
    bool cert_warning = false;
    double timeout_ms = 0;      // the next probe's (moves with timeout = "auto")
    double baseline_ms = 0;     // usual latency (median of recent successes; 0: not known yet)
    std::string degraded;       // brownout reason while up, or ""
};

// One endpoint's status, enough for a status page.
struct EndpointStatus {
    std::string key;
    core::EndpointHealth health;
    std::string last_result;      // "HTTP 200", "connection refused", "timeout after 1000 ms"
    double last_latency_ms = 0;
    uint32_t consecutive_ok = 0, consecutive_fail = 0;
    uint64_t checks_run = 0;
    bool cert_warning = false;    // certificate expires within cert_warning_days
    core::EndpointIndex index = 0;
    std::vector<CheckStatus> checks;  // one per configured check, in order
};

struct HealthChange {
    core::EndpointIndex index;
    core::EndpointHealth before, after;
};

struct MonitorOptions {
    std::string source_v4, source_v6;  // local address probes connect from (empty: any)
};

class HealthMonitor {
public:
    // Loop thread only, like every member. Time comes from the steady clock; the
    // state machine (health_tracker.hpp) takes injected time for unit tests.
    explicit HealthMonitor(uv_loop_t* loop, MonitorOptions options = {});
    ~HealthMonitor();

    // Replaces the target set. Targets whose key and checks are unchanged keep
    // their state and schedule; removed ones stop at once; new ones start now.
    void set_targets(std::vector<ProbeTarget> targets);

    // Called on the loop with every change of a batch (state, suspect, confirmed).
    void on_change(std::function<void(std::span<const HealthChange>)> callback);
    // Called once when every target has a first result or its first check timed out.
    void on_first_round(std::function<void()> callback);

    // Health indexed by EndpointIndex (size = highest index + 1).
    std::span<const core::EndpointHealth> health() const;
    std::vector<EndpointStatus> status() const;

    // Instrumentation (benchmarks): called at every probe start with how late it
    // started compared with its planned time. Keep it cheap.
    void on_probe_started(std::function<void(double lateness_ms)> callback);
    // Probes started and results received since construction.
    // Called when a passive signal moved a check's next probe to now (endpoint
    // key, what happened: "closed by the endpoint", "reset by the endpoint", ...).
    void on_signal(std::function<void(const std::string& key, const char* what)> callback);
    // Passive signals seen since construction (also those that moved nothing).
    uint64_t signals() const;
    uint64_t probes_started() const;
    uint64_t probes_finished() const;

    // Cancels every probe and closes every handle; the loop can then be closed.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace signpost::probes
