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
