// ApiServer end to end: a real uv loop, a real listener on 127.0.0.1 port 0, a
// fake Backend, and libcurl in a client thread while the loop runs.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/api_server.hpp"
#include "core/log.hpp"

using namespace signpost;
using nlohmann::json;

namespace {

struct CurlInit {
    CurlInit() {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        core::set_log_level(core::LogLevel::Warning);  // no "listening on" line per test
    }
    ~CurlInit() { curl_global_cleanup(); }
} curl_init;

struct FakeBackend : api::Backend {
    std::vector<std::string> calls;
    api::OverrideRequest last_override;
    std::string last_drain;
    bool last_undrain = false;
    std::string last_release;
    std::string explain_name, explain_type, explain_client;
    std::function<void()> before;  // runs at the start of every call (to throw)

    void enter(const char* what) {
        calls.push_back(what);
        if (before) before();
    }
    json services() override {
        enter("services");
        return json::array({{{"key", "example.com/site"}, {"label", "failover:primary"}}});
    }
    json endpoints() override {
        enter("endpoints");
        return json::array({{{"key", "example.com/primary/127.0.0.10"}, {"state", "up"}}});
    }
    json zones() override {
        enter("zones");
        return json::array({{{"origin", "example.com"}, {"serial", 1795696452}}});
    }
    json explain(const std::string& name, const std::string& type, const std::string& client) override {
        enter("explain");
        explain_name = name;
        explain_type = type;
        explain_client = client;
        return {{"name", name}, {"type", type}, {"answer", json::array({"www.example.com. 5 IN A 127.0.0.11"})}};
    }
    json set_override(const api::OverrideRequest& r) override {
        enter("set_override");
        last_override = r;
        return {{"ok", true}, {"message", "override set"}};
    }
    json drain(const std::string& endpoint, bool undrain) override {
        enter("drain");
        last_drain = endpoint;
        last_undrain = undrain;
        return {{"ok", true}, {"message", "draining"}};
    }
    json release(const std::string& service) override {
        enter("release");
        last_release = service;
        return {{"ok", true}, {"message", "released"}};
    }
    json reload() override {
        enter("reload");
        return {{"ok", true}, {"message", "reloaded"}};
    }
    std::string metrics() override {
        enter("metrics");
        return "# TYPE signpost_up gauge\nsignpost_up 1\n";
    }
    json status() override {
        auto j = api::Backend::status();
        j["reload"] = {{"ok", true}, {"at", "2026-11-26T12:00:00Z"}, {"errors", json::array()}};
        return j;
    }
};

// A Backend that keeps the interface's default status().
struct MinimalBackend : FakeBackend {
    json status() override { return api::Backend::status(); }
};

struct Response {
    long status = 0;
    std::string body;
    std::string content_type;
    std::vector<std::string> headers;
    CURLcode code = CURLE_OK;

    json parsed() const { return json::parse(body); }
    std::string error() const { return parsed().at("error").get<std::string>(); }
    bool has_header(const std::string& line) const {
        for (auto& h : headers)
            if (h.rfind(line, 0) == 0) return true;
        return false;
    }
};

struct RequestSpec {
    std::string method = "GET";
    std::string path;
    std::string body;
    bool send_body = false;
    std::vector<std::string> headers;
    std::string host = "127.0.0.1";
    std::string interface;  // source address for the client, if any

    // Builders (designated initializers would warn under -Wextra).
    RequestSpec& m(std::string v) { method = std::move(v); return *this; }
    RequestSpec& at(std::string v) { path = std::move(v); return *this; }
    RequestSpec& with_body(std::string v) { body = std::move(v); send_body = true; return *this; }
    RequestSpec& header(std::string v) { headers.push_back(std::move(v)); return *this; }
    RequestSpec& from(std::string addr) { host = addr; interface = std::move(addr); return *this; }
};

RequestSpec req(std::string path) { return RequestSpec().at(std::move(path)); }

std::size_t write_body(char* p, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
}
std::size_t write_header(char* p, std::size_t size, std::size_t n, void* out) {
    std::string line(p, size * n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    static_cast<std::vector<std::string>*>(out)->push_back(line);
    return size * n;
}

Response curl_request(const RequestSpec& spec, uint16_t port) {
    Response r;
    CURL* c = curl_easy_init();
    std::string url = "http://" + spec.host + ":" + std::to_string(port) + spec.path;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, spec.method.c_str());
    if (spec.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (spec.send_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, spec.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(spec.body.size()));
    }
    curl_slist* headers = nullptr;
    for (auto& h : spec.headers) headers = curl_slist_append(headers, h.c_str());
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (!spec.interface.empty()) curl_easy_setopt(c, CURLOPT_INTERFACE, spec.interface.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    r.code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char* ct = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) r.content_type = ct;
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return r;
}

// One ApiServer on a private loop; request() runs the loop until the client
// thread is done or a deadline passes. The destructor checks the loop closes.
struct Harness {
    uv_loop_t loop{};
    uv_async_t wake{};
    uv_timer_t deadline{};
    std::unique_ptr<api::ApiServer> server;
    bool timed_out = false;

    explicit Harness(api::Backend& backend, api::ApiOptions options = {}) {
        REQUIRE(uv_loop_init(&loop) == 0);
        uv_async_init(&loop, &wake, [](uv_async_t*) {});
        uv_timer_init(&loop, &deadline);
        deadline.data = this;
        if (options.host == "127.0.0.1" || options.host.empty()) options.host = "127.0.0.1";
        options.port = 0;
        server = std::make_unique<api::ApiServer>(&loop, options, backend);
    }

    Response request(const RequestSpec& spec) {
        std::atomic<bool> done{false};
        Response out;
        timed_out = false;
        uv_timer_start(&deadline, [](uv_timer_t* t) { static_cast<Harness*>(t->data)->timed_out = true; }, 10000, 0);
        std::thread client([&] {
            out = curl_request(spec, server->port());
            done = true;
            uv_async_send(&wake);
        });
        while (!done && !timed_out) uv_run(&loop, UV_RUN_ONCE);
        client.join();
        uv_timer_stop(&deadline);
        CHECK_FALSE(timed_out);
        return out;
    }
    Response get(const std::string& path) { return request(req(path)); }
    Response post(const std::string& path, const std::string& body, std::vector<std::string> headers = {}) {
        auto spec = req(path).m("POST").with_body(body);
        spec.headers = std::move(headers);
        return request(spec);
    }

    // Stops the server, closes every handle and returns uv_loop_close().
    int close() {
        if (server) server->stop();
        server.reset();
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&wake))) {
            uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
            uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        return uv_loop_close(&loop);
    }
    ~Harness() {
        if (server || !uv_is_closing(reinterpret_cast<uv_handle_t*>(&wake))) CHECK(close() == 0);
    }
};

const std::string bearer = "Authorization: Bearer s3cret";

api::ApiOptions with_token() {
    api::ApiOptions o;
    o.token = "s3cret";
    return o;
}

std::string nlohmann_parse_message(const std::string& text) {
    try {
        auto j = json::parse(text);
        (void)j;
    } catch (const json::parse_error& e) {
        return e.what();
    }
    return "";
}

// A local address that is not loopback, or "" (then tests that need one skip).
std::string non_loopback_ipv4() {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return "";
    std::string found;
    for (auto* i = list; i && found.empty(); i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
        char buf[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
        if (std::string(buf).rfind("127.", 0) != 0) found = buf;
    }
    freeifaddrs(list);
    return found;
}

}  // namespace

TEST_CASE("api: GET routes return the Backend's JSON") {
    FakeBackend backend;
    Harness h(backend);
    SUBCASE("services") {
        auto r = h.get("/v1/services");
        CHECK(r.status == 200);
        CHECK(r.content_type == "application/json");
        CHECK(r.parsed() == backend.services());
    }
    SUBCASE("endpoints") {
        auto r = h.get("/v1/endpoints");
        CHECK(r.status == 200);
        CHECK(r.parsed()[0]["key"] == "example.com/primary/127.0.0.10");
    }
    SUBCASE("zones") {
        auto r = h.get("/v1/zones");
        CHECK(r.status == 200);
        CHECK(r.parsed()[0]["serial"] == 1795696452);
    }
}

TEST_CASE("api: GET /v1/status combines services endpoints zones and the last reload") {
    FakeBackend backend;
    Harness h(backend);
    auto r = h.get("/v1/status");
    REQUIRE(r.status == 200);
    auto j = r.parsed();
    CHECK(j["services"] == backend.services());
    CHECK(j["endpoints"] == backend.endpoints());
    CHECK(j["zones"] == backend.zones());
    CHECK(j["reload"]["ok"] == true);
    CHECK(j["reload"]["at"] == "2026-11-26T12:00:00Z");
}

TEST_CASE("api: the default status combines the three lists with reload null") {
    MinimalBackend backend;
    Harness h(backend);
    auto r = h.get("/v1/status");
    REQUIRE(r.status == 200);
    CHECK(r.parsed()["services"] == backend.services());
    CHECK(r.parsed()["zones"] == backend.zones());
    CHECK(r.parsed()["reload"].is_null());
}

TEST_CASE("api: explain passes name type and client to the Backend") {
    FakeBackend backend;
    Harness h(backend);
    SUBCASE("all given") {
        auto r = h.get("/v1/explain?name=www.example.com&type=aaaa&client=198.51.100.7");
        CHECK(r.status == 200);
        CHECK(backend.explain_name == "www.example.com");
        CHECK(backend.explain_type == "AAAA");
        CHECK(backend.explain_client == "198.51.100.7");
        CHECK(r.parsed()["answer"][0] == "www.example.com. 5 IN A 127.0.0.11");
    }
    SUBCASE("type defaults to A and client to empty") {
        auto r = h.get("/v1/explain?name=www.example.com");
        CHECK(r.status == 200);
        CHECK(backend.explain_type == "A");
        CHECK(backend.explain_client == "");
    }
    SUBCASE("query arguments are percent-decoded") {
        auto r = h.get("/v1/explain?name=www.example.com&client=2001%3Adb8%3A%3A1");
        CHECK(r.status == 200);
        CHECK(backend.explain_client == "2001:db8::1");
    }
    SUBCASE("name is required") {
        auto r = h.get("/v1/explain?type=A");
        CHECK(r.status == 400);
        CHECK(r.error() == "missing 'name'");
        CHECK(backend.calls.empty());
    }
}

TEST_CASE("api: /metrics is Prometheus text") {
    FakeBackend backend;
    Harness h(backend);
    auto r = h.get("/metrics");
    CHECK(r.status == 200);
    CHECK(r.content_type == "text/plain; version=0.0.4");
    CHECK(r.body == "# TYPE signpost_up gauge\nsignpost_up 1\n");
}

TEST_CASE("api: HEAD is accepted where GET is") {
    FakeBackend backend;
    Harness h(backend);
    auto r = h.request(req("/v1/services").m("HEAD"));
    CHECK(r.status == 200);
}

TEST_CASE("api: unknown path is 404 and wrong method is 405") {
    FakeBackend backend;
    Harness h(backend, with_token());
    SUBCASE("unknown path") {
        auto r = h.get("/v1/nope");
        CHECK(r.status == 404);
        CHECK(r.content_type == "application/json");
        CHECK(r.error() == "no such route: /v1/nope");
    }
    SUBCASE("POST on a read route") {
        auto r = h.post("/v1/services", "{}", {bearer});
        CHECK(r.status == 405);
        CHECK(r.error() == "method POST not allowed on /v1/services: use GET");
        CHECK(r.has_header("Allow: GET, HEAD"));
    }
    SUBCASE("GET on a write route") {
        auto r = h.get("/v1/overrides");
        CHECK(r.status == 405);
        CHECK(r.error() == "method GET not allowed on /v1/overrides: use POST");
        CHECK(r.has_header("Allow: POST"));
    }
    SUBCASE("DELETE") {
        auto r = h.request(req("/v1/zones").m("DELETE"));
        CHECK(r.status == 405);
    }
    CHECK(backend.calls.empty());
}

TEST_CASE("api: POST /v1/overrides parses the body into an OverrideRequest") {
    FakeBackend backend;
    Harness h(backend, with_token());
    SUBCASE("down with reason and expiry") {
        auto r = h.post("/v1/overrides",
                        R"({"target":"example.com/primary/127.0.0.10","state":"down","reason":"maintenance","for":"30m"})",
                        {bearer});
        CHECK(r.status == 200);
        CHECK(r.parsed()["ok"] == true);
        CHECK(backend.last_override.target == "example.com/primary/127.0.0.10");
        CHECK(backend.last_override.state == core::Override::ForceDown);
        CHECK(backend.last_override.reason == "maintenance");
        REQUIRE(backend.last_override.expires_in);
        CHECK(backend.last_override.expires_in->count() == 30 * 60 * 1000);
    }
    SUBCASE("up without expiry") {
        auto r = h.post("/v1/overrides", R"({"target":"example.com/primary","state":"up"})", {bearer});
        CHECK(r.status == 200);
        CHECK(backend.last_override.state == core::Override::ForceUp);
        CHECK_FALSE(backend.last_override.expires_in);
        CHECK(backend.last_override.reason == "");
    }
    SUBCASE("auto") {
        auto r = h.post("/v1/overrides", R"({"target":"example.com/primary","state":"auto"})", {bearer});
        CHECK(r.status == 200);
        CHECK(backend.last_override.state == core::Override::Auto);
    }
    SUBCASE("a bare number for 'for' is seconds") {
        auto r = h.post("/v1/overrides", R"({"target":"t","state":"down","for":90})", {bearer});
        CHECK(r.status == 200);
        REQUIRE(backend.last_override.expires_in);
        CHECK(backend.last_override.expires_in->count() == 90000);
    }
}

TEST_CASE("api: bad override bodies are 400 with a message") {
    FakeBackend backend;
    Harness h(backend, with_token());
    auto check = [&](const std::string& body, const std::string& message) {
        auto r = h.post("/v1/overrides", body, {bearer});
        CHECK(r.status == 400);
        CHECK(r.error() == message);
    };
    SUBCASE("not JSON") { check("{target: x}", "invalid JSON: " + nlohmann_parse_message("{target: x}")); }
    SUBCASE("empty body") { check("", "invalid JSON: " + nlohmann_parse_message("")); }
    SUBCASE("not an object") { check("[1]", "invalid JSON: the body must be an object"); }
    SUBCASE("missing target") { check(R"({"state":"up"})", "missing 'target'"); }
    SUBCASE("target of the wrong type") { check(R"({"target":5,"state":"up"})", "'target' must be a string"); }
    SUBCASE("missing state") { check(R"({"target":"t"})", "missing 'state': use up, down or auto"); }
    SUBCASE("unknown state") { check(R"({"target":"t","state":"sideways"})", "unknown state 'sideways': use up, down or auto"); }
    SUBCASE("bad duration") {
        check(R"({"target":"t","state":"down","for":"soon"})", "bad duration 'soon' in 'for': use e.g. 90s, 30m, 1h30m");
    }
    SUBCASE("zero duration") {
        check(R"({"target":"t","state":"down","for":"0s"})", "bad duration '0s' in 'for': use e.g. 90s, 30m, 1h30m");
    }
    SUBCASE("negative number") {
        check(R"({"target":"t","state":"down","for":-5})", "bad duration '-5' in 'for': use e.g. 90s, 30m, 1h30m");
    }
    CHECK(backend.calls.empty());
}

TEST_CASE("api: drain release and reload reach the Backend") {
    FakeBackend backend;
    Harness h(backend, with_token());
    SUBCASE("drain") {
        auto r = h.post("/v1/drain", R"({"endpoint":"example.com/primary/127.0.0.10"})", {bearer});
        CHECK(r.status == 200);
        CHECK(r.parsed()["message"] == "draining");
        CHECK(backend.last_drain == "example.com/primary/127.0.0.10");
        CHECK_FALSE(backend.last_undrain);
    }
    SUBCASE("undrain") {
        auto r = h.post("/v1/drain", R"({"endpoint":"e","undrain":true})", {bearer});
        CHECK(r.status == 200);
        CHECK(backend.last_undrain);
    }
    SUBCASE("drain without endpoint") {
        auto r = h.post("/v1/drain", R"({})", {bearer});
        CHECK(r.status == 400);
        CHECK(r.error() == "missing 'endpoint'");
    }
    SUBCASE("undrain of the wrong type") {
        auto r = h.post("/v1/drain", R"({"endpoint":"e","undrain":"yes"})", {bearer});
        CHECK(r.status == 400);
        CHECK(r.error() == "'undrain' must be true or false");
    }
    SUBCASE("release") {
        auto r = h.post("/v1/release", R"({"service":"example.com/site"})", {bearer});
        CHECK(r.status == 200);
        CHECK(backend.last_release == "example.com/site");
    }
    SUBCASE("release without service") {
        auto r = h.post("/v1/release", R"({"service":""})", {bearer});
        CHECK(r.status == 400);
        CHECK(r.error() == "missing 'service'");
    }
    SUBCASE("reload with an empty body") {
        auto r = h.post("/v1/reload", "", {bearer});
        CHECK(r.status == 200);
        CHECK(r.parsed()["message"] == "reloaded");
        CHECK(backend.calls == std::vector<std::string>{"reload"});
    }
}

TEST_CASE("api: request bodies above 64 KiB are 413") {
    FakeBackend backend;
    Harness h(backend, with_token());
    std::string big = R"({"target":"t","state":"up","reason":")" + std::string(70 * 1024, 'x') + R"("})";
    SUBCASE("with Content-Length") {
        auto r = h.post("/v1/overrides", big, {bearer});
        CHECK(r.status == 413);
        CHECK(r.error() == "request body too large: at most 65536 bytes");
    }
    SUBCASE("chunked") {
        auto r = h.post("/v1/overrides", big, {bearer, "Transfer-Encoding: chunked"});
        CHECK(r.status == 413);
        CHECK(r.error() == "request body too large: at most 65536 bytes");
    }
    SUBCASE("just under the limit is read") {
        std::string fits = R"({"target":"t","state":"up","reason":")" + std::string(60 * 1024, 'x') + R"("})";
        auto r = h.post("/v1/overrides", fits, {bearer});
        CHECK(r.status == 200);
        CHECK(backend.last_override.reason.size() == 60 * 1024);
    }
    // The server keeps serving after refusing.
    CHECK(h.get("/v1/zones").status == 200);
}

TEST_CASE("api: writes need the configured token") {
    FakeBackend backend;
    SUBCASE("no token configured is 403") {
        Harness h(backend);
        auto r = h.post("/v1/reload", "", {bearer});
        CHECK(r.status == 403);
        CHECK(r.error() == "writes are disabled: set api.token in the server config");
    }
    SUBCASE("missing token is 401") {
        Harness h(backend, with_token());
        auto r = h.post("/v1/reload", "");
        CHECK(r.status == 401);
        CHECK(r.error() == "missing token: send 'Authorization: Bearer <api.token>'");
        CHECK(r.has_header("WWW-Authenticate: Bearer"));
    }
    SUBCASE("wrong token is 401") {
        Harness h(backend, with_token());
        auto r = h.post("/v1/reload", "", {"Authorization: Bearer s3cre"});
        CHECK(r.status == 401);
        CHECK(r.error() == "wrong token");
    }
    SUBCASE("another scheme is a missing token") {
        Harness h(backend, with_token());
        auto r = h.post("/v1/reload", "", {"Authorization: Basic czNjcmV0"});
        CHECK(r.status == 401);
        CHECK(r.error() == "missing token: send 'Authorization: Bearer <api.token>'");
    }
    SUBCASE("the right token with any scheme case is accepted") {
        Harness h(backend, with_token());
        auto r = h.post("/v1/reload", "", {"Authorization: bearer s3cret"});
        CHECK(r.status == 200);
    }
}

TEST_CASE("api: reads from loopback are open without a token") {
    FakeBackend backend;
    Harness h(backend, with_token());
    CHECK(h.get("/v1/services").status == 200);
    CHECK(h.get("/metrics").status == 200);
    // and a wrong token on a read from loopback does not hurt
    CHECK(h.request(req("/v1/zones").header("Authorization: Bearer nope")).status == 200);
}

TEST_CASE("api: reads from a non-loopback peer need the token or read_allow") {
    std::string local = non_loopback_ipv4();
    if (local.empty()) {
        MESSAGE("no non-loopback IPv4 address on this machine: skipped");
        return;
    }
    FakeBackend backend;
    SUBCASE("without token") {
        api::ApiOptions o = with_token();
        o.host = "0.0.0.0";
        Harness h(backend, o);
        auto r = h.request(req("/v1/services").from(local));
        CHECK(r.status == 401);
        CHECK(r.error() == "reads from " + local + " need 'Authorization: Bearer <api.token>' or an api.read_allow entry");
        auto ok = h.request(req("/v1/services").header(bearer).from(local));
        CHECK(ok.status == 200);
    }
    SUBCASE("read_allow") {
        api::ApiOptions o = with_token();
        o.host = "0.0.0.0";
        o.read_allow.push_back(*core::IpPrefix::parse(local));
        Harness h(backend, o);
        CHECK(h.request(req("/v1/services").from(local)).status == 200);
        // writes still need the token
        auto w = h.request(req("/v1/reload").m("POST").with_body("").from(local));
        CHECK(w.status == 401);
    }
}

TEST_CASE("api: ApiError from the Backend keeps its status and message") {
    FakeBackend backend;
    backend.before = [] { throw api::ApiError(404, "unknown endpoint 'example.com/primary/192.0.2.99'"); };
    Harness h(backend, with_token());
    auto r = h.post("/v1/drain", R"({"endpoint":"example.com/primary/192.0.2.99"})", {bearer});
    CHECK(r.status == 404);
    CHECK(r.error() == "unknown endpoint 'example.com/primary/192.0.2.99'");
    SUBCASE("a status outside 4xx/5xx becomes 500") {
        backend.before = [] { throw api::ApiError(200, "odd"); };
        auto odd = h.get("/v1/services");
        CHECK(odd.status == 500);
        CHECK(odd.error() == "odd");
    }
}

TEST_CASE("api: other exceptions from the Backend are 500 and the server keeps serving") {
    FakeBackend backend;
    backend.before = [] { throw std::runtime_error("view not built yet"); };
    Harness h(backend);
    auto r = h.get("/v1/status");
    CHECK(r.status == 500);
    CHECK(r.error() == "view not built yet");
    backend.before = [] { throw 42; };
    auto odd = h.get("/v1/zones");
    CHECK(odd.status == 500);
    CHECK(odd.error() == "internal error");
    backend.before = nullptr;
    CHECK(h.get("/v1/zones").status == 200);
}

TEST_CASE("api: bytes that are not UTF-8 in Backend strings do not break the reply") {
    struct Latin1 : FakeBackend {
        json zones() override { return json::array({{{"origin", std::string("caf\xe9.example")}}}); }
    } backend;
    Harness h(backend);
    auto r = h.get("/v1/zones");
    CHECK(r.status == 200);
    CHECK(r.parsed()[0]["origin"].get<std::string>().rfind("caf", 0) == 0);
}

TEST_CASE("api: many requests in a row on one server") {
    FakeBackend backend;
    Harness h(backend, with_token());
    for (int i = 0; i < 50; ++i) {
        CHECK(h.get("/v1/services").status == 200);
        CHECK(h.post("/v1/drain", R"({"endpoint":"e"})", {bearer}).status == 200);
    }
    CHECK(backend.calls.size() == 100);
}

TEST_CASE("api: the loop closes after stop") {
    FakeBackend backend;
    Harness h(backend);
    CHECK(h.get("/v1/zones").status == 200);
    CHECK(h.close() == 0);
}

TEST_CASE("api: stop with a connection still open closes cleanly") {
    FakeBackend backend;
    Harness h(backend);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(h.server->port());
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    std::string partial = "POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{";
    REQUIRE(::write(fd, partial.data(), partial.size()) == static_cast<ssize_t>(partial.size()));
    // Let the server accept and read the partial request.
    for (int i = 0; i < 20; ++i) uv_run(&h.loop, UV_RUN_NOWAIT);
    CHECK(h.close() == 0);
    ::close(fd);
}

TEST_CASE("api: stop from inside a Backend call answers the request and then stops") {
    struct Stopping : FakeBackend {
        api::ApiServer* server = nullptr;
        json reload() override {
            server->stop();
            return {{"ok", true}, {"message", "stopping"}};
        }
    } backend;
    Harness h(backend, with_token());
    backend.server = h.server.get();
    auto r = h.post("/v1/reload", "", {bearer});
    // Either the reply made it out before the listener closed, or the connection was cut; never a crash.
    if (r.code == CURLE_OK) CHECK(r.status == 200);
    CHECK(h.close() == 0);
}

TEST_CASE("api: listens on IPv6 loopback") {
    FakeBackend backend;
    api::ApiOptions o;
    o.host = "::1";
    std::unique_ptr<Harness> h;
    try {
        h = std::make_unique<Harness>(backend, o);
    } catch (const std::runtime_error& e) {
        MESSAGE("no IPv6 loopback here: " << e.what());
        return;
    }
    CHECK(h->server->port() != 0);
    auto r = h->request([] { auto s = req("/v1/zones"); s.host = "[::1]"; return s; }());
    CHECK(r.status == 200);
}

TEST_CASE("api: start errors name the address") {
    FakeBackend backend;
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    SUBCASE("port in use") {
        api::ApiOptions first;
        first.port = 0;
        api::ApiServer a(&loop, first, backend);
        api::ApiOptions second;
        second.port = a.port();
        std::string expected = "cannot start API on 127.0.0.1:" + std::to_string(a.port()) + ": Address already in use";
        CHECK_THROWS_WITH_AS(api::ApiServer(&loop, second, backend), expected.c_str(), std::runtime_error);
        a.stop();
    }
    SUBCASE("host that is not an address") {
        api::ApiOptions o;
        o.host = "localhost";
        CHECK_THROWS_WITH_AS(api::ApiServer(&loop, o, backend),
                             "cannot start API on localhost:8054: host must be an IPv4 or IPv6 address, got 'localhost'",
                             std::runtime_error);
    }
    SUBCASE("IPv6 shown in brackets") {
        api::ApiOptions o;
        o.host = "2001:db8::1";  // not configured here: bind fails
        CHECK_THROWS_WITH_AS(api::ApiServer(&loop, o, backend),
                             "cannot start API on [2001:db8::1]:8054: Cannot assign requested address",
                             std::runtime_error);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("api: every reply says nosniff, the page has its CSP, JSON a closed one") {
    FakeBackend backend;
    Harness h(backend);
    auto page = h.get("/");
    CHECK(page.status == 200);
    CHECK(page.has_header("X-Content-Type-Options: nosniff"));
    CHECK(page.has_header("Content-Security-Policy: default-src 'self'; script-src 'self';"));
    auto data = h.get("/v1/status");
    CHECK(data.has_header("X-Content-Type-Options: nosniff"));
    CHECK(data.has_header("Content-Security-Policy: default-src 'none'; frame-ancestors 'none'"));
    auto missing = h.get("/nope");
    CHECK(missing.status == 404);
    CHECK(missing.has_header("X-Content-Type-Options: nosniff"));
}
