// The daemon's lifecycle: loads the zones, starts the parts (tools/daemon_parts.hpp),
// feeds libuv callbacks (probes, resolver, peers, signals, timers, the zones
// directory) to the control core and carries its steps out; the API goes
// through tools/daemon_backend.cpp. No rules here.
#include "tools/daemon.hpp"

#include <uv.h>

#include <ctime>
#include <filesystem>

#include "core/log.hpp"
#include "core/memory.hpp"
#include "tools/config_reload.hpp"
#include "tools/daemon_backend.hpp"
#include "tools/daemon_parts.hpp"
#include "dnssec/rollover.hpp"
#include "tools/dnssec_command.hpp"
#include "tools/query_handlers.hpp"
#include "tools/state_store.hpp"
#include "zones/loader.hpp"

namespace signpost::tools {

namespace {

using core::log_error;
using core::log_info;
using core::log_warning;

class Daemon {
public:
    Daemon(const ServerConfig& config, const ServeFlags& flags) : flags_(flags), p_(config), backend_(p_, [this](const char* t) { return reload(t); }) {}

    int run() {
        auto loaded = zones::load_path(p_.config.zones_dir, p_.config.limits);
        log_diagnostics(loaded.diagnostics);
        if (auto errors = zones::load_errors(loaded, p_.config.zones_dir); !errors.empty()) {
            if (!loaded.catalog) log_error("zones", "{} error(s) in {}; not serving", errors.size(), p_.config.zones_dir);
            else log_error("zones", "{}", errors.front());
            return 1;
        }
        // A zone with [dnssec] sign = true is never served unsigned.
        if (!load_keys(*loaded.catalog)) {
            log_error("dnssec", "not starting");
            return 1;
        }
        if (std::string error; !p_.geoip.load(p_.config.geoip_databases, error)) {
            log_error("geoip", "{}; not starting", error);
            return 1;
        }
        log_geoip("loaded");
        p_.apply(p_.core.geo_databases(p_.geoip.databases(), {}, daemon_now()));
        restore_state();
        install_query_handlers(p_.config);
        // Bind every listen address now: one that cannot be bound stops the start
        // before any probe runs. Queries are dropped until the first snapshot.
        try {
            p_.server = std::make_unique<dns::Server>(p_.config.dns, nullptr);
        } catch (const std::exception& e) {
            log_error("dns", "{}; not starting", e.what());
            return 2;
        }
        uv_loop_init(&p_.loop);
        if (auto every = p_.systemd.start_watchdog(&p_.loop); every.count())
            log_info("daemon", "systemd watchdog: {} ms, WATCHDOG=1 every half of it", every.count() / 1000);
        p_.monitor = std::make_unique<probes::HealthMonitor>(&p_.loop, p_.config.probes);
        p_.resolver = std::make_unique<resolve::Resolver>(&p_.loop, p_.config.resolver);
        p_.resolver->on_change([this](std::span<const core::Resolution> changed) {
            if (p_.stopping) return;
            p_.apply(p_.core.resolved(changed, p_.monitor->health(), daemon_now()));
            maybe_start_serving();
        });
        if (p_.config.cluster.enabled()) {
            // Polls leave from the probes' source address: one address per instance to allow.
            p_.cluster = std::make_unique<cluster::Member>(&p_.loop, p_.config.cluster, p_.config.probes.source_v4);
            p_.core.set_cluster(p_.cluster.get());
            p_.cluster->on_change([this] { on_cluster_inputs(); });
            // Hooks once per cluster: held until the emitter's watermark covers them (docs/cluster.md).
            p_.hook_gate = std::make_unique<control::HookGate>(p_.config.cluster.id,
                                                               p_.config.cluster.peer_timeout.count());
        }
        p_.apply(p_.core.load(std::move(loaded.catalog), daemon_now()));
        loaded = {};  // the core's copy is all we keep
        auto& cat = p_.core.catalog();
        log_info("zones", "loaded {} zone(s), {} service(s), {} endpoint(s) from {}", cat.zones.size(),
                 cat.services.size(), cat.endpoints.size(), p_.config.zones_dir);
        p_.hooks = std::make_unique<hooks::HookRunner>(&p_.loop);
        p_.hooks->on_outcome([this](const hooks::DeliveryOutcome& o) {
            p_.timeline.add(timeline::from_delivery(o, daemon_now().unix_ms));
            if (o.final && p_.hook_gate) p_.hook_gate->sink_done(o.event.seq);
        });
        p_.notifier = std::make_unique<xfr::Notifier>(&p_.loop, p_.config.xfr);
        p_.monitor->on_change([this](std::span<const probes::HealthChange> c) {
            if (p_.stopping) return;
            p_.apply(p_.core.health_changed(p_.monitor->health(), c, daemon_now()));
            maybe_start_serving();  // a hostname's addresses may complete the first round
        });
        p_.monitor->on_signal([](const std::string& key, const char* what) {
            core::log_debug("probes", "endpoint {}: kept connection {}: re-checking now", key, what);
        });
        p_.monitor->on_first_round([this] {
            first_round_done_ = true;
            maybe_start_serving();
        });
        // Peers read our verdicts during our first round: open the API at once.
        if (p_.cluster) start_api();
        for (auto [h, sig] : {std::pair{&sigterm_, SIGTERM}, {&sigint_, SIGINT}, {&sighup_, SIGHUP}}) {
            uv_signal_init(&p_.loop, h);
            h->data = this;
            uv_signal_start(h, [](uv_signal_t* s, int n) { static_cast<Daemon*>(s->data)->on_signal(n); }, sig);
        }
        // Time-dependent rules (hold-down, unstable windows, override expiry, drains).
        uv_timer_init(&p_.loop, &tick_);
        tick_.data = this;
        uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->on_tick(); }, 250, 250);
        uv_timer_init(&p_.loop, &debounce_);
        debounce_.data = this;
        watch_zones();
        if (!maybe_start_serving()) log_info("probes", "{}", p_.core.start_wait());
        uv_run(&p_.loop, UV_RUN_DEFAULT);
        uv_run(&p_.loop, UV_RUN_DEFAULT);  // close callbacks
        if (uv_loop_close(&p_.loop) != 0) log_warning("daemon", "event loop closed with handles still open");
        return exit_code_;
    }

private:
    void log_diagnostics(const core::Diagnostics& d) {
        for (auto& item : d.items())
            core::log_line(item.severity == core::Severity::Error ? core::LogLevel::Error : core::LogLevel::Warning,
                           "zones", item.to_string());
    }

    // ---- start, stop, signals ------------------------------------------------

    void on_signal(int sig) {
        if (sig == SIGHUP) {
            reload("SIGHUP");
            return;
        }
        log_info("daemon", "{} received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        shutdown(0);
    }

    void shutdown(int code) {
        if (p_.stopping) return;
        p_.stopping = true;
        p_.systemd.stopping();
        exit_code_ = code;
        save_state_now();
        if (p_.api) p_.api->stop();
        p_.api.reset();
        if (p_.server) p_.server->stop();
        p_.server.reset();
        if (p_.monitor) p_.monitor->stop();
        if (p_.resolver) p_.resolver->stop();
        if (p_.cluster) p_.cluster->stop();
        if (p_.hooks) p_.hooks->stop();
        if (p_.notifier) p_.notifier->close();
        for (auto* h : {(uv_handle_t*)&sigterm_, (uv_handle_t*)&sigint_, (uv_handle_t*)&sighup_, (uv_handle_t*)&tick_,
                        (uv_handle_t*)&debounce_})
            if (!uv_is_closing(h)) uv_close(h, nullptr);
        if (watching_ && !uv_is_closing((uv_handle_t*)&fs_event_)) uv_close((uv_handle_t*)&fs_event_, nullptr);
    }

    // Starts answering when the core's start rule says so; true when serving.
    bool maybe_start_serving() {
        if (p_.stopping) return false;
        if (p_.core.serving()) return true;
        auto why = p_.core.start_reason({first_round_done_, p_.resolver->settled()}, p_.monitor->health(), daemon_now());
        if (!why) return false;
        // The sockets are bound since the start; the first snapshot starts the answers.
        p_.apply(p_.core.start(p_.monitor->health(), daemon_now()));
        trim_at_ = core::Clock::now() + std::chrono::seconds(2);  // hand the loader's memory back
        std::string where;
        for (auto& a : p_.server->bound()) where += (where.empty() ? "" : ", ") + a.to_string();
        log_info("daemon", "ready ({}): serving {} zone(s) on {} (udp+tcp)", *why, p_.core.catalog().zones.size(), where);
        start_api();
        p_.systemd.ready(p_.service_status());
        return true;
    }

    void start_api() {
        if (!p_.config.api_enabled || p_.api || p_.stopping) return;
        try {
            p_.api = std::make_unique<api::ApiServer>(&p_.loop, p_.config.api, backend_);
            log_info("api", "{}", p_.config.api.token.empty() ? "read-only: no api token configured, writes are refused"
                                               : "writes need the api token");
        } catch (const std::exception& e) {
            log_error("api", "{}; serving DNS without the API", e.what());  // DNS matters more
        }
    }

    void on_tick() {
        if (p_.stopping) return;
        maybe_start_serving();  // a first round's deadline may have passed
        p_.apply(p_.core.tick(p_.monitor->health(), daemon_now()));
        p_.gate_hooks(daemon_now());
        p_.observe(daemon_now());
        if (core::Clock::now() - geoip_checked_ >= std::chrono::seconds(1)) {
            geoip_checked_ = core::Clock::now();
            if (p_.geoip.changed()) reload_geoip("a GeoIP database file changed");
        }
        if (p_.state_dirty && core::Clock::now() - last_save_ > std::chrono::seconds(1)) save_state_now();
        if (trim_at_ && core::Clock::now() >= *trim_at_) {
            trim_at_.reset();
            core::release_free_memory();  // glibc keeps a freed generation's small blocks unless asked
        }
    }

    // ---- zones, cluster ---------------------------------------------------------

    // Every reload (SIGHUP, API, zones directory): systemd hears RELOADING=1, then READY=1.
    bool reload(const char* trigger) {
        p_.systemd.reloading();
        bool ok = do_reload(trigger);
        auto& rs = p_.core.reload_status();
        p_.timeline.add(timeline::from_reload(trigger, ok, rs.staged, rs.errors, daemon_now().unix_ms));
        p_.systemd.reloaded(p_.service_status());
        return ok;
    }

    bool do_reload(const char* trigger) {
        // SIGHUP and `signpost reload` read the server config again; a change in the
        // zones directory reloads the zones only.
        bool config = std::string_view(trigger) != kZonesChanged;
        log_info("daemon", "{}: reloading {}{}", trigger, config ? "the server config and " : "", p_.config.zones_dir);
        if (config && !reload_config()) return false;
        if (config) reload_geoip(trigger);
        auto loaded = zones::load_path(p_.config.zones_dir, p_.config.limits);
        log_diagnostics(loaded.diagnostics);
        if (auto errors = zones::load_errors(loaded, p_.config.zones_dir); !errors.empty()) {
            p_.apply(p_.core.reload_failed(std::move(errors), daemon_now()));
            return false;
        }
        if (std::vector<std::string> errors; !load_keys(*loaded.catalog, &errors)) {
            p_.apply(p_.core.reload_failed(std::move(errors), daemon_now()));
            return false;
        }
        p_.apply(p_.core.reload(std::move(loaded.catalog), p_.monitor->health(), daemon_now()));
        // The monitor probes the new endpoints now: commit at once when none is new.
        p_.apply(p_.core.health_changed(p_.monitor->health(), {}, daemon_now()));
        trim_at_ = core::Clock::now() + std::chrono::seconds(2);
        return true;
    }

    // The keys of the signed zones, generated where missing (logged); errors are logged
    // (and returned) and leave the keys in use unchanged.
    bool load_keys(const zones::Catalog& catalog, std::vector<std::string>* errors_out = nullptr) {
        auto r = dnssec_load_keys(catalog, p_.config, int64_t(std::time(nullptr)));
        for (auto& e : r.errors) log_error("dnssec", "{}", e);
        if (!r.errors.empty()) {
            if (errors_out) *errors_out = std::move(r.errors);
            return false;
        }
        for (auto& g : r.generated) log_info("dnssec", "generated key {} (.key and .private, mode 0400)", g);
        const int64_t now = std::time(nullptr);
        for (auto& [origin, keys] : *r.keys) {
            for (auto& path : keys.removed)
                log_info("dnssec", "zone {}: key {} is past its Delete time: left out of the zone (its files stay; "
                         "remove them when you like)", keys.zone.to_key(), path);
            for (auto& k : keys.keys) {
                const bool sep = k.signer.flags() == dnssec::kSepKeyFlags;
                auto next = dnssec::next_key_event(k.timing, now);
                auto st = dnssec::key_state(k.timing, sep, now);
                std::string when = next ? "; next change " + dnssec::iso_utc(*next) : std::string();
                if (st.signing)
                    log_info("dnssec", "zone {} signs with {} {} ({}; {}{})", keys.zone.to_key(),
                             dnssec::to_string(k.role), k.signer.key_tag(), k.path, dnssec::state_text(st, sep), when);
                else
                    log_info("dnssec", "zone {} has {} {}, not signing ({}; {}{})", keys.zone.to_key(),
                             dnssec::to_string(k.role), k.signer.key_tag(), k.path, dnssec::state_text(st, sep), when);
            }
        }
        p_.core.signing_keys(std::move(r.keys));
        return true;
    }

    // geoip_databases again: a file that cannot be read keeps the databases in use.
    void reload_geoip(const char* trigger) {
        std::string error;
        if (!p_.geoip.load(p_.config.geoip_databases, error)) {
            log_error("geoip", "{}: {}; keeping the databases in use", trigger, error);
            return;
        }
        log_geoip(trigger);
        p_.apply(p_.core.geo_databases(p_.geoip.databases(), p_.monitor->health(), daemon_now()));
    }
    void log_geoip(const char* trigger) {
        if (auto& dbs = p_.geoip.databases())
            for (auto& f : dbs->files()) log_info("geoip", "{}: {} ({})", trigger, f->path(), f->type());
    }

    // The server config again (file, then the flags): keys that can change live
    // are applied, the others wait for a restart (tools/config_reload.hpp).
    static std::string join(const std::vector<std::string>& names) {
        std::string out;
        for (auto& n : names) out += (out.empty() ? "" : ", ") + n;
        return out;
    }

    bool reload_config() {
        std::vector<std::string> errors, warnings;
        auto read = compose_server_config(flags_, errors, warnings);
        for (auto& w : warnings) log_warning("config", "{}", w);
        if (!read) {
            for (auto& e : errors) log_error("config", "{}", e);
            p_.apply(p_.core.reload_failed(std::move(errors), daemon_now()));
            return false;
        }
        auto changes = config_changes(p_.config, *read);
        if (!changes.restart.empty())
            log_warning("config", "{} changed: kept as running until a restart (the rest applies now)",
                        join(changes.restart));
        // Applied every time (idempotent): a key the table does not know yet still moves.
        ServerConfig next = config_to_apply(p_.config, *read);
        core::LogLevel level;
        if (core::parse_log_level(next.log_level, level)) core::set_log_level(level);
        if (core::LogStyle style = core::log_style(); core::parse_log_format(next.log_format, style))
            core::set_log_style(style);  // keeps `journal` (stderr is still the journal's)
        install_query_handlers(next);
        p_.server->set_query_settings(dns::QuerySettings::from(next.dns));
        if (p_.api) p_.api->set_access(next.api.token, next.api.read_allow);
        p_.resolver->set_options(next.resolver);
        if (p_.notifier) p_.notifier->set_options(next.xfr);
        p_.core.set_options(core_options(next));
        p_.config = std::move(next);
        if (!changes.live.empty()) log_info("config", "applied: {}", join(changes.live));
        return true;
    }

    void watch_zones() {
        std::error_code ec;
        if (!p_.config.watch_zones || !std::filesystem::is_directory(p_.config.zones_dir, ec)) return;
        uv_fs_event_init(&p_.loop, &fs_event_);
        fs_event_.data = this;
        int rc = uv_fs_event_start(&fs_event_, [](uv_fs_event_t* h, const char* file, int, int status) {
            auto* self = static_cast<Daemon*>(h->data);
            if (status < 0 || self->p_.stopping) return;
            auto state = std::filesystem::path(self->p_.config.state_file).filename().string();
            if (!zones::is_zone_change(file ? file : "", state)) return;
            // Debounced: an editor's save is several events; reload once they settle.
            uv_timer_start(&self->debounce_, [](uv_timer_t* t) {
                static_cast<Daemon*>(t->data)->reload(kZonesChanged);
            }, 500, 0);
        }, p_.config.zones_dir.c_str(), 0);
        if (rc != 0) {
            log_warning("zones", "cannot watch {} for changes ({}); reload with SIGHUP", p_.config.zones_dir, uv_strerror(rc));
            uv_close((uv_handle_t*)&fs_event_, nullptr);
            return;
        }
        watching_ = true;
    }

    void on_cluster_inputs() {
        if (p_.stopping) return;
        p_.gate_hooks(daemon_now());
        if (!maybe_start_serving()) return;
        p_.apply(p_.core.cluster_changed(p_.monitor->health(), daemon_now()));
    }

    // ---- warm restart ------------------------------------------------------------

    void restore_state() {
        if (auto st = read_state_file(p_.config.state_file))
            for (auto& l : p_.core.restore(*st, daemon_now())) core::log_line(l.level, l.unit, p_.config.state_file + ": " + l.text);
    }

    void save_state_now() {
        if (p_.config.state_file.empty() || !p_.monitor) return;
        std::string err;
        if (!save_state(p_.config.state_file, p_.core.persisted(p_.monitor->health(), daemon_now()), &err))
            log_warning("daemon", "state file: {}", err);
        p_.state_dirty = false;
        last_save_ = core::Clock::now();
    }

    static constexpr const char* kZonesChanged = "zones directory changed";
    ServeFlags flags_;
    DaemonParts p_;
    DaemonBackend backend_;
    uv_signal_t sigterm_{}, sigint_{}, sighup_{};
    uv_timer_t tick_{}, debounce_{};
    core::TimePoint geoip_checked_{};
    uv_fs_event_t fs_event_{};
    bool watching_ = false;
    bool first_round_done_ = false;
    std::optional<core::TimePoint> trim_at_;
    core::TimePoint last_save_{};
    int exit_code_ = 0;
};

}  // namespace

int run_daemon(const ServerConfig& config, const ServeFlags& flags) {
    Daemon d(config, flags);
    return d.run();
}

}  // namespace signpost::tools
