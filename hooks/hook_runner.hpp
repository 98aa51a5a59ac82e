// Delivers state-change events to operators' hooks: runs a command (event as
// JSON on stdin and in the environment) and/or POSTs the JSON to a URL.
// Asynchronous on the control loop; failed deliveries are retried with backoff
// and never block the loop.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "zones/model.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::hooks {

struct HookEvent {
    std::string event;     // "service", "endpoint" or "early-warning"
    std::string zone;      // "example.com"
    std::string service;   // service name ("site"); empty for endpoint-only events
    std::string endpoint;  // endpoint key for endpoint events
    std::string from;      // old state / pool label ("primary", "up")
    std::string to;        // new state / pool label ("failover:secondary", "down")
    std::string reason;    // "endpoint 127.0.0.10 down: HTTP 503"
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now();

    std::string to_json() const;
};

struct HookOptions {
    int max_attempts = 6;                          // first try included
    std::chrono::milliseconds first_backoff{500};  // doubles after each failure
    std::chrono::milliseconds command_timeout{10000};
    std::chrono::milliseconds http_timeout{5000};
};

class HookRunner {
public:
    explicit HookRunner(uv_loop_t* loop, HookOptions options = {});
    ~HookRunner();
    HookRunner(const HookRunner&) = delete;
    HookRunner& operator=(const HookRunner&) = delete;

    // Starts delivering `event` to `hook` (command and/or url). Loop thread only.
    void deliver(const zones::Hook& hook, const HookEvent& event);
    // Deliveries still in flight or waiting for a retry.
    std::size_t pending() const noexcept;
    // Abandons pending deliveries, kills running commands, closes every handle.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace signpost::hooks
