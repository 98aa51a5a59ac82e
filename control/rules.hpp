// Small pure rules of the control core, each written once: which services an
// endpoint touches, whether two evaluations answer the same, whether an answer
// carries an address, and the drain rule. No I/O, no clocks.
#pragma once

#include <cstdint>
#include <optional>
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

// The early-warning episode of one service. An episode starts when the answered
// pool has an endpoint failing (suspect) or browning out (degraded) while up:
// `early-warning`, once. It ends with `warning-cleared`, once, after `calm`
// without either (a flickering brownout stays one episode), or silently when the
// answer moves to another pool (the `service` event says more: a standby that
// scaled up on the warning must not scale down then).
struct WarningEpisode {
    bool active = false;
    std::optional<core::TimePoint> calm_since;  // active, nothing to warn about since then
};
enum class WarningEdge : uint8_t { None, Raised, Cleared };
inline constexpr core::Millis kWarningCalm{5000};
// One evaluation of the service: `warn` the policy's early_warning, `moved` the
// answer moved from one pool to another in this evaluation.
WarningEdge warning_step(WarningEpisode& episode, bool warn, bool moved, core::TimePoint now,
                         core::Millis calm = kWarningCalm);

}  // namespace signpost::control
