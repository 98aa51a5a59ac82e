// What the rest of the server sees of an endpoint's health: a small value the
// probes publish and the policies read. Endpoints are known by a dense index.
#pragma once

#include <cstdint>
#include <string>

#include "core/duration.hpp"

namespace signpost::core {

using EndpointIndex = uint32_t;

enum class HealthState : uint8_t { Up, Down };
inline const char* to_string(HealthState s) noexcept { return s == HealthState::Up ? "up" : "down"; }

// Administrative override set by an operator; wins over probe results.
enum class Override : uint8_t { Auto, ForceUp, ForceDown };

struct EndpointHealth {
    HealthState state = HealthState::Up;
    // A failure (or success while down) was seen but fall (rise) is not reached yet:
    // the answer may change soon, so policies shorten TTLs and fire early warnings.
    bool suspect = false;
    // At least one probe result has decided the state (false: initial/persisted state).
    bool confirmed = false;
    // Taken out of every answer by an operator (drained or forced down);
    // policies treat it as absent, even when every pool is down.
    bool drained = false;
    // Up and passing, but worse than its own usual: much slower than its latency
    // baseline, or failing a share of its probes below `fall` (a brownout). Fires
    // the early warning like `suspect`, without moving any answer.
    bool degraded = false;
    TimePoint since{};  // when `state` last changed
    std::string reason;  // last result in words: "HTTP 200", "timeout after 1000 ms"
    std::string warning; // why it is degraded: "slow: 240 ms, usually 5 ms"; empty when not

    bool up() const noexcept { return state == HealthState::Up; }
};

}  // namespace signpost::core
