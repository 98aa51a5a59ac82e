// What the control core needs of a cluster of instances: who probes an
// endpoint, and the quorum over this instance's verdicts and its peers'.
// cluster::Member implements it; the core never sees peers or sockets.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/replicated_commands.hpp"
#include "core/health.hpp"

namespace signpost::control {

// One endpoint as a cluster sees it: this instance's own verdict, if any.
struct LocalVerdict {
    const std::string* key = nullptr;
    bool probed = false;                        // this instance probes it (assignment)
    const core::EndpointHealth* own = nullptr;  // its probes' verdict (no operator overrides)
};

class ClusterView {
public:
    virtual ~ClusterView() = default;
    // This instance probes the endpoint (split probing).
    virtual bool probes(const std::string& key) const = 0;
    // The combined state last computed (where a takeover starts from).
    virtual std::optional<core::HealthState> last_state(const std::string& key) const = 0;
    // Replaces health[i] with the quorum of this instance's and the live peers' verdicts.
    virtual void combine(std::span<const LocalVerdict> local, std::vector<core::EndpointHealth>& health) = 0;
    // Every peer answered once or has been silent for its timeout: safe to answer.
    virtual bool settled() const = 0;
    // The command logs the live peers published (merged by the core's rule).
    virtual std::vector<ReplicatedCommand> peer_commands() const { return {}; }
};

}  // namespace signpost::control
