#include "tools/daemon_parts.hpp"

#include <chrono>
#include <random>

#include "core/log.hpp"
#include "tools/service_status.hpp"
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
    o.instance_id = c.cluster.enabled() ? c.cluster.id : std::string();
    o.transferred = [xfr = c.xfr](const std::string& origin) { return xfr.transferred(origin); };
    return o;
}

void DaemonParts::apply(control::Step step) {
    // The answers first: a flip of 10,000 services logs 10,000 lines, one write each,
    // which would otherwise delay the publication they describe.
    if (step.snapshot && server) {
        server->publish(step.snapshot);
        core.published(step.snapshot->version, daemon_now());  // every later query sees it
    }
    for (auto& l : step.log) core::log_line(l.level, l.unit, l.text);
    if (!stopping && notifier)
        for (auto& n : step.notifies) notifier->notify(n.origin, n.soa);
    for (auto& e : step.events) {
        auto entry = timeline::from_event(e.payload);
        if (entry.kind == "service" || entry.kind == "endpoint")  // the band starts with the event, not a sample later
            history.state(entry.kind == "service" ? entry.zone + "/" + entry.service : entry.endpoint, entry.to,
                          entry.time_ms);
        timeline.add(std::move(entry));
        if (!hook_gate) {
            deliver(e);
            continue;
        }
        e.payload.instance = config.cluster.id;
        int64_t at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.payload.time.time_since_epoch()).count();
        if (auto out = hook_gate->admit(std::move(e), at_ms)) deliver(*out);
    }
    if (step.retarget && monitor) monitor->set_targets(core.probe_targets());
    if (step.retarget && resolver) resolver->set_names(core.hostnames());
    if (step.retarget && cluster && monitor)
        core::log_info("cluster", "probing {} of {} endpoint(s) here", monitor->status().size(),
                       core.catalog().endpoints.size());
    if (step.persist) state_dirty = true;
    if (systemd.enabled()) systemd.status(service_status());  // sent only when it changed
}

void DaemonParts::deliver(const control::Event& e) {
    if (!hooks) return;
    for (auto& hook : e.hooks) hooks->deliver(hook, e.payload);
}

void DaemonParts::gate_hooks(const control::Now& now) {
    if (!hook_gate || !cluster) return;
    auto live = cluster->live_instances();
    auto emitter = control::hook_emitter(live);
    auto out = hook_gate->update(live, emitter == config.cluster.id ? std::nullopt : cluster->hook_watermark(emitter),
                                 now.unix_ms);
    if (emitter != hook_emitter_seen) {
        hook_emitter_seen = emitter;
        if (hook_gate->emitting())
            core::log_info("hooks", "this instance delivers the cluster's hook events (the lowest live id); {} held "
                           "event(s) delivered now, a receiver may see some twice", out.size());
        else
            core::log_info("hooks", "{} delivers the cluster's hook events (the lowest live id); events decided here "
                           "are held until its watermark covers them", emitter);
    }
    for (auto& e : out) deliver(e);
}

std::string DaemonParts::service_status() const {
    if (!core.serving()) return status_text({});  // no catalog to count before the first load
    return status_text(summarize(core.serving(), core.catalog().zones.size(), core.evaluations(), !core.reload_status().ok));
}

void DaemonParts::observe(const control::Now& now) {
    if (now.unix_ms - observed_ms < 1000 || !monitor || !core.serving()) return;  // before: no state yet
    observed_ms = now.unix_ms;
    auto& cat = core.catalog();
    auto evaluations = core.evaluations();
    for (std::size_t i = 0; i < cat.services.size() && i < evaluations.size(); ++i)
        if (!evaluations[i].decision.label.empty())
            history.state(cat.services[i].key, evaluations[i].decision.label, now.unix_ms);
    auto h = health();
    for (std::size_t i = 0; i < cat.endpoints.size() && i < h.size(); ++i)
        history.state(cat.endpoints[i].key, core::to_string(h[i].state), now.unix_ms);
    for (auto& st : monitor->status())
        history.probe(st.key, st.checks_run, st.last_latency_ms, st.consecutive_fail == 0, now.unix_ms);
    history.prune(now.unix_ms);
}

}  // namespace signpost::tools
