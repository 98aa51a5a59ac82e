#include "tools/daemon_parts.hpp"

#include <random>

#include "core/log.hpp"
#include "tools/state_store.hpp"

namespace signpost::tools {

control::Now daemon_now() { return {core::Clock::now(), unix_ms_now()}; }

control::Options core_options(const ServerConfig& c) {
    control::Options o;
    o.seed_salt = std::random_device{}();
    o.udp_payload_size = c.dns.udp_payload_size;
    o.explain = !c.explain_allow.empty();
    o.xfr_history = c.xfr.history;
    o.state_max_age = c.state_max_age;
    o.transferred = [xfr = c.xfr](const std::string& origin) { return xfr.transferred(origin); };
    return o;
}

void DaemonParts::apply(control::Step step) {
    for (auto& l : step.log) core::log_line(l.level, l.unit, l.text);
    if (step.snapshot && server) {
        server->publish(step.snapshot);
        core.published(step.snapshot->version, daemon_now());  // every later query sees it
    }
    if (!stopping && notifier)
        for (auto& n : step.notifies) notifier->notify(n.origin, n.soa);
    for (auto& e : step.events)
        for (auto& hook : e.hooks)
            if (hooks) hooks->deliver(hook, e.payload);
    if (step.retarget && monitor) monitor->set_targets(core.probe_targets());
    if (step.retarget && resolver) resolver->set_names(core.hostnames());
    if (step.retarget && cluster && monitor)
        core::log_info("cluster", "probing {} of {} endpoint(s) here", monitor->status().size(),
                       core.catalog().endpoints.size());
    if (step.persist) state_dirty = true;
}

}  // namespace signpost::tools
