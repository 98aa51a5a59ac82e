// The daemon's control loop. Owns everything that changes (catalog, health,
// overrides, drains, service states) and hands immutable Views to the DNS
// workers. Implements the status/control API's Backend on the same thread;
// tools/api_views renders what the API shows from the state looked up here.
#include "tools/daemon.hpp"

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "api/api_server.hpp"
#include "core/log.hpp"
#include "dns/describe.hpp"
#include "dns/explain.hpp"
#include "dns/explain_responder.hpp"
#include "dns/server.hpp"
#include "dns/view.hpp"
#include "hooks/hook_runner.hpp"
#include "policy/policy.hpp"
#include "probes/health_monitor.hpp"
#include <fmt/ranges.h>
#include <malloc.h>

#include "tools/api_views.hpp"
#include "tools/cluster_member.hpp"
#include "tools/metrics_text.hpp"
#include "tools/state_store.hpp"
#include "xfr/notifier.hpp"
#include "xfr/transfer_server.hpp"
#include "xfr/zone_content.hpp"
#include "zones/loader.hpp"

namespace signpost::tools {

namespace {

using core::log_error;
using core::log_info;
using core::log_warning;
using nlohmann::json;

// Equal decisions produce equal answers, so an unchanged service needs no new View.
bool same_answer(const policy::Decision& a, const policy::Decision& b) {
    if (a.label != b.label || a.ttl != b.ttl || a.reason != b.reason || a.variants.size() != b.variants.size())
        return false;
    for (std::size_t i = 0; i < a.variants.size(); ++i) {
        auto& x = a.variants[i];
        auto& y = b.variants[i];
        if (x.v4 != y.v4 || x.v6 != y.v6 || x.weight != y.weight) return false;
    }
    return true;
}
bool same_answer(const policy::Evaluation& a, const policy::Evaluation& b) {
    if (!same_answer(a.decision, b.decision) || a.subnets.size() != b.subnets.size()) return false;
    for (std::size_t i = 0; i < a.subnets.size(); ++i)
        if (!(a.subnets[i].prefix == b.subnets[i].prefix) || !same_answer(a.subnets[i].decision, b.subnets[i].decision))
            return false;
    return true;
}

bool answers_address(const policy::Decision& d, const core::IpAddress& a) {
    for (auto& v : d.variants) {
        auto& list = a.v6 ? v.v6 : v.v4;
        for (auto& x : list)
            if (x == a) return true;
    }
    return false;
}

// Steady-clock instants as wall-clock Unix milliseconds, for people and the state file.
int64_t to_unix_ms(core::TimePoint t) {
    auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(core::Clock::now() - t).count();
    return unix_ms_now() - delta;
}
// And back, for times read from the state file.
core::TimePoint from_unix_ms(int64_t ms) { return core::Clock::now() - std::chrono::milliseconds(unix_ms_now() - ms); }


struct OverrideInfo {
    core::Override state = core::Override::Auto;
    std::string reason;
    int64_t set_ms = 0;
    std::optional<int64_t> expires_ms;
};

struct DrainInfo {
    int64_t since_ms = 0;
    core::TimePoint last_answered{};
    bool drained = false;  // out of every answer for longer than the highest TTL served
};

class Daemon final : public api::Backend {
public:
    explicit Daemon(const ServerConfig& config) : config_(config) {}

    int run() {
        auto loaded = zones::load_path(config_.zones_dir, config_.limits);
        log_diagnostics(loaded.diagnostics);
        if (!loaded.catalog) {
            log_error("zones", "{} error(s) in {}; not serving", loaded.diagnostics.error_count(), config_.zones_dir);
            return 1;
        }
        if (loaded.catalog->zones.empty()) {
            log_error("zones", "{}: no zone files (*.toml) to serve", config_.zones_dir);
            return 1;
        }
        bool warm = restore_state();
        catalog_ = with_serials(*loaded.catalog);
        loaded = {};  // the served copy is all we keep: the loader's would live as long as run()
        note_reload(true, {});
        log_info("zones", "loaded {} zone(s), {} service(s), {} endpoint(s) from {}", catalog_->zones.size(),
                 catalog_->services.size(), catalog_->endpoints.size(), config_.zones_dir);

        uv_loop_init(&loop_);
        xfr_start();  // zone transfers: before the DNS server is created (installs its handler)
        explain_start();  // explain over DNS: likewise
        monitor_ = std::make_unique<probes::HealthMonitor>(&loop_, config_.probes);
        if (config_.cluster.enabled()) {
            // Polls leave from the probes' source address: one address per instance to allow.
            cluster_ = std::make_unique<ClusterMember>(&loop_, config_.cluster, config_.probes.source_v4);
            cluster_->on_change([this] { on_cluster_inputs(); });
        }
        hooks_ = std::make_unique<hooks::HookRunner>(&loop_);
        monitor_->on_change([this](std::span<const probes::HealthChange> changes) { on_health_change(changes); });
        // Peers read our verdicts while we all do our first probe round: an
        // instance that waited for its peers' APIs before opening its own would
        // wait for everyone's peer_timeout.
        if (cluster_) start_api();
        monitor_->on_first_round([this] {
            first_round_done_ = true;
            maybe_start_serving();
        });

        install_signal(sigterm_, SIGTERM);
        install_signal(sigint_, SIGINT);
        install_signal(sighup_, SIGHUP);
        uv_timer_init(&loop_, &tick_);
        tick_.data = this;
        // Time-dependent rules (hold-down, unstable TTL windows, override expiry,
        // drain completion) need a re-evaluation even when no probe result arrives.
        uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->on_tick(); }, 250, 250);
        uv_timer_init(&loop_, &debounce_);
        debounce_.data = this;
        watch_zones();

        states_.assign(catalog_->services.size(), {});
        restore_service_states();
        monitor_->set_targets(probe_targets());
        apply_overrides();
        if (catalog_->endpoints.empty()) {
            start_serving("no endpoints to probe");
        } else if (warm) {
            start_serving("warm restart from the state file; answers use the short TTL until probes confirm them");
        } else {
            log_info("probes", "first probe round of {} endpoint(s) before answering", catalog_->endpoints.size());
        }
        uv_run(&loop_, UV_RUN_DEFAULT);
        // Everything is closed: drain close callbacks, then free the loop.
        uv_run(&loop_, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop_) != 0) log_warning("daemon", "event loop closed with handles still open");
        return exit_code_;
    }

    // ---- api::Backend -------------------------------------------------------

    json services() override {
        return services_json(*catalog_, evaluations_, states_, effective_health(), to_unix_ms);
    }

    json endpoints() override {
        json out = json::array();
        auto status = monitor_->status();
        std::map<std::string, const probes::EndpointStatus*> by_key;
        for (auto& s : status) by_key[s.key] = &s;
        auto health = effective_health();
        for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
            auto& ref = catalog_->endpoints[i];
            EndpointFacts facts;
            facts.since_ms = endpoint_since_ms(ref.key, health[i]);
            if (auto it = by_key.find(ref.key); it != by_key.end()) facts.status = it->second;
            if (auto* o = override_for(ref))
                facts.override_in_force = EndpointFacts::Override{o->state, o->reason, o->expires_ms};
            if (auto it = drains_.find(ref.key); it != drains_.end())
                facts.drain = EndpointFacts::Drain{it->second.since_ms, it->second.drained};
            out.push_back(endpoint_json(*catalog_, core::EndpointIndex(i), health[i], facts));
        }
        return out;
    }

    json zones() override { return zones_json(*catalog_, reload_at_ms_); }

    json status() override {
        return status_json(services(), endpoints(), zones(), reload_ok_, reload_at_ms_, reload_errors_, generation_);
    }

    json explain(const std::string& name_text, const std::string& type_text, const std::string& client_text) override {
        std::string err;
        auto name = core::Name::from_text(name_text, core::Name(), &err);
        if (!name) throw api::ApiError(400, "'name' is not a domain name: " + err);
        dns::ExplainQuery q;
        q.name = *name;
        q.type_text = type_text.empty() ? "A" : type_text;
        auto type = dns::rr_type_from_text(q.type_text);
        if (!type) throw api::ApiError(400, "'type' is not a DNS type: " + type_text);
        q.qtype = *type;
        q.client = *core::IpAddress::parse("127.0.0.1");
        if (!client_text.empty()) {
            q.subnet = core::IpPrefix::parse(client_text);
            if (!q.subnet) throw api::ApiError(400, "'client' must be an address or prefix, got '" + client_text + "'");
            q.client = q.subnet->address;
        }
        if (!current_view_) throw api::ApiError(503, "not serving yet: the first probe round is running");
        auto e = dns::explain(*catalog_, evaluations_, effective_health(), *current_view_, q);
        return explanation_json(e, client_text);
    }

    json set_override(const api::OverrideRequest& r) override {
        bool is_endpoint = false, is_pool = false;
        for (auto& e : catalog_->endpoints) {
            if (e.key == r.target) is_endpoint = true;
            auto& z = catalog_->zones[e.zone];
            if (origin_text(z.origin) + "/" + z.pools[e.pool].name == r.target) is_pool = true;
        }
        if (!is_endpoint && !is_pool)
            throw api::ApiError(404, "no endpoint or pool '" + r.target +
                                         "'; use a key such as example.com/primary/127.0.0.10 or example.com/primary");
        std::string msg;
        if (r.state == core::Override::Auto) {
            overrides_.erase(r.target);
            msg = r.target + " back to automatic (probes decide)";
        } else {
            OverrideInfo o{r.state, r.reason, unix_ms_now(), std::nullopt};
            if (r.expires_in) o.expires_ms = o.set_ms + r.expires_in->count();
            overrides_[r.target] = o;
            msg = r.target + " forced " + to_string(r.state) +
                  (r.expires_in ? " for " + core::format_duration(*r.expires_in) : std::string(" until changed"));
        }
        log_info("api", "override: {}{}", msg, r.reason.empty() ? "" : " (" + r.reason + ")");
        apply_overrides();
        reevaluate_and_publish();
        state_dirty_ = true;
        return {{"ok", true}, {"message", msg}};
    }

    json drain(const std::string& key, bool undrain) override {
        const zones::EndpointRef* ref = nullptr;
        for (auto& e : catalog_->endpoints)
            if (e.key == key) ref = &e;
        if (!ref) throw api::ApiError(404, "no endpoint '" + key + "'; use a key such as example.com/primary/127.0.0.10");
        std::string msg;
        if (undrain) {
            drains_.erase(key);
            msg = key + " is back in answers (when healthy)";
        } else if (!drains_.count(key)) {
            drains_[key] = DrainInfo{unix_ms_now(), core::Clock::now(), false};
            msg = key + " is draining: out of answers now, drained once resolvers' caches expire";
        } else {
            msg = key + " was already draining";
        }
        log_info("api", "drain: {}", msg);
        reevaluate_and_publish();
        state_dirty_ = true;
        json j = {{"ok", true}, {"message", msg}};
        if (auto it = drains_.find(key); it != drains_.end()) j["drained"] = it->second.drained;
        return j;
    }

    json cluster() override {
        if (!cluster_) return api::Backend::cluster();
        std::vector<core::EndpointHealth> own;
        return cluster_->status(local_verdicts(own));
    }

    std::string cluster_verdicts() override {
        if (!cluster_) return api::Backend::cluster_verdicts();
        std::vector<core::EndpointHealth> own;
        return cluster_->verdicts(local_verdicts(own));
    }

    json release(const std::string& key) override {
        for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
            if (catalog_->services[i].key != key) continue;
            states_[i].released = true;
            log_info("api", "release: {} may return to its first pool", key);
            reevaluate_and_publish();
            state_dirty_ = true;
            return {{"ok", true}, {"message", key + " released: it returns to the best healthy pool"},
                    {"label", evaluations_[i].decision.label}};
        }
        throw api::ApiError(404, "no service '" + key + "'; use a key such as example.com/site");
    }

    json reload() override {
        bool ok = do_reload("API");
        json j = {{"ok", ok}, {"errors", reload_errors_}};
        j["message"] = ok ? "reloaded" : "reload failed; still serving the previous configuration";
        if (!ok) throw api::ApiError(422, j["message"].get<std::string>() + ": " +
                                               (reload_errors_.empty() ? "" : reload_errors_.front()));
        return j;
    }

    std::string metrics() override {
        std::string m;
        auto gauge = [&](const char* name, const char* help, const char* type) {
            m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
        };
        auto health = effective_health();
        gauge("signpost_view_generation", "Answers published to the DNS workers so far.", "counter");
        m += "signpost_view_generation " + std::to_string(generation_) + "\n";
        gauge("signpost_reloads_total", "Reloads attempted.", "counter");
        m += "signpost_reloads_total " + std::to_string(reloads_) + "\n";
        gauge("signpost_reload_failures_total", "Reloads rejected because the new configuration had errors.", "counter");
        m += "signpost_reload_failures_total " + std::to_string(reload_failures_) + "\n";
        gauge("signpost_last_reload_ok", "1 when the last reload succeeded.", "gauge");
        m += std::string("signpost_last_reload_ok ") + (reload_ok_ ? "1" : "0") + "\n";
        gauge("signpost_endpoint_up", "1 when the endpoint is up (after overrides and drains).", "gauge");
        for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i)
            m += "signpost_endpoint_up{endpoint=\"" + escape_label(catalog_->endpoints[i].key) + "\"} " +
                 (health[i].up() ? "1" : "0") + "\n";
        auto status = monitor_->status();
        gauge("signpost_probe_checks_total", "Probe results received per endpoint.", "counter");
        for (auto& s : status)
            m += "signpost_probe_checks_total{endpoint=\"" + escape_label(s.key) + "\"} " + std::to_string(s.checks_run) + "\n";
        gauge("signpost_probe_latency_ms", "Latency of the last probe per endpoint and check.", "gauge");
        for (auto& s : status)
            for (auto& c : s.checks)
                m += "signpost_probe_latency_ms{endpoint=\"" + escape_label(s.key) + "\",check=\"" +
                     escape_label(c.name) + "\"} " + fmt::format("{:.3f}", c.last_latency_ms) + "\n";
        gauge("signpost_endpoint_transitions_total", "Endpoint state changes (up/down).", "counter");
        for (auto& [k, n] : transitions_)
            m += "signpost_endpoint_transitions_total{endpoint=\"" + escape_label(k) + "\"} " + std::to_string(n) + "\n";
        gauge("signpost_service_pool", "1 for the label a service answers with now.", "gauge");
        std::size_t all_down = 0;
        for (std::size_t i = 0; i < evaluations_.size() && i < catalog_->services.size(); ++i) {
            m += "signpost_service_pool{service=\"" + escape_label(catalog_->services[i].key) + "\",label=\"" +
                 escape_label(evaluations_[i].decision.label) + "\"} 1\n";
            all_down += evaluations_[i].decision.all_down;
        }
        gauge("signpost_service_all_down", "1 when every pool of the service is down (alarm).", "gauge");
        for (std::size_t i = 0; i < evaluations_.size() && i < catalog_->services.size(); ++i)
            m += "signpost_service_all_down{service=\"" + escape_label(catalog_->services[i].key) + "\"} " +
                 (evaluations_[i].decision.all_down ? "1" : "0") + "\n";
        gauge("signpost_services_all_down", "Services with every pool down (alarm when above 0).", "gauge");
        m += "signpost_services_all_down " + std::to_string(all_down) + "\n";
        gauge("signpost_service_changes_total", "Service answer changes (pool moves).", "counter");
        for (auto& [k, n] : service_changes_)
            m += "signpost_service_changes_total{service=\"" + escape_label(k) + "\"} " + std::to_string(n) + "\n";
        if (cluster_) {
            gauge("signpost_cluster_peer_up", "1 while the peer answers: its verdicts count in the quorum.", "gauge");
            auto st = cluster();
            for (auto& p : st["peers"])
                m += "signpost_cluster_peer_up{peer=\"" + escape_label(p["id"].get<std::string>()) + "\"} " +
                     (p["live"].get<bool>() ? "1" : "0") + "\n";
            gauge("signpost_cluster_probed_here", "Endpoints this instance probes itself.", "gauge");
            m += "signpost_cluster_probed_here " + std::to_string(st["probed_here"].size()) + "\n";
        }
        if (server_) m += dns_metrics(server_->stats(), zone_names_);
        return m;
    }

private:
    // Stable per-zone ids across reloads, so per-zone counters keep counting.
    std::vector<uint32_t> zone_ids() {
        std::vector<uint32_t> ids;
        for (auto& z : catalog_->zones) {
            std::string origin = origin_text(z.origin);
            auto it = std::find(zone_names_.begin(), zone_names_.end(), origin);
            if (it == zone_names_.end()) {
                zone_names_.push_back(origin);
                it = zone_names_.end() - 1;
            }
            ids.push_back(uint32_t(it - zone_names_.begin()));
        }
        return ids;
    }

    // ---- start, stop, signals ------------------------------------------------

    void log_diagnostics(const core::Diagnostics& d) {
        for (auto& item : d.items())
            core::log_line(item.severity == core::Severity::Error ? core::LogLevel::Error : core::LogLevel::Warning,
                           "zones", item.to_string());
    }

    void install_signal(uv_signal_t& h, int signum) {
        uv_signal_init(&loop_, &h);
        h.data = this;
        uv_signal_start(&h, [](uv_signal_t* s, int sig) { static_cast<Daemon*>(s->data)->on_signal(sig); }, signum);
    }

    void on_signal(int sig) {
        if (sig == SIGHUP) {
            do_reload("SIGHUP");
            return;
        }
        log_info("daemon", "{} received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        shutdown(0);
    }

    void shutdown(int code) {
        if (stopping_) return;
        stopping_ = true;
        exit_code_ = code;
        save_state_now();
        if (api_) api_->stop();
        api_.reset();
        if (server_) server_->stop();
        server_.reset();
        if (monitor_) monitor_->stop();
        if (cluster_) cluster_->stop();
        if (hooks_) hooks_->stop();
        if (notifier_) notifier_->close();
        for (auto* h : {(uv_handle_t*)&sigterm_, (uv_handle_t*)&sigint_, (uv_handle_t*)&sighup_, (uv_handle_t*)&tick_,
                        (uv_handle_t*)&debounce_})
            if (!uv_is_closing(h)) uv_close(h, nullptr);
        if (watching_ && !uv_is_closing((uv_handle_t*)&fs_event_)) uv_close((uv_handle_t*)&fs_event_, nullptr);
        if (notify_timer_started_ && !uv_is_closing((uv_handle_t*)&notify_timer_))
            uv_close((uv_handle_t*)&notify_timer_, nullptr);
    }

    // A load or reload frees the previous generation's many small blocks (once
    // the workers have let go of the old View); glibc keeps them unless asked
    // (100k names: 158 -> 133 MB after a reload). Done from the tick, 2 s on.
    void return_freed_memory() { trim_at_ = core::Clock::now() + std::chrono::seconds(2); }

    void start_serving(const char* why) {
        if (server_ || stopping_) return;
        evaluate(nullptr);
        publish();
        return_freed_memory();
        try {
            server_ = std::make_unique<dns::Server>(config_.dns, current_view_);
        } catch (const std::exception& e) {
            log_error("dns", "{}", e.what());
            shutdown(2);
            return;
        }
        std::string where;
        for (auto& a : server_->bound()) where += (where.empty() ? "" : ", ") + a.to_string();
        log_info("daemon", "ready ({}): serving {} zone(s) on {} (udp+tcp)", why, catalog_->zones.size(), where);
        start_api();
    }

    void start_api() {
        if (config_.api_enabled && !api_ && !stopping_) {
            try {
                api_ = std::make_unique<api::ApiServer>(&loop_, config_.api, *this);
                log_info("api", "{}", config_.api.token.empty() ? "read-only: no api token configured, writes are refused"
                                                                : "writes need the api token");
            } catch (const std::exception& e) {
                // DNS matters more than the API: keep answering, say so loudly.
                log_error("api", "{}; serving DNS without the API", e.what());
            }
        }
    }

    // ---- zones -----------------------------------------------------------------

    // Serials never go backwards: unchanged static data keeps the serial it had,
    // changed data gets max(automatic serial, previous + 1).
    std::shared_ptr<const zones::Catalog> with_serials(const zones::Catalog& loaded) {
        auto cat = std::make_shared<zones::Catalog>(loaded);
        for (auto& z : cat->zones) {
            std::string origin = origin_text(z.origin);
            std::string digest = zones::static_digest(z);
            auto prev = serials_.find(origin);
            if (prev != serials_.end()) {
                uint32_t last = prev->second;
                bool same = digests_[origin] == digest;
                if (z.soa.auto_serial) {
                    uint32_t s = same ? last : std::max(z.soa.serial, last + 1);
                    zones::set_serial(z, s);
                } else if (int32_t(z.soa.serial - last) < 0) {
                    log_warning("zones", "{}: serial {} is lower than the {} served before; secondaries will not "
                                "transfer it", origin, z.soa.serial, last);
                }
            }
            serials_[origin] = z.soa.serial;
            digests_[origin] = digest;
        }
        return cat;
    }

    void note_reload(bool ok, std::vector<std::string> errors) {
        reload_ok_ = ok;
        reload_at_ms_ = unix_ms_now();
        reload_errors_ = std::move(errors);
    }

    bool do_reload(const char* trigger) {
        log_info("daemon", "{}: reloading {}", trigger, config_.zones_dir);
        ++reloads_;
        auto loaded = zones::load_path(config_.zones_dir, config_.limits);
        log_diagnostics(loaded.diagnostics);
        if (!loaded.catalog || loaded.catalog->zones.empty()) {
            ++reload_failures_;
            std::vector<std::string> errors;
            for (auto& d : loaded.diagnostics.items())
                if (d.severity == core::Severity::Error) errors.push_back(d.to_string());
            if (errors.empty()) errors.push_back(config_.zones_dir + ": no zone files (*.toml) to serve");
            note_reload(false, errors);
            log_error("zones", "reload failed with {} error(s); still serving the previous configuration",
                      errors.size());
            return false;
        }
        // Carry service states over by key so a reload never flips an answer.
        std::map<std::string, policy::ServiceState> old_states;
        for (std::size_t i = 0; i < catalog_->services.size() && i < states_.size(); ++i)
            old_states[catalog_->services[i].key] = states_[i];
        catalog_ = with_serials(*loaded.catalog);
        states_.assign(catalog_->services.size(), {});
        for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
            auto it = old_states.find(catalog_->services[i].key);
            if (it != old_states.end()) states_[i] = it->second;
        }
        // Overrides and drains of endpoints that no longer exist are dropped.
        std::set<std::string> keys;
        for (auto& e : catalog_->endpoints) {
            keys.insert(e.key);
            auto& z = catalog_->zones[e.zone];
            keys.insert(origin_text(z.origin) + "/" + z.pools[e.pool].name);
        }
        std::erase_if(overrides_, [&](auto& kv) { return !keys.count(kv.first); });
        std::erase_if(drains_, [&](auto& kv) { return !keys.count(kv.first); });
        // Counters of removed endpoints and services leave /metrics (a series per
        // key ever served would grow forever); one that comes back starts at 0.
        std::erase_if(transitions_, [&](auto& kv) { return !keys.count(kv.first); });
        std::set<std::string> service_keys;
        for (auto& svc : catalog_->services) service_keys.insert(svc.key);
        std::erase_if(service_changes_, [&](auto& kv) { return !service_keys.count(kv.first); });
        std::erase_if(restored_since_, [&](auto& kv) { return !keys.count(kv.first); });
        evaluations_.clear();
        monitor_->set_targets(probe_targets());
        apply_overrides();
        note_reload(true, {});
        if (server_) {
            evaluate(nullptr);
            publish();
        }
        return_freed_memory();
        state_dirty_ = true;
        log_info("zones", "reloaded {} zone(s), {} service(s), {} endpoint(s)", catalog_->zones.size(),
                 catalog_->services.size(), catalog_->endpoints.size());
        return true;
    }

    void watch_zones() {
        if (!config_.watch_zones) return;
        std::error_code ec;
        if (!std::filesystem::is_directory(config_.zones_dir, ec)) return;
        uv_fs_event_init(&loop_, &fs_event_);
        fs_event_.data = this;
        int rc = uv_fs_event_start(&fs_event_, [](uv_fs_event_t* h, const char* file, int, int status) {
            auto* self = static_cast<Daemon*>(h->data);
            if (status < 0 || self->stopping_) return;
            std::string f = file ? file : "";
            // Editors' temp files and our own state file are not zone changes.
            if (!f.empty() && (f[0] == '.' || f.ends_with(".tmp") || f.ends_with("~") || f.ends_with(".swp") ||
                               f == std::filesystem::path(self->config_.state_file).filename().string()))
                return;
            // Debounced: an editor's save is several events; reload once they settle.
            uv_timer_start(&self->debounce_, [](uv_timer_t* t) {
                static_cast<Daemon*>(t->data)->do_reload("zones directory changed");
            }, 500, 0);
        }, config_.zones_dir.c_str(), 0);
        if (rc != 0) {
            log_warning("zones", "cannot watch {} for changes ({}); reload with SIGHUP", config_.zones_dir, uv_strerror(rc));
            uv_close((uv_handle_t*)&fs_event_, nullptr);
            return;
        }
        watching_ = true;
    }

    // ---- probes, overrides, drains ---------------------------------------------

    std::vector<probes::ProbeTarget> probe_targets() {
        std::vector<probes::ProbeTarget> out;
        out.reserve(catalog_->endpoints.size());
        probed_.assign(catalog_->endpoints.size(), true);
        for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
            auto& ref = catalog_->endpoints[i];
            if (cluster_ && !cluster_->probes(ref.key)) {
                probed_[i] = false;
                takeover_initial_.erase(ref.key);
                continue;
            }
            // Taking an endpoint over from a peer: start from the cluster's
            // verdict, not from "down until proven up", so nothing flips.
            if (cluster_ && !probed_keys_.count(ref.key))
                if (auto st = cluster_->last_state(ref.key)) takeover_initial_[ref.key] = *st;
            auto& zone = catalog_->zones[ref.zone];
            auto& ep = catalog_->endpoint(core::EndpointIndex(i));
            probes::ProbeTarget t;
            t.key = ref.key;
            t.index = core::EndpointIndex(i);
            t.address = ep.check_address.to_string();
            t.host = ep.probe_host;
            auto persisted = persisted_initial_.find(ref.key);
            for (auto& name : ep.checks) {
                auto it = zone.checks.find(name);
                if (it == zone.checks.end()) continue;
                auto spec = it->second;
                // Until its first result, an endpoint is what it was when we stopped.
                if (persisted != persisted_initial_.end()) spec.initial = persisted->second;
                if (auto tk = takeover_initial_.find(ref.key); tk != takeover_initial_.end()) spec.initial = tk->second;
                t.checks.push_back(std::move(spec));
            }
            out.push_back(std::move(t));
        }
        probed_keys_.clear();
        for (auto& t : out) probed_keys_.insert(t.key);
        return out;
    }

    const OverrideInfo* override_for(const zones::EndpointRef& ref) const {
        if (auto it = overrides_.find(ref.key); it != overrides_.end()) return &it->second;
        auto& z = catalog_->zones[ref.zone];
        if (auto it = overrides_.find(origin_text(z.origin) + "/" + z.pools[ref.pool].name); it != overrides_.end())
            return &it->second;
        return nullptr;
    }

    // An endpoint's own override wins over its pool's.
    void apply_overrides() {
        for (auto& ref : catalog_->endpoints) {
            auto* o = override_for(ref);
            monitor_->set_override(ref.key, o ? o->state : core::Override::Auto);
        }
    }

    // True when an override ran out (every service must then be evaluated again).
    bool expire_overrides() {
        auto now = unix_ms_now();
        bool any = false;
        for (auto it = overrides_.begin(); it != overrides_.end();) {
            if (it->second.expires_ms && *it->second.expires_ms <= now) {
                log_info("daemon", "override of {} expired; back to automatic", it->first);
                it = overrides_.erase(it);
                any = true;
            } else {
                ++it;
            }
        }
        if (any) {
            apply_overrides();
            state_dirty_ = true;
        }
        return any;
    }

    // Probe health with drains applied: a drained endpoint is out of every answer.
    std::vector<core::EndpointHealth> effective_health() const {
        auto span = monitor_->health();
        std::vector<core::EndpointHealth> out(span.begin(), span.end());
        if (out.size() < catalog_->endpoints.size()) out.resize(catalog_->endpoints.size());
        if (cluster_) {
            std::vector<core::EndpointHealth> own;
            auto local = local_verdicts(own);
            cluster_->combine(local, out);
        }
        for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
            // An operator's word is this instance's, and wins over every vantage point.
            if (auto* o = override_for(catalog_->endpoints[i]); cluster_ && o && o->state != core::Override::Auto) {
                out[i].state = o->state == core::Override::ForceUp ? core::HealthState::Up : core::HealthState::Down;
                out[i].reason = std::string("forced ") + (o->state == core::Override::ForceUp ? "up" : "down") +
                                " by operator";
            }
            // An operator's "down" is not a probe that may be wrong: even the
            // all-down answer leaves it out.
            if (auto* o = override_for(catalog_->endpoints[i]); o && o->state == core::Override::ForceDown)
                out[i].drained = true;
            if (!drains_.count(catalog_->endpoints[i].key)) continue;
            out[i].drained = true;
            out[i].state = core::HealthState::Down;
            out[i].suspect = false;
            out[i].reason = "drained by operator";
        }
        return out;
    }

    void update_drains(core::TimePoint now) {
        for (auto& [key, d] : drains_) {
            core::EndpointIndex idx = 0;
            bool found = false;
            for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i)
                if (catalog_->endpoints[i].key == key) {
                    idx = core::EndpointIndex(i);
                    found = true;
                }
            if (!found) continue;
            auto& ref = catalog_->endpoints[idx];
            auto& ep = catalog_->endpoint(idx);
            auto& zone = catalog_->zones[ref.zone];
            uint32_t max_ttl = 0;
            for (auto& s : zone.services) {
                bool uses = false;
                for (auto p : s.pools) uses |= p == ref.pool;
                if (!uses) continue;
                max_ttl = std::max(max_ttl, s.ttl);
                auto& ev = evaluations_[s.index];
                bool answered = answers_address(ev.decision, ep.address);
                for (auto& r : ev.subnets) answered |= answers_address(r.decision, ep.address);
                if (answered) d.last_answered = now;
            }
            bool drained = now - d.last_answered > std::chrono::seconds(max_ttl);
            if (drained && !d.drained) log_info("daemon", "endpoint {} is drained: out of every answer for more than {} s", key, max_ttl);
            d.drained = drained;
        }
    }

    // ---- evaluation and publishing ----------------------------------------------

    // Re-evaluates the given services (all when `which` is null); true when any answer changed.
    bool evaluate(const std::set<std::size_t>* which) {
        auto health = effective_health();
        auto now = core::Clock::now();
        bool any = false;
        if (evaluations_.size() != catalog_->services.size()) {
            evaluations_.assign(catalog_->services.size(), {});
            states_.resize(catalog_->services.size());
            which = nullptr;
            any = true;
        }
        for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
            if (which && !which->count(i)) continue;
            auto& ref = catalog_->services[i];
            auto& zone = catalog_->zones[ref.zone];
            auto& service = zone.services[ref.service];
            // A stable seed per service: shuffles change when health does, not on every tick.
            auto seed = std::hash<std::string>{}(ref.key) ^ seed_salt_;
            auto ev = policy::evaluate(zone, service, health, now, states_[i], seed);
            if (ev.changed) {
                bool first = states_[i].label.empty();
                std::string before = first ? std::string("(start)") : states_[i].label;
                if (before == ev.decision.label)  // only a subnet rule moved
                    log_info("policy", "{}: subnet answers changed ({})", title(service), describe_subnets(ev));
                else
                    log_info("policy", "{}: {} → {} ({})", title(service), before, ev.decision.label,
                             ev.decision.reason);
                if (!first) {
                    ++service_changes_[ref.key];
                    fire_hooks(zone, service, "service", "", before, ev.decision.label, ev.decision.reason);
                }
                state_dirty_ = true;
            }
            if (ev.early_warning && !evaluations_[i].early_warning) {
                auto why = suspects(zone, service, health);
                log_warning("policy", "{}: early warning: {}", title(service), why);
                fire_hooks(zone, service, "early-warning", "", ev.decision.label, ev.decision.label, why);
            }
            if (!same_answer(ev, evaluations_[i])) any = true;
            states_[i] = ev.state;
            evaluations_[i] = std::move(ev);
        }
        update_drains(now);
        return any;
    }

    void publish() {
        xfr_publish();  // zone transfers: may bump serials (a new catalog_) before the View is built
        dns::ViewOptions vo;
        vo.udp_payload_size = config_.dns.udp_payload_size;
        vo.zone_ids = zone_ids();
        current_view_ = dns::build_view(catalog_, evaluations_, ++generation_, vo);
        if (server_) server_->publish(current_view_);
        publish_explain_state(true);
        send_pending_notifies();
    }

    // NOTIFY goes out only once the new version is what every path answers: the
    // transfer server has it (xfr_publish) and the workers have had a moment to
    // swap in the new View (their swap is asynchronous). A secondary that polls
    // the SOA at once must see the new serial, or it decides it is up to date.
    void send_pending_notifies() {
        if (pending_notifies_.empty() || stopping_) return;
        if (!notify_timer_started_) {
            uv_timer_init(&loop_, &notify_timer_);
            notify_timer_.data = this;
            notify_timer_started_ = true;
        }
        uv_timer_start(&notify_timer_, [](uv_timer_t* t) {
            auto* self = static_cast<Daemon*>(t->data);
            auto pending = std::move(self->pending_notifies_);
            self->pending_notifies_.clear();
            for (auto& [origin, soa] : pending)
                if (self->notifier_) self->notifier_->notify(origin, soa);
        }, 20, 0);
    }

    void reevaluate_and_publish() {
        if (!server_) return;
        if (evaluate(nullptr)) publish();
        else publish_explain_state(false);  // an override of an unused pool changes only what explain shows
    }

    std::string title(const zones::Service& s) const {
        std::string owner = s.owners.empty() ? std::string("?") : s.owners.front().to_text();
        if (owner.size() > 1 && owner.back() == '.') owner.pop_back();
        return "service " + catalog_->services[s.index].key + " (" + owner + ")";
    }

    // "pool primary endpoint 127.0.0.10 failing: HTTP 503 (still up)": the early warning's reason.
    static std::string suspects(const zones::Zone& zone, const zones::Service& service,
                                const std::vector<core::EndpointHealth>& health) {
        std::string out;
        for (auto p : service.pools)
            for (auto& ep : zone.pools[p].endpoints) {
                if (ep.index >= health.size()) continue;
                auto& h = health[ep.index];
                if (h.suspect && h.up())
                    out += (out.empty() ? "" : "; ") + std::string("pool ") + zone.pools[p].name + " endpoint " +
                           ep.name + " failing: " + h.reason + " (still up)";
            }
        return out.empty() ? std::string("an answered endpoint is failing") : out;
    }

    static std::string describe_subnets(const policy::Evaluation& ev) {
        std::string out;
        for (auto& r : ev.subnets) out += (out.empty() ? "" : ", ") + r.prefix.to_string() + " → " + r.decision.label;
        return out + (out.empty() ? "" : ", ") + "others → " + ev.decision.label;
    }

    void fire_hooks(const zones::Zone& zone, const zones::Service& service, const char* event,
                    const std::string& endpoint, const std::string& from, const std::string& to,
                    const std::string& reason) {
        if (service.hooks.empty() || !hooks_) return;
        hooks::HookEvent e;
        e.event = event;
        e.zone = origin_text(zone.origin);
        e.service = service.name;
        e.endpoint = endpoint;
        e.from = from;
        e.to = to;
        e.reason = reason;
        for (auto& h : service.hooks) hooks_->deliver(h, e);
    }

    void on_health_change(std::span<const probes::HealthChange> changes) {
        if (!catalog_ || stopping_) return;
        if (cluster_) {
            // This instance's probes are one vote: the quorum decides what flips.
            for (auto& c : changes)
                if (c.index < catalog_->endpoints.size() && c.before.state != c.after.state)
                    log_info("probes", "endpoint {}: {} → {} here ({}); the cluster's quorum decides",
                             catalog_->endpoints[c.index].key, core::to_string(c.before.state),
                             core::to_string(c.after.state), c.after.reason);
            on_cluster_inputs();
            return;
        }
        std::set<std::size_t> affected;
        for (auto& c : changes) {
            if (c.index >= catalog_->endpoints.size()) continue;
            auto& ref = catalog_->endpoints[c.index];
            bool flipped = c.before.state != c.after.state;
            if (flipped) {
                ++transitions_[ref.key];
                restored_since_.erase(ref.key);  // its state changed: since is now the probes'
                state_dirty_ = true;
                log_info("probes", "endpoint {}: {} → {} ({})", ref.key, core::to_string(c.before.state),
                         core::to_string(c.after.state), c.after.reason);
            }
            auto& zone = catalog_->zones[ref.zone];
            for (auto& s : zone.services) {
                bool uses = false;
                for (auto p : s.pools) uses |= (p == ref.pool);
                if (uses && flipped && server_)
                    fire_hooks(zone, s, "endpoint", ref.key, core::to_string(c.before.state),
                               core::to_string(c.after.state), c.after.reason);
                if (!s.failback_gate.empty()) uses = true;  // a gate may be any endpoint of the zone
                if (uses) affected.insert(s.index);
            }
        }
        if (!server_) return;  // the first round decides the start state in one go
        if (evaluate(&affected)) publish();
        else publish_explain_state(false);  // same answers, but explain shows health too
    }

    // ---- cluster (tools/cluster_member.hpp) ---------------------------------------

    // This instance's own verdict per endpoint, operator overrides left out (a
    // peer must hear what our probes see). `storage` keeps what the spans point to.
    std::vector<LocalVerdict> local_verdicts(std::vector<core::EndpointHealth>& storage) const {
        auto span = monitor_->health();
        const std::size_t n = catalog_->endpoints.size();
        storage.assign(n, {});
        for (std::size_t i = 0; i < n && i < span.size(); ++i) storage[i] = span[i];
        if (!overrides_.empty()) {
            // Overridden endpoints: rebuild the probes' own verdict from their checks.
            for (auto& st : monitor_->status()) {
                if (st.override_state == core::Override::Auto || st.index >= n) continue;
                auto& h = storage[st.index];
                h.state = core::HealthState::Up;
                h.confirmed = !st.checks.empty();
                for (auto& c : st.checks) {
                    if (c.state == core::HealthState::Down) h.state = core::HealthState::Down;
                    h.confirmed &= c.confirmed;
                }
                h.reason = st.last_result;
            }
        }
        std::vector<LocalVerdict> out(n);
        for (std::size_t i = 0; i < n; ++i)
            out[i] = {&catalog_->endpoints[i].key, i < probed_.size() && probed_[i], &storage[i]};
        return out;
    }

    void maybe_start_serving() {
        if (server_ || !first_round_done_) return;
        if (cluster_ && !cluster_->settled()) return;  // peers' verdicts first, or their timeout
        start_serving(cluster_ ? "first probe round complete, peers heard from" : "first probe round complete");
    }

    // Peers' verdicts or liveness changed, or this instance's probes did.
    void on_cluster_inputs() {
        if (!catalog_ || stopping_) return;
        if (!server_) {
            maybe_start_serving();
            return;
        }
        // Who probes what follows who is alive.
        std::vector<bool> want(catalog_->endpoints.size());
        for (std::size_t i = 0; i < want.size(); ++i) want[i] = cluster_->probes(catalog_->endpoints[i].key);
        if (want != probed_) {
            monitor_->set_targets(probe_targets());
            apply_overrides();
            auto live = cluster_->live_instances();
            log_info("cluster", "probing {} of {} endpoint(s) here; live instances: {}",
                     std::count(probed_.begin(), probed_.end(), true), probed_.size(), fmt::join(live, ", "));
        }
        auto health = effective_health();
        for (std::size_t i = 0; i < catalog_->endpoints.size() && i < health.size(); ++i) {
            auto& ref = catalog_->endpoints[i];
            auto [it, fresh] = cluster_states_.try_emplace(ref.key, health[i].state);
            if (fresh || it->second == health[i].state) continue;
            auto before = it->second;
            it->second = health[i].state;
            ++transitions_[ref.key];
            state_dirty_ = true;
            auto& zone = catalog_->zones[ref.zone];
            for (auto& s : zone.services) {
                bool uses = false;
                for (auto p : s.pools) uses |= (p == ref.pool);
                if (uses)
                    fire_hooks(zone, s, "endpoint", ref.key, core::to_string(before), core::to_string(health[i].state),
                               health[i].reason);
            }
        }
        if (evaluate(nullptr)) publish();
        else publish_explain_state(false);
    }

    void on_tick() {
        if (stopping_) return;
        bool all = expire_overrides();
        if (server_) {
            // Health changes are evaluated as they arrive; the tick only serves
            // answers that move with time alone (a hold-down running out, an
            // unstable window closing). Evaluating all 10,000 services four
            // times a second cost a tenth of a core for nothing.
            std::set<std::size_t> timed;
            for (std::size_t i = 0; i < evaluations_.size(); ++i)
                if (evaluations_[i].time_dependent) timed.insert(i);
            // Drains need the tick too: "drained" comes when the last TTL ran out.
            if ((all || !timed.empty() || !drains_.empty()) && evaluate(all ? nullptr : &timed)) publish();
        }
        if (state_dirty_ && core::Clock::now() - last_save_ > std::chrono::seconds(1)) save_state_now();
        if (trim_at_ && core::Clock::now() >= *trim_at_) {
            trim_at_.reset();
            malloc_trim(0);
        }
    }

    // ---- explain over DNS (dns/explain_responder.hpp) ------------------------------

    // Answers CH TXT *.explain.signpost on the DNS workers from the snapshots
    // publish_explain_state() hands it; explain_allow = [] turns it off.
    void explain_start() {
        if (config_.explain_allow.empty()) {
            log_info("dns", "explain over DNS disabled (explain_allow = [])");
            return;
        }
        explain_ = std::make_shared<dns::ExplainResponder>(config_.explain_allow, config_.dns.udp_payload_size);
        std::shared_ptr<const dns::ExplainResponder> responder = explain_;
        config_.dns.explain_handler = [responder](std::span<const uint8_t> q, const dns::ClientInfo& ci,
                                                  std::size_t udp_max, std::string& out) {
            return responder->handle(q, ci, udp_max, out);
        };
    }

    // A new immutable snapshot for the workers: the evaluations are copied only
    // when a View is published (`with_evaluations`); health alone changes more often.
    void publish_explain_state(bool with_evaluations) {
        if (!explain_ || !current_view_) return;
        if (with_evaluations || !explain_evaluations_)
            explain_evaluations_ = std::make_shared<const std::vector<policy::Evaluation>>(evaluations_);
        auto state = std::make_shared<dns::ExplainState>();
        state->catalog = catalog_;
        state->view = current_view_;
        state->evaluations = explain_evaluations_;
        state->health = effective_health();
        explain_->publish(std::move(state));
    }

    // ---- zone transfers (xfr/): versions, serials, NOTIFY -------------------------

    // The transfer server answers on the DNS workers through ServerOptions::transfer_handler.
    void xfr_start() {
        xfr_server_ = std::make_shared<xfr::TransferServer>(config_.xfr);
        std::shared_ptr<xfr::TransferServer> srv = xfr_server_;
        config_.dns.transfer_handler = [srv](std::span<const uint8_t> q, const dns::ClientInfo& ci,
                                             std::size_t udp_max, std::string& out) {
            return srv->handle(q, ci.address, ci.tcp, udp_max, out);
        };
        notifier_ = std::make_unique<xfr::Notifier>(&loop_, config_.xfr);
        if (config_.xfr.secondaries.empty())
            log_info("xfr", "zone transfers refused to everyone: no [[secondaries]] in the server config");
        else
            log_info("xfr", "{} secondary entr{}, {} TSIG key(s), IXFR history of {} version(s) per zone",
                     config_.xfr.secondaries.size(), config_.xfr.secondaries.size() == 1 ? "y" : "ies",
                     config_.xfr.keys.size(), config_.xfr.history);
    }

    // Every published change: render each zone as transferred, add a version
    // (new serial, RFC 1982, never backwards) when it changed, NOTIFY the
    // secondaries, and make the View's SOA carry the same serial. The serial and
    // a digest of the answers go to the state file, so a restart that serves
    // other answers under the same serial bumps it.
    void xfr_publish() {
        if (!xfr_server_ || !catalog_) return;
        std::map<std::string, xfr::ZoneHistory> next;
        std::vector<std::pair<core::Name, xfr::ZoneHistory>> served;
        std::shared_ptr<zones::Catalog> patched;
        for (std::size_t zi = 0; zi < catalog_->zones.size(); ++zi) {
            auto& z = catalog_->zones[zi];
            std::string origin = origin_text(z.origin);
            // Only zones that secondaries transfer need versions: the others keep
            // the serial of their static data, and cost nothing per health change
            // (10,000 zones must not be rendered again for every probe result).
            bool secondaries = false;
            for (auto& sec : config_.xfr.secondaries) secondaries |= sec.covers(origin);
            if (!secondaries) continue;
            auto content = xfr::render_zone(z, evaluations_);
            std::string digest = xfr::content_digest(content);
            std::string answers_key = origin + " answers";
            auto it = histories_.find(origin);
            xfr::ZoneHistory h = it != histories_.end() ? it->second : xfr::ZoneHistory(config_.xfr.history);
            if (h.empty()) {
                // After a restart that serves other answers, secondaries still hold
                // the old version under the old serial: move on.
                auto d = digests_.find(answers_key);
                if (d != digests_.end() && d->second != digest)
                    content.soa = xfr::with_serial(content.soa, z.soa.serial + 1);
            }
            if (h.update(content)) {
                log_info("xfr", "{}: serial {} ({} record(s){})", origin, h.current().serial,
                         content.records.size() + 1, h.versions().size() > 1 ? ", answers changed" : "");
                if (notifier_) pending_notifies_.emplace_back(z.origin, h.current().soa);
                state_dirty_ = true;
            }
            uint32_t serial = h.current().serial;
            if (serial != z.soa.serial) {
                if (!patched) patched = std::make_shared<zones::Catalog>(*catalog_);
                zones::set_serial(patched->zones[zi], serial);
            }
            serials_[origin] = serial;
            digests_[answers_key] = digest;
            served.emplace_back(z.origin, h);
            next.emplace(origin, std::move(h));
        }
        if (patched) catalog_ = patched;
        histories_ = std::move(next);
        xfr_server_->publish(std::move(served));
    }

    // ---- warm restart ------------------------------------------------------------

    // Reads the state file; true when it knew every endpoint we are about to probe.
    bool restore_state() {
        if (config_.state_file.empty()) return false;
        std::string err;
        auto st = load_state(config_.state_file, &err);
        if (!st) {
            std::error_code ec;
            if (std::filesystem::exists(config_.state_file, ec))
                log_warning("daemon", "state file {}: {}; starting cold", config_.state_file, err);
            else
                log_info("daemon", "no state file at {} yet; starting cold", config_.state_file);
            return false;
        }
        persisted_ = *st;
        for (auto& [k, e] : st->endpoints) {
            persisted_initial_[k] = e.state;
            restored_since_[k] = {e.state, e.since_ms};
        }
        for (auto& [k, o] : st->overrides) overrides_[k] = {o.state, o.reason, o.set_ms, o.expires_ms};
        for (auto& [k, since] : st->drains) drains_[k] = DrainInfo{since, core::Clock::now(), false};
        serials_ = st->serials;
        digests_ = st->zone_digests;
        log_info("daemon", "state file {}: {} endpoint(s), {} override(s), {} drain(s)", config_.state_file,
                 st->endpoints.size(), st->overrides.size(), st->drains.size());
        return !st->endpoints.empty();
    }

    // Since when the endpoint is in `h.state`, Unix ms: the state file's time while
    // it is still in the state it had when we stopped (a restart is not a change).
    int64_t endpoint_since_ms(const std::string& key, const core::EndpointHealth& h) const {
        if (auto it = restored_since_.find(key); it != restored_since_.end() && it->second.first == h.state)
            return it->second.second;
        return to_unix_ms(h.since);
    }

    void restore_service_states() {
        for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
            auto it = persisted_.services.find(catalog_->services[i].key);
            if (it == persisted_.services.end()) continue;
            states_[i].label = it->second.label;
            states_[i].active_pool = it->second.active_pool;
            states_[i].released = it->second.released;
            // Only shown (status, API): the unstable window runs on moved_at, which a
            // restart leaves unset, so an old `since` cannot shorten it.
            states_[i].since = it->second.since_ms > 0 ? from_unix_ms(it->second.since_ms) : core::Clock::now();
        }
    }

    void save_state_now() {
        if (config_.state_file.empty() || !catalog_ || !monitor_) return;
        PersistedState s;
        auto span = monitor_->health();
        for (std::size_t i = 0; i < catalog_->endpoints.size(); ++i) {
            core::EndpointHealth h = i < span.size() ? span[i] : core::EndpointHealth{};
            auto& key = catalog_->endpoints[i].key;
            if (!h.confirmed) {
                // Not probed since start: keep what the file said rather than the guess.
                if (auto it = persisted_.endpoints.find(key); it != persisted_.endpoints.end()) {
                    s.endpoints[key] = it->second;
                }
                continue;
            }
            s.endpoints[key] = {h.state, endpoint_since_ms(key, h), h.reason};
        }
        for (auto& [k, o] : overrides_) s.overrides[k] = {o.state, o.reason, o.set_ms, o.expires_ms};
        for (auto& [k, d] : drains_) s.drains[k] = d.since_ms;
        for (std::size_t i = 0; i < catalog_->services.size() && i < states_.size(); ++i)
            s.services[catalog_->services[i].key] = {states_[i].label, states_[i].active_pool, states_[i].released,
                                                     to_unix_ms(states_[i].since)};
        s.serials = serials_;
        s.zone_digests = digests_;
        std::string err;
        if (!save_state(config_.state_file, s, &err)) log_warning("daemon", "state file: {}", err);
        state_dirty_ = false;
        last_save_ = core::Clock::now();
    }

    // ---- members -------------------------------------------------------------------

    ServerConfig config_;
    uv_loop_t loop_{};
    uv_signal_t sigterm_{}, sigint_{}, sighup_{};
    uv_timer_t tick_{}, debounce_{};
    uv_fs_event_t fs_event_{};
    bool watching_ = false;
    std::shared_ptr<const zones::Catalog> catalog_;
    std::unique_ptr<probes::HealthMonitor> monitor_;
    std::unique_ptr<ClusterMember> cluster_;           // null without [cluster]
    std::vector<bool> probed_;                         // by endpoint index: this instance probes it
    std::set<std::string> probed_keys_;
    std::map<std::string, core::HealthState> takeover_initial_;  // endpoints taken over from a peer
    std::map<std::string, core::HealthState> cluster_states_;    // last combined state, for transitions
    bool first_round_done_ = false;
    std::optional<core::TimePoint> trim_at_;  // when to hand freed memory back (after a load)
    std::unique_ptr<hooks::HookRunner> hooks_;
    std::unique_ptr<dns::Server> server_;
    std::unique_ptr<api::ApiServer> api_;
    std::shared_ptr<xfr::TransferServer> xfr_server_;  // shared with the DNS workers' transfer handler
    std::unique_ptr<xfr::Notifier> notifier_;
    uv_timer_t notify_timer_{};
    bool notify_timer_started_ = false;
    std::vector<std::pair<core::Name, xfr::Record>> pending_notifies_;  // sent once the new version is served
    std::map<std::string, xfr::ZoneHistory> histories_;  // origin → IXFR versions
    std::shared_ptr<const dns::View> current_view_;
    std::vector<policy::ServiceState> states_;
    std::vector<policy::Evaluation> evaluations_;
    std::map<std::string, OverrideInfo> overrides_;
    std::map<std::string, DrainInfo> drains_;
    std::map<std::string, core::HealthState> persisted_initial_;
    // Endpoint key → (state, since Unix ms) from the state file, until the state changes.
    std::map<std::string, std::pair<core::HealthState, int64_t>> restored_since_;
    std::shared_ptr<dns::ExplainResponder> explain_;  // shared with the DNS workers' explain handler
    std::shared_ptr<const std::vector<policy::Evaluation>> explain_evaluations_;  // as of the last View
    PersistedState persisted_;
    std::map<std::string, uint32_t> serials_;
    std::map<std::string, std::string> digests_;
    std::map<std::string, uint64_t> transitions_, service_changes_;
    std::vector<std::string> zone_names_;  // index = stable zone id
    bool reload_ok_ = true;
    int64_t reload_at_ms_ = 0;
    std::vector<std::string> reload_errors_;
    uint64_t reloads_ = 0, reload_failures_ = 0;
    uint64_t seed_salt_ = std::random_device{}();
    uint64_t generation_ = 0;
    bool state_dirty_ = false;
    core::TimePoint last_save_{};
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace

int run_daemon(const ServerConfig& config) {
    Daemon d(config);
    return d.run();
}

}  // namespace signpost::tools
