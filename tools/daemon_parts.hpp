// The daemon's running parts, owned together: the control core and the I/O
// modules that feed it and carry its steps out. tools/daemon.cpp runs their
// lifecycle (start, signals, reloads, timers); tools/daemon_backend.cpp adapts
// the API to them. Wiring only: the rules are the core's.
#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "api/api_server.hpp"
#include "cluster/member.hpp"
#include "control/controller.hpp"
#include "control/hook_gate.hpp"
#include "dns/server.hpp"
#include "hooks/hook_runner.hpp"
#include "probes/health_monitor.hpp"
#include "resolve/resolver.hpp"
#include "timeline/timeline.hpp"
#include "tools/geoip_files.hpp"
#include "tools/server_config.hpp"
#include "tools/service_notify.hpp"
#include "xfr/notifier.hpp"

namespace signpost::tools {

// The time of a step, read once: the monotonic and the wall clock.
control::Now daemon_now();

control::Options core_options(const ServerConfig& c);

struct DaemonParts {
    explicit DaemonParts(const ServerConfig& c) : config(c), core(core_options(c)) {}

    ServerConfig config;
    control::Controller core;
    timeline::Timeline timeline;  // what the incident page and /v1/events show (before hooks: they report into it)
    timeline::History history;    // per service and endpoint: the last hour
    int64_t observed_ms = 0;      // when observe() last sampled
    uv_loop_t loop{};
    std::unique_ptr<probes::HealthMonitor> monitor;
    std::unique_ptr<resolve::Resolver> resolver;
    std::unique_ptr<cluster::Member> cluster;  // null without [cluster]
    std::unique_ptr<hooks::HookRunner> hooks;
    std::unique_ptr<control::HookGate> hook_gate;  // [cluster]: hooks once per cluster (null alone)
    std::string hook_emitter_seen;                 // the emitter last logged
    std::unique_ptr<dns::Server> server;
    std::unique_ptr<api::ApiServer> api;
    std::unique_ptr<xfr::Notifier> notifier;
    GeoIpFiles geoip;       // geoip_databases: the geo policy's MaxMind DB files
    ServiceNotify systemd;  // sd_notify: READY, RELOADING, STATUS, STOPPING, WATCHDOG (no-op without systemd)
    bool stopping = false;
    bool state_dirty = false;  // the state file is behind: save it soon

    // Carries a step's outputs out, in the order the core asks for.
    void apply(control::Step step);
    // [cluster]: tells the hook gate who is live and what the emitter delivered,
    // and delivers the held events it hands back (on each poll and tick).
    void gate_hooks(const control::Now& now);
    void deliver(const control::Event& e);
    // Samples services, endpoints and probe results into `history` (at most once a second).
    void observe(const control::Now& now);
    // The STATUS= line systemd shows (tools/service_status.hpp).
    std::string service_status() const;
    // Probes + quorum + overrides + drains, indexed like the catalog's endpoints.
    std::vector<core::EndpointHealth> health() const { return core.effective_health(monitor->health()); }
};

}  // namespace signpost::tools
