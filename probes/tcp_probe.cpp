// tcp checks: uv_tcp_connect with a timeout timer; the connection is closed as
// soon as it is established. The probe frees itself (its handles close with it)
// and then delivers the result.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

#include <uv.h>

#include "io/handle.hpp"
#include "probes/probe.hpp"

namespace signpost::probes {
namespace {

class TcpProbe final : public Probe {
public:
    TcpProbe(uv_loop_t* loop, const core::CheckSpec& spec, ProbeDone done)
        : spec_(spec), done_(std::move(done)), started_(std::chrono::steady_clock::now()) {
        tcp_.open(uv_tcp_init, loop);      // cannot fail: the socket is made by bind/connect
        timer_.open(uv_timer_init, loop);  // cannot fail
        tcp_->data = this;
        timer_->data = this;
    }

    // A pending connect request outlives the probe: closing tcp_ calls it back
    // with UV_ECANCELED, and that callback frees it.
    ~TcpProbe() override {
        if (connect_) connect_->data = nullptr;
    }

    // Starts connecting. A result known at once (bad address, bind or connect
    // error) is returned instead, and nothing is left running.
    std::optional<ProbeResult> start(const std::string& address, const std::string& source) {
        sockaddr_storage sa{};
        const int port = spec_.port;
        int rc = 0;
        if (address.find(':') != std::string::npos) {
            rc = uv_ip6_addr(address.c_str(), port, reinterpret_cast<sockaddr_in6*>(&sa));
        } else {
            rc = uv_ip4_addr(address.c_str(), port, reinterpret_cast<sockaddr_in*>(&sa));
        }
        if (rc != 0) return timed(ProbeResult{false, "bad address " + address});
        if (port == 0) return timed(ProbeResult{false, "tcp check needs a port"});
        if (!source.empty()) {
            sockaddr_storage local{};
            rc = source.find(':') != std::string::npos
                     ? uv_ip6_addr(source.c_str(), 0, reinterpret_cast<sockaddr_in6*>(&local))
                     : uv_ip4_addr(source.c_str(), 0, reinterpret_cast<sockaddr_in*>(&local));
            if (rc == 0) rc = uv_tcp_bind(tcp_.get(), reinterpret_cast<const sockaddr*>(&local), 0);
            if (rc != 0) return timed(ProbeResult{false, "cannot bind source address " + source + ": " + uv_strerror(rc)});
        }
        auto* req = new uv_connect_t{};
        req->data = this;
        rc = uv_tcp_connect(req, tcp_.get(), reinterpret_cast<const sockaddr*>(&sa), &TcpProbe::on_connect);
        if (rc != 0) {
            delete req;  // never registered: no callback will come
            return timed(ProbeResult{false, reason_for(rc)});
        }
        connect_ = req;
        uv_timer_start(timer_.get(), [](uv_timer_t* t) {
            auto* self = static_cast<TcpProbe*>(t->data);
            ProbeResult r{false, timeout_reason(self->timeout_)};
            r.timed_out = true;
            self->finish(std::move(r));
        }, static_cast<uint64_t>(timeout_.count()), 0);
        return std::nullopt;
    }

    void set_timeout(core::Millis t) noexcept { timeout_ = std::max(core::Millis{1}, t); }
    ProbeDone take_done() noexcept { return std::move(done_); }

    // The handles close with the object; `done` is dropped uncalled.
    void cancel() noexcept override { delete this; }

private:
    static std::string reason_for(int status) {
        if (status == UV_ECONNREFUSED) return "connection refused";
        if (status == UV_ETIMEDOUT) return "connect timed out";
        return std::string("connect failed: ") + uv_strerror(status);
    }

    static void on_connect(uv_connect_t* req, int status) {
        std::unique_ptr<uv_connect_t> owned(req);
        auto* self = static_cast<TcpProbe*>(req->data);
        if (!self) return;  // the probe is gone and its socket closed (UV_ECANCELED)
        self->connect_ = nullptr;
        self->finish(ProbeResult{status == 0, status == 0 ? "TCP connect ok" : reason_for(status)});
    }

    ProbeResult timed(ProbeResult r) const {
        r.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
        return r;
    }

    // Frees the probe (closing the socket and the timer), then delivers: once.
    void finish(ProbeResult r) noexcept {
        ProbeResult result = timed(std::move(r));
        ProbeDone done = std::move(done_);
        delete this;
        deliver(done, std::move(result));
    }

    const core::CheckSpec& spec_;
    ProbeDone done_;
    std::chrono::steady_clock::time_point started_;
    core::Millis timeout_{1000};
    io::Tcp tcp_;
    io::Timer timer_;
    uv_connect_t* connect_ = nullptr;  // pending, owned by its callback
};

}  // namespace

Probe* start_tcp_probe(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                       const std::string&, core::Millis timeout, ProbeDone done) {
    auto* p = new TcpProbe(env.loop, spec, std::move(done));
    p->set_timeout(timeout);
    if (auto failed = p->start(address, env.source_for(address))) {
        ProbeDone d = p->take_done();
        delete p;
        return start_failed_probe(env, std::move(*failed), std::move(d));  // delivered on the next loop turn
    }
    return p;
}

}  // namespace signpost::probes
