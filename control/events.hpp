// What the control core asks the daemon to emit: hook events (numbered) and
// log lines. Plain data: the core decides, the daemon delivers and writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "hooks/hook_runner.hpp"
#include "zones/model.hpp"

namespace signpost::control {

// A hook event (its seq grows with every event this instance emits, kept across
// restarts; its time is the step's) and the service's hooks it goes to.
struct Event {
    hooks::HookEvent payload;
    std::vector<zones::Hook> hooks;
};

struct LogLine {
    core::LogLevel level = core::LogLevel::Info;
    std::string unit;  // "policy", "probes", "daemon", ...
    std::string text;
};

}  // namespace signpost::control
