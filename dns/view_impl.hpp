// The inside of a View: per-zone hash indexes of owner names, RRsets ordered by
// type, services with their evaluations. Internal to dns/; built once, then read-only.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dns/view.hpp"
#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::dns::detail {

// FNV-1a over canonical wire bytes: cheap and good enough for owner names.
inline uint64_t hash_bytes(const uint8_t* p, std::size_t n) noexcept {
    uint64_t h = 1469598103934665603ull;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

// Open-addressing table from canonical wire name to a dense index. The keys are
// views into strings owned elsewhere in the View (which never moves them after build).
class NameIndex {
public:
    void build(const std::vector<std::string_view>& keys);
    // -1 when absent.
    int32_t find(const uint8_t* wire, std::size_t len) const noexcept {
        if (slots_.empty()) return -1;
        uint64_t h = hash_bytes(wire, len);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.value < 0) return -1;
            if (s.hash == h && s.key.size() == len && std::memcmp(s.key.data(), wire, len) == 0) return s.value;
        }
    }

private:
    struct Slot {
        uint64_t hash = 0;
        std::string_view key;
        int32_t value = -1;
    };
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

// Per service decision with precomputed weights.
struct DecisionData {
    const policy::Decision* decision = nullptr;
    uint64_t total_weight = 0;  // 0: pick uniformly
};
struct SubnetData {
    core::IpPrefix prefix;
    DecisionData data;
};
struct ServiceData {
    DecisionData fallback;
    std::vector<SubnetData> subnets;  // longest prefix first
    bool subnet_dependent = false;
};

struct VNode {
    std::string name;                           // canonical wire
    std::vector<const zones::RRset*> rrsets;    // ordered by type; SOA only at the apex
    int32_t service = -1;                       // index into View::services_
    bool cut = false;                           // NS at a non-apex owner
    bool apex = false;

    const zones::RRset* find(uint16_t type) const noexcept {
        for (auto* s : rrsets)
            if (s->type == type) return s;
        return nullptr;
    }
    bool empty() const noexcept { return rrsets.empty() && service < 0; }
};

struct ZoneData {
    const zones::Zone* zone = nullptr;
    int32_t stable_id = -1;  // ViewOptions::zone_ids, for per-zone counters
    std::string origin;  // canonical wire
    int origin_labels = 0;
    std::vector<VNode> nodes;
    NameIndex index;
    const zones::RRset* soa = nullptr;
    uint32_t negative_ttl = 0;  // min(SOA TTL, SOA minimum)

    const VNode* find(const uint8_t* wire, std::size_t len) const noexcept {
        int32_t i = index.find(wire, len);
        return i < 0 ? nullptr : &nodes[std::size_t(i)];
    }
};

}  // namespace signpost::dns::detail

namespace signpost::dns {

class View {
public:
    std::shared_ptr<const zones::Catalog> catalog_;
    uint64_t generation_ = 0;
    ViewOptions options_;
    std::vector<policy::Evaluation> evaluations_;  // indexed by Service::index
    std::vector<detail::ServiceData> services_;     // indexed by Service::index
    std::vector<detail::ZoneData> zones_;
    detail::NameIndex zone_index_;                  // origin → zones_ index
    std::deque<zones::RRset> owned_;                // synthesized RRsets (SOA, state TXT)
};

}  // namespace signpost::dns
