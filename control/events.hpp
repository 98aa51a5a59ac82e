// What the control core asks the daemon to emit: hook events (numbered) and
// log lines. Plain data: the core decides, the daemon delivers and writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "zones/model.hpp"

namespace signpost::control {

struct Event {
    uint64_t seq = 0;       // grows with every event this instance emits (kept across restarts)
    int64_t unix_ms = 0;    // when it was decided
    std::string kind;       // "service", "endpoint", "early-warning", "drained"
    std::string zone;       // "example.com"
    std::string service;    // "site"
    std::string endpoint;   // endpoint key for endpoint and drained events
    std::string from, to;   // old and new state or label
    std::string reason;
    std::vector<zones::Hook> hooks;  // where it goes (the service's hooks)
};

struct LogLine {
    core::LogLevel level = core::LogLevel::Info;
    std::string unit;  // "policy", "probes", "daemon", ...
    std::string text;
};

}  // namespace signpost::control
