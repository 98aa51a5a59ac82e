// The status, explain and control API: HTTP (libmicrohttpd, driven from the
// control loop) with JSON bodies, plus Prometheus /metrics. Routes requests to
// a Backend the daemon implements; holds no server state of its own.
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
