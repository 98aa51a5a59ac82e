// For the in-process benches (answer_bench, view_bench): every service of a catalog
// evaluated against one health vector, indexed by zones::Service::index, as the
// control loop evaluates them before building a View.
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::bench {

inline std::vector<policy::Evaluation> evaluate_all(const zones::Catalog& cat,
                                                    std::span<const core::EndpointHealth> health) {
    std::vector<policy::Evaluation> evs(cat.services.size());
    for (auto& ref : cat.services) {
        auto& z = cat.zones[ref.zone];
        auto& s = z.services[ref.service];
        evs[s.index] = policy::evaluate(z, s, health, core::TimePoint{} + std::chrono::hours(1), {}, 1);
    }
    return evs;
}

}  // namespace signpost::bench
