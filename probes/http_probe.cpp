// http/https checks on an io::CurlMulti: one prober per (endpoint, check) keeps its
// configured easy handles across probes. Connects to the endpoint's own address
// while sending the check's host name as Host and SNI (CURLOPT_CONNECT_TO); a
// fresh connection per probe unless the check sets keepalive.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "io/curl_multi.hpp"
#include "probes/probe.hpp"

namespace signpost::probes {
namespace {

constexpr std::size_t kBodyCap = 64 * 1024;
constexpr const char* kUserAgent = "signpost-healthcheck/0.1";

bool is_tls_error(CURLcode c) {
    switch (c) {
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_USE_SSL_FAILED: return true;
        default: return false;
    }
}

std::string with_brackets(const std::string& address) {
    return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

// Days until the earliest "Expire date" in the peer's chain; false when unknown.
bool days_until_expiry(CURL* easy, double& days) {
    curl_certinfo* info = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs <= 0) return false;
    bool found = false;
    const std::time_t now = std::time(nullptr);
    for (int i = 0; i < info->num_of_certs; ++i) {
        for (curl_slist* s = info->certinfo[i]; s; s = s->next) {
            const std::string line = s->data;
            const std::string key = "Expire date:";
            if (line.compare(0, key.size(), key) != 0) continue;
            std::tm tm{};
            // OpenSSL prints "Mar 10 12:00:00 2030 GMT".
            if (!strptime(line.c_str() + key.size(), " %b %d %H:%M:%S %Y", &tm)) continue;
            const double d = std::difftime(timegm(&tm), now) / 86400.0;
            if (!found || d < days) days = d;
            found = true;
        }
    }
    return found;
}

class HttpProber;

// One reusable transfer: its easy handle is configured once and added to the
// multi again for every probe. Owned by its HttpProber; idle between probes.
class HttpProbe final : public Probe, public io::CurlTransfer {
public:
    explicit HttpProbe(HttpProber& owner) : owner_(owner) {}
    ~HttpProbe() override {
        if (easy_) curl_easy_cleanup(easy_);
    }
    HttpProbe(const HttpProbe&) = delete;
    HttpProbe& operator=(const HttpProbe&) = delete;

    // Creates the easy handle and sets every option; returns an error text.
    std::string configure();
    // Starts a probe; returns an error text (then `done` is untouched).
    std::string begin(ProbeDone& done, core::Millis timeout);
    bool running() const noexcept { return added_; }
    // Takes the transfer off the multi handle without a result.
    void abort() noexcept;

    void cancel() noexcept override;
    void on_curl_done(CURLcode code) noexcept override;
    bool wants_kept_socket() const noexcept override;

private:
    static size_t on_body(char* data, size_t size, size_t n, void* userp);
    bool expected(long status) const;
    ProbeResult evaluate(CURLcode code);
    bool retry_on_fresh_connection(CURLcode code) noexcept;
    void set_attempt_options(bool fresh, long timeout_ms) noexcept;

    HttpProber& owner_;
    CURL* easy_ = nullptr;
    ProbeDone done_;
    std::string body_;
    bool added_ = false;
    bool retried_ = false;
    long timeout_ms_ = 1000;
    char errbuf_[CURL_ERROR_SIZE];
};

// Per (endpoint, check): the URL, Connect-To rule, headers and source address,
// built once, and the probes (easy handles) reused across the check's probes.
class HttpProber final : public Prober, public io::IdleListener {
public:
    HttpProber(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address, const std::string& host)
        : env_(env), spec_(spec) {
        const bool tls = spec_.kind == core::CheckKind::Https;
        const uint16_t port = spec_.port ? spec_.port : (tls ? 443 : 80);
        const std::string name = !spec_.host.empty() ? spec_.host : host;
        const std::string port_text = std::to_string(port);
        const std::string url_host = name.empty() ? with_brackets(address) : with_brackets(name);
        std::string path = spec_.path.empty() ? "/" : spec_.path;
        if (path.front() != '/') path.insert(path.begin(), '/');
        url_ = std::string(tls ? "https://" : "http://") + url_host + ":" + port_text + path;
        if (!name.empty()) {
            // Connect to this endpoint's address, whatever DNS says about the name.
            const std::string rule = with_brackets(name) + ":" + port_text + ":" + with_brackets(address) + ":" + port_text;
            connect_to_ = curl_slist_append(nullptr, rule.c_str());
        }
        for (const auto& [key, value] : spec_.headers) {
            const std::string h = key + ": " + value;
            headers_ = curl_slist_append(headers_, h.c_str());
        }
        const std::string& source = env_.source_for(address);
        // "host!" makes curl bind to this address, never resolve or pick an interface by name.
        if (!source.empty()) interface_ = "host!" + source;
    }

    ~HttpProber() override {
        if (env_.curl) env_.curl->unwatch(this);
        for (auto& p : probes_) p->abort();  // running ones leave the multi handle first
        probes_.clear();
        curl_slist_free_all(headers_);
        curl_slist_free_all(connect_to_);
    }

    // A kept connection changed while idle: pass it on as a passive signal.
    void on_idle_event(const char* what) noexcept override {
        if (!signal_) return;
        try {
            signal_(what);
        } catch (...) {
            // No exception crosses the C callback this runs in.
        }
    }

    Probe* start(ProbeDone done, core::Millis timeout) override {
        if (!env_.curl) return start_failed_probe(env_, ProbeResult{false, "http checks need curl"}, std::move(done));
        HttpProbe* p = nullptr;
        std::string error;
        if (!idle_.empty()) {
            p = idle_.back();
            idle_.pop_back();
        } else {
            try {
                probes_.push_back(std::make_unique<HttpProbe>(*this));
                p = probes_.back().get();
                error = p->configure();
            } catch (...) {
                error = "cannot set up the request";
            }
            if (!error.empty() && p) {
                probes_.pop_back();  // never configured: not worth keeping
                p = nullptr;
            }
        }
        if (error.empty() && p) error = p->begin(done, timeout);
        if (error.empty() && p) return p;
        if (p) idle_.push_back(p);
        return start_failed_probe(env_, ProbeResult{false, error}, std::move(done));
    }

    void release(HttpProbe* p) noexcept {
        try {
            idle_.push_back(p);
        } catch (...) {
            // Out of memory: the probe stays in probes_ and is freed with the prober.
        }
    }

private:
    friend class HttpProbe;
    ProbeEnv env_;
    const core::CheckSpec& spec_;
    std::string url_, interface_;
    curl_slist* headers_ = nullptr;
    curl_slist* connect_to_ = nullptr;
    std::vector<std::unique_ptr<HttpProbe>> probes_;  // every probe of this check, idle or running
    std::vector<HttpProbe*> idle_;
    bool cert_known_ = false, cert_warning_ = false;  // from the latest handshake seen
};

std::string HttpProbe::configure() {
    const core::CheckSpec& spec = owner_.spec_;
    easy_ = curl_easy_init();
    if (!easy_) return "cannot create a curl handle";
    const bool tls = spec.kind == core::CheckKind::Https;
    if (owner_.connect_to_) curl_easy_setopt(easy_, CURLOPT_CONNECT_TO, owner_.connect_to_);
    curl_easy_setopt(easy_, CURLOPT_URL, owner_.url_.c_str());
    if (!owner_.interface_.empty()) curl_easy_setopt(easy_, CURLOPT_INTERFACE, owner_.interface_.c_str());
    curl_easy_setopt(easy_, CURLOPT_PRIVATE, static_cast<io::CurlTransfer*>(this));
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(easy_, CURLOPT_PROXY, "");
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    // Every address we connect to is an IP literal (CONNECT_TO, or the URL when
    // no name is set): no resolver runs. Caching those literals costs curl 7.88
    // a walk of its whole DNS cache per connection (one entry per endpoint).
    curl_easy_setopt(easy_, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    // Never resume a TLS session: a new handshake sees a replaced certificate.
    curl_easy_setopt(easy_, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    // Without keepalive a probe must notice a dead server: never reuse a connection.
    if (!spec.keepalive) curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy_, CURLOPT_USERAGENT, kUserAgent);
    if (owner_.headers_) curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, owner_.headers_);
    if (spec.method == "HEAD") curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpProbe::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    if (tls) {
        curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, spec.tls_verify ? 1L : 0L);
        curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, spec.tls_verify ? 2L : 0L);
        if (!spec.ca_file.empty()) curl_easy_setopt(easy_, CURLOPT_CAINFO, spec.ca_file.c_str());
        if (spec.cert_warning_days > 0) curl_easy_setopt(easy_, CURLOPT_CERTINFO, 1L);
    }
    if (spec.follow_redirects) {
        curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(easy_, CURLOPT_MAXREDIRS, 5L);
    }
    return {};
}

void HttpProbe::set_attempt_options(bool fresh, long timeout_ms) noexcept {
    curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, std::max(1L, timeout_ms));
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, std::max(1L, timeout_ms));
}

std::string HttpProbe::begin(ProbeDone& done, core::Millis timeout) {
    errbuf_[0] = '\0';
    body_.clear();
    // Per probe: with timeout = "auto" the timeout changes with the measured latency.
    retried_ = false;
    timeout_ms_ = std::max(1L, static_cast<long>(timeout.count()));
    set_attempt_options(!owner_.spec_.keepalive, timeout_ms_);
    if (owner_.env_.curl->add(easy_) != CURLM_OK) return "cannot start the transfer";
    added_ = true;
    done_ = std::move(done);
    return {};
}

void HttpProbe::abort() noexcept {
    if (added_) owner_.env_.curl->remove(easy_);
    added_ = false;
    done_ = nullptr;
}

void HttpProbe::cancel() noexcept {
    abort();
    owner_.release(this);
}

// A kept-alive connection the server closed just as we reused it fails without
// a byte of answer. curl 7.88 retries that for GET only, and gives up for good
// after 5 such retries on one handle ("Connection died, tried 5 times"), so we
// do it ourselves, for GET and HEAD: one more attempt on a fresh connection,
// within what is left of the timeout, gives the endpoint's real answer.
bool HttpProbe::retry_on_fresh_connection(CURLcode code) noexcept {
    if (!owner_.spec_.keepalive || retried_) return false;
    if (code != CURLE_GOT_NOTHING && code != CURLE_SEND_ERROR && code != CURLE_RECV_ERROR) return false;
    long connects = -1;
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &connects);
    if (connects != 0) return false;  // it was a new connection: the answer stands
    curl_off_t used_us = 0;
    curl_easy_getinfo(easy_, CURLINFO_TOTAL_TIME_T, &used_us);
    const long left_ms = timeout_ms_ - static_cast<long>(used_us / 1000);
    if (left_ms <= 0) return false;
    retried_ = true;
    set_attempt_options(true, left_ms);
    errbuf_[0] = '\0';
    body_.clear();
    if (owner_.env_.curl->add(easy_) != CURLM_OK) return false;
    added_ = true;
    return true;
}

bool HttpProbe::wants_kept_socket() const noexcept { return owner_.spec_.keepalive; }

void HttpProbe::on_curl_done(CURLcode code) noexcept {
    added_ = false;
    if (retry_on_fresh_connection(code)) return;
    ProbeResult r;
    try {
        r = evaluate(code);
    } catch (...) {
        r = ProbeResult{false, "internal error evaluating the response"};
    }
    ProbeDone done = std::move(done_);
    done_ = nullptr;
    // A kept connection now waits idle in curl's cache: watch it, so a close or a
    // reset by the endpoint is noticed when it happens, not at the next probe.
    if (owner_.spec_.keepalive && code == CURLE_OK) owner_.env_.curl->watch_idle(owner_.env_.curl->kept_socket(), &owner_);
    // Idle again before the result is delivered: the handler may start the next probe.
    owner_.release(this);
    deliver(done, std::move(r));
}

size_t HttpProbe::on_body(char* data, size_t size, size_t n, void* userp) {
    auto* self = static_cast<HttpProbe*>(userp);
    const size_t len = size * n;
    const std::string& want = self->owner_.spec_.body_contains;
    if (!want.empty() && self->body_.size() < kBodyCap) {
        self->body_.append(data, std::min(len, kBodyCap - self->body_.size()));
    }
    return len;
}

bool HttpProbe::expected(long status) const {
    for (const auto& r : owner_.spec_.expect_status) {
        if (status >= r.low && status <= r.high) return true;
    }
    return false;
}

ProbeResult HttpProbe::evaluate(CURLcode code) {
    const core::CheckSpec& spec = owner_.spec_;
    ProbeResult r;
    curl_off_t total_us = 0;
    if (curl_easy_getinfo(easy_, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK) r.latency_ms = total_us / 1000.0;
    const std::string err = errbuf_[0] ? std::string(errbuf_) : std::string(curl_easy_strerror(code));
    long os_errno = 0;
    curl_easy_getinfo(easy_, CURLINFO_OS_ERRNO, &os_errno);
    if (code != CURLE_OK) {
        r.ok = false;
        switch (code) {
            case CURLE_OPERATION_TIMEDOUT:
                r.timed_out = true;
                r.reason = timeout_reason(core::Millis{timeout_ms_});
                break;
            case CURLE_COULDNT_CONNECT:
                if (os_errno == ECONNREFUSED) r.reason = "connection refused";
                else if (os_errno == EHOSTUNREACH) r.reason = "no route to host";
                else if (os_errno == ENETUNREACH) r.reason = "network unreachable";
                else r.reason = "connect failed: " + err;
                break;
            case CURLE_GOT_NOTHING: r.reason = "connection closed without a response"; break;
            case CURLE_RECV_ERROR:
            case CURLE_SEND_ERROR:
                r.reason = os_errno == ECONNRESET ? "connection reset" : "connection error: " + err;
                break;
            case CURLE_WEIRD_SERVER_REPLY:
            case CURLE_UNSUPPORTED_PROTOCOL: r.reason = "invalid HTTP response: " + err; break;
            case CURLE_PARTIAL_FILE: r.reason = "incomplete response: " + err; break;
            case CURLE_TOO_MANY_REDIRECTS: r.reason = "too many redirects"; break;
            default:
                r.reason = is_tls_error(code) ? "TLS: " + err : std::string(curl_easy_strerror(code)) + ": " + err;
        }
        return r;
    }
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    if (spec.kind == core::CheckKind::Https && spec.cert_warning_days > 0) {
        // curl reports the chain only for a transfer that made the handshake;
        // a reused connection (keepalive) carries the verdict of its handshake.
        double days = 0;
        if (days_until_expiry(easy_, days)) {
            owner_.cert_known_ = true;
            owner_.cert_warning_ = days < spec.cert_warning_days;
        }
        r.cert_warning = owner_.cert_known_ && owner_.cert_warning_;
    }
    if (!expected(status)) {
        if (status >= 300 && status < 400) {
            char* location = nullptr;
            curl_easy_getinfo(easy_, CURLINFO_REDIRECT_URL, &location);
            r.reason = "redirect " + std::to_string(status) + " to " + (location ? location : "(no location)");
        } else {
            r.reason = "HTTP " + std::to_string(status);
        }
        return r;
    }
    if (spec.method != "HEAD" && !spec.body_contains.empty() && body_.find(spec.body_contains) == std::string::npos) {
        r.reason = "body does not contain \"" + spec.body_contains + "\"";
        return r;
    }
    r.ok = true;
    r.reason = "HTTP " + std::to_string(status);
    if (r.cert_warning) r.reason += " (certificate expires within " + std::to_string(spec.cert_warning_days) + " days)";
    return r;
}

}  // namespace

std::unique_ptr<Prober> make_http_prober(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                                         const std::string& host) {
    return std::make_unique<HttpProber>(env, spec, address, host);
}

}  // namespace signpost::probes
