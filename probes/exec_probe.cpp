// exec checks: uv_spawn the configured argv with SIGNPOST_ADDRESS in the
// environment; exit 0 passes. Killed with SIGKILL at the timeout; output discarded.
// The result is delivered once the child is reaped; a probe cancelled while its
// child runs kills it and leaves the handle to be freed when the child is reaped
// (io::abandon), so no zombie is left behind.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <vector>

#include <uv.h>

#include "io/handle.hpp"
#include "probes/probe.hpp"

extern char** environ;

namespace signpost::probes {
namespace {

class ExecProbe final : public Probe {
public:
    ExecProbe(uv_loop_t* loop, const core::CheckSpec& spec, ProbeDone done)
        : loop_(loop), spec_(spec), done_(std::move(done)), started_(std::chrono::steady_clock::now()) {
        timer_.open(uv_timer_init, loop);  // cannot fail
        timer_->data = this;
    }

    // A child still running is killed; its handle is freed once it is reaped.
    ~ExecProbe() override { io::abandon(process_, SIGKILL); }

    // Spawns the command. A result known at once (no command, spawn error) is
    // returned instead, and nothing is left running.
    std::optional<ProbeResult> start(const std::string& address) {
        if (spec_.command.empty()) return timed(ProbeResult{false, "exec check has no command"});
        std::vector<char*> argv;
        for (const auto& a : spec_.command) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        std::vector<std::string> env_store;
        for (char** e = environ; e && *e; ++e) {
            if (std::strncmp(*e, "SIGNPOST_ADDRESS=", 17) != 0) env_store.emplace_back(*e);
        }
        env_store.push_back("SIGNPOST_ADDRESS=" + address);
        std::vector<char*> envp;
        for (auto& e : env_store) envp.push_back(e.data());
        envp.push_back(nullptr);

        uv_stdio_container_t stdio[3];
        for (auto& s : stdio) s.flags = UV_IGNORE;
        uv_process_options_t opts{};
        opts.file = argv[0];
        opts.args = argv.data();
        opts.env = envp.data();
        opts.stdio = stdio;
        opts.stdio_count = 3;
        opts.exit_cb = &ExecProbe::on_exit;
        const int rc = process_.open(uv_spawn, loop_, &opts);  // on failure the handle is closed and freed
        if (rc != 0) return timed(ProbeResult{false, "cannot run " + spec_.command.front() + ": " + uv_strerror(rc)});
        process_->data = this;
        uv_timer_start(timer_.get(), [](uv_timer_t* t) {
            auto* self = static_cast<ExecProbe*>(t->data);
            ProbeResult r{false, timeout_reason(self->timeout_) + " (killed)"};
            r.timed_out = true;
            self->timed_out_ = self->timed(std::move(r));
            uv_process_kill(self->process_.get(), SIGKILL);  // on_exit delivers once it is reaped
        }, static_cast<uint64_t>(timeout_.count()), 0);
        return std::nullopt;
    }

    void set_timeout(core::Millis t) noexcept { timeout_ = std::max(core::Millis{1}, t); }
    ProbeDone take_done() noexcept { return std::move(done_); }

    // The timer closes with the object; a running child is killed (destructor);
    // `done` is dropped uncalled.
    void cancel() noexcept override { delete this; }

private:
    static void on_exit(uv_process_t* p, int64_t status, int signal) {
        auto* self = static_cast<ExecProbe*>(p->data);
        self->process_.close();  // reaped: its pid may be reused, never signal it again
        ProbeResult r;
        if (self->timed_out_) {
            r = std::move(*self->timed_out_);
        } else if (signal != 0) {
            r = self->timed(ProbeResult{false, "killed by signal " + std::to_string(signal)});
        } else {
            r = self->timed(ProbeResult{status == 0, "exit " + std::to_string(status)});
        }
        self->finish(std::move(r));
    }

    ProbeResult timed(ProbeResult r) const {
        r.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
        return r;
    }

    // Frees the probe (closing its handles), then delivers: once.
    void finish(ProbeResult r) noexcept {
        ProbeDone done = std::move(done_);
        delete this;
        deliver(done, std::move(r));
    }

    uv_loop_t* loop_;
    const core::CheckSpec& spec_;
    ProbeDone done_;
    std::chrono::steady_clock::time_point started_;
    core::Millis timeout_{1000};
    io::Timer timer_;
    io::Process process_;
    std::optional<ProbeResult> timed_out_;  // set at the timeout, delivered when the killed child is reaped
};

}  // namespace

Probe* start_exec_probe(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                        const std::string&, core::Millis timeout, ProbeDone done) {
    auto* p = new ExecProbe(env.loop, spec, std::move(done));
    p->set_timeout(timeout);
    if (auto failed = p->start(address)) {
        ProbeDone d = p->take_done();
        delete p;
        return start_failed_probe(env, std::move(*failed), std::move(d));  // delivered on the next loop turn
    }
    return p;
}

}  // namespace signpost::probes
