// The status, explain and control API: HTTP (libmicrohttpd, driven from the
// control loop) with JSON bodies, plus Prometheus /metrics. Routes requests to
// a Backend the daemon implements; holds no server state of its own. Also serves
// the incident page (api/page/, compiled in: page_assets.hpp) at "/".
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "core/health.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace signpost::api {

// Thrown by a Backend to answer with a 4xx/5xx and a message.
struct ApiError : std::runtime_error {
    int status;
    ApiError(int s, const std::string& message) : std::runtime_error(message), status(s) {}
};

struct OverrideRequest {
    std::string target;                // endpoint key "example.com/primary/127.0.0.10" or pool "example.com/primary"
    core::Override state = core::Override::Auto;
    std::string reason;
    std::optional<core::Millis> expires_in;  // nullopt: until changed
};

// POST /v1/txt: a runtime TXT record (docs/acme.md).
struct TxtRequest {
    std::string name;                        // "_acme-challenge.example.com"
    std::string value;
    std::optional<uint32_t> ttl;             // nullopt: the server's default
    std::optional<core::Millis> expires_in;  // "for"; nullopt: the server's default
};

// Implemented by the daemon. Called on the control loop thread only.
class Backend {
public:
    virtual ~Backend() = default;
    virtual nlohmann::json services() = 0;
    virtual nlohmann::json endpoints() = 0;
    virtual nlohmann::json zones() = 0;
    virtual nlohmann::json explain(const std::string& name, const std::string& type, const std::string& client) = 0;
    virtual nlohmann::json set_override(const OverrideRequest& request) = 0;
    virtual nlohmann::json drain(const std::string& endpoint, bool undrain) = 0;
    virtual nlohmann::json release(const std::string& service) = 0;  // manual failback
    virtual nlohmann::json reload() = 0;
    virtual std::string metrics() = 0;  // Prometheus text format
    // GET /v1/status. Optional (added after the first interface): the default
    // combines services(), endpoints() and zones() with "reload": null; the
    // daemon overrides it to add {"reload": {"ok","at","errors"}, ...}.
    virtual nlohmann::json status() {
        return {{"services", services()}, {"endpoints", endpoints()}, {"zones", zones()}, {"reload", nullptr}};
    }
    // GET /v1/cluster: peers, their liveness, who probes what (a read).
    virtual nlohmann::json cluster() { throw ApiError(404, "clustering is not configured: no [cluster] peers"); }
    // GET /v1/cluster/verdicts: this instance's own probe verdicts, for its
    // peers (needs the cluster token). Already serialised (cluster/wire.hpp).
    virtual std::string cluster_verdicts() {
        throw ApiError(404, "clustering is not configured: no [cluster] peers");
    }
    // Runtime TXT records: GET /v1/txt lists them, POST /v1/txt sets one, DELETE
    // /v1/txt?name=N[&value=V] deletes one value or every value of N.
    virtual nlohmann::json runtime_txt() { throw ApiError(404, "this server has no runtime TXT records"); }
    virtual nlohmann::json txt_set(const TxtRequest&) { return runtime_txt(); }
    virtual nlohmann::json txt_del(const std::string& name, const std::optional<std::string>& value) {
        (void)name, (void)value;
        return runtime_txt();
    }
    // POST /v1/drain and /v1/release with the operator's "reason" (the page asks
    // for one): the defaults drop it; the daemon keeps it in the timeline.
    virtual nlohmann::json drain_with_reason(const std::string& endpoint, bool undrain, const std::string& reason) {
        (void)reason;
        return drain(endpoint, undrain);
    }
    virtual nlohmann::json release_with_reason(const std::string& service, const std::string& reason) {
        (void)reason;
        return release(service);
    }
    // GET /v1/events?since=SEQ&limit=N: the timeline's entries after SEQ (at most
    // N), {"last_seq", "oldest_seq", "capacity", "events": [...]} (timeline/timeline.hpp).
    virtual nlohmann::json events(uint64_t since, std::size_t limit) {
        (void)since, (void)limit;
        throw ApiError(404, "this server keeps no event timeline");
    }
    // GET /v1/history[?key=K]: state bands and probe latency over the last hour,
    // of every service and endpoint (or of the keys asked).
    virtual nlohmann::json history(const std::vector<std::string>& keys) {
        (void)keys;
        throw ApiError(404, "this server keeps no history");
    }
};

struct ApiOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8054;
    std::string token;                       // empty: writes are refused (403)
    std::vector<core::IpPrefix> read_allow;  // besides loopback, who may read without a token
    std::string peer_token;                  // [cluster] token: what peers send for /v1/cluster/verdicts
    unsigned max_connections = 64;           // concurrent HTTP connections
    unsigned connection_timeout_seconds = 10;  // idle connections are closed after this
};

class ApiServer {
public:
    // Binds and starts serving on `loop`. Throws std::runtime_error naming the address on failure.
    ApiServer(uv_loop_t* loop, ApiOptions options, Backend& backend);
    ~ApiServer();  // stop()
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;
    uint16_t port() const noexcept;  // the bound port (when 0 was asked)
    // A reload's write token and read_allow (the address stays until a restart).
    // Loop thread only; requests from now on are checked against them.
    void set_access(const std::string& token, const std::vector<core::IpPrefix>& read_allow);
    // Closes the listener, open connections and every uv handle (freed in their
    // close callbacks: run the loop once more before uv_loop_close). Idempotent.
    // Loop thread only; from inside a Backend call the daemon is stopped as soon
    // as the current request is answered.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace signpost::api
