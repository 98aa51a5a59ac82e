#include "cluster/quorum.hpp"

#include <algorithm>

namespace signpost::cluster {

uint64_t stable_hash(std::string_view text) noexcept {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    // FNV's low bits mix poorly for short, similar keys; finish with a
    // splitmix64 round so rankings do not correlate between endpoints.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

bool probes_endpoint(std::string_view endpoint_key, std::string_view self, std::span<const std::string> live,
                     unsigned probers) {
    bool self_live = std::find(live.begin(), live.end(), self) != live.end();
    std::size_t instances = live.size() + (self_live ? 0 : 1);
    if (probers == 0 || probers >= instances) return true;
    auto weight = [&](std::string_view instance) {
        std::string k;
        k.reserve(instance.size() + 1 + endpoint_key.size());
        k.append(instance).append(1, '\n').append(endpoint_key);
        return stable_hash(k);
    };
    const uint64_t mine = weight(self);
    // Self is among the top `probers` when fewer than `probers` others outrank it
    // (ties, practically impossible, break by name so everyone agrees).
    unsigned above = 0;
    for (auto& other : live) {
        if (other == self) continue;
        uint64_t w = weight(other);
        if (w > mine || (w == mine && other < self)) ++above;
    }
    return above < probers;
}

Outcome combine(std::span<const Vote> votes, unsigned quorum) {
    Outcome out;
    out.voters = unsigned(votes.size());
    for (auto& v : votes) {
        out.down_votes += v.state == core::HealthState::Down;
        out.suspect |= v.suspect;
    }
    out.needed = quorum == 0 ? out.voters / 2 + 1 : std::min(quorum, out.voters);
    out.state = out.down_votes >= out.needed && out.down_votes > 0 ? core::HealthState::Down : core::HealthState::Up;
    // A vantage point that sees it down, outvoted or not, is worth a warning.
    out.suspect |= out.down_votes > 0 && out.state == core::HealthState::Up;

    auto list = [&](core::HealthState which) {
        std::string s;
        for (auto& v : votes)
            if (v.state == which) s += (s.empty() ? "" : "; ") + v.instance + ": " + v.reason;
        return s;
    };
    const std::string tally = std::to_string(out.down_votes) + "/" + std::to_string(out.voters);
    if (out.state == core::HealthState::Down) {
        out.reason = "down at " + tally + " vantage points (" + list(core::HealthState::Down) + ")";
    } else if (out.down_votes > 0) {
        out.reason = "up: down at only " + tally + " vantage points, " + std::to_string(out.needed) +
                     " needed (" + list(core::HealthState::Down) + ")";
    } else {
        std::string first = votes.empty() ? std::string() : votes.front().reason;
        out.reason = first + (first.empty() ? "" : " ") + "(up at " + std::to_string(out.voters) + "/" +
                     std::to_string(out.voters) + " vantage points)";
    }
    return out;
}

}  // namespace signpost::cluster
