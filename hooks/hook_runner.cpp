// Hook delivery: one Sink per target (a command line or a URL) with a FIFO of
// events, and at most one Delivery (one event, its attempts) in flight per sink.
// Every uv handle is an io:: owner; no exception leaves a C callback.
#include "hooks/hook_runner.hpp"

#include <curl/curl.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "io/curl_multi.hpp"
#include "io/handle.hpp"

extern char** environ;

namespace signpost::hooks {

std::string format_time(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto secs = floor<seconds>(ms);
    const std::time_t tt = system_clock::to_time_t(system_clock::time_point(secs));
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char ts[40];
    std::size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>((ms - secs).count()));
    return ts;
}

std::string HookEvent::to_json() const {
    nlohmann::ordered_json j = {{"seq", seq},           {"event", event},   {"time", format_time(time)},
                                {"zone", zone},         {"service", service}, {"endpoint", endpoint},
                                {"from", from},         {"to", to},         {"reason", reason}};
    if (!instance.empty()) j["instance"] = instance;
    return j.dump();
}

namespace {

std::string describe(const HookEvent& e) {
    return "event " + std::to_string(e.seq) + " " + e.event + " " +
           (e.service.empty() ? e.endpoint : e.zone + "/" + e.service) + " " + e.from + " → " + e.to;
}

// The variables a command gets (besides the runner's own environment).
std::vector<std::string> event_environment(const HookEvent& e, const std::string& payload) {
    return {"SIGNPOST_SEQ=" + std::to_string(e.seq),
            "SIGNPOST_EVENT=" + e.event,
            "SIGNPOST_TIME=" + format_time(e.time),
            "SIGNPOST_ZONE=" + e.zone,
            "SIGNPOST_SERVICE=" + e.service,
            "SIGNPOST_ENDPOINT=" + e.endpoint,
            "SIGNPOST_FROM=" + e.from,
            "SIGNPOST_TO=" + e.to,
            "SIGNPOST_REASON=" + e.reason,
            "SIGNPOST_EVENT_JSON=" + payload};
}

// The event written to a command's stdin; owns the pipe (closed after the write:
// the command sees EOF) and the bytes until libuv is done with them.
struct StdinWrite {
    uv_write_t req{};
    io::Pipe pipe;
    std::string bytes;
};

}  // namespace

struct HookRunner::Impl {
    struct Sink;
    struct Delivery;

    uv_loop_t* loop;
    HookOptions options;
    io::CurlMulti curl;
    std::map<std::string, std::unique_ptr<Sink>> sinks;  // by key: command line or URL
    std::vector<std::unique_ptr<Delivery>> finished;     // freed on the next loop turn
    io::Idle turn;                                       // frees `finished`, starts sinks' next events
    std::size_t dropped = 0;
    bool stopped = false;
    std::function<void(const DeliveryOutcome&)> outcome;

    void report(const HookEvent& event, const std::string& target, int attempt, bool ok, bool final,
                const std::string& error) noexcept {
        if (!outcome) return;
        try {
            outcome(DeliveryOutcome{event, target, attempt, ok, final, error});
        } catch (...) {
        }
    }

    Impl(uv_loop_t* l, HookOptions o) : loop(l), options(o), curl(l) {
        turn.open(uv_idle_init, loop);
        turn->data = this;
    }

    void enqueue(std::string key, std::vector<std::string> command, std::string url, const HookEvent& event);
    void start_next(Sink& sink);
    void finish(Sink& sink);
    void next_turn() noexcept;
};

// One target and its queue. `current` is the event being delivered (attempts
// and retry waits included); `waiting` holds later events in order.
struct HookRunner::Impl::Sink {
    std::string key;
    std::vector<std::string> command;
    std::string url;
    std::unique_ptr<Delivery> current;
    std::deque<HookEvent> waiting;
    std::size_t dropped = 0;

    std::string target() const { return url.empty() ? command.front() : url; }
};

// One event to one sink, until it succeeds, runs out of attempts or the runner
// stops. Its handles are io:: owners, so it can be freed with work in flight.
struct HookRunner::Impl::Delivery : io::CurlTransfer {
    Impl* runner;
    Sink* sink;  // valid until finish()
    HookEvent event;
    std::string payload;
    int attempt = 0;
    std::chrono::milliseconds backoff;
    io::Timer retry_timer;
    // command state
    io::Process process;
    io::Timer kill_timer;
    // url state
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;

    Delivery(Impl* r, Sink* s, HookEvent e)
        : runner(r), sink(s), event(std::move(e)), payload(event.to_json()), backoff(r->options.first_backoff) {}

    ~Delivery() override { cancel(); }

    std::string target() const { return sink->target(); }

    void start() {
        ++attempt;
        if (!sink->url.empty()) start_http();
        else start_command();
    }

    void failed(const std::string& why) {
        if (attempt >= runner->options.max_attempts || runner->stopped) {
            core::log_error("hooks", "{}: giving up after {} attempt(s): {} ({})", target(), attempt, why,
                            describe(event));
            runner->report(event, target(), attempt, false, true, why);
            runner->finish(*sink);
            return;
        }
        core::log_warning("hooks", "{}: attempt {} failed: {}; retrying in {} ms ({})", target(), attempt, why,
                          backoff.count(), describe(event));
        runner->report(event, target(), attempt, false, false, why);
        if (!retry_timer) {
            retry_timer.open(uv_timer_init, runner->loop);
            retry_timer->data = this;
        }
        uv_timer_start(retry_timer.get(), [](uv_timer_t* t) { static_cast<Delivery*>(t->data)->start(); },
                       uint64_t(backoff.count()), 0);
        backoff *= 2;
    }

    void succeeded() {
        core::log_info("hooks", "{}: delivered {}", target(), describe(event));
        runner->report(event, target(), attempt, true, true, "");
        runner->finish(*sink);
    }

    // --- command ---
    void start_command() {
        const auto& command = sink->command;
        std::vector<char*> argv;
        for (auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        std::vector<std::string> ours = event_environment(event, payload);
        std::vector<std::string> env_strings;
        for (char** e = environ; e && *e; ++e) {
            std::string_view inherited(*e);
            bool shadowed = false;  // ours win: getenv() returns the first match
            for (auto& o : ours) shadowed |= inherited.substr(0, inherited.find('=') + 1) == o.substr(0, o.find('=') + 1);
            if (!shadowed) env_strings.emplace_back(inherited);
        }
        env_strings.insert(env_strings.end(), ours.begin(), ours.end());
        std::vector<char*> env;
        for (auto& s : env_strings) env.push_back(s.data());
        env.push_back(nullptr);

        auto stdin_write = std::make_unique<StdinWrite>();
        stdin_write->pipe.open(uv_pipe_init, runner->loop, 0);
        uv_stdio_container_t stdio[3];
        stdio[0].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_READABLE_PIPE);
        stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(stdin_write->pipe.get());
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
            static_cast<Delivery*>(p->data)->command_exited(status, term_signal);
        };
        if (int rc = process.open(uv_spawn, runner->loop, &opts); rc != 0) {
            failed(std::string("cannot run: ") + uv_strerror(rc));
            return;  // stdin_write closes its pipe
        }
        process->data = this;
        // The event also goes to stdin; a command that does not read it is fine.
        // The write owns the pipe from here: it closes it when done (EOF for the
        // command), whether or not this Delivery is still there.
        stdin_write->bytes = payload;
        stdin_write->req.data = stdin_write.get();
        uv_buf_t buf = uv_buf_init(stdin_write->bytes.data(), unsigned(stdin_write->bytes.size()));
        if (uv_write(&stdin_write->req, reinterpret_cast<uv_stream_t*>(stdin_write->pipe.get()), &buf, 1,
                     [](uv_write_t* r, int) { delete static_cast<StdinWrite*>(r->data); }) == 0)
            stdin_write.release();
        kill_timer.open(uv_timer_init, runner->loop);
        kill_timer->data = this;
        uv_timer_start(kill_timer.get(), [](uv_timer_t* t) {
            auto* self = static_cast<Delivery*>(t->data);
            if (self->process) uv_process_kill(self->process.get(), SIGKILL);
        }, uint64_t(runner->options.command_timeout.count()), 0);
    }

    void command_exited(int64_t status, int term_signal) {
        process.close();
        kill_timer.close();
        if (term_signal) failed("killed by signal " + std::to_string(term_signal) + (term_signal == SIGKILL ? " (timeout)" : ""));
        else if (status != 0) failed("exit " + std::to_string(status));
        else succeeded();
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
        curl_easy_setopt(easy, CURLOPT_URL, sink->url.c_str());
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload.c_str());
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, long(payload.size()));
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(runner->options.http_timeout.count()));
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<io::CurlTransfer*>(this));
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
        io::abandon(process, SIGKILL);  // a running command is killed and reaped later
        kill_timer.close();
        retry_timer.close();
    }
};

void HookRunner::Impl::enqueue(std::string key, std::vector<std::string> command, std::string url,
                               const HookEvent& event) {
    auto& slot = sinks[key];
    if (!slot) {
        slot = std::make_unique<Sink>();
        slot->key = std::move(key);
        slot->command = std::move(command);
        slot->url = std::move(url);
    }
    Sink& sink = *slot;
    sink.waiting.push_back(event);
    if (sink.waiting.size() > options.max_queued) {
        ++sink.dropped;
        ++dropped;
        core::log_error("hooks", "{}: more than {} events waiting; dropped the oldest ({}); {} dropped for this hook so far",
                        sink.target(), options.max_queued, describe(sink.waiting.front()), sink.dropped);
        // Given up: a final outcome, so whoever tracks the event's delivery hears it ended.
        report(sink.waiting.front(), sink.target(), 0, false, true, "dropped: more events waiting than the queue holds");
        sink.waiting.pop_front();
    }
    if (!sink.current) start_next(sink);
}

void HookRunner::Impl::start_next(Sink& sink) {
    if (sink.waiting.empty() || sink.current || stopped) return;
    sink.current = std::make_unique<Delivery>(this, &sink, std::move(sink.waiting.front()));
    sink.waiting.pop_front();
    sink.current->start();  // may finish at once (cannot run, out of attempts): see finish()
}

// The sink's current event is done (delivered or given up). Called from inside
// the Delivery: it is freed, and the next event started, on the next loop turn.
void HookRunner::Impl::finish(Sink& sink) {
    finished.push_back(std::move(sink.current));
    if (turn && !uv_is_active(reinterpret_cast<uv_handle_t*>(turn.get())))
        uv_idle_start(turn.get(), [](uv_idle_t* h) { static_cast<Impl*>(h->data)->next_turn(); });
}

void HookRunner::Impl::next_turn() noexcept {
    uv_idle_stop(turn.get());
    finished.clear();
    for (auto it = sinks.begin(); it != sinks.end();) {
        Sink& sink = *it->second;
        if (!sink.current) start_next(sink);
        // A sink with nothing left goes; a later event makes it again.
        if (!sink.current && sink.waiting.empty()) it = sinks.erase(it);
        else ++it;
    }
}

HookRunner::HookRunner(uv_loop_t* loop, HookOptions options) : impl_(std::make_unique<Impl>(loop, options)) {}
HookRunner::~HookRunner() { stop(); }

void HookRunner::deliver(const zones::Hook& hook, const HookEvent& event) {
    if (impl_->stopped) return;
    if (!hook.command.empty()) {
        std::string key = "command:";
        for (auto& a : hook.command) key.append(a).push_back('\0');
        impl_->enqueue(std::move(key), hook.command, "", event);
    }
    if (!hook.url.empty()) impl_->enqueue("url:" + hook.url, {}, hook.url, event);
}

void HookRunner::on_outcome(std::function<void(const DeliveryOutcome&)> callback) {
    impl_->outcome = std::move(callback);
}

std::size_t HookRunner::pending() const noexcept {
    std::size_t n = 0;
    for (auto& [key, sink] : impl_->sinks) n += (sink->current ? 1 : 0) + sink->waiting.size();
    return n;
}

std::size_t HookRunner::dropped() const noexcept { return impl_->dropped; }

void HookRunner::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->sinks.clear();  // each Delivery cancels and closes its handles
    impl_->finished.clear();
    impl_->turn.close();
    impl_->curl.close();
}

}  // namespace signpost::hooks
