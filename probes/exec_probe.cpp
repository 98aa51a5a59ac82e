// exec checks: uv_spawn the configured argv with SIGNPOST_ADDRESS in the
// environment; exit 0 passes. Killed with SIGKILL at the timeout; output discarded.
#include <chrono>
#include <csignal>
#include <cstring>
#include <vector>

#include <uv.h>

#include "probes/probe.hpp"

extern char** environ;

namespace signpost::probes {
namespace {

class ExecProbe final : public Probe {
public:
    ExecProbe(uv_loop_t* loop, const core::CheckSpec& spec, ProbeDone done)
        : loop_(loop), spec_(spec), done_(std::move(done)), started_(std::chrono::steady_clock::now()) {
        uv_timer_init(loop, &timer_);
        timer_.data = this;
        process_.data = this;
    }

    void start(const std::string& address) {
        if (spec_.command.empty()) return fail_to_start("exec check has no command");
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
        const int rc = uv_spawn(loop_, &process_, &opts);
        spawned_ = true;  // initialised either way: must be closed
        if (rc != 0) {
            running_ = false;
            return fail_to_start("cannot run " + spec_.command.front() + ": " + uv_strerror(rc));
        }
        running_ = true;
        uv_timer_start(&timer_, [](uv_timer_t* t) {
            auto* self = static_cast<ExecProbe*>(t->data);
            ProbeResult r{false, timeout_reason(self->spec_.timeout) + " (killed)"};
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
    void fail_to_start(std::string reason) {
        finish(ProbeResult{false, std::move(reason)});
    }

    static void on_exit(uv_process_t* p, int64_t status, int signal) {
        auto* self = static_cast<ExecProbe*>(p->data);
        self->running_ = false;
        if (signal != 0) {
            self->finish(ProbeResult{false, "killed by signal " + std::to_string(signal)});
        } else {
            self->finish(ProbeResult{status == 0, "exit " + std::to_string(status)});
        }
        self->close();  // reaped: the process handle may go now
    }

    void finish(ProbeResult r) {
        if (finished_) return;
        finished_ = true;
        r.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
        result_ = std::move(r);
        close();
    }

    // A running child is killed and its handle kept until it is reaped (on_exit),
    // so no zombie is left behind.
    void close() noexcept {
        uv_timer_stop(&timer_);
        if (running_) {
            if (!killed_) {
                uv_process_kill(&process_, SIGKILL);
                killed_ = true;
            }
            return;
        }
        auto close_one = [this](uv_handle_t* h) {
            if (!uv_is_closing(h)) {
                ++closing_;
                uv_close(h, &ExecProbe::on_closed);
            }
        };
        close_one(reinterpret_cast<uv_handle_t*>(&timer_));
        if (spawned_) close_one(reinterpret_cast<uv_handle_t*>(&process_));
    }

    static void on_closed(uv_handle_t* h) {
        auto* self = static_cast<ExecProbe*>(h->data);
        if (--self->closing_ > 0) return;
        if (self->done_) deliver(self->done_, std::move(self->result_));
        delete self;
    }

    uv_loop_t* loop_;
    const core::CheckSpec& spec_;
    ProbeDone done_;
    std::chrono::steady_clock::time_point started_;
    uv_timer_t timer_;
    uv_process_t process_;
    ProbeResult result_;
    bool spawned_ = false, running_ = false, killed_ = false, finished_ = false;
    int closing_ = 0;
};

}  // namespace

Probe* start_exec_probe(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                        const std::string&, ProbeDone done) {
    auto* p = new ExecProbe(env.loop, spec, std::move(done));
    p->start(address);
    return p;
}

}  // namespace signpost::probes
