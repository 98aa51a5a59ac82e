#include "tools/daemon_backend.hpp"

#include "dns/explain.hpp"
#include "tools/api_views.hpp"
#include "tools/metrics_text.hpp"

namespace signpost::tools {

using nlohmann::json;

json DaemonBackend::services() {
    auto n = daemon_now();
    auto view = p_.core.view();
    auto geo = view ? dns::geo_answer_counts(*view) : std::vector<dns::GeoAnswerCount>{};
    return services_json(p_.core.catalog(), p_.core.evaluations(), p_.core.states(), p_.health(),
                         [n](core::TimePoint t) { return n.to_unix_ms(t); }, geo);
}

json DaemonBackend::endpoints() { return endpoints_json(p_.core, p_.monitor->status(), p_.health(), daemon_now()); }

json DaemonBackend::zones() {
    return zones_json(p_.core.catalog(), p_.core.reload_status().at_ms, p_.core.signing(),
                      p_.core.signatures().earliest_expiration());
}

json DaemonBackend::status() {
    auto& rs = p_.core.reload_status();
    json j = status_json(services(), endpoints(), zones(), rs.ok, rs.at_ms, rs.errors, p_.core.view_generation(),
                         rs.staged);
    j["runtime_txt"] = runtime_txt_json(p_.core.catalog(), p_.core.runtime_txt());
    j["commands"] = commands_json(p_.core.commands(), daemon_now().unix_ms);
    return j;
}

json DaemonBackend::explain(const std::string& name_text, const std::string& type_text,
                            const std::string& client_text) {
    std::string error;
    auto q = explain_query(name_text, type_text, client_text, error);
    if (!q) throw api::ApiError(400, error);
    auto view = p_.core.view();
    if (!view) throw api::ApiError(503, "not serving yet: the first probe round is running");
    return explanation_json(dns::explain(p_.core.catalog(), p_.core.evaluations(), p_.health(), *view, *q),
                            client_text);
}

json DaemonBackend::set_override(const api::OverrideRequest& r) {
    return command(p_.core.set_override(r.target, r.state, r.reason, r.expires_in, p_.monitor->health(), daemon_now()),
                   {"override", r.target, r.reason});
}

json DaemonBackend::drain(const std::string& key, bool undo) { return drain_with_reason(key, undo, ""); }

json DaemonBackend::drain_with_reason(const std::string& key, bool undo, const std::string& reason) {
    json j = command(p_.core.drain(key, undo, p_.monitor->health(), daemon_now()), {undo ? "undrain" : "drain", key, reason});
    if (auto* d = p_.core.drain_for(key)) j["drained"] = d->drained();
    return j;
}

json DaemonBackend::release(const std::string& key) { return release_with_reason(key, ""); }

json DaemonBackend::release_with_reason(const std::string& key, const std::string& reason) {
    auto r = p_.core.release(key, p_.monitor->health(), daemon_now());
    std::string label = r.label;
    json j = command(std::move(r), {"release", key, reason});
    j["label"] = label;
    return j;
}

json DaemonBackend::events(uint64_t since, std::size_t limit) { return timeline::events_json(p_.timeline, since, limit); }

json DaemonBackend::history(const std::vector<std::string>& keys) {
    return timeline::history_json(p_.history, daemon_now().unix_ms, {keys.begin(), keys.end()});
}

json DaemonBackend::runtime_txt() { return {{"records", runtime_txt_json(p_.core.catalog(), p_.core.runtime_txt())}}; }

json DaemonBackend::txt_set(const api::TxtRequest& r) {
    json j = command(p_.core.txt_set(r.name, r.value, r.ttl, r.expires_in, p_.monitor->health(), daemon_now()));
    p_.timeline.add(timeline::from_command("txt set", r.name, j["message"], "", daemon_now().unix_ms));
    return j;
}

json DaemonBackend::txt_del(const std::string& name, const std::optional<std::string>& value) {
    json j = command(p_.core.txt_del(name, value, p_.monitor->health(), daemon_now()));
    p_.timeline.add(timeline::from_command("txt del", name, j["message"], "", daemon_now().unix_ms));
    return j;
}

json DaemonBackend::cluster() {
    if (!p_.cluster) return api::Backend::cluster();
    std::vector<core::EndpointHealth> own;
    json j = p_.cluster->status(p_.core.local_verdicts(p_.monitor->health(), own));
    if (p_.hook_gate) {
        auto live = p_.cluster->live_instances();
        j["hooks"] = {{"emitter", control::hook_emitter(live)},
                      {"emitting", p_.hook_gate->emitting()},
                      {"held", p_.hook_gate->held()},
                      {"dropped", p_.hook_gate->dropped()}};
    }
    return j;
}

std::string DaemonBackend::cluster_verdicts() {
    if (!p_.cluster) return api::Backend::cluster_verdicts();
    std::vector<core::EndpointHealth> own;
    std::optional<int64_t> watermark;
    if (p_.hook_gate && p_.hook_gate->emitting()) watermark = p_.hook_gate->watermark(daemon_now().unix_ms);
    return p_.cluster->verdicts(p_.core.local_verdicts(p_.monitor->health(), own), p_.core.commands().all(), watermark);
}

json DaemonBackend::reload() {
    bool ok = reload_("API");
    auto& rs = p_.core.reload_status();
    json j = {{"ok", ok}, {"errors", rs.errors}};
    j["message"] = ok ? "reloaded" : "reload failed; still serving the previous configuration";
    if (!ok)
        throw api::ApiError(422, j["message"].get<std::string>() + ": " + (rs.errors.empty() ? "" : rs.errors.front()));
    return j;
}

std::string DaemonBackend::metrics() {
    auto status = p_.monitor->status();
    std::string m = build_info_metrics(build_info());
    m += control_metrics(p_.core, p_.health(), status);
    if (p_.cluster) m += cluster_metrics(cluster());
    if (p_.server) m += dns_metrics(p_.server->stats(), p_.core.zone_names());
    m += process_metrics(read_process_stats());
    return m;
}

json DaemonBackend::command(control::CommandResult r, const Note& note) {
    if (r.status != 200) throw api::ApiError(r.status, r.message);
    // The operator's command first in the timeline, then what it caused.
    if (!note.kind.empty())
        p_.timeline.add(timeline::from_command(note.kind, note.target, r.message, note.reason, daemon_now().unix_ms));
    p_.apply(std::move(r.step));
    return {{"ok", true}, {"message", r.message}};
}

}  // namespace signpost::tools
