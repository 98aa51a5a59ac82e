// Hook delivery: one Delivery object per (hook target, event), alive until it
// succeeds, runs out of attempts or the runner stops.
#include "hooks/hook_runner.hpp"

#include <curl/curl.h>
#include <uv.h>

#include <csignal>
#include <ctime>
#include <list>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "probes/curl_multi.hpp"
#include "probes/uv_util.hpp"

namespace signpost::hooks {

std::string HookEvent::to_json() const {
    auto t = std::chrono::system_clock::to_time_t(time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    nlohmann::json j = {{"event", event}, {"zone", zone},     {"service", service}, {"endpoint", endpoint},
                        {"from", from},   {"to", to},         {"reason", reason},   {"time", ts}};
    return j.dump();
}

namespace {
std::string describe(const HookEvent& e) {
    return e.event + " " + (e.service.empty() ? e.endpoint : e.zone + "/" + e.service) + " " + e.from + " → " + e.to;
}
}  // namespace

struct HookRunner::Impl {
    struct Delivery;
    uv_loop_t* loop;
    HookOptions options;
    probes::CurlMulti curl;
    std::list<std::unique_ptr<Delivery>> deliveries;
    bool stopped = false;

    Impl(uv_loop_t* l, HookOptions o) : loop(l), options(o), curl(l) {}

    void finish(Delivery* d);
};

// One target (a command or a URL) for one event. Its uv handles are heap
// allocated and freed in their close callbacks, so the Delivery can go first.
struct HookRunner::Impl::Delivery : probes::CurlTransfer {
    Impl* runner;
    std::vector<std::string> command;
    std::string url;
    HookEvent event;
    std::string payload;
    int attempt = 0;
    std::chrono::milliseconds backoff;
    uv_timer_t* retry_timer = nullptr;
    // command state
    uv_process_t* process = nullptr;
    uv_pipe_t* stdin_pipe = nullptr;
    uv_timer_t* kill_timer = nullptr;
    // url state
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;

    Delivery(Impl* r, HookEvent e) : runner(r), event(std::move(e)), payload(event.to_json()), backoff(r->options.first_backoff) {}

    ~Delivery() override { cancel(); }

    std::string target() const { return url.empty() ? command.front() : url; }

    void start() {
        ++attempt;
        if (!url.empty()) start_http();
        else start_command();
    }

    void failed(const std::string& why) {
        if (attempt >= runner->options.max_attempts || runner->stopped) {
            core::log_error("hooks", "{}: giving up after {} attempt(s): {} ({})", target(), attempt, why, describe(event));
            runner->finish(this);
            return;
        }
        core::log_warning("hooks", "{}: attempt {} failed: {}; retrying in {} ms", target(), attempt, why, backoff.count());
        if (!retry_timer) {
            retry_timer = new uv_timer_t;
            uv_timer_init(runner->loop, retry_timer);
            retry_timer->data = this;
        }
        uv_timer_start(retry_timer, [](uv_timer_t* t) { static_cast<Delivery*>(t->data)->start(); },
                       uint64_t(backoff.count()), 0);
        backoff *= 2;
    }

    void succeeded() {
        core::log_info("hooks", "{}: delivered {}", target(), describe(event));
        runner->finish(this);
    }

    // --- command ---
    void start_command() {
        process = new uv_process_t{};
        process->data = this;
        stdin_pipe = new uv_pipe_t{};
        uv_pipe_init(runner->loop, stdin_pipe, 0);
        stdin_pipe->data = this;
        std::vector<char*> argv;
        for (auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        std::vector<std::string> env_strings;
        for (char** e = environ; e && *e; ++e) env_strings.emplace_back(*e);
        env_strings.push_back("SIGNPOST_EVENT=" + event.event);
        env_strings.push_back("SIGNPOST_ZONE=" + event.zone);
        env_strings.push_back("SIGNPOST_SERVICE=" + event.service);
        env_strings.push_back("SIGNPOST_ENDPOINT=" + event.endpoint);
        env_strings.push_back("SIGNPOST_FROM=" + event.from);
        env_strings.push_back("SIGNPOST_TO=" + event.to);
        env_strings.push_back("SIGNPOST_REASON=" + event.reason);
        env_strings.push_back("SIGNPOST_EVENT_JSON=" + payload);
        std::vector<char*> env;
        for (auto& s : env_strings) env.push_back(s.data());
        env.push_back(nullptr);

        uv_stdio_container_t stdio[3];
        stdio[0].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_READABLE_PIPE);
        stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(stdin_pipe);
        stdio[1].flags = UV_IGNORE;
        stdio[2].flags = UV_INHERIT_FD;
        stdio[2].data.fd = 2;
        uv_process_options_t opts{};
        opts.file = argv[0];
        opts.args = argv.data();
        opts.env = env.data();
        opts.stdio = stdio;
        opts.stdio_count = 3;
        opts.exit_cb = [](uv_process_t* p, int64_t status, int term_signal) {
            auto* self = static_cast<Delivery*>(p->data);
            if (!self) {
                probes::close_and_delete(p);
                return;
            }
            self->command_exited(status, term_signal);
        };
        int rc = uv_spawn(runner->loop, process, &opts);
        if (rc != 0) {
            close_command_handles();
            failed(std::string("cannot run: ") + uv_strerror(rc));
            return;
        }
        // The event also goes to stdin; a command that does not read it is fine.
        auto* req = new uv_write_t;
        uv_buf_t buf = uv_buf_init(payload.data(), unsigned(payload.size()));
        req->data = stdin_pipe;
        if (uv_write(req, reinterpret_cast<uv_stream_t*>(stdin_pipe), &buf, 1, [](uv_write_t* r, int) {
                auto* pipe = static_cast<uv_pipe_t*>(r->data);
                probes::close_and_delete(pipe);  // safe if already closing
                delete r;
            }) != 0) {
            delete req;
            probes::close_and_delete(stdin_pipe);
        }
        stdin_pipe = nullptr;  // owned by the write callback now
        kill_timer = new uv_timer_t;
        uv_timer_init(runner->loop, kill_timer);
        kill_timer->data = this;
        uv_timer_start(kill_timer, [](uv_timer_t* t) {
            auto* self = static_cast<Delivery*>(t->data);
            if (self->process) uv_process_kill(self->process, SIGKILL);
        }, uint64_t(runner->options.command_timeout.count()), 0);
    }

    void command_exited(int64_t status, int term_signal) {
        close_command_handles();
        if (term_signal) failed("killed by signal " + std::to_string(term_signal) + (term_signal == SIGKILL ? " (timeout)" : ""));
        else if (status != 0) failed("exit " + std::to_string(status));
        else succeeded();
    }

    void close_command_handles() {
        if (kill_timer) {
            probes::close_and_delete(kill_timer);
            kill_timer = nullptr;
        }
        if (stdin_pipe) {
            probes::close_and_delete(stdin_pipe);
            stdin_pipe = nullptr;
        }
        if (process) {
            probes::close_and_delete(process);
            process = nullptr;
        }
    }

    // --- url ---
    void start_http() {
        easy = curl_easy_init();
        if (!easy) {
            failed("curl_easy_init failed");
            return;
        }
        headers = curl_slist_append(nullptr, "Content-Type: application/json");
        headers = curl_slist_append(headers, "User-Agent: signpost-hook/0.1");
        curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload.c_str());
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, long(payload.size()));
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(runner->options.http_timeout.count()));
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<probes::CurlTransfer*>(this));
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
        if (runner->curl.add(easy) != CURLM_OK) {
            free_easy();
            failed("cannot start the HTTP request");
        }
    }

    void on_curl_done(CURLcode code) noexcept override {
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        std::string err = code == CURLE_OK ? "" : curl_easy_strerror(code);
        free_easy();
        if (code != CURLE_OK) failed(err);
        else if (status < 200 || status > 299) failed("HTTP " + std::to_string(status));
        else succeeded();
    }

    void free_easy() {
        if (easy) curl_easy_cleanup(easy);
        if (headers) curl_slist_free_all(headers);
        easy = nullptr;
        headers = nullptr;
    }

    void cancel() {
        if (easy) {
            runner->curl.remove(easy);
            free_easy();
        }
        if (process) {
            uv_process_kill(process, SIGKILL);
            process->data = nullptr;  // the exit callback closes it
            process = nullptr;
        }
        close_command_handles();
        if (retry_timer) {
            probes::close_and_delete(retry_timer);
            retry_timer = nullptr;
        }
    }
};

void HookRunner::Impl::finish(Delivery* d) {
    for (auto it = deliveries.begin(); it != deliveries.end(); ++it) {
        if (it->get() == d) {
            // Free after the current callback has returned: defer with a 0 ms timer.
            auto* holder = new uv_timer_t;
            auto* owned = it->release();
            deliveries.erase(it);
            holder->data = owned;
            uv_timer_init(loop, holder);
            uv_timer_start(holder, [](uv_timer_t* t) {
                delete static_cast<Delivery*>(t->data);
                probes::close_and_delete(t);
            }, 0, 0);
            return;
        }
    }
}

HookRunner::HookRunner(uv_loop_t* loop, HookOptions options) : impl_(std::make_unique<Impl>(loop, options)) {}
HookRunner::~HookRunner() { stop(); }

void HookRunner::deliver(const zones::Hook& hook, const HookEvent& event) {
    if (impl_->stopped) return;
    auto add = [&](std::vector<std::string> command, std::string url) {
        auto d = std::make_unique<Impl::Delivery>(impl_.get(), event);
        d->command = std::move(command);
        d->url = std::move(url);
        auto* raw = d.get();
        impl_->deliveries.push_back(std::move(d));
        raw->start();
    };
    if (!hook.command.empty()) add(hook.command, "");
    if (!hook.url.empty()) add({}, hook.url);
}

std::size_t HookRunner::pending() const noexcept { return impl_->deliveries.size(); }

void HookRunner::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->deliveries.clear();  // each Delivery cancels and closes its handles
    impl_->curl.close();
}

}  // namespace signpost::hooks
