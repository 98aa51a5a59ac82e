// Delivers state-change events to operators' hooks: runs a command (event as
// JSON on stdin and in the environment) and/or POSTs the JSON to a URL.
// Asynchronous on the control loop; failed deliveries are retried with backoff
// and never block the loop. Each sink (one command or one URL) gets its events
// in order, one at a time. docs/hooks.md is the contract hooks are written to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zones/model.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::hooks {

struct HookEvent {
    uint64_t seq = 0;      // numbered by the caller (the control core) across every event of the instance;
                           // the runner carries it and never invents or changes it
    std::string event;     // "service", "endpoint", "early-warning" or "drained"; carried as is
    std::string zone;      // "example.com"
    std::string service;   // service name ("site"); empty for endpoint-only events
    std::string endpoint;  // endpoint key for endpoint events
    std::string from;      // old state / pool label ("primary", "up")
    std::string to;        // new state / pool label ("failover:secondary", "down")
    std::string reason;    // "endpoint 127.0.0.10 down: HTTP 503"
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
    std::string instance;  // the cluster id of the instance that decided it ("" alone: not in the JSON)

    // {"seq":…,"event":…,"time":…,"zone":…,"service":…,"endpoint":…,"from":…,"to":…,"reason":…}
    // and, in a cluster, "instance":… last
    std::string to_json() const;
};

// RFC 3339 in UTC with milliseconds: "2026-12-03T19:58:29.123Z".
std::string format_time(std::chrono::system_clock::time_point t);

// One delivery attempt's outcome, for the incident page's timeline: delivered
// (`ok`), failed and retried later, or failed for the last time (`final`).
struct DeliveryOutcome {
    HookEvent event;
    std::string target;  // the command (its program) or the URL
    int attempt = 0;     // 1 for the first try
    bool ok = false;
    bool final = false;  // no more attempts for this event: delivered or given up
    std::string error;   // why it failed ("exit 1", "HTTP 503", "connection refused")
};

struct HookOptions {
    int max_attempts = 6;                          // first try included
    std::chrono::milliseconds first_backoff{500};  // doubles after each failure
    std::chrono::milliseconds command_timeout{10000};
    std::chrono::milliseconds http_timeout{5000};
    // Events waiting per sink behind the one being delivered; past it the oldest
    // waiting event is dropped (and logged), so a dead sink cannot grow memory.
    std::size_t max_queued = 1000;
};

class HookRunner {
public:
    explicit HookRunner(uv_loop_t* loop, HookOptions options = {});
    ~HookRunner();
    HookRunner(const HookRunner&) = delete;
    HookRunner& operator=(const HookRunner&) = delete;

    // Queues `event` for each sink of `hook` (its command, its url): a sink
    // delivers one event at a time, in the order deliver() was called, and an
    // event being retried holds back that sink's later events. Sinks are keyed
    // by their command line or URL, so hooks naming the same one share a queue;
    // different sinks never wait for each other. Loop thread only.
    void deliver(const zones::Hook& hook, const HookEvent& event);
    // Called on the loop after every attempt (delivered, retrying, given up).
    // The callback must not call back into the runner.
    void on_outcome(std::function<void(const DeliveryOutcome&)> callback);
    // Events being delivered (in flight or waiting for a retry) plus those queued.
    std::size_t pending() const noexcept;
    // Events dropped because a sink's queue was full, since start.
    std::size_t dropped() const noexcept;
    // Abandons pending deliveries, kills running commands, closes every handle.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace signpost::hooks
