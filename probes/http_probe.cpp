// http/https checks: one curl easy handle per probe on the shared CurlMulti.
// Connects to the endpoint's own address while sending the check's host name as
// Host and SNI (CURLOPT_CONNECT_TO); a fresh connection every time.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <string>

#include <curl/curl.h>

#include "probes/curl_multi.hpp"
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

class HttpProbe final : public Probe, public CurlTransfer {
public:
    HttpProbe(CurlMulti& multi, const core::CheckSpec& spec, ProbeDone done)
        : multi_(multi), spec_(spec), done_(std::move(done)) {}

    ~HttpProbe() override {
        if (easy_) curl_easy_cleanup(easy_);
        curl_slist_free_all(headers_);
        curl_slist_free_all(connect_to_);
    }

    // Returns an error text when the transfer could not be set up.
    std::string setup(const std::string& address, const std::string& fallback_host, const std::string& source) {
        easy_ = curl_easy_init();
        if (!easy_) return "cannot create a curl handle";
        const bool tls = spec_.kind == core::CheckKind::Https;
        const uint16_t port = spec_.port ? spec_.port : (tls ? 443 : 80);
        std::string host = !spec_.host.empty() ? spec_.host : fallback_host;
        const std::string port_text = std::to_string(port);
        const std::string url_host = host.empty() ? with_brackets(address) : with_brackets(host);
        std::string path = spec_.path.empty() ? "/" : spec_.path;
        if (path.front() != '/') path.insert(path.begin(), '/');
        const std::string url = std::string(tls ? "https://" : "http://") + url_host + ":" + port_text + path;
        if (!host.empty()) {
            // Connect to this endpoint's address, whatever DNS says about the name.
            const std::string rule = with_brackets(host) + ":" + port_text + ":" + with_brackets(address) + ":" + port_text;
            connect_to_ = curl_slist_append(nullptr, rule.c_str());
            curl_easy_setopt(easy_, CURLOPT_CONNECT_TO, connect_to_);
        }
        for (const auto& [name, value] : spec_.headers) {
            const std::string h = name + ": " + value;
            headers_ = curl_slist_append(headers_, h.c_str());
        }
        errbuf_[0] = '\0';
        curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
        // "host!" makes curl bind to this address, never resolve or pick an interface by name.
        if (!source.empty()) curl_easy_setopt(easy_, CURLOPT_INTERFACE, ("host!" + source).c_str());
        curl_easy_setopt(easy_, CURLOPT_PRIVATE, static_cast<CurlTransfer*>(this));
        curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
        curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy_, CURLOPT_PROXY, "");
        curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(spec_.timeout.count()));
        curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec_.timeout.count()));
        // A probe must notice a dead server: never reuse a connection or TLS session.
        curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(easy_, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        curl_easy_setopt(easy_, CURLOPT_USERAGENT, kUserAgent);
        if (headers_) curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
        head_ = spec_.method == "HEAD";
        if (head_) curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpProbe::on_body);
        curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
        if (tls) {
            curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, spec_.tls_verify ? 1L : 0L);
            curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, spec_.tls_verify ? 2L : 0L);
            if (!spec_.ca_file.empty()) curl_easy_setopt(easy_, CURLOPT_CAINFO, spec_.ca_file.c_str());
            if (spec_.cert_warning_days > 0) curl_easy_setopt(easy_, CURLOPT_CERTINFO, 1L);
        }
        if (spec_.follow_redirects) {
            curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 1L);
            curl_easy_setopt(easy_, CURLOPT_MAXREDIRS, 5L);
        }
        if (multi_.add(easy_) != CURLM_OK) return "cannot start the transfer";
        added_ = true;
        return {};
    }

    ProbeDone take_done() noexcept { return std::move(done_); }

    void cancel() noexcept override {
        if (added_) multi_.remove(easy_);
        delete this;
    }

    void on_curl_done(CURLcode code) noexcept override {
        added_ = false;
        ProbeResult r;
        try {
            r = evaluate(code);
        } catch (...) {
            r = ProbeResult{false, "internal error evaluating the response"};
        }
        deliver(done_, std::move(r));
        delete this;
    }

private:
    static size_t on_body(char* data, size_t size, size_t n, void* userp) {
        auto* self = static_cast<HttpProbe*>(userp);
        const size_t len = size * n;
        if (!self->spec_.body_contains.empty() && self->body_.size() < kBodyCap) {
            self->body_.append(data, std::min(len, kBodyCap - self->body_.size()));
        }
        return len;
    }

    bool expected(long status) const {
        for (const auto& r : spec_.expect_status) {
            if (status >= r.low && status <= r.high) return true;
        }
        return false;
    }

    ProbeResult evaluate(CURLcode code) {
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
                    r.reason = timeout_reason(spec_.timeout);
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
        if (spec_.kind == core::CheckKind::Https && spec_.cert_warning_days > 0) {
            double days = 0;
            if (days_until_expiry(easy_, days) && days < spec_.cert_warning_days) r.cert_warning = true;
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
        if (!head_ && !spec_.body_contains.empty() && body_.find(spec_.body_contains) == std::string::npos) {
            r.reason = "body does not contain \"" + spec_.body_contains + "\"";
            return r;
        }
        r.ok = true;
        r.reason = "HTTP " + std::to_string(status);
        if (r.cert_warning) r.reason += " (certificate expires within " + std::to_string(spec_.cert_warning_days) + " days)";
        return r;
    }

    CurlMulti& multi_;
    const core::CheckSpec& spec_;
    ProbeDone done_;
    CURL* easy_ = nullptr;
    curl_slist* headers_ = nullptr;
    curl_slist* connect_to_ = nullptr;
    std::string body_;
    bool head_ = false;
    bool added_ = false;
    char errbuf_[CURL_ERROR_SIZE];
};

}  // namespace

Probe* start_http_probe(const ProbeEnv& env, const core::CheckSpec& spec, const std::string& address,
                        const std::string& host, ProbeDone done) {
    if (!env.curl) return start_failed_probe(env, ProbeResult{false, "http checks need curl"}, std::move(done));
    auto* p = new HttpProbe(*env.curl, spec, std::move(done));
    std::string error;
    try {
        error = p->setup(address, host, env.source_for(address));
    } catch (...) {
        error = "cannot set up the request";
    }
    if (error.empty()) return p;
    // Hand `done` over to a probe that reports the failure on the next iteration.
    ProbeDone d = p->take_done();
    p->cancel();
    return start_failed_probe(env, ProbeResult{false, error}, std::move(d));
}

}  // namespace signpost::probes
