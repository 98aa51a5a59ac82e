// probe_bench: N endpoints probed over HTTP at a 1 s interval against a tiny
// libuv HTTP responder on another thread; prints checks/s, scheduling lateness
// (actual vs planned start) and CPU per 1,000 checks. Not a test: figures only.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "probes/health_monitor.hpp"

using namespace signpost;

namespace {

// ---- responder: accept, read until the end of the request head, answer, close.
struct Conn {
    uv_tcp_t tcp;
    uv_write_t write;
    std::string in;
    bool answered = false;
};

const char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK";

void close_conn(Conn* c) {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) {
        uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    }
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<Conn*>(s->data);
    if (n > 0 && !c->answered) {
        c->in.append(buf->base, static_cast<size_t>(n));
        if (c->in.find("\r\n\r\n") != std::string::npos) {
            c->answered = true;
            uv_buf_t out = uv_buf_init(const_cast<char*>(kResponse), sizeof kResponse - 1);
            uv_write(&c->write, s, &out, 1, [](uv_write_t* w, int) { close_conn(static_cast<Conn*>(w->handle->data)); });
        }
    } else if (n < 0) {
        if (!c->answered) close_conn(c);
    }
    delete[] buf->base;
}

struct Responder {
    uv_loop_t loop;
    uv_async_t stop;
    std::vector<uv_tcp_t*> listeners;
    std::vector<uint16_t> ports;
    std::thread thread;

    explicit Responder(int count) {
        uv_loop_init(&loop);
        for (int i = 0; i < count; ++i) {
            auto* l = new uv_tcp_t;
            uv_tcp_init(&loop, l);
            sockaddr_in sa{};
            uv_ip4_addr("127.0.0.1", 0, &sa);
            uv_tcp_bind(l, reinterpret_cast<sockaddr*>(&sa), 0);
            uv_listen(reinterpret_cast<uv_stream_t*>(l), 4096, [](uv_stream_t* server, int status) {
                if (status < 0) return;
                auto* c = new Conn;
                uv_tcp_init(server->loop, &c->tcp);
                c->tcp.data = c;
                if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) return close_conn(c);
                uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp),
                              [](uv_handle_t*, size_t, uv_buf_t* b) { *b = uv_buf_init(new char[4096], 4096); }, on_read);
            });
            sockaddr_storage ss{};
            int len = sizeof ss;
            uv_tcp_getsockname(l, reinterpret_cast<sockaddr*>(&ss), &len);
            ports.push_back(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
            listeners.push_back(l);
        }
        uv_async_init(&loop, &stop, [](uv_async_t* a) {
            auto* self = static_cast<Responder*>(a->data);
            for (auto* l : self->listeners) uv_close(reinterpret_cast<uv_handle_t*>(l), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
            uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
            uv_walk(a->loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, [](uv_handle_t* x) { delete static_cast<Conn*>(x->data); }); }, nullptr);
        });
        stop.data = this;
        thread = std::thread([this] { uv_run(&loop, UV_RUN_DEFAULT); });
    }
    ~Responder() {
        uv_async_send(&stop);
        thread.join();
        uv_loop_close(&loop);
    }
};

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
    const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
    const int seconds = argc > 2 ? std::atoi(argv[2]) : 30;
    const int nports = argc > 3 ? std::atoi(argv[3]) : 8;
    if (n <= 0 || seconds <= 0 || nports <= 0) {
        std::fprintf(stderr, "usage: probe_bench [endpoints=1000] [seconds=30] [ports=8]\n");
        return 2;
    }
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    Responder responder(nports);
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::vector<double> lateness;
    lateness.reserve(static_cast<size_t>(n) * (seconds + 2) * 2);
    {
        probes::HealthMonitor monitor(&loop);
        const auto t0 = std::chrono::steady_clock::now();
        bool measuring = false;
        monitor.on_probe_started([&](double late) {
            if (measuring) lateness.push_back(late);
        });
        std::vector<probes::ProbeTarget> targets;
        for (int i = 0; i < n; ++i) {
            core::CheckSpec c;
            c.name = "http";
            c.kind = core::CheckKind::Http;
            c.port = responder.ports[static_cast<size_t>(i % nports)];
            c.interval = core::Millis{1000};
            c.timeout = core::Millis{1000};
            c.body_contains = "OK";
            probes::ProbeTarget t;
            t.key = "bench/" + std::to_string(i);
            t.index = static_cast<core::EndpointIndex>(i);
            t.address = "127.0.0.1";
            t.host = "www.example.com";
            t.checks = {c};
            targets.push_back(std::move(t));
        }
        double first_round_ms = -1;
        monitor.on_first_round([&] {
            first_round_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        });
        monitor.set_targets(std::move(targets));

        // Warm up 2 s (first round plus the spread), then measure `seconds`.
        struct Phase { int step = 0; } phase;
        uint64_t started0 = 0, finished0 = 0;
        double cpu0 = 0, cpu_all0 = 0;
        std::chrono::steady_clock::time_point m0;
        uv_timer_t timer;
        uv_timer_init(&loop, &timer);
        struct Ctx { std::function<void()> f; } ctx;
        timer.data = &ctx;
        ctx.f = [&] {
            if (phase.step == 0) {
                phase.step = 1;
                measuring = true;
                started0 = monitor.probes_started();
                finished0 = monitor.probes_finished();
                cpu0 = cpu_seconds(RUSAGE_THREAD);
                cpu_all0 = cpu_seconds(RUSAGE_SELF);
                m0 = std::chrono::steady_clock::now();
                uv_timer_start(&timer, [](uv_timer_t* t) { static_cast<Ctx*>(t->data)->f(); }, static_cast<uint64_t>(seconds) * 1000, 0);
                return;
            }
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
            const double cpu = cpu_seconds(RUSAGE_THREAD) - cpu0;
            const double cpu_all = cpu_seconds(RUSAGE_SELF) - cpu_all0;
            const uint64_t done = monitor.probes_finished() - finished0;
            const uint64_t started = monitor.probes_started() - started0;
            size_t up = 0;
            for (const auto& h : monitor.health()) up += h.up() ? 1 : 0;
            std::printf("endpoints %d, interval 1 s, %d target ports, measured %.1f s\n", n, nports, wall);
            std::printf("first round complete after %.0f ms; endpoints up at the end: %zu/%d\n", first_round_ms, up, n);
            std::printf("checks/s: %.0f finished, %.0f started (planned %d)\n", done / wall, started / wall, n);
            std::printf("lateness ms: p50 %.2f  p99 %.2f  max %.2f  (%zu starts)\n", percentile(lateness, 0.5),
                        percentile(lateness, 0.99), percentile(lateness, 1.0), lateness.size());
            std::printf("CPU per 1000 checks: %.1f ms on the probe loop thread (%.1f ms incl. the responder thread); loop thread busy %.0f%%\n",
                        done ? cpu * 1e6 / done : 0.0, done ? cpu_all * 1e6 / done : 0.0, 100.0 * cpu / wall);
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
