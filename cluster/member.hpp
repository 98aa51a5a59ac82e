// This instance's side of a signpost cluster: polls the peers (cluster/), says
// which endpoints this instance probes, merges its own verdicts with the live
// peers' into the health the policies see, and serves its verdicts to peers.
// The control core sees it as a control::ClusterView.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/options.hpp"
#include "control/cluster_view.hpp"
#include "cluster/peer_poller.hpp"
#include "core/health.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::cluster {

using control::LocalVerdict;

class Member final : public control::ClusterView {
public:
    Member(uv_loop_t* loop, ClusterOptions options, std::string poll_source);
    ~Member() override;

    const ClusterOptions& options() const noexcept { return options_; }
    // Peers' verdicts or liveness changed.
    void on_change(std::function<void()> callback);
    // Every peer answered once or has been silent for peer_timeout: safe to answer.
    bool settled() const override;
    // Whether this instance probes the endpoint: it is one of the endpoint's
    // `probers` among the live instances, or no live peer has a verdict on it yet.
    bool probes(const std::string& endpoint_key) const override;
    // This instance and the live peers, sorted.
    std::vector<std::string> live_instances() const { return poller_->live_instances(); }

    // Replaces `health[i]` (this instance's view, overrides and drains not yet
    // applied) with the quorum of this instance's and the live peers' verdicts.
    // Endpoints nobody has a verdict on keep what they had. Logs each change of
    // the combined state.
    void combine(std::span<const LocalVerdict> local, std::vector<core::EndpointHealth>& health) override;

    // GET /v1/cluster/verdicts: this instance's own confirmed verdicts and its
    // command log.
    std::string verdicts(std::span<const LocalVerdict> local, std::vector<control::ReplicatedCommand> commands = {},
                         std::optional<int64_t> hook_watermark_ms = std::nullopt) const;
    // The hook watermark a live peer published (nullopt: dead, or none).
    std::optional<int64_t> hook_watermark(const std::string& peer_id) const;
    // The live peers' command logs, one after another (the core merges them).
    std::vector<control::ReplicatedCommand> peer_commands() const override;
    // GET /v1/cluster: who we are, the peers, what is probed where.
    nlohmann::json status(std::span<const LocalVerdict> local) const;

    // The combined state last computed for a key (the state to start probing
    // from when this instance takes an endpoint over).
    std::optional<core::HealthState> last_state(const std::string& key) const override;

    void stop();

private:
    struct Memory {
        core::HealthState state = core::HealthState::Down;
        core::TimePoint since{};
        std::string reason;
    };
    ClusterOptions options_;
    std::unique_ptr<PeerPoller> poller_;
    std::map<std::string, Memory> combined_;  // endpoint key → last combined state
};

}  // namespace signpost::cluster
