// Polls every peer's verdicts over HTTP (libcurl multi on the control loop) and
// keeps track of which peers are alive. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/options.hpp"
#include "cluster/wire.hpp"
#include "core/duration.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::cluster {

struct PeerStatus {
    PeerConfig config;
    bool live = false;      // answered within peer_timeout: its verdicts count
    bool settled = false;   // answered once, or has been silent for peer_timeout since start
    int64_t last_ok_ms = 0;  // wall clock of the last good answer (0: never)
    core::TimePoint last_ok{};
    std::string last_error;  // why the last poll failed ("" after a good one)
    uint64_t polls = 0, failures = 0;
    PeerVerdicts verdicts;   // from the last good answer; cleared when the peer dies
    std::string commands_error;  // why its last command list was ignored ("" when fine)
};

class PeerPoller {
public:
    // `source` is the local address polls leave from (empty: any).
    PeerPoller(uv_loop_t* loop, ClusterOptions options, std::string source = {});
    ~PeerPoller();
    PeerPoller(const PeerPoller&) = delete;
    PeerPoller& operator=(const PeerPoller&) = delete;

    // After a poll round that changed any peer's verdicts or liveness.
    void on_update(std::function<void()> callback);

    const std::vector<PeerStatus>& peers() const;
    // This instance and every live peer, sorted: the set probing is split over.
    std::vector<std::string> live_instances() const;
    // Every peer has answered once or been silent for peer_timeout.
    bool settled() const;

    // Cancels polls and closes every handle; the loop can then be closed.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace signpost::cluster
