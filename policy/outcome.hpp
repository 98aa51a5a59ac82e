// What one policy kind produces before the common rules (TTL, stability,
// change tracking, early warning) are applied, and the list of kinds.
// Private to policy/. Adding a kind: one line in kinds() (policy.cpp), one .cpp, docs, tests.
#pragma once

#include <vector>

#include "core/address.hpp"
#include "policy/pool_status.hpp"

namespace signpost::policy {

struct DraftRule {
    core::IpPrefix prefix;
    Draft draft;
};

struct Outcome {
    Draft decision;                  // clients matching no rule
    std::vector<DraftRule> rules;    // subnet policy, most specific first
    std::vector<Draft> geo_rules;    // geo policy: Evaluation::geo_rules
    std::vector<Draft> geo_pools;    // geo policy, nearest: Evaluation::geo_pools
    int active_pool = -1;            // ServiceState::active_pool
    std::vector<int> subnet_active;  // ServiceState::subnet_active
    bool released = false;           // ServiceState::released after this evaluation
};

using Evaluator = Outcome (*)(const Context&);

Outcome evaluate_failover(const Context& ctx);
Outcome evaluate_weighted(const Context& ctx);
Outcome evaluate_multivalue(const Context& ctx);
Outcome evaluate_subnet(const Context& ctx);
Outcome evaluate_geo(const Context& ctx);

}  // namespace signpost::policy
