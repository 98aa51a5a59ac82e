#include "control/rules.hpp"

#include <algorithm>
#include <chrono>

namespace signpost::control {

std::vector<std::size_t> services_using(const zones::Catalog& catalog, core::EndpointIndex index) {
    std::vector<std::size_t> out;
    if (index >= catalog.endpoints.size()) return out;
    auto& ref = catalog.endpoints[index];
    for (auto& s : catalog.zones[ref.zone].services)
        if (std::find(s.pools.begin(), s.pools.end(), ref.pool) != s.pools.end()) out.push_back(s.index);
    return out;
}

std::vector<std::size_t> services_touched(const zones::Catalog& catalog, core::EndpointIndex index) {
    std::vector<std::size_t> out;
    if (index >= catalog.endpoints.size()) return out;
    auto& ref = catalog.endpoints[index];
    for (auto& s : catalog.zones[ref.zone].services)
        if (!s.failback_gate.empty() || std::find(s.pools.begin(), s.pools.end(), ref.pool) != s.pools.end())
            out.push_back(s.index);
    return out;
}

bool same_answer(const policy::Decision& a, const policy::Decision& b) {
    return a.label == b.label && a.reason == b.reason && policy::same_records(a, b);
}

bool same_answer(const policy::Evaluation& a, const policy::Evaluation& b) {
    if (!same_answer(a.decision, b.decision) || a.subnets.size() != b.subnets.size()) return false;
    for (std::size_t i = 0; i < a.subnets.size(); ++i)
        if (!(a.subnets[i].prefix == b.subnets[i].prefix) || !same_answer(a.subnets[i].decision, b.subnets[i].decision))
            return false;
    auto same_list = [](const std::vector<policy::Decision>& x, const std::vector<policy::Decision>& y) {
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!same_answer(x[i], y[i])) return false;
        return true;
    };
    return same_list(a.geo_rules, b.geo_rules) && same_list(a.geo_pools, b.geo_pools);
}

namespace {
bool carries(const policy::Decision& d, const core::IpAddress& a) {
    for (auto& v : d.variants) {
        auto& list = a.v6 ? v.v6 : v.v4;
        if (std::find(list.begin(), list.end(), a) != list.end()) return true;
    }
    return false;
}
}  // namespace

bool answers_endpoint(const policy::Evaluation& ev, const zones::Endpoint& endpoint) {
    auto one = [&](const policy::Decision& d) {
        for (auto& v : d.variants)
            if (std::find(v.endpoints.begin(), v.endpoints.end(), endpoint.index) != v.endpoints.end()) return true;
        return !endpoint.hostname && carries(d, endpoint.address);
    };
    if (one(ev.decision)) return true;
    for (auto& r : ev.subnets)
        if (one(r.decision)) return true;
    for (auto& d : ev.geo_rules)
        if (one(d)) return true;
    for (auto& d : ev.geo_pools)
        if (one(d)) return true;
    return false;
}

bool drain_complete(std::optional<core::TimePoint> left_answers, uint32_t highest_ttl, core::TimePoint now) {
    return left_answers && now - *left_answers >= std::chrono::seconds(highest_ttl);
}

WarningEdge warning_step(WarningEpisode& episode, bool warn, bool moved, core::TimePoint now, core::Millis calm) {
    if (moved) episode = WarningEpisode{};  // the move ends the episode; the service event tells
    if (warn) {
        episode.calm_since.reset();
        if (episode.active) return WarningEdge::None;
        episode.active = true;
        return WarningEdge::Raised;
    }
    if (!episode.active) return WarningEdge::None;
    if (!episode.calm_since) episode.calm_since = now;
    if (now - *episode.calm_since < calm) return WarningEdge::None;
    episode = WarningEpisode{};
    return WarningEdge::Cleared;
}

}  // namespace signpost::control
