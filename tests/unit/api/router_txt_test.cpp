// The /v1/txt routes (runtime TXT records): one path, three methods with their
// own access, bodies and query arguments into Backend calls.
#include <doctest/doctest.h>

#include "api/router.hpp"

using namespace signpost;
using nlohmann::json;

namespace {

struct TxtBackend : api::Backend {
    json services() override { return json::array(); }
    json endpoints() override { return json::array(); }
    json zones() override { return json::array(); }
    json explain(const std::string&, const std::string&, const std::string&) override { return json::object(); }
    json set_override(const api::OverrideRequest&) override { return json::object(); }
    json drain(const std::string&, bool) override { return json::object(); }
    json release(const std::string&) override { return json::object(); }
    json reload() override { return json::object(); }
    std::string metrics() override { return ""; }

    json runtime_txt() override { return {{"records", json::array()}}; }
    json txt_set(const api::TxtRequest& r) override {
        set = r;
        return {{"ok", true}};
    }
    json txt_del(const std::string& name, const std::optional<std::string>& value) override {
        deleted = {name, value};
        return {{"ok", true}};
    }
    std::optional<api::TxtRequest> set;
    std::optional<std::pair<std::string, std::optional<std::string>>> deleted;
};

api::RequestHead head(const std::string& method, const std::string& auth = "") {
    api::RequestHead h;
    h.method = method;
    h.path = "/v1/txt";
    h.peer = core::IpAddress::parse("127.0.0.1");
    h.authorization = auth;
    return h;
}

std::string error_of(const api::Reply& r) { return json::parse(r.body).at("error").get<std::string>(); }

}  // namespace

TEST_CASE("router: /v1/txt reads openly on loopback, writes with the token, other methods are 405") {
    TxtBackend backend;
    api::ApiOptions options;
    options.token = "s3cret";
    api::Router router(options, backend);
    CHECK_FALSE(router.admit(head("GET")));
    CHECK_FALSE(router.admit(head("HEAD")));
    auto post = router.admit(head("POST"));
    REQUIRE(post);
    CHECK(post->status == 401);
    auto del = router.admit(head("DELETE"));
    REQUIRE(del);
    CHECK(del->status == 401);
    CHECK_FALSE(router.admit(head("POST", "Bearer s3cret")));
    CHECK_FALSE(router.admit(head("DELETE", "Bearer s3cret")));
    auto put = router.admit(head("PUT", "Bearer s3cret"));
    REQUIRE(put);
    CHECK(put->status == 405);
    CHECK(error_of(*put) == "method PUT not allowed on /v1/txt: use GET, HEAD, POST, DELETE");
    REQUIRE(put->headers.size() == 1);
    CHECK(put->headers[0].second == "GET, HEAD, POST, DELETE");
    // Single-method routes answer as before.
    api::RequestHead status = head("POST");
    status.path = "/v1/status";
    auto r = router.admit(status);
    REQUIRE(r);
    CHECK(error_of(*r) == "method POST not allowed on /v1/status: use GET");
}

TEST_CASE("router: POST /v1/txt passes name, value, ttl and for, DELETE takes query arguments or a body") {
    TxtBackend backend;
    api::ApiOptions options;
    options.token = "s3cret";
    api::Router router(options, backend);
    auto ok = router.handle(head("POST"), R"({"name": "_acme-challenge.example.com", "value": "abc", "ttl": 30, "for": "10m"})");
    CHECK(ok.status == 200);
    REQUIRE(backend.set);
    CHECK(backend.set->name == "_acme-challenge.example.com");
    CHECK(backend.set->value == "abc");
    CHECK(backend.set->ttl == 30u);
    CHECK(backend.set->expires_in == core::Millis(600000));

    auto defaults = router.handle(head("POST"), R"({"name": "n", "value": "v"})");
    CHECK(defaults.status == 200);
    CHECK_FALSE(backend.set->ttl);
    CHECK_FALSE(backend.set->expires_in);

    auto bad_ttl = router.handle(head("POST"), R"({"name": "n", "value": "v", "ttl": "60"})");
    CHECK(bad_ttl.status == 400);
    CHECK(error_of(bad_ttl) == "'ttl' must be a number of seconds, got \"60\"");
    auto bad_for = router.handle(head("POST"), R"({"name": "n", "value": "v", "for": "soon"})");
    CHECK(bad_for.status == 400);
    CHECK(error_of(bad_for) == "bad duration 'soon' in 'for': use e.g. 90s, 30m, 1h30m");
    CHECK(error_of(router.handle(head("POST"), R"({"value": "v"})")) == "missing 'name'");

    auto h = head("DELETE");
    h.query["name"] = "_acme-challenge.example.com";
    h.query["value"] = "abc";
    CHECK(router.handle(h, "").status == 200);
    REQUIRE(backend.deleted);
    CHECK(backend.deleted->first == "_acme-challenge.example.com");
    CHECK(backend.deleted->second == std::optional<std::string>("abc"));
    CHECK(router.handle(head("DELETE"), R"({"name": "x.example.com"})").status == 200);
    CHECK(backend.deleted->first == "x.example.com");
    CHECK_FALSE(backend.deleted->second);
    auto missing = router.handle(head("DELETE"), "");
    CHECK(missing.status == 400);
    CHECK(error_of(missing) == "missing 'name'");

    auto list = router.handle(head("GET"), "");
    CHECK(list.status == 200);
    CHECK(json::parse(list.body).contains("records"));
}
