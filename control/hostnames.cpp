#include "control/hostnames.hpp"

#include <algorithm>

#include "resolve/schedule.hpp"

namespace signpost::control {

core::EndpointHealth hostname_health(const std::string& name, const core::Resolution* r,
                                     std::span<const AddressProbe> probes, bool all, core::TimePoint changed_at) {
    core::EndpointHealth h;
    h.state = core::HealthState::Down;
    if (!r || r->state == core::ResolveState::Pending) {
        h.reason = "resolving " + name;
        return h;
    }
    if (r->addresses.empty() || probes.empty()) {
        h.confirmed = true;
        h.since = changed_at;
        h.reason = !r->error.empty() ? r->error : "no addresses for " + name;
        return h;
    }
    std::size_t up = 0, known = 0, suspect_up = 0, suspect_down = 0, confirmed_up = 0, degraded_up = 0;
    std::string warning;
    bool first_up = true, first_down = true;
    core::TimePoint up_since{}, down_since{};
    std::string reason;
    for (auto& p : probes) {
        core::EndpointHealth unknown;
        const core::EndpointHealth& t = p.health ? *p.health : unknown;
        if (!reason.empty()) reason += ", ";
        reason += p.address.to_string() + " " + (t.reason.empty() ? std::string(core::to_string(t.state)) : t.reason);
        if (t.confirmed) ++known;
        if (t.up()) {
            ++up;
            if (t.suspect) ++suspect_up;
            if (t.degraded) {
                ++degraded_up;
                if (warning.empty()) warning = p.address.to_string() + " " + t.warning;
            }
            if (t.confirmed) ++confirmed_up;
            // any: up since the longest-up address; all: since the last one came up
            if (first_up || (all ? t.since > up_since : t.since < up_since)) up_since = t.since;
            first_up = false;
        } else {
            if (t.suspect) ++suspect_down;
            if (first_down || t.since > down_since) down_since = t.since;
            first_down = false;
        }
    }
    std::size_t n = probes.size();
    bool is_up = all ? up == n : up > 0;
    h.state = is_up ? core::HealthState::Up : core::HealthState::Down;
    h.since = is_up ? up_since : down_since;
    if (all) {
        h.suspect = is_up ? suspect_up > 0 : suspect_down == n - up;
        h.confirmed = is_up ? known == n : known > 0;
    } else {
        h.suspect = is_up ? suspect_up == up : suspect_down > 0;
        h.confirmed = is_up ? confirmed_up > 0 : known == n;
    }
    // Degraded (a brownout) like suspect: with "all" when one address is, with
    // "any" when every address that is up is.
    h.degraded = is_up && (all ? degraded_up > 0 : degraded_up == up);
    if (h.degraded) h.warning = warning;
    h.reason = reason;  // the endpoint is named after its hostname already
    if (r->state == core::ResolveState::Failing && !r->error.empty())
        h.reason += " (re-resolving fails: " + r->error + "; probing the last good addresses)";
    return h;
}

policy::Resolved resolved_of(const core::Resolution& r) {
    policy::Resolved out;
    out.addresses = r.addresses;
    out.ttl_cap = resolve::flattened_ttl_cap(r);
    out.state = r.state == core::ResolveState::Ok ? std::string("ok") : std::string(core::to_string(r.state));
    if (!r.error.empty() && r.state != core::ResolveState::Ok) out.state += ": " + r.error;
    return out;
}

}  // namespace signpost::control
