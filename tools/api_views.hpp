// What the status/control API shows: the JSON documents of GET /services,
// /endpoints, /zones, /status and /explain, rendered from the daemon's state.
// Pure: no clocks, no I/O, no daemon; the caller looks the state up and passes it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/controller.hpp"
#include "core/health.hpp"
#include "core/name.hpp"
#include "dns/explain.hpp"
#include "dns/signing.hpp"
#include "policy/policy.hpp"
#include "probes/health_monitor.hpp"
#include "zones/model.hpp"

namespace signpost::tools {

// A zone's origin as keys, metrics and the API spell it: "example.com" (no final dot).
std::string origin_text(const core::Name& origin);

// Steady-clock instants as wall-clock Unix milliseconds: passed in, so rendering reads no clock.
using ToUnixMs = std::function<int64_t(core::TimePoint)>;

// GET /services: one object per catalog service, in catalog order. `evaluations`
// and `states` are indexed like catalog.services and may be shorter (not evaluated
// yet); `health` is the effective health (overrides and drains applied).
// `geo_answers` (dns::geo_answer_counts of the View served): a geo service's object
// lists its answers per rule, as signpost_geo_answers_total counts them.
nlohmann::json services_json(const zones::Catalog& catalog, std::span<const policy::Evaluation> evaluations,
                             std::span<const policy::ServiceState> states,
                             std::span<const core::EndpointHealth> health, const ToUnixMs& to_unix_ms,
                             std::span<const dns::GeoAnswerCount> geo_answers = {});

// What an endpoint's object shows beyond the catalog and its health: the daemon
// looks these up (the probes' status by key, the override in force, the drain).
struct EndpointFacts {
    int64_t since_ms = 0;                            // in its current state since (Unix ms)
    const probes::EndpointStatus* status = nullptr;  // null: the probes have no status for it
    struct Override {
        core::Override state = core::Override::Auto;
        std::string reason;
        std::optional<int64_t> expires_ms;  // Unix ms; none: until changed
    };
    std::optional<Override> override_in_force;  // the endpoint's own, else its pool's
    struct Drain {
        int64_t since_ms = 0;  // Unix ms
        bool drained = false;  // out of every answer for longer than the highest TTL served
        uint32_t highest_ttl = 0;  // the highest TTL it was served with
        // CLOCK_MONOTONIC seconds (what the drain rule is measured on): when the
        // first snapshot without it was published, and when the rule was met.
        std::optional<double> left_answers_monotonic, drained_monotonic;
    };
    std::optional<Drain> drain;
    // Hostname endpoints: what the name resolves to, and each address's probes.
    struct Resolution {
        const core::Resolution* resolution = nullptr;  // null: not resolved yet
        int64_t resolved_ms = 0, next_refresh_ms = 0;   // Unix ms
        std::vector<std::pair<core::IpAddress, const probes::EndpointStatus*>> addresses;
    };
    std::optional<Resolution> hostname;
};

// One object of GET /endpoints: the endpoint at `index` in catalog.endpoints.
nlohmann::json endpoint_json(const zones::Catalog& catalog, core::EndpointIndex index,
                             const core::EndpointHealth& health, const EndpointFacts& facts);

// GET /zones: one object per zone; every zone was loaded by the last good reload.
// `keys` (Controller::signing()) says which zones are signed and with which keys;
// `signatures_expire` (Unix seconds, 0: none) is the earliest expiry of any signature served.
nlohmann::json zones_json(const zones::Catalog& catalog, int64_t reload_at_ms, const dns::SigningKeys* keys = nullptr,
                          int64_t signatures_expire = 0);

// GET /v1/txt's "records" (and /v1/status's "runtime_txt"): one object per runtime
// TXT value, {name, zone, value, ttl, set, expires}, by name.
nlohmann::json runtime_txt_json(const zones::Catalog& catalog, const control::RuntimeRecords& records);
// /v1/status "commands": every operator command this instance knows (made here or
// at a peer), with its origin instance and time; `now_ms` tells which are in effect.
nlohmann::json commands_json(const control::CommandLog& log, int64_t now_ms);

// GET /status: the three lists with the last reload's outcome and the View generation.
nlohmann::json status_json(nlohmann::json services, nlohmann::json endpoints, nlohmann::json zones, bool reload_ok,
                           int64_t reload_at_ms, const std::vector<std::string>& reload_errors,
                           uint64_t generation, bool staged = false);

// GET /v1/endpoints: every endpoint of the core's catalog with the probes' status
// (by key), the override in force and the drain. `health` is the effective health.
nlohmann::json endpoints_json(const control::Controller& core, std::span<const probes::EndpointStatus> probes,
                              std::span<const core::EndpointHealth> health, const control::Now& now);

// The explain question of an API request; nullopt with `error` (a 400's text) when malformed.
std::optional<dns::ExplainQuery> explain_query(const std::string& name, const std::string& type,
                                               const std::string& client, std::string& error);

// GET /explain: `client_text` is echoed as the client asked it ("" for none).
nlohmann::json explanation_json(const dns::Explanation& e, const std::string& client_text);

}  // namespace signpost::tools
