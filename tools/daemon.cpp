// The daemon's wiring: libuv callbacks feed the control core (control/), and
// the core's outputs go out — snapshots to the DNS server, events to the hook
// runner, log lines to the log, NOTIFYs to secondaries, the state to its file.
// Also the status/control API's Backend, an adapter over the core. No rules here.
#include "tools/daemon.hpp"

#include <uv.h>

#include <filesystem>
#include <malloc.h>
#include <map>
#include <random>

#include "api/api_server.hpp"
#include "cluster/member.hpp"
#include "control/controller.hpp"
#include "core/log.hpp"
#include "dns/describe.hpp"
#include "dns/explain.hpp"
#include "dns/server.hpp"
#include "hooks/hook_runner.hpp"
#include "probes/health_monitor.hpp"
#include "resolve/resolver.hpp"
#include "tools/api_views.hpp"
#include "tools/metrics_text.hpp"
#include "tools/query_handlers.hpp"
#include "tools/state_store.hpp"
#include "xfr/notifier.hpp"
#include "zones/loader.hpp"

namespace signpost::tools {

namespace {

using core::log_error;
using core::log_info;
using core::log_warning;
using nlohmann::json;

control::Now now() { return {core::Clock::now(), unix_ms_now()}; }

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

class Daemon final : public api::Backend {
public:
    explicit Daemon(const ServerConfig& config) : config_(config), core_(core_options(config)) {}

    int run() {
        auto loaded = zones::load_path(config_.zones_dir, config_.limits);
        log_diagnostics(loaded.diagnostics);
        if (auto errors = zones::load_errors(loaded, config_.zones_dir); !errors.empty()) {
            if (!loaded.catalog) log_error("zones", "{} error(s) in {}; not serving", errors.size(), config_.zones_dir);
            else log_error("zones", "{}", errors.front());
            return 1;
        }
        restore_state();
        install_query_handlers(config_);
        // Bind every listen address now: one that cannot be bound stops the start
        // before any probe runs. Queries are dropped until the first snapshot.
        try {
            server_ = std::make_unique<dns::Server>(config_.dns, nullptr);
        } catch (const std::exception& e) {
            log_error("dns", "{}; not starting", e.what());
            return 2;
        }
        uv_loop_init(&loop_);
        monitor_ = std::make_unique<probes::HealthMonitor>(&loop_, config_.probes);
        resolver_ = std::make_unique<resolve::Resolver>(&loop_, config_.resolver);
        resolver_->on_change([this](std::span<const core::Resolution> changed) {
            if (stopping_) return;
            apply(core_.resolved(changed, monitor_->health(), now()));
            maybe_start_serving();
        });
        if (config_.cluster.enabled()) {
            // Polls leave from the probes' source address: one address per instance to allow.
            cluster_ = std::make_unique<cluster::Member>(&loop_, config_.cluster, config_.probes.source_v4);
            core_.set_cluster(cluster_.get());
            cluster_->on_change([this] { on_cluster_inputs(); });
        }
        apply(core_.load(std::move(loaded.catalog), now()));
        loaded = {};  // the core's copy is all we keep
        auto& cat = core_.catalog();
        log_info("zones", "loaded {} zone(s), {} service(s), {} endpoint(s) from {}", cat.zones.size(),
                 cat.services.size(), cat.endpoints.size(), config_.zones_dir);
        hooks_ = std::make_unique<hooks::HookRunner>(&loop_);
        notifier_ = std::make_unique<xfr::Notifier>(&loop_, config_.xfr);
        monitor_->on_change([this](std::span<const probes::HealthChange> c) {
            if (stopping_) return;
            apply(core_.health_changed(monitor_->health(), c, now()));
            maybe_start_serving();  // a hostname's addresses may complete the first round
        });
        monitor_->on_first_round([this] {
            first_round_done_ = true;
            maybe_start_serving();
        });
        // Peers read our verdicts during our first round: open the API at once.
        if (cluster_) start_api();
        for (auto [h, sig] : {std::pair{&sigterm_, SIGTERM}, {&sigint_, SIGINT}, {&sighup_, SIGHUP}}) {
            uv_signal_init(&loop_, h);
            h->data = this;
            uv_signal_start(h, [](uv_signal_t* s, int n) { static_cast<Daemon*>(s->data)->on_signal(n); }, sig);
        }
        // Time-dependent rules (hold-down, unstable windows, override expiry, drains).
        uv_timer_init(&loop_, &tick_);
        tick_.data = this;
        uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->on_tick(); }, 250, 250);
        uv_timer_init(&loop_, &debounce_);
        debounce_.data = this;
        watch_zones();
        if (!maybe_start_serving()) log_info("probes", "{}", core_.start_wait());
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks
        if (uv_loop_close(&loop_) != 0) log_warning("daemon", "event loop closed with handles still open");
        return exit_code_;
    }

    // ---- api::Backend: an adapter over the core ---------------------------------

    json services() override {
        auto n = now();
        return services_json(core_.catalog(), core_.evaluations(), core_.states(), health(),
                             [n](core::TimePoint t) { return n.to_unix_ms(t); });
    }

    json endpoints() override { return endpoints_json(core_, monitor_->status(), health(), now()); }

    json zones() override { return zones_json(core_.catalog(), core_.reload_status().at_ms); }

    json status() override {
        auto& rs = core_.reload_status();
        return status_json(services(), endpoints(), zones(), rs.ok, rs.at_ms, rs.errors, core_.view_generation(),
                           rs.staged);
    }

    json explain(const std::string& name_text, const std::string& type_text, const std::string& client_text) override {
        std::string error;
        auto q = explain_query(name_text, type_text, client_text, error);
        if (!q) throw api::ApiError(400, error);
        auto view = core_.view();
        if (!view) throw api::ApiError(503, "not serving yet: the first probe round is running");
        return explanation_json(dns::explain(core_.catalog(), core_.evaluations(), health(), *view, *q), client_text);
    }

    json set_override(const api::OverrideRequest& r) override {
        return command(core_.set_override(r.target, r.state, r.reason, r.expires_in, monitor_->health(), now()));
    }

    json drain(const std::string& key, bool undo) override {
        json j = command(core_.drain(key, undo, monitor_->health(), now()));
        if (auto* d = core_.drain_for(key)) j["drained"] = d->drained();
        return j;
    }

    json release(const std::string& key) override {
        auto r = core_.release(key, monitor_->health(), now());
        std::string label = r.label;
        json j = command(std::move(r));
        j["label"] = label;
        return j;
    }

    json cluster() override {
        if (!cluster_) return api::Backend::cluster();
        std::vector<core::EndpointHealth> own;
        return cluster_->status(core_.local_verdicts(monitor_->health(), own));
    }

    std::string cluster_verdicts() override {
        if (!cluster_) return api::Backend::cluster_verdicts();
        std::vector<core::EndpointHealth> own;
        return cluster_->verdicts(core_.local_verdicts(monitor_->health(), own));
    }

    json reload() override {
        bool ok = do_reload("API");
        auto& rs = core_.reload_status();
        json j = {{"ok", ok}, {"errors", rs.errors}};
        j["message"] = ok ? "reloaded" : "reload failed; still serving the previous configuration";
        if (!ok) throw api::ApiError(422, j["message"].get<std::string>() + ": " + (rs.errors.empty() ? "" : rs.errors.front()));
        return j;
    }

    std::string metrics() override {
        auto status = monitor_->status();
        std::string m = build_info_metrics(build_info());
        m += control_metrics(core_, health(), status);
        if (cluster_) m += cluster_metrics(cluster());
        if (server_) m += dns_metrics(server_->stats(), core_.zone_names());
        m += process_metrics(read_process_stats());
        return m;
    }

private:
    std::vector<core::EndpointHealth> health() const { return core_.effective_health(monitor_->health()); }

    json command(control::CommandResult r) {
        if (r.status != 200) throw api::ApiError(r.status, r.message);
        apply(std::move(r.step));
        return {{"ok", true}, {"message", r.message}};
    }

    // Carries a step's outputs out, in the order the core asks for.
    void apply(control::Step step) {
        for (auto& l : step.log) core::log_line(l.level, l.unit, l.text);
        if (step.snapshot && server_) {
            server_->publish(step.snapshot);
            core_.published(step.snapshot->version, now());  // every later query sees it
        }
        if (!stopping_ && notifier_)
            for (auto& n : step.notifies) notifier_->notify(n.origin, n.soa);
        for (auto& e : step.events)
            for (auto& hook : e.hooks)
                if (hooks_) hooks_->deliver(hook, e.payload);
        if (step.retarget && monitor_) monitor_->set_targets(core_.probe_targets());
        if (step.retarget && resolver_) resolver_->set_names(core_.hostnames());
        if (step.retarget && cluster_)
            log_info("cluster", "probing {} of {} endpoint(s) here", monitor_->status().size(), core_.catalog().endpoints.size());
        if (step.persist) state_dirty_ = true;
    }

    void log_diagnostics(const core::Diagnostics& d) {
        for (auto& item : d.items())
            core::log_line(item.severity == core::Severity::Error ? core::LogLevel::Error : core::LogLevel::Warning,
                           "zones", item.to_string());
    }

    // ---- start, stop, signals ------------------------------------------------

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
        if (resolver_) resolver_->stop();
        if (cluster_) cluster_->stop();
        if (hooks_) hooks_->stop();
        if (notifier_) notifier_->close();
        for (auto* h : {(uv_handle_t*)&sigterm_, (uv_handle_t*)&sigint_, (uv_handle_t*)&sighup_, (uv_handle_t*)&tick_,
                        (uv_handle_t*)&debounce_})
            if (!uv_is_closing(h)) uv_close(h, nullptr);
        if (watching_ && !uv_is_closing((uv_handle_t*)&fs_event_)) uv_close((uv_handle_t*)&fs_event_, nullptr);
    }

    // Starts answering when the core's start rule says so; true when serving.
    bool maybe_start_serving() {
        if (stopping_) return false;
        if (core_.serving()) return true;
        auto why = core_.start_reason({first_round_done_, resolver_->settled()}, monitor_->health(), now());
        if (!why) return false;
        // The sockets are bound since the start; the first snapshot starts the answers.
        apply(core_.start(monitor_->health(), now()));
        trim_at_ = core::Clock::now() + std::chrono::seconds(2);  // hand the loader's memory back
        std::string where;
        for (auto& a : server_->bound()) where += (where.empty() ? "" : ", ") + a.to_string();
        log_info("daemon", "ready ({}): serving {} zone(s) on {} (udp+tcp)", *why, core_.catalog().zones.size(), where);
        start_api();
        return true;
    }

    void start_api() {
        if (!config_.api_enabled || api_ || stopping_) return;
        try {
            api_ = std::make_unique<api::ApiServer>(&loop_, config_.api, *this);
            log_info("api", "{}", config_.api.token.empty() ? "read-only: no api token configured, writes are refused"
                                               : "writes need the api token");
        } catch (const std::exception& e) {
            log_error("api", "{}; serving DNS without the API", e.what());  // DNS matters more
        }
    }

    void on_tick() {
        if (stopping_) return;
        maybe_start_serving();  // a first round's deadline may have passed
        apply(core_.tick(monitor_->health(), now()));
        if (state_dirty_ && core::Clock::now() - last_save_ > std::chrono::seconds(1)) save_state_now();
        if (trim_at_ && core::Clock::now() >= *trim_at_) {
            trim_at_.reset();
            malloc_trim(0);  // glibc keeps a freed generation's small blocks unless asked
        }
    }

    // ---- zones, cluster ---------------------------------------------------------

    bool do_reload(const char* trigger) {
        log_info("daemon", "{}: reloading {}", trigger, config_.zones_dir);
        auto loaded = zones::load_path(config_.zones_dir, config_.limits);
        log_diagnostics(loaded.diagnostics);
        if (auto errors = zones::load_errors(loaded, config_.zones_dir); !errors.empty()) {
            apply(core_.reload_failed(std::move(errors), now()));
            return false;
        }
        apply(core_.reload(std::move(loaded.catalog), monitor_->health(), now()));
        // The monitor probes the new endpoints now: commit at once when none is new.
        apply(core_.health_changed(monitor_->health(), {}, now()));
        trim_at_ = core::Clock::now() + std::chrono::seconds(2);
        return true;
    }

    void watch_zones() {
        std::error_code ec;
        if (!config_.watch_zones || !std::filesystem::is_directory(config_.zones_dir, ec)) return;
        uv_fs_event_init(&loop_, &fs_event_);
        fs_event_.data = this;
        int rc = uv_fs_event_start(&fs_event_, [](uv_fs_event_t* h, const char* file, int, int status) {
            auto* self = static_cast<Daemon*>(h->data);
            if (status < 0 || self->stopping_) return;
            auto state = std::filesystem::path(self->config_.state_file).filename().string();
            if (!zones::is_zone_change(file ? file : "", state)) return;
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

    void on_cluster_inputs() {
        if (stopping_) return;
        if (!maybe_start_serving()) return;
        apply(core_.cluster_changed(monitor_->health(), now()));
    }

    // ---- warm restart ------------------------------------------------------------

    void restore_state() {
        if (auto st = read_state_file(config_.state_file))
            for (auto& l : core_.restore(*st, now())) core::log_line(l.level, l.unit, config_.state_file + ": " + l.text);
    }

    void save_state_now() {
        if (config_.state_file.empty() || !monitor_) return;
        std::string err;
        if (!save_state(config_.state_file, core_.persisted(monitor_->health(), now()), &err))
            log_warning("daemon", "state file: {}", err);
        state_dirty_ = false;
        last_save_ = core::Clock::now();
    }

    ServerConfig config_;
    control::Controller core_;
    uv_loop_t loop_{};
    uv_signal_t sigterm_{}, sigint_{}, sighup_{};
    uv_timer_t tick_{}, debounce_{};
    uv_fs_event_t fs_event_{};
    bool watching_ = false;
    std::unique_ptr<probes::HealthMonitor> monitor_;
    std::unique_ptr<resolve::Resolver> resolver_;
    std::unique_ptr<cluster::Member> cluster_;  // null without [cluster]
    std::unique_ptr<hooks::HookRunner> hooks_;
    std::unique_ptr<dns::Server> server_;
    std::unique_ptr<api::ApiServer> api_;
    std::unique_ptr<xfr::Notifier> notifier_;
    bool first_round_done_ = false;
    std::optional<core::TimePoint> trim_at_;
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
