// Small pure rules of the control core, each written once: which services an
// endpoint touches, whether two evaluations answer the same, whether an answer
// carries an address, and the drain rule. No I/O, no clocks.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::control {

// Services whose answer may move when endpoint `index` changes: those with a pool
// holding it, and those whose failback gate may be any endpoint of its zone.
// Sorted, no duplicates.
std::vector<std::size_t> services_touched(const zones::Catalog& catalog, core::EndpointIndex index);
// Services with a pool holding the endpoint (whose hooks hear about it).
std::vector<std::size_t> services_using(const zones::Catalog& catalog, core::EndpointIndex index);

// Equal evaluations produce equal answers, so an unchanged service needs no new View.
bool same_answer(const policy::Decision& a, const policy::Decision& b);
bool same_answer(const policy::Evaluation& a, const policy::Evaluation& b);

// True when any variant of any decision of `ev` (subnet rules included) carries
// the endpoint: by index (a hostname's CNAME or addresses, or the endpoint
// itself), or, for an address endpoint, its address (another endpoint may share it).
bool answers_endpoint(const policy::Evaluation& ev, const zones::Endpoint& endpoint);

// Drain rule: an endpoint is drained once the highest TTL any answer carrying it
// was served with has passed since the first publication without it.
// `left_answers` unset: it is still in an answer (or that View is not published yet).
bool drain_complete(std::optional<core::TimePoint> left_answers, uint32_t highest_ttl, core::TimePoint now);

}  // namespace signpost::control
