// The daemon's control loop. Owns everything that changes (catalog, health,
// service states) and hands immutable Views to the DNS workers.
#include "tools/daemon.hpp"

#include <uv.h>

#include <chrono>
#include <random>
#include <set>

#include "core/log.hpp"
#include "dns/server.hpp"
#include "dns/view.hpp"
#include "hooks/hook_runner.hpp"
#include "policy/policy.hpp"
#include "probes/health_monitor.hpp"
#include "zones/loader.hpp"

namespace signpost::tools {

namespace {

using core::log_error;
using core::log_info;
using core::log_warning;

// Equal decisions produce equal answers, so an unchanged service needs no new View.
bool same_answer(const policy::Decision& a, const policy::Decision& b) {
    if (a.label != b.label || a.ttl != b.ttl || a.variants.size() != b.variants.size()) return false;
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

std::vector<probes::ProbeTarget> probe_targets(const zones::Catalog& catalog) {
    std::vector<probes::ProbeTarget> out;
    out.reserve(catalog.endpoints.size());
    for (std::size_t i = 0; i < catalog.endpoints.size(); ++i) {
        auto& ref = catalog.endpoints[i];
        auto& zone = catalog.zones[ref.zone];
        auto& ep = catalog.endpoint(core::EndpointIndex(i));
        probes::ProbeTarget t;
        t.key = ref.key;
        t.index = core::EndpointIndex(i);
        t.address = ep.check_address.to_string();
        t.host = ep.probe_host;
        for (auto& name : ep.checks) {
            auto it = zone.checks.find(name);
            if (it != zone.checks.end()) t.checks.push_back(it->second);
        }
        out.push_back(std::move(t));
    }
    return out;
}

std::string service_title(const zones::Catalog& c, const zones::Service& s) {
    std::string owner = s.owners.empty() ? std::string("?") : s.owners.front().to_text();
    if (!owner.empty() && owner.back() == '.') owner.pop_back();
    return "service " + c.services[s.index].key + " (" + owner + ")";
}

class Daemon {
public:
    explicit Daemon(const ServerConfig& config) : config_(config) {}

    int run() {
        auto loaded = zones::load_path(config_.zones_dir);
        for (auto& d : loaded.diagnostics.items()) core::log_line(d.severity == core::Severity::Error ? core::LogLevel::Error : core::LogLevel::Warning, "zones", d.to_string());
        if (!loaded.catalog) {
            log_error("zones", "{} error(s) in {}; not serving", loaded.diagnostics.error_count(), config_.zones_dir);
            return 1;
        }
        if (loaded.catalog->zones.empty()) {
            log_error("zones", "{}: no zone files (*.toml) to serve", config_.zones_dir);
            return 1;
        }
        catalog_ = loaded.catalog;
        log_info("zones", "loaded {} zone(s), {} service(s), {} endpoint(s) from {}", catalog_->zones.size(),
                 catalog_->services.size(), catalog_->endpoints.size(), config_.zones_dir);

        uv_loop_init(&loop_);
        loop_.data = this;
        monitor_ = std::make_unique<probes::HealthMonitor>(&loop_);
        hooks_ = std::make_unique<hooks::HookRunner>(&loop_);
        monitor_->on_change([this](std::span<const probes::HealthChange> changes) { on_health_change(changes); });
        monitor_->on_first_round([this] { start_serving("first probe round complete"); });

        install_signal(sigterm_, SIGTERM);
        install_signal(sigint_, SIGINT);
        install_signal(sighup_, SIGHUP);
        uv_timer_init(&loop_, &tick_);
        tick_.data = this;
        // Time-dependent rules (hold-down, unstable TTL windows) need a re-evaluation
        // even when no probe result arrives.
        uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->on_tick(); }, 250, 250);

        if (catalog_->endpoints.empty()) {
            start_serving("no endpoints to probe");
        } else {
            log_info("probes", "first probe round of {} endpoint(s) before answering", catalog_->endpoints.size());
            monitor_->set_targets(probe_targets(*catalog_));
        }
        uv_run(&loop_, UV_RUN_DEFAULT);
        // Everything is closed: drain close callbacks, then free the loop.
        uv_run(&loop_, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop_) != 0) log_warning("daemon", "event loop closed with handles still open");
        return exit_code_;
    }

private:
    void install_signal(uv_signal_t& h, int signum) {
        uv_signal_init(&loop_, &h);
        h.data = this;
        uv_signal_start(&h, [](uv_signal_t* s, int sig) { static_cast<Daemon*>(s->data)->on_signal(sig); }, signum);
    }

    void on_signal(int sig) {
        if (sig == SIGHUP) {
            reload();
            return;
        }
        log_info("daemon", "{} received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        shutdown(0);
    }

    void shutdown(int code) {
        if (stopping_) return;
        stopping_ = true;
        exit_code_ = code;
        if (server_) server_->stop();
        server_.reset();
        if (monitor_) monitor_->stop();
        if (hooks_) hooks_->stop();
        for (auto* h : {(uv_handle_t*)&sigterm_, (uv_handle_t*)&sigint_, (uv_handle_t*)&sighup_, (uv_handle_t*)&tick_})
            if (!uv_is_closing(h)) uv_close(h, nullptr);
    }

    std::vector<core::EndpointHealth> health_snapshot() const {
        auto span = monitor_->health();
        std::vector<core::EndpointHealth> out(span.begin(), span.end());
        if (out.size() < catalog_->endpoints.size()) out.resize(catalog_->endpoints.size());
        return out;
    }

    // Re-evaluates the given services (all when `which` is empty); returns true
    // when any answer changed.
    bool evaluate(const std::set<std::size_t>* which) {
        auto health = health_snapshot();
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
                    log_info("policy", "{}: subnet answers changed ({})", service_title(*catalog_, service),
                             describe_subnets(zone, service, ev));
                else
                    log_info("policy", "{}: {} → {} ({})", service_title(*catalog_, service), before,
                             ev.decision.label, ev.decision.reason);
                if (!first) fire_hooks(zone, service, "service", "", before, ev.decision.label, ev.decision.reason);
            }
            if (ev.early_warning && !evaluations_[i].early_warning) {
                auto why = suspects(zone, service, health);
                log_warning("policy", "{}: early warning: {}", service_title(*catalog_, service), why);
                fire_hooks(zone, service, "early-warning", "", ev.decision.label, ev.decision.label, why);
            }
            if (!same_answer(ev, evaluations_[i])) any = true;
            states_[i] = ev.state;
            evaluations_[i] = std::move(ev);
        }
        return any;
    }

    // "endpoint 127.0.0.10 failing: HTTP 503 (still up)" for every suspect endpoint
    // that is still answered: the early warning's reason.
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

    static std::string describe_subnets(const zones::Zone&, const zones::Service&, const policy::Evaluation& ev) {
        std::string out;
        for (auto& r : ev.subnets)
            out += (out.empty() ? "" : ", ") + r.prefix.to_string() + " → " + r.decision.label;
        return out + (out.empty() ? "" : ", ") + "others → " + ev.decision.label;
    }

    void fire_hooks(const zones::Zone& zone, const zones::Service& service, const char* event,
                    const std::string& endpoint, const std::string& from, const std::string& to,
                    const std::string& reason) {
        if (service.hooks.empty() || !hooks_) return;
        hooks::HookEvent e;
        e.event = event;
        e.zone = zone.origin.to_text();
        if (!e.zone.empty() && e.zone.back() == '.' && e.zone.size() > 1) e.zone.pop_back();
        e.service = service.name;
        e.endpoint = endpoint;
        e.from = from;
        e.to = to;
        e.reason = reason;
        for (auto& h : service.hooks) hooks_->deliver(h, e);
    }

    void publish() {
        auto view = dns::build_view(catalog_, evaluations_, ++generation_);
        if (server_) server_->publish(std::move(view));
        else pending_view_ = std::move(view);
    }

    void start_serving(const char* why) {
        if (server_ || stopping_) return;
        evaluate(nullptr);
        publish();
        dns::ServerOptions opts = config_.dns;
        try {
            server_ = std::make_unique<dns::Server>(opts, std::move(pending_view_));
        } catch (const std::exception& e) {
            log_error("dns", "{}", e.what());
            shutdown(2);
            return;
        }
        std::string where;
        for (auto& a : server_->bound()) where += (where.empty() ? "" : ", ") + a.to_string();
        log_info("daemon", "ready ({}): serving {} zone(s) on {} (udp+tcp)", why, catalog_->zones.size(), where);
    }

    void on_health_change(std::span<const probes::HealthChange> changes) {
        if (!catalog_ || stopping_) return;
        std::set<std::size_t> affected;
        for (auto& c : changes) {
            if (c.index >= catalog_->endpoints.size()) continue;
            auto& ref = catalog_->endpoints[c.index];
            auto& ep = catalog_->endpoint(c.index);
            bool flipped = c.before.state != c.after.state;
            if (flipped)
                log_info("probes", "endpoint {}: {} → {} ({})", ref.key, core::to_string(c.before.state),
                         core::to_string(c.after.state), c.after.reason);
            (void)ep;
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
    }

    void on_tick() {
        if (!server_ || stopping_) return;
        if (evaluate(nullptr)) publish();
    }

    void reload() {
        log_info("daemon", "SIGHUP: reloading {}", config_.zones_dir);
        auto loaded = zones::load_path(config_.zones_dir);
        for (auto& d : loaded.diagnostics.items()) core::log_line(d.severity == core::Severity::Error ? core::LogLevel::Error : core::LogLevel::Warning, "zones", d.to_string());
        if (!loaded.catalog) {
            log_error("zones", "reload failed with {} error(s); still serving the previous configuration",
                      loaded.diagnostics.error_count());
            return;
        }
        // Carry service states over by key so a reload never flips an answer.
        std::map<std::string, policy::ServiceState> old_states;
        if (catalog_)
            for (std::size_t i = 0; i < catalog_->services.size() && i < states_.size(); ++i)
                old_states[catalog_->services[i].key] = states_[i];
        catalog_ = loaded.catalog;
        states_.assign(catalog_->services.size(), {});
        for (std::size_t i = 0; i < catalog_->services.size(); ++i) {
            auto it = old_states.find(catalog_->services[i].key);
            if (it != old_states.end()) states_[i] = it->second;
        }
        evaluations_.clear();
        monitor_->set_targets(probe_targets(*catalog_));
        evaluate(nullptr);
        publish();
        log_info("zones", "reloaded {} zone(s), {} service(s), {} endpoint(s)", catalog_->zones.size(),
                 catalog_->services.size(), catalog_->endpoints.size());
    }

    ServerConfig config_;
    uv_loop_t loop_{};
    uv_signal_t sigterm_{}, sigint_{}, sighup_{};
    uv_timer_t tick_{};
    std::shared_ptr<const zones::Catalog> catalog_;
    std::unique_ptr<probes::HealthMonitor> monitor_;
    std::unique_ptr<hooks::HookRunner> hooks_;
    std::unique_ptr<dns::Server> server_;
    std::shared_ptr<const dns::View> pending_view_;
    std::vector<policy::ServiceState> states_;
    std::vector<policy::Evaluation> evaluations_;
    uint64_t seed_salt_ = std::random_device{}();
    uint64_t generation_ = 0;
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace

int run_daemon(const ServerConfig& config) {
    Daemon d(config);
    return d.run();
}

}  // namespace signpost::tools
