// One probe of any kind (http/https, tcp, exec) started on the libuv loop. Each
// kind only reports pass/fail and a short reason; the state machine is elsewhere.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/check_spec.hpp"
#include "probes/health_tracker.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::io {
class CurlMulti;
}  // namespace signpost::io

namespace signpost::probes {

struct ProbeEnv {
    uv_loop_t* loop = nullptr;
    io::CurlMulti* curl = nullptr;  // needed by http/https only
    // Local addresses probes leave from (empty: the kernel picks). Operators pin
    // them for firewall allow-lists; each signpost instance of a cluster probes
    // from its own address.
    std::string source_v4, source_v6;
    const std::string& source_for(const std::string& address) const {
        return address.find(':') != std::string::npos ? source_v6 : source_v4;
    }
};

using ProbeDone = std::function<void(ProbeResult)>;
// A passive signal between probes: what happened to a kept connection while it
// sat idle ("closed by the endpoint", "reset by the endpoint", "data while idle").
using ProbeSignal = std::function<void(const char* what)>;

// A running probe. It frees itself: after delivering its result, or after cancel().
class Probe {
public:
    virtual ~Probe() = default;
    // Stops the probe now; `done` will not be called. Loop thread only.
    virtual void cancel() noexcept = 0;
};

// Everything one check of one endpoint keeps between its probes: the prepared
// request and reusable handles (http keeps its curl easy handles, so a probe
// costs no set-up and no allocation). One per (endpoint, check); loop thread only.
// Cancel its running probes before destroying it.
class Prober {
public:
    virtual ~Prober() = default;
    // Starts one probe that gives up after `timeout`. `done` is called exactly
    // once, on the loop and never from inside this call, unless the probe is
    // cancelled first.
    virtual Probe* start(ProbeDone done, core::Millis timeout) = 0;
    // Where passive signals go (kinds with kept connections: http/https with
    // keepalive). Called on the loop, never from inside start().
    void on_signal(ProbeSignal signal) { signal_ = std::move(signal); }

protected:
    ProbeSignal signal_;
};

// The registry (kind → prober). `address` is IPv4/IPv6 text; `host` is the Host
// header / SNI when the spec sets none. `spec` must outlive the prober; so must
// env.curl (the multi handle http probes run on).
std::unique_ptr<Prober> make_prober(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                                    const std::string& host);

// The kinds, each in its own file. tcp and exec start a new probe object each time.
std::unique_ptr<Prober> make_http_prober(const ProbeEnv&, const core::CheckSpec&, const std::string& address,
                                         const std::string& host);
Probe* start_tcp_probe(const ProbeEnv&, const core::CheckSpec&, const std::string& address,
                       const std::string& host, core::Millis timeout, ProbeDone);
Probe* start_exec_probe(const ProbeEnv&, const core::CheckSpec&, const std::string& address,
                        const std::string& host, core::Millis timeout, ProbeDone);
// A probe that could not even start: delivers `result` on the next loop iteration.
Probe* start_failed_probe(const ProbeEnv&, ProbeResult result, ProbeDone);

// "timeout after 1000 ms"
std::string timeout_reason(core::Millis timeout);
// Calls `done` and swallows exceptions: no exception may cross a C callback.
void deliver(ProbeDone& done, ProbeResult result) noexcept;

}  // namespace signpost::probes
