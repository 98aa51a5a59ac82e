#include "cluster/member.hpp"

#include "cluster/quorum.hpp"
#include "cluster/wire.hpp"
#include "core/log.hpp"

namespace signpost::cluster {

Member::Member(uv_loop_t* loop, ClusterOptions options, std::string poll_source)
    : options_(options), poller_(std::make_unique<PeerPoller>(loop, std::move(options), std::move(poll_source))) {
    std::string peers;
    for (auto& p : options_.peers) peers += (peers.empty() ? "" : ", ") + p.id + " at " + p.url;
    core::log_info("cluster", "instance {}: {} peer(s) ({}); down takes {}; {}", options_.id, options_.peers.size(),
                   peers, options_.quorum ? std::to_string(options_.quorum) + " vantage points" : std::string("a majority"),
                   options_.probers ? "each endpoint probed by " + std::to_string(options_.probers) + " instance(s)"
                                    : std::string("every instance probes every endpoint"));
}

Member::~Member() { stop(); }

void Member::on_change(std::function<void()> callback) { poller_->on_update(std::move(callback)); }

bool Member::settled() const { return poller_->settled(); }

bool Member::probes(const std::string& endpoint_key) const {
    auto live = poller_->live_instances();
    if (probes_endpoint(endpoint_key, options_.id, live, options_.probers)) return true;
    // Not ours, but until a live peer reports a verdict on it (a peer just
    // started, or took it over from a dead one) we keep probing: no endpoint
    // is ever left without a vantage point.
    for (auto& p : poller_->peers())
        if (p.live && p.verdicts.by_endpoint.count(endpoint_key)) return false;
    return true;
}

void Member::combine(std::span<const LocalVerdict> local, std::vector<core::EndpointHealth>& health) {
    auto now = core::Clock::now();
    std::vector<Vote> votes;
    for (std::size_t i = 0; i < local.size() && i < health.size(); ++i) {
        const auto& key = *local[i].key;
        votes.clear();
        if (local[i].probed && local[i].own && local[i].own->confirmed)
            votes.push_back({options_.id, local[i].own->state, local[i].own->suspect, local[i].own->reason});
        for (auto& p : poller_->peers()) {
            if (!p.live) continue;
            auto it = p.verdicts.by_endpoint.find(key);
            if (it != p.verdicts.by_endpoint.end()) votes.push_back(it->second);
        }
        auto mem = combined_.find(key);
        if (votes.empty()) {
            // Nobody has a verdict (yet): keep the last combined answer rather
            // than whatever this instance guessed before probing.
            if (mem != combined_.end() && !local[i].probed) {
                health[i].state = mem->second.state;
                health[i].since = mem->second.since;
                health[i].reason = mem->second.reason + " (no vantage point has a fresh verdict)";
                health[i].confirmed = false;
            }
            continue;
        }
        auto outcome = cluster::combine(votes, options_.quorum);
        if (mem == combined_.end()) {
            mem = combined_.emplace(key, Memory{outcome.state, now, outcome.reason}).first;
        } else if (mem->second.state != outcome.state) {
            core::log_info("cluster", "endpoint {}: {} → {} ({})", key, core::to_string(mem->second.state),
                           core::to_string(outcome.state), outcome.reason);
            mem->second.state = outcome.state;
            mem->second.since = now;
        }
        mem->second.reason = outcome.reason;
        health[i].state = outcome.state;
        health[i].suspect = outcome.suspect;
        health[i].confirmed = true;
        health[i].since = mem->second.since;
        health[i].reason = outcome.reason;
    }
}

std::vector<control::ReplicatedCommand> Member::peer_commands() const {
    std::vector<control::ReplicatedCommand> out;
    for (auto& p : poller_->peers())
        if (p.live) out.insert(out.end(), p.verdicts.commands.begin(), p.verdicts.commands.end());
    return out;
}

std::optional<int64_t> Member::hook_watermark(const std::string& peer_id) const {
    for (auto& p : poller_->peers())
        if (p.live && p.config.id == peer_id) return p.verdicts.hook_watermark_ms;
    return std::nullopt;
}

std::string Member::verdicts(std::span<const LocalVerdict> local, std::vector<control::ReplicatedCommand> commands,
                             std::optional<int64_t> hook_watermark_ms) const {
    PeerVerdicts out;
    out.instance = options_.id;
    out.commands = std::move(commands);
    out.hook_watermark_ms = hook_watermark_ms;
    for (auto& v : local)
        if (v.probed && v.own && v.own->confirmed)
            out.by_endpoint[*v.key] = {options_.id, v.own->state, v.own->suspect, v.own->reason};
    return encode_verdicts(out);
}

nlohmann::json Member::status(std::span<const LocalVerdict> local) const {
    nlohmann::json peers = nlohmann::json::array();
    for (auto& p : poller_->peers())
        peers.push_back({{"id", p.config.id},
                         {"url", p.config.url},
                         {"live", p.live},
                         {"last_ok_ms", p.last_ok_ms},
                         {"last_error", p.last_error},
                         {"polls", p.polls},
                         {"failures", p.failures},
                         {"commands", p.verdicts.commands.size()},
                         {"commands_error", p.commands_error},
                         {"verdicts", p.verdicts.by_endpoint.size()}});
    nlohmann::json probed = nlohmann::json::array();
    for (auto& v : local)
        if (v.probed) probed.push_back(*v.key);
    return {{"id", options_.id},
            {"quorum", options_.quorum},
            {"probers", options_.probers},
            {"poll_interval_ms", options_.poll_interval.count()},
            {"peer_timeout_ms", options_.peer_timeout.count()},
            {"live", poller_->live_instances()},
            {"peers", peers},
            {"probed_here", probed}};
}

std::optional<core::HealthState> Member::last_state(const std::string& key) const {
    auto it = combined_.find(key);
    if (it == combined_.end()) return std::nullopt;
    return it->second.state;
}

void Member::stop() {
    if (poller_) poller_->stop();
}

}  // namespace signpost::cluster
