// The registry of probe kinds and what they share (failed-start delivery).
#include "probes/probe.hpp"

#include <cstdio>
#include <exception>

#include <uv.h>

namespace signpost::probes {

namespace {

// tcp and exec: a new probe object per probe (a socket or a process each time anyway).
class SimpleProber final : public Prober {
public:
    using Start = Probe* (*)(const ProbeEnv&, const core::CheckSpec&, const std::string&, const std::string&, ProbeDone);
    SimpleProber(Start start, const ProbeEnv& env, const core::CheckSpec& spec, std::string address, std::string host)
        : start_(start), env_(env), spec_(spec), address_(std::move(address)), host_(std::move(host)) {}
    Probe* start(ProbeDone done) override { return start_(env_, spec_, address_, host_, std::move(done)); }

private:
    Start start_;
    ProbeEnv env_;
    const core::CheckSpec& spec_;
    std::string address_, host_;
};

}  // namespace

std::unique_ptr<Prober> make_prober(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                                    const std::string& host) {
    switch (spec.kind) {
        case core::CheckKind::Http:
        case core::CheckKind::Https: return make_http_prober(env, spec, address, host);
        case core::CheckKind::Tcp: return std::make_unique<SimpleProber>(&start_tcp_probe, env, spec, address, host);
        case core::CheckKind::Exec: return std::make_unique<SimpleProber>(&start_exec_probe, env, spec, address, host);
    }
    return std::make_unique<SimpleProber>(
        [](const ProbeEnv& e, const core::CheckSpec&, const std::string&, const std::string&, ProbeDone done) {
            return start_failed_probe(e, ProbeResult{false, "unknown check kind"}, std::move(done));
        },
        env, spec, address, host);
}

std::string timeout_reason(core::Millis timeout) {
    return "timeout after " + std::to_string(timeout.count()) + " ms";
}

void deliver(ProbeDone& done, ProbeResult result) noexcept {
    try {
        if (done) done(std::move(result));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "probes: result handler failed: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "probes: result handler failed\n");
    }
}

namespace {

struct FailedProbe final : Probe {
    uv_timer_t timer;  // first member: freed by close_and_delete-style callback
    ProbeResult result;
    ProbeDone done;
    bool cancelled = false;

    void cancel() noexcept override {
        cancelled = true;
        uv_timer_stop(&timer);
        close();
    }
    void close() noexcept {
        if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer))) return;
        uv_close(reinterpret_cast<uv_handle_t*>(&timer),
                 [](uv_handle_t* h) { delete static_cast<FailedProbe*>(h->data); });
    }
};

}  // namespace

Probe* start_failed_probe(const ProbeEnv& env, ProbeResult result, ProbeDone done) {
    auto* p = new FailedProbe;
    p->result = std::move(result);
    p->done = std::move(done);
    uv_timer_init(env.loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, [](uv_timer_t* t) {
        auto* self = static_cast<FailedProbe*>(t->data);
        if (!self->cancelled) deliver(self->done, std::move(self->result));
        self->cancelled = true;
        self->close();
    }, 0, 0);
    return p;
}

}  // namespace signpost::probes
