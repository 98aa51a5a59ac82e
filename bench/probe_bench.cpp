// probe_bench: N endpoints probed over HTTP at a 1 s interval against
// bench/probe_responder (another process, pinned to another core by
// bench/probes.sh); prints checks/s, scheduling lateness (actual vs planned
// start) and CPU per 1,000 checks of this process. Not a test: figures only.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <uv.h>

#include "probes/health_monitor.hpp"

using namespace signpost;

namespace {

double cpu_seconds(int who) {
    rusage ru{};
    getrusage(who, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1)));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
    return v[i];
}

}  // namespace

int main(int argc, char** argv) {
    int n = 1000, seconds = 30, port = 0;
    bool keepalive = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
        if (a == "--endpoints") n = value();
        else if (a == "--seconds") seconds = value();
        else if (a == "--port") port = value();
        else if (a == "--keepalive") keepalive = true;
        else n = -1;
    }
    if (n <= 0 || n > 60000 || seconds <= 0 || port <= 0 || port > 65535) {
        std::fprintf(stderr,
                     "usage: probe_bench --port P [--endpoints 1000] [--seconds 30] [--keepalive]\n"
                     "  probes http://127.1.0.1:P/ ... (one address per endpoint) served by probe_responder\n");
        return 2;
    }
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    uv_loop_t loop;
    uv_loop_init(&loop);
    std::vector<double> lateness;
    lateness.reserve(static_cast<size_t>(n) * (seconds + 2) * 2);
    {
        probes::HealthMonitor monitor(&loop);
        bool measuring = false;
        std::vector<std::vector<double>> per_second;  // lateness by second of the measurement
        std::chrono::steady_clock::time_point m0;
        monitor.on_probe_started([&](double late) {
            if (!measuring) return;
            lateness.push_back(late);
            const auto sec = static_cast<size_t>(std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count());
            if (per_second.size() <= sec) per_second.resize(sec + 1);
            per_second[sec].push_back(late);
        });
        std::vector<probes::ProbeTarget> targets;
        for (int i = 0; i < n; ++i) {
            core::CheckSpec c;
            c.name = "http";
            c.kind = core::CheckKind::Http;
            c.port = static_cast<uint16_t>(port);
            c.keepalive = keepalive;
            c.interval = core::Millis{1000};
            c.timeout = core::Millis{1000};
            c.body_contains = "OK";
            probes::ProbeTarget t;
            t.key = "bench/" + std::to_string(i);
            t.index = static_cast<core::EndpointIndex>(i);
            const uint32_t a = (127u << 24) + (1u << 16) + 1u + static_cast<uint32_t>(i);  // 127.1.0.1 + i
            t.address = std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
                        std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
            t.host = "www.example.com";
            t.checks = {c};
            targets.push_back(std::move(t));
        }
        monitor.set_targets(std::move(targets));

        // Warm up 2 s (first round plus the spread), then measure `seconds`.
        struct Phase { int step = 0; } phase;
        uint64_t finished0 = 0;
        double cpu0 = 0;
        // Loop iterations and the longest stretch between two polls (busy time).
        struct LoopStats { uint64_t iterations = 0; double longest_ms = 0, poll_ms = 0; std::chrono::steady_clock::time_point last_poll_end, poll_start; } ls;
        uv_prepare_t prepare;
        uv_check_t check;
        uv_prepare_init(&loop, &prepare);
        uv_check_init(&loop, &check);
        prepare.data = check.data = &ls;
        uv_prepare_start(&prepare, [](uv_prepare_t* h) {
            auto* st = static_cast<LoopStats*>(h->data);
            const auto now = std::chrono::steady_clock::now();
            if (st->iterations++) {
                const double busy = std::chrono::duration<double, std::milli>(now - st->last_poll_end).count();
                st->longest_ms = std::max(st->longest_ms, busy);
                if (busy > 20 && std::getenv("PROBE_BENCH_VERBOSE")) std::fprintf(stderr, "  busy %.0f ms (timers+idle) at %.3f\n", busy, std::chrono::duration<double>(now.time_since_epoch()).count());
            }
            st->poll_start = now;
        });
        uv_check_start(&check, [](uv_check_t* h) {
            auto* st = static_cast<LoopStats*>(h->data);
            st->last_poll_end = std::chrono::steady_clock::now();
            const double polled = std::chrono::duration<double, std::milli>(st->last_poll_end - st->poll_start).count();
            st->poll_ms += polled;
            if (polled > 20 && std::getenv("PROBE_BENCH_VERBOSE")) std::fprintf(stderr, "  poll+io %.0f ms at %.3f\n", polled, std::chrono::duration<double>(st->last_poll_end.time_since_epoch()).count());
        });
        uv_timer_t timer;
        uv_timer_init(&loop, &timer);
        struct Ctx { std::function<void()> f; } ctx;
        timer.data = &ctx;
        ctx.f = [&] {
            if (phase.step == 0) {
                phase.step = 1;
                measuring = true;
                finished0 = monitor.probes_finished();
                cpu0 = cpu_seconds(RUSAGE_SELF);  // one thread: the probe loop (curl runs no resolver thread)
                m0 = std::chrono::steady_clock::now();
                uv_timer_start(&timer, [](uv_timer_t* t) { static_cast<Ctx*>(t->data)->f(); }, static_cast<uint64_t>(seconds) * 1000, 0);
                return;
            }
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
            const double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
            const uint64_t done = monitor.probes_finished() - finished0;
            size_t up = 0;
            for (const auto& h : monitor.health()) up += h.up() ? 1 : 0;
            // One Markdown row; bench/probes.sh prints the header.
            std::printf("| %s | %d | %.0f / %d | %.2f / %.2f ms | %.1f ms | %.0f %% | %zu / %d | %.0f ms |\n",
                        keepalive ? "keepalive" : "fresh", n, done / wall, n, percentile(lateness, 0.5),
                        percentile(lateness, 0.99), done ? cpu * 1e6 / done : 0.0, 100.0 * cpu / wall, up, n,
                        percentile(lateness, 1.0));
            std::fflush(stdout);
            rusage ru{};
            getrusage(RUSAGE_SELF, &ru);
            std::fprintf(stderr, "  loop: %llu iterations, longest busy stretch %.1f ms, %.0f ms in poll; "
                         "process: %ld major faults, %ld involuntary context switches\n",
                         static_cast<unsigned long long>(ls.iterations), ls.longest_ms, ls.poll_ms, ru.ru_majflt, ru.ru_nivcsw);
            if (std::getenv("PROBE_BENCH_VERBOSE")) {
                std::fprintf(stderr, "  p99 lateness per second (ms):");
                for (auto& v : per_second) std::fprintf(stderr, " %.0f", percentile(v, 0.99));
                std::fprintf(stderr, "\n");
            }
            uv_close(reinterpret_cast<uv_handle_t*>(&prepare), nullptr);
            uv_close(reinterpret_cast<uv_handle_t*>(&check), nullptr);
            if (up < static_cast<size_t>(n)) {
                std::map<std::string, int> reasons;
                for (const auto& st : monitor.status())
                    if (!st.health.up()) ++reasons[st.last_result];
                for (const auto& [reason, count] : reasons) std::fprintf(stderr, "  down: %d × %s\n", count, reason.c_str());
            }
            monitor.stop();
            uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
        };
        uv_timer_start(&timer, [](uv_timer_t* t) { static_cast<Ctx*>(t->data)->f(); }, 2000, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    const int rc = uv_loop_close(&loop);
    if (rc != 0) std::fprintf(stderr, "probe_bench: loop not closed cleanly: %s\n", uv_strerror(rc));
    return rc == 0 ? 0 : 1;
}
