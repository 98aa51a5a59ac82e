// Prometheus text format pieces the daemon's /metrics is made of.
#pragma once

#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "control/controller.hpp"
#include "dns/server.hpp"
#include "probes/health_monitor.hpp"

namespace signpost::tools {

// A label value with '"', '\' and newlines escaped.
std::string escape_label(const std::string& s);

// The DNS workers' counters: queries, responses by rcode/type/zone, TCP, RRL,
// the answer latency histogram. `zone_names` maps the stable zone ids.
std::string dns_metrics(const dns::ServerStats& st, std::span<const std::string> zone_names);

// A cluster's peers (up or not) and how many endpoints this instance probes,
// from GET /v1/cluster's document.
std::string cluster_metrics(const nlohmann::json& cluster_status);

// What the control core knows: generation, reloads, events, endpoint health and
// transitions, the pool each service answers with. `health` is the effective health.
std::string control_metrics(const control::Controller& core, std::span<const core::EndpointHealth> health,
                            std::span<const probes::EndpointStatus> probes);

}  // namespace signpost::tools
