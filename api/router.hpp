// Private to api/: the HTTP-independent half of the API — which route a request
// names, who may call it, how a body becomes a Backend call. No sockets, no MHD.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/api_server.hpp"

namespace signpost::api {

inline constexpr std::size_t max_body_bytes = 64 * 1024;

struct RequestHead {
    std::string method;                        // "GET", "POST", ...
    std::string path;                          // without the query string
    std::map<std::string, std::string> query;  // decoded query arguments
    std::optional<core::IpAddress> peer;       // nullopt: unknown (treated as remote)
    std::string authorization;                 // the Authorization header, verbatim
    std::optional<std::size_t> content_length;
};

struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// /v1/events: at most this many entries per answer (and the default).
inline constexpr std::size_t max_events_per_reply = 1000;

// The incident page's headers: a Content-Security-Policy that allows scripts,
// styles and fetches from this origin only (no inline script, no eval), and no framing.
inline constexpr const char* page_csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// Every other reply (JSON, text): nothing in it may run or load anything.
inline constexpr const char* data_csp = "default-src 'none'; frame-ancestors 'none'";

// {"error": message} with `status`.
Reply error_reply(int status, const std::string& message);

// True for 127.0.0.0/8, ::1 and their IPv4-mapped forms.
bool is_loopback(const core::IpAddress& a) noexcept;
// Equal contents in time independent of where they differ.
bool constant_time_equal(const std::string& a, const std::string& b) noexcept;

// Routes requests to the Backend. Runs on the control loop thread.
class Router {
public:
    Router(const ApiOptions& options, Backend& backend) : options_(options), backend_(backend) {}

    // Once the headers are in: unknown route (404), wrong method (405), auth
    // (401/403), declared body too large (413). A reply means "answer now and
    // skip the body"; nullopt means "read the body, then call handle()".
    std::optional<Reply> admit(const RequestHead& head) const;

    // The whole request is in (admit() said nullopt). Never throws: Backend
    // errors become ApiError's status, anything else 500.
    Reply handle(const RequestHead& head, const std::string& body) noexcept;

private:
    Reply dispatch(const RequestHead& head, const std::string& body);

    const ApiOptions& options_;
    Backend& backend_;
};

}  // namespace signpost::api
