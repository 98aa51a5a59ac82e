// The registry of probe kinds and what they share (failed-start delivery).
#include "probes/probe.hpp"

#include <cstdio>
#include <exception>

#include <uv.h>

#include "io/handle.hpp"

namespace signpost::probes {

namespace {

// tcp and exec: a new probe object per probe (a socket or a process each time anyway).
class SimpleProber final : public Prober {
public:
    using Start = Probe* (*)(const ProbeEnv&, const core::CheckSpec&, const std::string&, const std::string&,
                             core::Millis, ProbeDone);
    SimpleProber(Start start, const ProbeEnv& env, const core::CheckSpec& spec, std::string address, std::string host)
        : start_(start), env_(env), spec_(spec), address_(std::move(address)), host_(std::move(host)) {}
    Probe* start(ProbeDone done, core::Millis timeout) override {
        return start_(env_, spec_, address_, host_, timeout, std::move(done));
    }

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
        [](const ProbeEnv& e, const core::CheckSpec&, const std::string&, const std::string&, core::Millis,
           ProbeDone done) {
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

// Delivers its result from a zero timer. It frees itself after delivering or on
// cancel(); the timer closes with it and never calls back again.
struct FailedProbe final : Probe {
    io::Timer timer;
    ProbeResult result;
    ProbeDone done;

    void cancel() noexcept override { delete this; }
};

}  // namespace

Probe* start_failed_probe(const ProbeEnv& env, ProbeResult result, ProbeDone done) {
    auto* p = new FailedProbe;
    p->result = std::move(result);
    p->done = std::move(done);
    p->timer.open(uv_timer_init, env.loop);  // cannot fail
    p->timer->data = p;
    uv_timer_start(p->timer.get(), [](uv_timer_t* t) {
        auto* self = static_cast<FailedProbe*>(t->data);
        ProbeDone done = std::move(self->done);
        ProbeResult result = std::move(self->result);
        delete self;  // before delivering: the handler may do anything
        deliver(done, std::move(result));
    }, 0, 0);
    return p;
}

}  // namespace signpost::probes
