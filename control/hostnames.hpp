// Hostname endpoints' rules (pure): one health for an endpoint from its
// resolution and the probes of each of its current addresses, and what the
// policies read of a resolution.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/health.hpp"
#include "core/resolution.hpp"
#include "policy/policy.hpp"

namespace signpost::control {

struct AddressProbe {
    core::IpAddress address;
    const core::EndpointHealth* health = nullptr;  // null: not probed here (yet)
};

// The endpoint's health. Without a resolution yet: down, unconfirmed
// ("resolving <name>"). Without addresses (NXDOMAIN, no records, never
// resolved): down, confirmed, the resolution's error as the reason. Otherwise
// up when any address is up (all of them with `all`), suspect when the answer
// may move soon, confirmed once the addresses that decide it are; the reason
// lists each address's last result. `changed_at` is when the resolution last
// lost its addresses (the "since" of a down without addresses).
core::EndpointHealth hostname_health(const std::string& name, const core::Resolution* resolution,
                                     std::span<const AddressProbe> probes, bool all, core::TimePoint changed_at);

// What the policies read: the current addresses (the last good ones while the
// resolver fails) and the TTL they may carry (resolve::flattened_ttl_cap).
policy::Resolved resolved_of(const core::Resolution& r);

}  // namespace signpost::control
