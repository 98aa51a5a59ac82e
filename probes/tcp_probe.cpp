// tcp checks: uv_tcp_connect with a timeout timer; the connection is closed as
// soon as it is established. The result is delivered once both handles are closed.
#include <chrono>
#include <cstring>

#include <uv.h>

#include "probes/probe.hpp"

namespace signpost::probes {
namespace {

class TcpProbe final : public Probe {
public:
    TcpProbe(uv_loop_t* loop, const core::CheckSpec& spec, ProbeDone done)
        : spec_(spec), done_(std::move(done)), started_(std::chrono::steady_clock::now()) {
        uv_tcp_init(loop, &tcp_);
        uv_timer_init(loop, &timer_);
        tcp_.data = this;
        timer_.data = this;
        connect_.data = this;
    }

    void start(const std::string& address, const std::string& source) {
        sockaddr_storage sa{};
        const int port = spec_.port;
        int rc = 0;
        if (address.find(':') != std::string::npos) {
            rc = uv_ip6_addr(address.c_str(), port, reinterpret_cast<sockaddr_in6*>(&sa));
        } else {
            rc = uv_ip4_addr(address.c_str(), port, reinterpret_cast<sockaddr_in*>(&sa));
        }
        if (rc != 0) return finish(ProbeResult{false, "bad address " + address});
        if (port == 0) return finish(ProbeResult{false, "tcp check needs a port"});
        if (!source.empty()) {
            sockaddr_storage local{};
            rc = source.find(':') != std::string::npos
                     ? uv_ip6_addr(source.c_str(), 0, reinterpret_cast<sockaddr_in6*>(&local))
                     : uv_ip4_addr(source.c_str(), 0, reinterpret_cast<sockaddr_in*>(&local));
            if (rc == 0) rc = uv_tcp_bind(&tcp_, reinterpret_cast<const sockaddr*>(&local), 0);
            if (rc != 0) return finish(ProbeResult{false, "cannot bind source address " + source + ": " + uv_strerror(rc)});
        }
        rc = uv_tcp_connect(&connect_, &tcp_, reinterpret_cast<const sockaddr*>(&sa), &TcpProbe::on_connect);
        if (rc != 0) return finish(ProbeResult{false, reason_for(rc)});
        uv_timer_start(&timer_, [](uv_timer_t* t) {
            auto* self = static_cast<TcpProbe*>(t->data);
            ProbeResult r{false, timeout_reason(self->spec_.timeout)};
            r.timed_out = true;
            self->finish(std::move(r));
        }, static_cast<uint64_t>(spec_.timeout.count()), 0);
    }

    void cancel() noexcept override {
        done_ = nullptr;
        finished_ = true;
        close();
    }

private:
    static std::string reason_for(int status) {
        if (status == UV_ECONNREFUSED) return "connection refused";
        if (status == UV_ETIMEDOUT) return "connect timed out";
        return std::string("connect failed: ") + uv_strerror(status);
    }

    static void on_connect(uv_connect_t* req, int status) {
        auto* self = static_cast<TcpProbe*>(req->data);
        if (status == UV_ECANCELED || self->finished_) return;  // closing
        ProbeResult r{status == 0, status == 0 ? "TCP connect ok" : reason_for(status)};
        self->finish(std::move(r));
    }

    void finish(ProbeResult r) {
        if (finished_) return;
        finished_ = true;
        r.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
        result_ = std::move(r);
        close();
    }

    void close() noexcept {
        uv_timer_stop(&timer_);
        for (auto* h : {reinterpret_cast<uv_handle_t*>(&tcp_), reinterpret_cast<uv_handle_t*>(&timer_)}) {
            if (!uv_is_closing(h)) {
                ++closing_;
                uv_close(h, &TcpProbe::on_closed);
            }
        }
    }

    static void on_closed(uv_handle_t* h) {
        auto* self = static_cast<TcpProbe*>(h->data);
        if (--self->closing_ > 0) return;
        if (self->done_) deliver(self->done_, std::move(self->result_));
        delete self;
    }

    const core::CheckSpec& spec_;
    ProbeDone done_;
    std::chrono::steady_clock::time_point started_;
    uv_tcp_t tcp_;
    uv_timer_t timer_;
    uv_connect_t connect_;
    ProbeResult result_;
    bool finished_ = false;
    int closing_ = 0;
};

}  // namespace

Probe* start_tcp_probe(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                       const std::string&, ProbeDone done) {
    auto* p = new TcpProbe(env.loop, spec, std::move(done));
    p->start(address, env.source_for(address));
    return p;
}

}  // namespace signpost::probes
