// Routes, auth and JSON bodies of the API, independent of the HTTP library.
// Holds no server state: every answer comes from the Backend.
#include "api/router.hpp"

#include "api/page_assets.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace signpost::api {

namespace {

std::string dump(const nlohmann::json& j) {
    // Backend strings may carry bytes that are not UTF-8 (TXT data): replace them, never throw.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Reply json_reply(const nlohmann::json& j) {
    Reply r;
    r.body = dump(j);
    return r;
}

enum class Access { Read, Write, Peer };

struct Route {
    const char* path;
    const char* method;  // "GET" (HEAD too) or "POST"
    Access access;
};

constexpr std::array routes{
    Route{"/v1/status", "GET", Access::Read},      Route{"/v1/services", "GET", Access::Read},
    Route{"/v1/endpoints", "GET", Access::Read},   Route{"/v1/zones", "GET", Access::Read},
    Route{"/v1/explain", "GET", Access::Read},     Route{"/metrics", "GET", Access::Read},
    Route{"/v1/overrides", "POST", Access::Write}, Route{"/v1/drain", "POST", Access::Write},
    Route{"/v1/release", "POST", Access::Write},   Route{"/v1/reload", "POST", Access::Write},
    Route{"/v1/cluster", "GET", Access::Read},     Route{"/v1/cluster/verdicts", "GET", Access::Peer},
    Route{"/v1/events", "GET", Access::Read},      Route{"/v1/history", "GET", Access::Read},
    // Runtime TXT records (ACME DNS-01): list, set, delete.
    Route{"/v1/txt", "GET", Access::Read},         Route{"/v1/txt", "POST", Access::Write},
    Route{"/v1/txt", "DELETE", Access::Write},
    // The incident page (api/page/, compiled in): reads like the JSON it shows.
    Route{"/", "GET", Access::Read},               Route{"/index.html", "GET", Access::Read},
    Route{"/page.js", "GET", Access::Read},        Route{"/page.css", "GET", Access::Read},
};

const PageAsset* find_asset(std::string path) {
    if (path == "/index.html") path = "/";
    for (auto& a : page_assets())
        if (a.path == path) return &a;
    return nullptr;
}

// A decimal count for a query argument; 400 naming it otherwise.
uint64_t count_argument(const std::string& text, const char* key, uint64_t fallback) {
    if (text.empty()) return fallback;
    uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10)
            throw ApiError(400, std::string("bad '") + key + "': " + text + "; use a number such as 0 or 42");
        n = n * 10 + uint64_t(c - '0');
    }
    return n;
}

bool method_matches(const Route& r, const std::string& method) {
    if (method == r.method) return true;
    return method == "HEAD" && std::string_view(r.method) == "GET";
}

// The route for this path and method; else the first for the path (a 405), else null.
const Route* find_route(const std::string& path, const std::string& method) {
    const Route* any = nullptr;
    for (auto& r : routes) {
        if (path != r.path) continue;
        if (method_matches(r, method)) return &r;
        if (!any) any = &r;
    }
    return any;
}

// The Allow header of a path: "GET, HEAD", "POST", "GET, HEAD, POST, DELETE".
std::string allowed_methods(const std::string& path) {
    std::string out;
    for (auto& r : routes)
        if (path == r.path)
            out += (out.empty() ? "" : ", ") + std::string(r.method) + (std::string_view(r.method) == "GET" ? ", HEAD" : "");
    return out;
}

// The token from "Bearer <token>" (scheme case-insensitive); nullopt when absent or another scheme.
std::optional<std::string> bearer_token(const std::string& header) {
    std::string_view h = header;
    while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
    constexpr std::string_view scheme = "bearer ";
    if (h.size() < scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(h[i])) != scheme[i]) return std::nullopt;
    h.remove_prefix(scheme.size());
    while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    return std::string(h);
}

std::string peer_text(const RequestHead& head) {
    return head.peer ? head.peer->to_string() : std::string("an unknown address");
}

// Body helpers: a JSON object, typed fields, 400 with a message naming the field.
nlohmann::json parse_object(const std::string& body) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw ApiError(400, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object()) throw ApiError(400, "invalid JSON: the body must be an object");
    return j;
}

std::optional<std::string> string_field(const nlohmann::json& j, const char* key, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) throw ApiError(400, std::string("missing '") + key + "'");
        return std::nullopt;
    }
    if (!it->is_string()) throw ApiError(400, std::string("'") + key + "' must be a string");
    auto s = it->get<std::string>();
    if (required && s.empty()) throw ApiError(400, std::string("missing '") + key + "'");
    return s;
}

bool bool_field(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return false;
    if (!it->is_boolean()) throw ApiError(400, std::string("'") + key + "' must be true or false");
    return it->get<bool>();
}

// A duration field: "90s", "1h30m" or a bare number of seconds; nullopt when absent.
std::optional<core::Millis> duration_field(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    std::optional<core::Millis> d;
    std::string shown;
    if (it->is_string()) {
        shown = it->get<std::string>();
        d = core::parse_duration(shown);
    } else if (it->is_number()) {  // a bare number is seconds, as in config files
        shown = it->dump();
        double s = it->get<double>();
        if (s >= 0 && s < 1e9) d = core::Millis(static_cast<long long>(s * 1000));
    } else {
        shown = it->dump();
    }
    if (!d || d->count() <= 0)
        throw ApiError(400, "bad duration '" + shown + "' in '" + key + "': use e.g. 90s, 30m, 1h30m");
    return d;
}

OverrideRequest parse_override(const std::string& body) {
    auto j = parse_object(body);
    OverrideRequest req;
    req.target = *string_field(j, "target", true);
    auto state = string_field(j, "state", false);
    if (!state || state->empty()) throw ApiError(400, "missing 'state': use up, down or auto");
    if (*state == "up")
        req.state = core::Override::ForceUp;
    else if (*state == "down")
        req.state = core::Override::ForceDown;
    else if (*state == "auto")
        req.state = core::Override::Auto;
    else
        throw ApiError(400, "unknown state '" + *state + "': use up, down or auto");
    req.reason = string_field(j, "reason", false).value_or("");
    req.expires_in = duration_field(j, "for");
    return req;
}

// {"name", "value", "ttl", "for"} of POST /v1/txt; the core checks the ranges.
TxtRequest parse_txt(const std::string& body) {
    auto j = parse_object(body);
    TxtRequest req;
    req.name = *string_field(j, "name", true);
    req.value = string_field(j, "value", false).value_or("");
    if (auto it = j.find("ttl"); it != j.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX)
            throw ApiError(400, "'ttl' must be a number of seconds, got " + it->dump());
        req.ttl = uint32_t(it->get<int64_t>());
    }
    req.expires_in = duration_field(j, "for");
    return req;
}

std::string query_value(const RequestHead& head, const char* key) {
    auto it = head.query.find(key);
    return it == head.query.end() ? std::string() : it->second;
}

}  // namespace

Reply error_reply(int status, const std::string& message) {
    Reply r;
    r.status = status;
    r.body = dump(nlohmann::json{{"error", message}});
    return r;
}

bool is_loopback(const core::IpAddress& a) noexcept {
    if (!a.v6) return a.bytes[0] == 127;
    static constexpr std::array<uint8_t, 16> one{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (a.bytes == one) return true;
    // ::ffff:127.x.y.z (a dual-stack listener sees IPv4 peers so)
    for (int i = 0; i < 10; ++i)
        if (a.bytes[i] != 0) return false;
    return a.bytes[10] == 0xff && a.bytes[11] == 0xff && a.bytes[12] == 127;
}

bool constant_time_equal(const std::string& a, const std::string& b) noexcept {
    // Walks the longer of the two whole, so the time depends on lengths only.
    std::size_t n = std::max(a.size(), b.size());
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

std::optional<Reply> Router::admit(const RequestHead& head) const {
    const Route* route = find_route(head.path, head.method);
    if (!route) return error_reply(404, "no such route: " + head.path);
    if (!method_matches(*route, head.method)) {
        auto allow = allowed_methods(head.path);
        auto r = error_reply(405, "method " + head.method + " not allowed on " + head.path + ": use " +
                                      (allow == "GET, HEAD" ? std::string("GET") : allow));
        r.headers.emplace_back("Allow", allow);
        return r;
    }

    auto token = bearer_token(head.authorization);
    if (route->access == Access::Peer) {
        // Peers prove they belong with the cluster token, from any address.
        if (options_.peer_token.empty()) return error_reply(404, "clustering is not configured: no [cluster] token");
        if (!token || !constant_time_equal(*token, options_.peer_token)) {
            auto r = error_reply(401, token ? "wrong cluster token" : "missing token: send 'Authorization: Bearer <cluster.token>'");
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
            return r;
        }
        return std::nullopt;
    }
    bool token_ok = !options_.token.empty() && token && constant_time_equal(*token, options_.token);
    if (route->access == Access::Write) {
        if (options_.token.empty()) return error_reply(403, "writes are disabled: set api.token in the server config");
        if (!token_ok) {
            auto r = error_reply(401, token ? "wrong token" : "missing token: send 'Authorization: Bearer <api.token>'");
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
            return r;
        }
    } else if (!token_ok) {
        bool open = head.peer && is_loopback(*head.peer);
        if (!open && head.peer)
            open = std::any_of(options_.read_allow.begin(), options_.read_allow.end(),
                               [&](const core::IpPrefix& p) { return p.contains(*head.peer); });
        if (!open) {
            auto r = error_reply(401, "reads from " + peer_text(head) +
                                          " need 'Authorization: Bearer <api.token>' or an api.read_allow entry");
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
            return r;
        }
    }

    if (head.content_length && *head.content_length > max_body_bytes)
        return error_reply(413, "request body too large: at most " + std::to_string(max_body_bytes) + " bytes");
    return std::nullopt;
}

Reply Router::handle(const RequestHead& head, const std::string& body) noexcept {
    try {
        try {
            return dispatch(head, body);
        } catch (const ApiError& e) {
            int status = e.status >= 400 && e.status <= 599 ? e.status : 500;
            return error_reply(status, e.what());
        } catch (const std::exception& e) {
            return error_reply(500, e.what());
        } catch (...) {
            return error_reply(500, "internal error");
        }
    } catch (...) {  // building the error reply itself failed (out of memory)
        Reply r;
        r.status = 500;
        r.content_type = "text/plain";
        return r;
    }
}

Reply Router::dispatch(const RequestHead& head, const std::string& body) {
    if (body.size() > max_body_bytes)
        return error_reply(413, "request body too large: at most " + std::to_string(max_body_bytes) + " bytes");
    const std::string& p = head.path;
    if (p == "/v1/services") return json_reply(backend_.services());
    if (p == "/v1/endpoints") return json_reply(backend_.endpoints());
    if (p == "/v1/zones") return json_reply(backend_.zones());
    if (p == "/v1/status") return json_reply(backend_.status());
    if (p == "/v1/explain") {
        auto name = query_value(head, "name");
        if (name.empty()) throw ApiError(400, "missing 'name'");
        auto type = query_value(head, "type");
        if (type.empty()) type = "A";
        std::transform(type.begin(), type.end(), type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        return json_reply(backend_.explain(name, type, query_value(head, "client")));
    }
    if (p == "/metrics") {
        Reply r;
        r.content_type = "text/plain; version=0.0.4";
        r.body = backend_.metrics();
        return r;
    }
    if (p == "/v1/overrides") return json_reply(backend_.set_override(parse_override(body)));
    if (p == "/v1/drain") {
        auto j = parse_object(body);
        auto endpoint = *string_field(j, "endpoint", true);
        return json_reply(backend_.drain_with_reason(endpoint, bool_field(j, "undrain"),
                                                     string_field(j, "reason", false).value_or("")));
    }
    if (p == "/v1/release") {
        auto j = parse_object(body);
        return json_reply(backend_.release_with_reason(*string_field(j, "service", true),
                                                       string_field(j, "reason", false).value_or("")));
    }
    if (p == "/v1/reload") return json_reply(backend_.reload());
    if (p == "/v1/txt") {
        if (head.method == "POST") return json_reply(backend_.txt_set(parse_txt(body)));
        if (head.method == "DELETE") {
            // The name (and value) as query arguments, or in a JSON body.
            std::string name = query_value(head, "name");
            std::optional<std::string> value;
            if (head.query.count("value")) value = query_value(head, "value");
            if (name.empty() && !body.empty()) {
                auto j = parse_object(body);
                name = *string_field(j, "name", true);
                value = string_field(j, "value", false);
            }
            if (name.empty()) throw ApiError(400, "missing 'name'");
            if (value && value->empty()) value.reset();
            return json_reply(backend_.txt_del(name, value));
        }
        return json_reply(backend_.runtime_txt());
    }
    if (p == "/v1/events") {
        auto since = count_argument(query_value(head, "since"), "since", 0);
        auto limit = count_argument(query_value(head, "limit"), "limit", max_events_per_reply);
        if (limit == 0 || limit > max_events_per_reply)
            throw ApiError(400, "bad 'limit': " + std::to_string(limit) + "; use 1.." +
                                    std::to_string(max_events_per_reply));
        return json_reply(backend_.events(since, std::size_t(limit)));
    }
    if (p == "/v1/history") {
        std::vector<std::string> keys;
        if (auto k = query_value(head, "key"); !k.empty()) keys.push_back(k);
        return json_reply(backend_.history(keys));
    }
    if (auto* asset = find_asset(p)) {
        Reply r;
        r.content_type = std::string(asset->content_type);
        r.body = std::string(asset->body);
        r.headers.emplace_back("Content-Security-Policy", page_csp);
        r.headers.emplace_back("X-Frame-Options", "DENY");
        r.headers.emplace_back("Referrer-Policy", "no-referrer");
        return r;
    }
    if (p == "/v1/cluster") return json_reply(backend_.cluster());
    if (p == "/v1/cluster/verdicts") {
        Reply r;
        r.body = backend_.cluster_verdicts();
        return r;
    }  // the body, if any, is ignored
    return error_reply(404, "no such route: " + p);
}

}  // namespace signpost::api
