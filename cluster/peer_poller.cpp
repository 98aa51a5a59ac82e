#include "cluster/peer_poller.hpp"

#include <algorithm>
#include <chrono>

#include <curl/curl.h>
#include <uv.h>

#include "core/log.hpp"
#include "io/curl_multi.hpp"
#include "io/handle.hpp"

namespace signpost::cluster {

namespace {
int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace

struct PeerPoller::Impl {
    struct Poll;

    uv_loop_t* loop;
    ClusterOptions options;
    std::string source;
    io::CurlMulti curl;
    io::Timer timer;
    std::vector<PeerStatus> peers;
    std::vector<std::unique_ptr<Poll>> inflight;  // one slot per peer (null: idle)
    std::function<void()> callback;
    core::TimePoint started = core::Clock::now();
    bool changed = false;
    bool stopped = false;

    Impl(uv_loop_t* l, ClusterOptions o, std::string src)
        : loop(l), options(std::move(o)), source(std::move(src)), curl(l) {
        for (auto& p : options.peers) {
            PeerStatus s;
            s.config = p;
            peers.push_back(std::move(s));
        }
        inflight.resize(peers.size());
        timer.open(uv_timer_init, loop);
        timer->data = this;
        // The first round at once: an instance starting next to running peers
        // should learn their verdicts before it answers.
        uv_timer_start(timer.get(), [](uv_timer_t* t) { static_cast<Impl*>(t->data)->round(); }, 0,
                       uint64_t(std::max<int64_t>(options.poll_interval.count(), 10)));
    }

    void round() {
        if (stopped) return;
        check_liveness();
        for (std::size_t i = 0; i < peers.size(); ++i)
            if (!inflight[i]) start_poll(i);
        flush();
    }

    void check_liveness() {
        auto now = core::Clock::now();
        for (auto& p : peers) {
            bool silent_since_start = p.last_ok == core::TimePoint{} && now - started >= options.peer_timeout;
            if (silent_since_start && !p.settled) {
                p.settled = true;
                changed = true;
                core::log_warning("cluster", "peer {} ({}) has not answered since start ({}); left out of the quorum",
                                  p.config.id, p.config.url, p.last_error.empty() ? "no answer" : p.last_error);
            }
            if (p.live && now - p.last_ok > options.peer_timeout) {
                p.live = false;
                p.verdicts = {};
                changed = true;
                core::log_warning("cluster", "peer {} ({}) has not answered for {} ({}); left out of the quorum",
                                  p.config.id, p.config.url, core::format_duration(options.peer_timeout),
                                  p.last_error.empty() ? "no answer" : p.last_error);
            }
        }
    }

    void start_poll(std::size_t i);
    void finish_poll(std::size_t i, CURLcode code, long status, const std::string& body);

    void flush() {
        if (!changed || stopped) return;
        changed = false;
        if (callback) callback();
    }

    void stop() {
        if (stopped) return;
        stopped = true;
        for (auto& p : inflight) p.reset();
        curl.close();
        timer.close();
    }
};

struct PeerPoller::Impl::Poll : io::CurlTransfer {
    Impl* owner;
    std::size_t peer;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;

    Poll(Impl* o, std::size_t p) : owner(o), peer(p) {}
    ~Poll() override {
        if (easy) {
            owner->curl.remove(easy);
            curl_easy_cleanup(easy);
        }
        curl_slist_free_all(headers);
    }

    bool start() {
        auto& cfg = owner->peers[peer].config;
        easy = curl_easy_init();
        if (!easy) return false;
        std::string url = cfg.url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += "/v1/cluster/verdicts";
        headers = curl_slist_append(nullptr, ("Authorization: Bearer " + owner->options.token).c_str());
        curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "signpost-cluster/0.1");
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        // A poll may not outlive the time after which the peer counts as gone.
        long timeout = long(std::max<int64_t>(owner->options.peer_timeout.count(), 100));
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout);
        curl_easy_setopt(easy, CURLOPT_MAXFILESIZE, 16L * 1024 * 1024);
        if (!owner->source.empty()) curl_easy_setopt(easy, CURLOPT_INTERFACE, ("host!" + owner->source).c_str());
        curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<io::CurlTransfer*>(this));
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* self) -> size_t {
            auto* poll = static_cast<Poll*>(self);
            if (poll->body.size() + s * n > 16u * 1024 * 1024) return 0;  // a sane bound on a peer's answer
            poll->body.append(p, s * n);
            return s * n;
        });
        return owner->curl.add(easy) == CURLM_OK;
    }

    void on_curl_done(CURLcode code) noexcept override {
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(easy);  // already removed from the multi
        easy = nullptr;
        owner->finish_poll(peer, code, status, body);  // destroys this
    }
};

void PeerPoller::Impl::start_poll(std::size_t i) {
    auto poll = std::make_unique<Poll>(this, i);
    ++peers[i].polls;
    if (!poll->start()) {
        ++peers[i].failures;
        peers[i].last_error = "cannot start a request to " + peers[i].config.url;
        return;
    }
    inflight[i] = std::move(poll);
}

void PeerPoller::Impl::finish_poll(std::size_t i, CURLcode code, long status, const std::string& body) {
    auto& p = peers[i];
    std::string error;
    std::optional<PeerVerdicts> got;
    if (code != CURLE_OK) error = curl_easy_strerror(code);
    else if (status == 401 || status == 403) error = "HTTP " + std::to_string(status) + ": the peer refuses our cluster token";
    else if (status != 200) error = "HTTP " + std::to_string(status);
    else if (!(got = decode_verdicts(body, &error))) error = "bad answer: " + error;
    else if (got->instance != p.config.id)
        error = "it says it is '" + got->instance + "', configured as '" + p.config.id + "'";
    inflight[i].reset();  // `body` is gone from here on

    if (!error.empty()) {
        ++p.failures;
        if (p.last_error != error)
            core::log_debug("cluster", "peer {} ({}): {}", p.config.id, p.config.url, error);
        p.last_error = error;
        return;  // liveness runs out on the timer, so one lost poll flips nothing
    }
    if (!got->commands_error.empty()) {
        // A malformed command list never replaces the peer's last good one.
        if (p.commands_error != got->commands_error)
            core::log_warning("cluster", "peer {} ({}): its commands are malformed ({}); ignored, verdicts still used",
                              p.config.id, p.config.url, got->commands_error);
        got->commands = p.verdicts.commands;
    }
    p.commands_error = got->commands_error;
    p.last_error.clear();
    p.last_ok = core::Clock::now();
    p.last_ok_ms = unix_ms();
    if (!p.live) {
        core::log_info("cluster", "peer {} ({}) answers: {} verdict(s); in the quorum", p.config.id, p.config.url,
                       got->by_endpoint.size());
        p.live = true;
        changed = true;
    }
    if (!p.settled) {
        p.settled = true;
        changed = true;
    }
    bool same = p.verdicts.instance == got->instance && p.verdicts.by_endpoint.size() == got->by_endpoint.size() &&
                std::equal(p.verdicts.by_endpoint.begin(), p.verdicts.by_endpoint.end(), got->by_endpoint.begin(),
                           [](auto& a, auto& b) {
                               return a.first == b.first && a.second.state == b.second.state &&
                                      a.second.suspect == b.second.suspect && a.second.reason == b.second.reason;
                           }) &&
                p.verdicts.commands == got->commands;
    if (!same) {
        p.verdicts = std::move(*got);
        changed = true;
    } else {
        // The hook watermark moves with every poll; it is read on the tick, and
        // re-evaluating every service for it would cost a core on a big catalog.
        p.verdicts.hook_watermark_ms = got->hook_watermark_ms;
    }
    // React to a peer's news now, not at the next round.
    flush();
}

PeerPoller::PeerPoller(uv_loop_t* loop, ClusterOptions options, std::string source)
    : impl_(std::make_unique<Impl>(loop, std::move(options), std::move(source))) {}

PeerPoller::~PeerPoller() { impl_->stop(); }

void PeerPoller::on_update(std::function<void()> callback) { impl_->callback = std::move(callback); }

const std::vector<PeerStatus>& PeerPoller::peers() const { return impl_->peers; }

std::vector<std::string> PeerPoller::live_instances() const {
    std::vector<std::string> out{impl_->options.id};
    for (auto& p : impl_->peers)
        if (p.live) out.push_back(p.config.id);
    std::sort(out.begin(), out.end());
    return out;
}

bool PeerPoller::settled() const {
    return std::all_of(impl_->peers.begin(), impl_->peers.end(), [](auto& p) { return p.settled; });
}

void PeerPoller::stop() { impl_->stop(); }

}  // namespace signpost::cluster
