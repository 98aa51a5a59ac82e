// Durations written by people ("1s", "200ms", "5m", "1h30m", or a bare number of seconds).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace signpost::core {

using Millis = std::chrono::milliseconds;
// The clock everything is driven by; injected as values so tests never sleep.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Parses "250ms", "1s", "1.5s", "2m", "1h", "1h30m"; nullopt when malformed or negative.
std::optional<Millis> parse_duration(std::string_view text);
// "200ms", "1s", "1m30s".
std::string format_duration(Millis d);

}  // namespace signpost::core
