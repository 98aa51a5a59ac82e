// HealthMonitor: schedules every check on one timer (a min-heap of due times),
// runs probes through the kinds' registry, feeds results into the trackers and
// publishes health changes in batches. Loop thread only; no exception leaves a
// C callback.
#include "probes/health_monitor.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <queue>
#include <random>
#include <unordered_map>

#include <sys/resource.h>

#include <uv.h>

#include "io/curl_multi.hpp"
#include "io/handle.hpp"
#include "probes/probe.hpp"

namespace signpost::probes {

using core::Clock;
using core::Millis;
using core::TimePoint;

namespace {

template <class F>
void guarded(const char* what, F&& f) noexcept {
    try {
        f();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "probes: %s failed: %s\n", what, e.what());
    } catch (...) {
        std::fprintf(stderr, "probes: %s failed\n", what);
    }
}

bool same_target(const ProbeTarget& a, const ProbeTarget& b) {
    return a.key == b.key && a.address == b.address && a.host == b.host && a.checks == b.checks;
}

}  // namespace

struct HealthMonitor::Impl {
    struct Endpoint;

    struct CheckRun {
        Impl* owner = nullptr;
        Endpoint* endpoint = nullptr;
        std::size_t check = 0;  // index into endpoint->tracker.checks()
        uint64_t id = 0;
        uint64_t generation = 0;
        bool queued = false;    // the heap holds an entry of this generation
        TimePoint queued_at{};  // ... due then
        std::size_t pool = kNoPool;  // keepalive http: index into pools
        std::unique_ptr<Prober> prober;
        std::vector<std::pair<uint64_t, Probe*>> probes;  // running, by sequence number
    };

    // Kept-alive connections are spread over several curl multi handles: curl
    // 7.88 walks every cached connection of a multi handle each time a transfer
    // is removed from it, so one cache of 5,000 connections would cost O(N) per
    // probe. Each pool serves up to kRunsPerPool keepalive checks.
    static constexpr std::size_t kNoPool = static_cast<std::size_t>(-1);
    static constexpr std::size_t kRunsPerPool = 64;
    struct Pool {
        std::unique_ptr<io::CurlMulti> multi;
        std::size_t runs = 0;
    };

    struct Endpoint {
        ProbeTarget target;
        EndpointTracker tracker;
        std::vector<std::unique_ptr<CheckRun>> runs;
        core::EndpointHealth published;
        bool dirty = false;

        Endpoint(ProbeTarget t, TimePoint now, std::span<const Millis> delays)
            : target(std::move(t)), tracker(target.checks, now, delays), published(tracker.health()) {}
    };

    struct Due {
        TimePoint at;
        uint64_t id;
        uint64_t generation;
        bool operator>(const Due& o) const { return at > o.at; }
    };

    uv_loop_t* loop;
    MonitorOptions options;
    io::CurlMulti curl;      // fresh-connection http probes (and hooks-style one-offs)
    std::vector<Pool> pools; // keepalive http probes
    io::Timer scheduler;
    io::Timer flusher;
    io::Timer first_round_timer;
    std::unordered_map<std::string, std::unique_ptr<Endpoint>> endpoints;
    std::unordered_map<uint64_t, CheckRun*> runs;
    std::priority_queue<Due, std::vector<Due>, std::greater<Due>> heap;
    std::vector<core::EndpointHealth> health;
    std::vector<Endpoint*> dirty;
    std::function<void(std::span<const HealthChange>)> change_cb;
    std::function<void()> first_round_cb;
    std::function<void(double)> started_cb;
    std::function<void(const std::string&, const char*)> signal_cb;
    uint64_t next_run_id = 1;
    uint64_t started = 0, finished = 0;
    bool first_round_begun = false, first_round_deadline = false, first_round_fired = false;
    bool stopped = false;
    std::mt19937_64 rng{std::random_device{}()};

    Impl(uv_loop_t* l, MonitorOptions o) : loop(l), options(std::move(o)), curl(l) {
        for (io::Timer* t : {&scheduler, &flusher, &first_round_timer}) {
            t->open(uv_timer_init, loop);
            (*t)->data = this;
        }
    }

    ProbeEnv env() { return ProbeEnv{loop, &curl, options.source_v4, options.source_v6}; }

    // --- scheduling

    void push(CheckRun& run) {
        ++run.generation;
        const auto& tracker = run.endpoint->tracker.checks()[run.check];
        run.queued = true;
        run.queued_at = tracker.next_due();
        heap.push(Due{run.queued_at, run.id, run.generation});
    }

    // Re-queues `run` unless the heap already holds its current due time.
    void requeue(CheckRun& run) {
        const auto& tracker = run.endpoint->tracker.checks()[run.check];
        if (!run.queued || tracker.next_due() != run.queued_at) push(run);
    }

    TimePoint armed_for{};  // due time the scheduler timer is set for (when active)

    void arm() {
        if (stopped) return;
        while (!heap.empty()) {
            const Due& top = heap.top();
            auto it = runs.find(top.id);
            if (it != runs.end() && it->second->generation == top.generation) break;
            heap.pop();  // stale
        }
        if (heap.empty()) {
            uv_timer_stop(scheduler.get());
            return;
        }
        // Most results leave the earliest due time as it was: keep the timer.
        if (heap.top().at == armed_for && uv_is_active(reinterpret_cast<uv_handle_t*>(scheduler.get()))) return;
        armed_for = heap.top().at;
        const auto wait = armed_for - Clock::now();
        const auto ms = std::max<int64_t>(0, std::chrono::ceil<Millis>(wait).count());
        // libuv counts the timeout from the loop's cached time, which may be old.
        // Add the lag instead of calling uv_update_time(): that would make every
        // timer due by now run again in this same pass (libuv 1.44 keeps running
        // due timers), and at thousands of probes per second the timer phase
        // would never end and sockets would never be read.
        const uint64_t lag = uv_hrtime() / 1000000 - std::min<uint64_t>(uv_now(loop), uv_hrtime() / 1000000);
        uv_timer_start(scheduler.get(), [](uv_timer_t* t) {
            auto* self = static_cast<Impl*>(t->data);
            guarded("scheduler", [&] { self->run_due(); });
        }, static_cast<uint64_t>(ms) + lag, 0);
    }

    // Probes started per scheduler turn. Past it the loop polls sockets first
    // (about 1 ms later): 5,000 probes due at once (the first round) would
    // otherwise take a second of set-up before any answer is read, and the
    // first probes would time out waiting for their own loop.
    static constexpr std::size_t kStartsPerTurn = 256;

    void run_due() {
        const TimePoint now = Clock::now();
        std::size_t launched = 0;
        while (!heap.empty() && heap.top().at <= now) {
            if (launched == kStartsPerTurn) {
                armed_for = heap.top().at;  // arm() keeps this timer while the top is unchanged
                uv_timer_start(scheduler.get(), [](uv_timer_t* t) {
                    auto* self = static_cast<Impl*>(t->data);
                    guarded("scheduler", [&] { self->run_due(); });
                }, 1, 0);
                return;
            }
            const Due due = heap.top();
            heap.pop();
            auto it = runs.find(due.id);
            if (it == runs.end() || it->second->generation != due.generation) continue;
            CheckRun& run = *it->second;
            run.queued = false;
            auto& tracker = run.endpoint->tracker.checks()[run.check];
            if (!tracker.may_start()) continue;  // a finishing probe reschedules it
            const TimePoint start = Clock::now();
            if (started_cb) {
                const double late = std::chrono::duration<double, std::milli>(start - due.at).count();
                guarded("probe observer", [&] { started_cb(late); });
            }
            const uint64_t seq = tracker.start(start);
            ++started;
            ++launched;
            launch(run, seq);
            push(run);
        }
        arm();
    }

    void launch(CheckRun& run, uint64_t seq) {
        // A prober never delivers synchronously, so recording the probe afterwards
        // is safe. The run outlives its probes: remove() cancels them first. Two
        // words of capture keep std::function from allocating.
        CheckRun* r = &run;
        const Millis timeout = run.endpoint->tracker.checks()[run.check].timeout();
        Probe* p = run.prober->start([r, seq](ProbeResult result) { r->owner->on_result(*r, seq, std::move(result)); },
                                     timeout);
        run.probes.emplace_back(seq, p);
    }

    void on_result(CheckRun& run, uint64_t seq, ProbeResult r) {
        ++finished;
        // The probe is done with after this call: forget it.
        auto& ps = run.probes;
        ps.erase(std::remove_if(ps.begin(), ps.end(), [&](const auto& e) { return e.first == seq; }), ps.end());
        const TimePoint now = Clock::now();
        auto& tracker = run.endpoint->tracker.checks()[run.check];
        if (tracker.finish(seq, std::move(r), now) > 0) {
            run.endpoint->tracker.update(now);
            mark_dirty(*run.endpoint);  // reasons change too, not only states
        }
        requeue(run);
        arm();
    }

    // A passive signal (probes/probe.hpp): look now instead of at the next interval.
    uint64_t signals = 0;
    void on_signal(CheckRun& run, const char* what) {
        ++signals;
        auto& tracker = run.endpoint->tracker.checks()[run.check];
        if (!tracker.nudge(Clock::now())) return;
        if (signal_cb) guarded("signal observer", [&] { signal_cb(run.endpoint->target.key, what); });
        requeue(run);
        arm();
    }

    void cancel(CheckRun& run) {
        for (auto& [seq, p] : run.probes) p->cancel();
        run.probes.clear();
        run.endpoint->tracker.checks()[run.check].cancel_all();
    }

    // --- keepalive pools and the open-file limit

    std::size_t take_pool_slot() {
        for (std::size_t i = 0; i < pools.size(); ++i) {
            if (pools[i].runs < kRunsPerPool) {
                ++pools[i].runs;
                return i;
            }
        }
        Pool pool;
        pool.multi = std::make_unique<io::CurlMulti>(loop);
        // Room for every check of the pool plus the extra connections of
        // overlapping probes while a change is suspected.
        pool.multi->set_max_connections(static_cast<long>(kRunsPerPool * 2));
        pool.runs = 1;
        pools.push_back(std::move(pool));
        return pools.size() - 1;
    }

    // Each kept-alive connection holds a descriptor between probes. Raises the
    // soft RLIMIT_NOFILE (never past the hard one) when they would not fit.
    std::size_t file_limit_warned_for = 0;
    void ensure_file_limit() {
        std::size_t kept = 0;
        for (const auto& pool : pools) kept += pool.runs;
        if (kept == 0) return;
        const rlim_t want = static_cast<rlim_t>(kept + kFileReserve);
        rlimit rl{};
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
        const rlim_t before = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(rl.rlim_max, want);
        if (rl.rlim_cur > before && setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            std::fprintf(stderr, "probes: raised the open-file limit from %llu to %llu for %zu kept-alive connections\n",
                         static_cast<unsigned long long>(before), static_cast<unsigned long long>(rl.rlim_cur), kept);
        }
        if (rl.rlim_cur < want && file_limit_warned_for != kept) {
            file_limit_warned_for = kept;
            std::fprintf(stderr,
                         "probes: warning: the open-file limit (%llu, hard %llu) is too low for %zu kept-alive "
                         "connections plus %zu for everything else; raise LimitNOFILE / ulimit -n\n",
                         static_cast<unsigned long long>(rl.rlim_cur), static_cast<unsigned long long>(rl.rlim_max),
                         kept, kFileReserve);
        }
    }
    static constexpr std::size_t kFileReserve = 1024;  // listeners, DNS/API connections, fresh probes

    // --- batches

    void mark_dirty(Endpoint& ep) {
        if (!ep.dirty) {
            ep.dirty = true;
            dirty.push_back(&ep);
        }
        schedule_flush();
    }

    void schedule_flush() {
        if (stopped || uv_is_active(reinterpret_cast<uv_handle_t*>(flusher.get()))) return;
        uv_timer_start(flusher.get(), [](uv_timer_t* t) {
            auto* self = static_cast<Impl*>(t->data);
            guarded("health publication", [&] { self->flush(); });
        }, 0, 0);
    }

    void flush() {
        std::vector<HealthChange> changes;
        for (Endpoint* ep : dirty) {
            ep->dirty = false;
            const core::EndpointHealth& now = ep->tracker.health();
            const core::EndpointHealth before = ep->published;
            ep->published = now;
            if (ep->target.index < health.size()) health[ep->target.index] = now;
            if (before.state != now.state || before.suspect != now.suspect || before.confirmed != now.confirmed ||
                before.degraded != now.degraded) {
                changes.push_back(HealthChange{ep->target.index, before, now});
            }
        }
        dirty.clear();
        if (!changes.empty() && change_cb) {
            guarded("on_change", [&] { change_cb(changes); });
        }
        maybe_first_round();
    }

    void maybe_first_round() {
        if (first_round_fired || !first_round_begun || stopped) return;
        if (!first_round_deadline) {
            for (const auto& [key, ep] : endpoints) {
                if (!ep->tracker.first_result_known()) return;
            }
        }
        first_round_fired = true;
        uv_timer_stop(first_round_timer.get());
        if (first_round_cb) guarded("on_first_round", [&] { first_round_cb(); });
    }

    // --- targets

    void set_targets(std::vector<ProbeTarget> targets) {
        if (stopped) return;
        const TimePoint now = Clock::now();
        std::unordered_map<std::string, std::unique_ptr<Endpoint>> next;
        Millis longest{0};
        for (auto& t : targets) {
            if (next.count(t.key)) {
                std::fprintf(stderr, "probes: duplicate target key %s ignored\n", t.key.c_str());
                continue;
            }
            for (const auto& c : t.checks) longest = std::max(longest, c.timeout);
            auto old = endpoints.find(t.key);
            if (old != endpoints.end() && same_target(old->second->target, t)) {
                auto ep = std::move(old->second);
                endpoints.erase(old);
                ep->target.index = t.index;
                next.emplace(t.key, std::move(ep));
                continue;
            }
            std::vector<Millis> delays;
            for (const auto& c : t.checks) {
                const auto iv = std::max<int64_t>(1, c.interval.count());
                delays.push_back(Millis{std::uniform_int_distribution<int64_t>(1, iv)(rng)});
            }
            const std::string key = t.key;
            auto ep = std::make_unique<Endpoint>(std::move(t), now, delays);
            for (std::size_t i = 0; i < ep->target.checks.size(); ++i) {
                auto run = std::make_unique<CheckRun>();
                run->owner = this;
                run->endpoint = ep.get();
                run->check = i;
                run->id = next_run_id++;
                const core::CheckSpec& spec = ep->tracker.checks()[i].spec();  // lives as long as the endpoint
                ProbeEnv probe_env = env();
                if (spec.keepalive && (spec.kind == core::CheckKind::Http || spec.kind == core::CheckKind::Https)) {
                    run->pool = take_pool_slot();
                    probe_env.curl = pools[run->pool].multi.get();
                }
                run->prober = make_prober(probe_env, spec, ep->target.address, ep->target.host);
                CheckRun* r = run.get();
                run->prober->on_signal([r](const char* what) { r->owner->on_signal(*r, what); });
                runs[run->id] = run.get();
                push(*run);  // due now: new targets start right away
                ep->runs.push_back(std::move(run));
            }
            next.emplace(key, std::move(ep));
        }
        for (auto& [key, ep] : endpoints) remove(*ep);  // whatever is left was removed or changed
        endpoints = std::move(next);
        ensure_file_limit();

        std::size_t size = 0;
        for (auto& [key, ep] : endpoints) size = std::max<std::size_t>(size, ep->target.index + 1);
        health.assign(size, core::EndpointHealth{});
        for (auto& [key, ep] : endpoints) health[ep->target.index] = ep->published;
        if (!first_round_begun) {
            first_round_begun = true;
            uv_update_time(loop);  // the loop's cached time may be old
            // Every first probe ends by its own timeout; the margin covers the
            // loop's own latency and process start-up.
            uv_timer_start(first_round_timer.get(), [](uv_timer_t* t) {
                auto* self = static_cast<Impl*>(t->data);
                self->first_round_deadline = true;
                self->schedule_flush();
            }, static_cast<uint64_t>(longest.count()) + 250, 0);
            schedule_flush();  // fires at once when there is nothing to probe
        }
        arm();
    }

    void remove(Endpoint& ep) {
        for (auto& run : ep.runs) {
            cancel(*run);
            run->prober.reset();
            if (run->pool != kNoPool) --pools[run->pool].runs;
            run->pool = kNoPool;
            runs.erase(run->id);
        }
        if (ep.dirty) dirty.erase(std::remove(dirty.begin(), dirty.end(), &ep), dirty.end());
    }

    void stop() {
        if (stopped) return;
        for (auto& [key, ep] : endpoints) remove(*ep);
        stopped = true;
        curl.close();
        for (auto& pool : pools) pool.multi->close();
        scheduler.close();
        flusher.close();
        first_round_timer.close();
        while (!heap.empty()) heap.pop();
    }
};

}  // namespace signpost::probes

namespace signpost::probes {

HealthMonitor::HealthMonitor(uv_loop_t* loop, MonitorOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(options))) {}
HealthMonitor::~HealthMonitor() { impl_->stop(); }

void HealthMonitor::set_targets(std::vector<ProbeTarget> targets) { impl_->set_targets(std::move(targets)); }
void HealthMonitor::on_change(std::function<void(std::span<const HealthChange>)> cb) { impl_->change_cb = std::move(cb); }
void HealthMonitor::on_first_round(std::function<void()> cb) { impl_->first_round_cb = std::move(cb); }
void HealthMonitor::on_probe_started(std::function<void(double)> cb) { impl_->started_cb = std::move(cb); }
void HealthMonitor::on_signal(std::function<void(const std::string&, const char*)> cb) {
    impl_->signal_cb = std::move(cb);
}
uint64_t HealthMonitor::signals() const { return impl_->signals; }
std::span<const core::EndpointHealth> HealthMonitor::health() const { return impl_->health; }
uint64_t HealthMonitor::probes_started() const { return impl_->started; }
uint64_t HealthMonitor::probes_finished() const { return impl_->finished; }
void HealthMonitor::stop() { impl_->stop(); }

std::vector<EndpointStatus> HealthMonitor::status() const {
    std::vector<EndpointStatus> out;
    out.reserve(impl_->endpoints.size());
    for (const auto& [key, ep] : impl_->endpoints) {
        EndpointStatus s;
        s.key = key;
        s.index = ep->target.index;
        s.health = ep->tracker.health();
        const CheckTracker* shown = nullptr;
        for (const auto& c : ep->tracker.checks()) {
            CheckStatus cs;
            cs.name = c.spec().name;
            cs.kind = c.spec().kind;
            cs.state = c.state();
            cs.suspect = c.suspect();
            cs.confirmed = c.confirmed();
            cs.last_result = c.last().reason;
            cs.last_latency_ms = c.last().latency_ms;
            cs.consecutive_ok = c.consecutive_ok();
            cs.consecutive_fail = c.consecutive_fail();
            cs.checks_run = c.results();
            cs.cert_warning = c.last().cert_warning;
            cs.timeout_ms = static_cast<double>(c.timeout().count());
            cs.baseline_ms = c.stats().baseline_ms();
            cs.degraded = c.degraded();
            s.checks_run += cs.checks_run;
            s.cert_warning = s.cert_warning || cs.cert_warning;
            if (!shown || (shown->up() && !c.up())) shown = &c;
            s.checks.push_back(std::move(cs));
        }
        if (shown) {
            s.last_result = shown->last().reason;
            s.last_latency_ms = shown->last().latency_ms;
            s.consecutive_ok = shown->consecutive_ok();
            s.consecutive_fail = shown->consecutive_fail();
        }
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    return out;
}

}  // namespace signpost::probes
