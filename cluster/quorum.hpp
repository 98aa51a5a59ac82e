// The pure half of clustering: who probes which endpoint, and what the votes
// of several vantage points add up to. No I/O, no clock: unit-testable.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/health.hpp"

namespace signpost::cluster {

// FNV-1a 64: every instance, whatever its build or platform, must compute the
// same assignment, which std::hash does not promise.
uint64_t stable_hash(std::string_view text) noexcept;

// Rendezvous (highest random weight) hashing: true when `self` is among the
// `probers` instances of `live` (self included or not) that rank highest for
// this endpoint. When an instance dies only its endpoints move, and they move
// to the instance that ranked next. probers == 0 or >= live size: everyone probes.
bool probes_endpoint(std::string_view endpoint_key, std::string_view self, std::span<const std::string> live,
                     unsigned probers);

// One vantage point's verdict on an endpoint.
struct Vote {
    std::string instance;
    core::HealthState state = core::HealthState::Up;
    bool suspect = false;
    std::string reason;  // "HTTP 500", "timeout after 1000 ms"
};

struct Outcome {
    core::HealthState state = core::HealthState::Up;
    bool suspect = false;  // some vantage point sees trouble: early warning, shorter TTLs
    unsigned voters = 0, down_votes = 0, needed = 0;
    std::string reason;    // "down at 2/3 vantage points (ns1: HTTP 500; ns2: HTTP 500)"
};

// Down when at least `needed` voters see the endpoint down, where needed =
// quorum (0: a majority of the voters) capped at the number of voters.
// `votes` must not be empty.
Outcome combine(std::span<const Vote> votes, unsigned quorum);

}  // namespace signpost::cluster
