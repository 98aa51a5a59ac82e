// HookRunner on a real libuv loop: commands (event on stdin and in the
// environment, exit status, timeout), HTTP POSTs to a real local listener
// (2xx, retries on 5xx), backoff and giving up, and stop() with work in flight.
#include <doctest/doctest.h>

#include <uv.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hooks/hook_runner.hpp"

using namespace signpost;
using Clock = std::chrono::steady_clock;

namespace {

// A command that exits without reading its stdin makes the runner's write fail
// with EPIPE; the daemon ignores SIGPIPE (tools/main.cpp) and so must this
// test binary, or the signal kills it.
const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

hooks::HookEvent event() {
    hooks::HookEvent e;
    e.event = "service";
    e.zone = "example.com";
    e.service = "site";
    e.from = "primary";
    e.to = "failover:secondary";
    e.reason = "endpoint 127.0.0.10 down: HTTP 503";
    return e;
}

std::string temp_path(const char* name) {
    auto dir = std::filesystem::temp_directory_path() / ("signpost-hooks-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto p = dir / name;
    std::filesystem::remove(p);
    return p.string();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

zones::Hook command(const std::string& script) {
    zones::Hook h;
    h.command = {"/bin/sh", "-c", script};
    return h;
}

// Runs the loop until `done()` or `limit`; returns the time it took.
double run_until(uv_loop_t* loop, const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto start = Clock::now();
    while (!done() && Clock::now() - start < limit) {
        uv_run(loop, UV_RUN_NOWAIT);
        uv_sleep(2);
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
}

void close_loop(uv_loop_t* loop) {
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(loop) == 0);
}

// A one-request-per-connection HTTP listener on 127.0.0.1 answering with
// `statuses` in turn (the last one repeats); keeps each request's body.
struct HttpSink {
    uv_tcp_t server{};
    uint16_t port = 0;
    std::vector<int> statuses;
    std::vector<std::string> bodies;
    std::size_t requests = 0;

    struct Conn {
        uv_tcp_t tcp{};
        HttpSink* sink = nullptr;
        std::string in;
        bool answered = false;
    };

    HttpSink(uv_loop_t* loop, std::vector<int> s) : statuses(std::move(s)) {
        uv_tcp_init(loop, &server);
        server.data = this;
        sockaddr_in a{};
        uv_ip4_addr("127.0.0.1", 0, &a);
        REQUIRE(uv_tcp_bind(&server, reinterpret_cast<const sockaddr*>(&a), 0) == 0);
        sockaddr_storage bound{};
        int len = sizeof bound;
        uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &len);
        port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&server), 16, [](uv_stream_t* s, int status) {
            if (status < 0) return;
            auto* sink = static_cast<HttpSink*>(s->data);
            auto* c = new Conn;
            c->sink = sink;
            uv_tcp_init(s->loop, &c->tcp);
            c->tcp.data = c;
            if (uv_accept(s, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
                uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
                return;
            }
            uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp),
                          [](uv_handle_t*, size_t, uv_buf_t* b) {
                              static char storage[65536];
                              *b = uv_buf_init(storage, sizeof storage);
                          },
                          [](uv_stream_t* st, ssize_t n, const uv_buf_t* b) {
                              auto* c = static_cast<Conn*>(st->data);
                              if (n < 0) {
                                  uv_close(reinterpret_cast<uv_handle_t*>(st),
                                           [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
                                  return;
                              }
                              c->in.append(b->base, std::size_t(n));
                              c->sink->maybe_answer(c);
                          });
        }) == 0);
    }

    void maybe_answer(Conn* c) {
        auto head_end = c->in.find("\r\n\r\n");
        if (c->answered || head_end == std::string::npos) return;
        auto cl = c->in.find("Content-Length: ");
        std::size_t length = cl == std::string::npos ? 0 : std::stoul(c->in.substr(cl + 16));
        if (c->in.size() < head_end + 4 + length) return;
        c->answered = true;
        bodies.push_back(c->in.substr(head_end + 4, length));
        int status = statuses[std::min(requests, statuses.size() - 1)];
        ++requests;
        auto* text = new std::string("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        auto* req = new uv_write_t;
        req->data = text;
        uv_buf_t buf = uv_buf_init(text->data(), unsigned(text->size()));
        uv_write(req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, [](uv_write_t* r, int) {
            delete static_cast<std::string*>(r->data);
            uv_close(reinterpret_cast<uv_handle_t*>(r->handle), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
            delete r;
        });
    }

    void close() { uv_close(reinterpret_cast<uv_handle_t*>(&server), nullptr); }
};

}  // namespace

TEST_CASE("hooks: the event as JSON has every field and a UTC time") {
    auto j = nlohmann::json::parse(event().to_json());
    CHECK(j["event"] == "service");
    CHECK(j["zone"] == "example.com");
    CHECK(j["service"] == "site");
    CHECK(j["from"] == "primary");
    CHECK(j["to"] == "failover:secondary");
    CHECK(j["reason"] == "endpoint 127.0.0.10 down: HTTP 503");
    CHECK(j["endpoint"] == "");
    CHECK(j["time"].get<std::string>().size() == 20);  // 2026-11-26T12:00:00Z
}

TEST_CASE("hooks: a command gets the event on stdin and in its environment") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    auto out = temp_path("command.out");
    {
        hooks::HookRunner runner(&loop);
        runner.deliver(command("cat > " + out + "; echo \"$SIGNPOST_EVENT $SIGNPOST_ZONE $SIGNPOST_TO\" >> " + out), event());
        CHECK(runner.pending() == 1);
        run_until(&loop, [&] { return runner.pending() == 0; });
        CHECK(runner.pending() == 0);
        runner.stop();
    }
    close_loop(&loop);
    auto text = read_file(out);
    auto nl = text.find("}");
    REQUIRE(nl != std::string::npos);
    CHECK(nlohmann::json::parse(text.substr(0, nl + 1))["to"] == "failover:secondary");
    CHECK(text.find("service example.com failover:secondary") != std::string::npos);
}

TEST_CASE("hooks: a failing command is retried with backoff and then given up") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    auto out = temp_path("attempts.out");
    hooks::HookOptions o;
    o.max_attempts = 3;
    o.first_backoff = std::chrono::milliseconds(20);
    double took = 0;
    {
        hooks::HookRunner runner(&loop, o);
        runner.deliver(command("echo try >> " + out + "; exit 3"), event());
        took = run_until(&loop, [&] { return runner.pending() == 0; });
        runner.stop();
    }
    close_loop(&loop);
    CHECK(read_file(out) == "try\ntry\ntry\n");
    CHECK(took >= 0.055);  // waited 20 + 40 ms between the tries
}

TEST_CASE("hooks: a command that hangs is killed at its timeout") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    hooks::HookOptions o;
    o.max_attempts = 1;
    o.command_timeout = std::chrono::milliseconds(100);
    double took = 0;
    {
        hooks::HookRunner runner(&loop, o);
        runner.deliver(command("exec sleep 30"), event());
        took = run_until(&loop, [&] { return runner.pending() == 0; });
        CHECK(runner.pending() == 0);
        runner.stop();
    }
    close_loop(&loop);
    CHECK(took < 3.0);
}

TEST_CASE("hooks: an HTTP hook POSTs the JSON and retries after a 5xx") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    HttpSink sink(&loop, {503, 204});
    hooks::HookOptions o;
    o.first_backoff = std::chrono::milliseconds(20);
    {
        hooks::HookRunner runner(&loop, o);
        zones::Hook h;
        h.url = "http://127.0.0.1:" + std::to_string(sink.port) + "/hook";
        runner.deliver(h, event());
        run_until(&loop, [&] { return runner.pending() == 0; });
        CHECK(runner.pending() == 0);
        runner.stop();
    }
    sink.close();
    close_loop(&loop);
    REQUIRE(sink.requests == 2);
    CHECK(nlohmann::json::parse(sink.bodies[1])["reason"] == "endpoint 127.0.0.10 down: HTTP 503");
}

TEST_CASE("hooks: stop abandons deliveries in flight and leaves no handle open") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        hooks::HookRunner runner(&loop);
        runner.deliver(command("exec sleep 30"), event());
        zones::Hook h;
        h.url = "http://127.0.0.1:9/unreachable";  // discard port: refused, then a retry timer
        runner.deliver(h, event());
        run_until(&loop, [] { return false; }, std::chrono::milliseconds(100));
        CHECK(runner.pending() == 2);
        runner.stop();
        CHECK(runner.pending() == 0);
    }
    close_loop(&loop);  // CHECKs uv_loop_close() == 0
}
