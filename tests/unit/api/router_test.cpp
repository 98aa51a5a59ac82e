// Router auth rules that need peers a unit test cannot connect from
// (non-loopback, unknown), and the small helpers behind them.
#include <doctest/doctest.h>

#include "api/router.hpp"

using namespace signpost;
using nlohmann::json;

namespace {

struct NullBackend : api::Backend {
    json services() override { return json::array(); }
    json endpoints() override { return json::array(); }
    json zones() override { return json::array(); }
    json explain(const std::string&, const std::string&, const std::string&) override { return json::object(); }
    json set_override(const api::OverrideRequest&) override { return json::object(); }
    json drain(const std::string&, bool) override { return json::object(); }
    json release(const std::string&) override { return json::object(); }
    json reload() override { return json::object(); }
    std::string metrics() override { return ""; }
};

api::RequestHead head(const std::string& method, const std::string& path, const char* peer,
                      const std::string& authorization = "") {
    api::RequestHead h;
    h.method = method;
    h.path = path;
    if (peer) h.peer = core::IpAddress::parse(peer);
    h.authorization = authorization;
    return h;
}

std::string error_of(const api::Reply& r) { return json::parse(r.body).at("error").get<std::string>(); }

}  // namespace

TEST_CASE("router: loopback addresses") {
    CHECK(api::is_loopback(*core::IpAddress::parse("127.0.0.1")));
    CHECK(api::is_loopback(*core::IpAddress::parse("127.1.2.3")));
    CHECK(api::is_loopback(*core::IpAddress::parse("::1")));
    CHECK(api::is_loopback(*core::IpAddress::parse("::ffff:127.0.0.1")));
    CHECK_FALSE(api::is_loopback(*core::IpAddress::parse("128.0.0.1")));
    CHECK_FALSE(api::is_loopback(*core::IpAddress::parse("198.51.100.7")));
    CHECK_FALSE(api::is_loopback(*core::IpAddress::parse("::2")));
    CHECK_FALSE(api::is_loopback(*core::IpAddress::parse("::ffff:198.51.100.7")));
    CHECK_FALSE(api::is_loopback(*core::IpAddress::parse("2001:db8::1")));
}

TEST_CASE("router: constant-time compare is plain equality") {
    CHECK(api::constant_time_equal("s3cret", "s3cret"));
    CHECK(api::constant_time_equal("", ""));
    CHECK_FALSE(api::constant_time_equal("s3cret", "s3cre"));
    CHECK_FALSE(api::constant_time_equal("s3cre", "s3cret"));
    CHECK_FALSE(api::constant_time_equal("s3cret", "S3cret"));
    CHECK_FALSE(api::constant_time_equal("", "x"));
    CHECK_FALSE(api::constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST_CASE("router: reads from remote peers need the token or read_allow") {
    NullBackend backend;
    api::ApiOptions options;
    options.token = "s3cret";
    options.read_allow.push_back(*core::IpPrefix::parse("203.0.113.0/24"));
    api::Router router(options, backend);

    SUBCASE("loopback is open") { CHECK_FALSE(router.admit(head("GET", "/v1/status", "127.0.0.1"))); }
    SUBCASE("IPv6 loopback is open") { CHECK_FALSE(router.admit(head("GET", "/v1/status", "::1"))); }
    SUBCASE("remote without token") {
        auto r = router.admit(head("GET", "/v1/status", "198.51.100.7"));
        REQUIRE(r);
        CHECK(r->status == 401);
        CHECK(error_of(*r) == "reads from 198.51.100.7 need 'Authorization: Bearer <api.token>' or an api.read_allow entry");
    }
    SUBCASE("remote with a wrong token") {
        auto r = router.admit(head("GET", "/v1/status", "198.51.100.7", "Bearer nope"));
        REQUIRE(r);
        CHECK(r->status == 401);
    }
    SUBCASE("remote with the token") {
        CHECK_FALSE(router.admit(head("GET", "/metrics", "198.51.100.7", "Bearer s3cret")));
    }
    SUBCASE("remote in read_allow") { CHECK_FALSE(router.admit(head("GET", "/v1/zones", "203.0.113.9"))); }
    SUBCASE("read_allow does not open writes") {
        auto r = router.admit(head("POST", "/v1/reload", "203.0.113.9"));
        REQUIRE(r);
        CHECK(r->status == 401);
        CHECK(error_of(*r) == "missing token: send 'Authorization: Bearer <api.token>'");
    }
    SUBCASE("unknown peer is treated as remote") {
        auto r = router.admit(head("GET", "/v1/zones", nullptr));
        REQUIRE(r);
        CHECK(r->status == 401);
        CHECK(error_of(*r) ==
              "reads from an unknown address need 'Authorization: Bearer <api.token>' or an api.read_allow entry");
    }
    SUBCASE("a declared body above the limit is refused before it is read") {
        auto h = head("POST", "/v1/reload", "127.0.0.1", "Bearer s3cret");
        h.content_length = api::max_body_bytes + 1;
        auto r = router.admit(h);
        REQUIRE(r);
        CHECK(r->status == 413);
        h.content_length = api::max_body_bytes;
        CHECK_FALSE(router.admit(h));
    }
}

TEST_CASE("router: reads from remote peers are refused when no token is configured") {
    NullBackend backend;
    api::ApiOptions options;
    api::Router router(options, backend);
    auto r = router.admit(head("GET", "/v1/status", "198.51.100.7", "Bearer "));
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK_FALSE(router.admit(head("GET", "/v1/status", "127.0.0.1")));
    auto w = router.admit(head("POST", "/v1/drain", "127.0.0.1", "Bearer "));
    REQUIRE(w);
    CHECK(w->status == 403);
}

TEST_CASE("router: cluster verdicts need the cluster token from any address") {
    NullBackend backend;
    api::ApiOptions options;
    options.token = "api-token";
    options.peer_token = "peer-token";
    api::Router router(options, backend);

    SUBCASE("the cluster token from a remote peer") {
        CHECK_FALSE(router.admit(head("GET", "/v1/cluster/verdicts", "198.51.100.7", "Bearer peer-token")));
    }
    SUBCASE("loopback without a token is not enough") {
        auto r = router.admit(head("GET", "/v1/cluster/verdicts", "127.0.0.1"));
        REQUIRE(r);
        CHECK(r->status == 401);
        CHECK(error_of(*r) == "missing token: send 'Authorization: Bearer <cluster.token>'");
    }
    SUBCASE("the api token is not the cluster token") {
        auto r = router.admit(head("GET", "/v1/cluster/verdicts", "127.0.0.1", "Bearer api-token"));
        REQUIRE(r);
        CHECK(r->status == 401);
        CHECK(error_of(*r) == "wrong cluster token");
    }
    SUBCASE("without clustering the route is 404") {
        api::ApiOptions plain;
        api::Router r2(plain, backend);
        auto r = r2.admit(head("GET", "/v1/cluster/verdicts", "127.0.0.1", "Bearer x"));
        REQUIRE(r);
        CHECK(r->status == 404);
    }
    SUBCASE("the backend default says clustering is off") {
        auto reply = router.handle(head("GET", "/v1/cluster/verdicts", "127.0.0.1", "Bearer peer-token"), "");
        CHECK(reply.status == 404);
        CHECK(error_of(reply) == "clustering is not configured: no [cluster] peers");
    }
}

namespace {

struct TimelineBackend : NullBackend {
    uint64_t since = 0;
    std::size_t limit = 0;
    std::vector<std::string> keys;
    std::string drained, drain_reason, released, release_reason;
    json events(uint64_t s, std::size_t l) override {
        since = s;
        limit = l;
        return {{"last_seq", 7}, {"events", json::array()}};
    }
    json history(const std::vector<std::string>& k) override {
        keys = k;
        return {{"series", json::object()}};
    }
    json drain_with_reason(const std::string& endpoint, bool, const std::string& reason) override {
        drained = endpoint;
        drain_reason = reason;
        return json::object();
    }
    json release_with_reason(const std::string& service, const std::string& reason) override {
        released = service;
        release_reason = reason;
        return json::object();
    }
};

api::Reply get(api::Router& router, const std::string& path, std::map<std::string, std::string> query = {}) {
    auto h = head("GET", path, "127.0.0.1");
    h.query = std::move(query);
    if (auto early = router.admit(h)) return *early;
    return router.handle(h, "");
}

std::string header(const api::Reply& r, const std::string& name) {
    for (auto& [k, v] : r.headers)
        if (k == name) return v;
    return "";
}

}  // namespace

TEST_CASE("router: the incident page is served from the binary with a strict CSP") {
    NullBackend backend;
    api::ApiOptions options;
    api::Router router(options, backend);
    auto page = get(router, "/");
    CHECK(page.status == 200);
    CHECK(page.content_type == "text/html; charset=utf-8");
    CHECK(page.body.find("<script src=\"/page.js\" defer></script>") != std::string::npos);
    CHECK(page.body.find("<script>") == std::string::npos);  // no inline script: the CSP forbids it
    CHECK(header(page, "Content-Security-Policy") == api::page_csp);
    CHECK(std::string(api::page_csp).find("script-src 'self';") != std::string::npos);
    CHECK(std::string(api::page_csp).find("unsafe") == std::string::npos);
    CHECK(header(page, "X-Frame-Options") == "DENY");
    auto js = get(router, "/page.js");
    CHECK(js.status == 200);
    CHECK(js.content_type == "text/javascript; charset=utf-8");
    CHECK(js.body.find("innerHTML") == std::string::npos);  // data goes in as text only
    CHECK(js.body.find("eval(") == std::string::npos);
    auto css = get(router, "/page.css");
    CHECK(css.status == 200);
    CHECK(css.content_type == "text/css; charset=utf-8");
    CHECK(get(router, "/index.html").body == page.body);
    CHECK(get(router, "/page.png").status == 404);
}

TEST_CASE("router: the page is a read: remote peers need read_allow") {
    NullBackend backend;
    api::ApiOptions options;
    options.read_allow.push_back(*core::IpPrefix::parse("203.0.113.0/24"));
    api::Router router(options, backend);
    CHECK_FALSE(router.admit(head("GET", "/", "203.0.113.9")));
    auto r = router.admit(head("GET", "/page.js", "198.51.100.7"));
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(router.admit(head("POST", "/", "127.0.0.1"))->status == 405);
}

TEST_CASE("router: /v1/events passes since and limit, /v1/history the key") {
    TimelineBackend backend;
    api::ApiOptions options;
    api::Router router(options, backend);
    SUBCASE("defaults") {
        auto r = get(router, "/v1/events");
        CHECK(r.status == 200);
        CHECK(json::parse(r.body)["last_seq"] == 7);
        CHECK(backend.since == 0);
        CHECK(backend.limit == api::max_events_per_reply);
    }
    SUBCASE("since and limit") {
        CHECK(get(router, "/v1/events", {{"since", "42"}, {"limit", "10"}}).status == 200);
        CHECK(backend.since == 42);
        CHECK(backend.limit == 10);
    }
    SUBCASE("a since that is not a number") {
        auto r = get(router, "/v1/events", {{"since", "-1"}});
        CHECK(r.status == 400);
        CHECK(error_of(r) == "bad 'since': -1; use a number such as 0 or 42");
    }
    SUBCASE("a limit out of range") {
        auto r = get(router, "/v1/events", {{"limit", "0"}});
        CHECK(r.status == 400);
        CHECK(error_of(r) == "bad 'limit': 0; use 1..1000");
    }
    SUBCASE("history of one key") {
        CHECK(get(router, "/v1/history", {{"key", "example.com/site"}}).status == 200);
        CHECK(backend.keys == std::vector<std::string>{"example.com/site"});
    }
}

TEST_CASE("router: a backend without a timeline answers 404") {
    NullBackend backend;
    api::ApiOptions options;
    api::Router router(options, backend);
    auto r = get(router, "/v1/events");
    CHECK(r.status == 404);
    CHECK(error_of(r) == "this server keeps no event timeline");
}

TEST_CASE("router: drain and release carry the operator's reason") {
    TimelineBackend backend;
    api::ApiOptions options;
    options.token = "s3cret";
    api::Router router(options, backend);
    auto post = [&](const std::string& path, const std::string& body) {
        auto h = head("POST", path, "127.0.0.1", "Bearer s3cret");
        REQUIRE_FALSE(router.admit(h));
        return router.handle(h, body);
    };
    CHECK(post("/v1/drain", R"({"endpoint":"example.com/primary/127.0.0.10","reason":"kernel update"})").status == 200);
    CHECK(backend.drained == "example.com/primary/127.0.0.10");
    CHECK(backend.drain_reason == "kernel update");
    CHECK(post("/v1/release", R"({"service":"example.com/site"})").status == 200);
    CHECK(backend.released == "example.com/site");
    CHECK(backend.release_reason == "");
}
