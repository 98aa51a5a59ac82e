// Prometheus text format pieces the daemon's /metrics is made of.
// Pure renderers (state in, text out) plus the two readers of what the process
// knows about itself (build, /proc); nothing here keeps state or runs on a DNS worker.
//
// Conventions (docs/operations.md "Metrics"): counters end in `_total`, durations
// and times are in seconds, every family has HELP and TYPE, and every endpoint,
// service and pool has its series from the first scrape (0 until it changes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "control/controller.hpp"
#include "dns/server.hpp"
#include "probes/health_monitor.hpp"

namespace signpost::tools {

// A label value with '"', '\' and newlines escaped.
std::string escape_label(const std::string& s);

// What this binary knows about its build.
struct BuildInfo {
    std::string version;   // "0.1.0"
    std::string compiler;  // "gcc 13.2.0", "clang 17.0.6"
};
BuildInfo build_info();
// `signpost_build_info{version="...",compiler="..."} 1`.
std::string build_info_metrics(const BuildInfo& build);

// The process as the Prometheus client libraries describe it; a field that
// could not be read is left out of the text.
struct ProcessStats {
    std::optional<double> cpu_seconds;         // user + system
    std::optional<uint64_t> resident_bytes, virtual_bytes;
    std::optional<uint64_t> open_fds, max_fds;
    std::optional<double> start_time_seconds;  // Unix time
};
// Reads getrusage, /proc/self/{stat,fd}, /proc/stat and RLIMIT_NOFILE: a few
// syscalls, for scrape time only (the control loop).
ProcessStats read_process_stats();
// The `process_*` families (process_cpu_seconds_total, process_resident_memory_bytes, ...).
std::string process_metrics(const ProcessStats& st);

// The DNS workers' counters: queries, responses by rcode/type/zone, TCP, RRL,
// the answer latency histogram. `zone_names` maps the stable zone ids.
std::string dns_metrics(const dns::ServerStats& st, std::span<const std::string> zone_names);

// A cluster's peers (up or not) and how many endpoints this instance probes,
// from GET /v1/cluster's document.
std::string cluster_metrics(const nlohmann::json& cluster_status);

// What the control core knows: views published, reloads, events, endpoint health
// (up, failing) and transitions, the pools each service answers with, hostname
// resolutions. `health` is the effective health, indexed like the catalog's endpoints.
std::string control_metrics(const control::Controller& core, std::span<const core::EndpointHealth> health,
                            std::span<const probes::EndpointStatus> probes);

}  // namespace signpost::tools
