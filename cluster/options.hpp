// Several signpost instances serving the same zones share their probe verdicts
// (see docs/cluster.md): each instance polls its peers' verdicts over the API,
// an endpoint is down only when a quorum of vantage points sees it down, and
// the probing of each endpoint can be split among a few instances.
#pragma once

#include <string>
#include <vector>

#include "core/duration.hpp"

namespace signpost::cluster {

struct PeerConfig {
    std::string id;   // the peer's own cluster.id; checked against what it reports
    std::string url;  // its API base, e.g. "http://192.0.2.2:8054"
};

struct ClusterOptions {
    std::string id;     // this instance's name, unique in the cluster
    std::string token;  // shared by every instance: sent to peers, required from them
    // Down votes needed to take an endpoint down; 0 = a majority of the
    // instances that have a verdict. Capped at the number of voters, so an
    // instance whose peers are all gone falls back to its own probes.
    unsigned quorum = 0;
    // Instances that probe each endpoint (rendezvous hashing over the live
    // instances); 0 = every instance probes every endpoint.
    unsigned probers = 0;
    core::Millis poll_interval{500};
    core::Millis peer_timeout{3000};  // a peer silent this long is left out of quorum and assignment
    std::vector<PeerConfig> peers;

    bool enabled() const noexcept { return !peers.empty(); }
};

}  // namespace signpost::cluster
