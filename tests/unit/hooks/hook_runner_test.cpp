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

// A path in this test process's own directory, removed when the process ends. PIDs come
// round again (pid_max is often 32,768), so a path may still hold what an earlier run
// left, a directory with files among them: remove_all, not remove (which threw, and
// failed a test at random).
std::string temp_path(const char* name) {
    static const struct Dir {
        std::filesystem::path path =
            std::filesystem::temp_directory_path() / ("signpost-hooks-" + std::to_string(::getpid()));
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    } dir;
    std::filesystem::create_directories(dir.path);
    auto p = dir.path / name;
    std::filesystem::remove_all(p);
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

// Runs the loop until nothing is left in it, for at most 20 s. A handle still active
// then fails the test and is closed, so that a lost event ends the test (it hung the
// TSan stage once: a command's exit never came back, its shell left a zombie).
void close_loop(uv_loop_t* loop) {
    run_until(loop, [&] { return !uv_loop_alive(loop); }, std::chrono::seconds(20));
    if (uv_loop_alive(loop)) {
        uv_walk(loop, [](uv_handle_t* h, void*) {
            if (!uv_is_active(h) || uv_is_closing(h)) return;
            FAIL_CHECK("a handle is still active: " << uv_handle_type_name(uv_handle_get_type(h)));
            uv_close(h, nullptr);
        }, nullptr);
        uv_run(loop, UV_RUN_NOWAIT);
    }
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
    bool down = false;                // answer 500 to everything while set
    std::vector<uint64_t> seqs;       // the seq of every request, in arrival order
    std::vector<uint64_t> accepted;   // the seq of every request answered 2xx

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
        int status = down ? 500 : statuses[std::min(requests, statuses.size() - 1)];
        ++requests;
        uint64_t seq = nlohmann::json::parse(bodies.back()).value("seq", uint64_t(0));
        seqs.push_back(seq);
        if (status >= 200 && status <= 299) accepted.push_back(seq);
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

TEST_CASE("hooks: the event as JSON has every field, its seq and a UTC time in milliseconds") {
    auto e = event();
    e.seq = 41;
    auto j = nlohmann::json::parse(e.to_json());
    CHECK(j["seq"] == 41);
    CHECK(j["event"] == "service");
    CHECK(j["zone"] == "example.com");
    CHECK(j["service"] == "site");
    CHECK(j["from"] == "primary");
    CHECK(j["to"] == "failover:secondary");
    CHECK(j["reason"] == "endpoint 127.0.0.10 down: HTTP 503");
    CHECK(j["endpoint"] == "");
    CHECK(j["time"].get<std::string>().size() == 24);  // 2026-11-26T12:00:00.000Z
    CHECK(j.size() == 9);
}

// docs/hooks.md shows this payload: the test keeps the example true.
TEST_CASE("hooks: the documented example payload is what the runner sends") {
    hooks::HookEvent e;
    e.seq = 17;
    e.event = "service";
    e.zone = "example.com";
    e.service = "site";
    e.from = "primary";
    e.to = "failover:secondary";
    e.reason = "endpoint 192.0.2.10 down: HTTP 503";
    e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796327909123));
    CHECK(e.to_json() ==
          R"({"seq":17,"event":"service","time":"2026-12-03T19:58:29.123Z","zone":"example.com","service":"site",)"
          R"("endpoint":"","from":"primary","to":"failover:secondary",)"
          R"("reason":"endpoint 192.0.2.10 down: HTTP 503"})");
}

TEST_CASE("hooks: times are RFC 3339 UTC with milliseconds") {
    using std::chrono::milliseconds;
    using tp = std::chrono::system_clock::time_point;
    CHECK(hooks::format_time(tp(milliseconds(1796327909123))) == "2026-12-03T19:58:29.123Z");
    CHECK(hooks::format_time(tp(milliseconds(1796327909000))) == "2026-12-03T19:58:29.000Z");
    CHECK(hooks::format_time(tp(milliseconds(1796327909007))) == "2026-12-03T19:58:29.007Z");
    CHECK(hooks::format_time(tp(std::chrono::microseconds(1796327909999999))) == "2026-12-03T19:58:29.999Z");
}

TEST_CASE("hooks: a command gets the event on stdin and in its environment") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    auto out = temp_path("command.out");
    auto e = event();
    e.seq = 7;
    e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796327909123));
    {
        hooks::HookRunner runner(&loop);
        runner.deliver(command("cat > " + out + "; echo \"$SIGNPOST_EVENT $SIGNPOST_ZONE $SIGNPOST_TO\" >> " + out +
                               "; echo \"seq=$SIGNPOST_SEQ time=$SIGNPOST_TIME\" >> " + out),
                       e);
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
    CHECK(text.find("seq=7 time=2026-12-03T19:58:29.123Z") != std::string::npos);
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
    CHECK(took < 20.0);  // killed, not waited for: sleep would take 30 s
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

// ---- order per sink ----------------------------------------------------------

namespace {

hooks::HookEvent numbered(uint64_t seq, std::string kind = "service") {
    auto e = event();
    e.seq = seq;
    e.event = std::move(kind);
    return e;
}

// A command sink that records "start N" / "end N" and holds each delivery until
// the test opens the gate; a second copy running at the same time writes
// "overlap" (mkdir is atomic).
struct GatedCommand {
    std::string dir, out, gate;
    zones::Hook hook;

    explicit GatedCommand(const char* name) {
        dir = temp_path(name);
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        out = dir + "/out";
        gate = dir + "/gate";
        hook = command("mkdir " + dir + "/lock 2>/dev/null || echo overlap >> " + out + "; " +
                       "echo start $SIGNPOST_SEQ >> " + out + "; " +
                       "i=0; while [ ! -e " + gate + " ] && [ $i -lt 900 ]; do sleep 0.01; i=$((i+1)); done; " +
                       "echo end $SIGNPOST_SEQ >> " + out + "; rmdir " + dir + "/lock");
    }
    std::string text() const { return read_file(out); }
    bool saw(const std::string& line) const { return (text()).find(line + "\n") != std::string::npos; }
    void open() const { std::ofstream(gate) << "open\n"; }
};

}  // namespace

TEST_CASE("hooks: a command sink runs one event at a time, in the order they came") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    GatedCommand sink("gated-order");
    zones::Hook same_command_elsewhere = sink.hook;  // another service's hook naming the same command
    {
        hooks::HookRunner runner(&loop);
        runner.deliver(sink.hook, numbered(1));
        runner.deliver(same_command_elsewhere, numbered(2));
        runner.deliver(sink.hook, numbered(3));
        CHECK(runner.pending() == 3);
        run_until(&loop, [&] { return sink.saw("start 1"); });
        REQUIRE(sink.saw("start 1"));
        sink.open();
        run_until(&loop, [&] { return runner.pending() == 0; }, std::chrono::seconds(20));
        CHECK(runner.pending() == 0);
        runner.stop();
    }
    close_loop(&loop);
    CHECK(sink.text() == "start 1\nend 1\nstart 2\nend 2\nstart 3\nend 3\n");
}

TEST_CASE("hooks: a webhook being retried holds back that sink's later events") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    HttpSink sink(&loop, {500, 204});
    hooks::HookOptions o;
    o.first_backoff = std::chrono::milliseconds(20);
    {
        hooks::HookRunner runner(&loop, o);
        zones::Hook h;
        h.url = "http://127.0.0.1:" + std::to_string(sink.port) + "/hook";
        runner.deliver(h, numbered(1));
        runner.deliver(h, numbered(2));
        run_until(&loop, [&] { return runner.pending() == 0; });
        CHECK(runner.pending() == 0);
        runner.stop();
    }
    sink.close();
    close_loop(&loop);
    CHECK(sink.seqs == std::vector<uint64_t>{1, 1, 2});  // never 2 before 1's retry
    CHECK(sink.accepted == std::vector<uint64_t>{1, 2});
}

TEST_CASE("hooks: a sink down through a failover and back for the failback ends with the failback") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    HttpSink sink(&loop, {204});
    sink.down = true;
    hooks::HookOptions o;
    o.first_backoff = std::chrono::milliseconds(20);
    zones::Hook h;
    h.url = "http://127.0.0.1:" + std::to_string(sink.port) + "/hook";

    SUBCASE("the failover is still being retried when the sink comes back: 1 then 2") {
        o.max_attempts = 30;
        hooks::HookRunner runner(&loop, o);
        runner.deliver(h, numbered(1, "service"));  // failover
        run_until(&loop, [&] { return sink.requests >= 4; });  // refused 4 times: the next retry is 160 ms away
        REQUIRE(sink.requests >= 4);
        runner.deliver(h, numbered(2, "service"));  // failback, while 1 waits for its retry
        sink.down = false;
        run_until(&loop, [&] { return runner.pending() == 0; });
        CHECK(runner.pending() == 0);
        CHECK(sink.accepted == std::vector<uint64_t>{1, 2});
        runner.stop();
    }
    SUBCASE("the failover was given up while the sink was down: only 2") {
        o.max_attempts = 3;
        hooks::HookRunner runner(&loop, o);
        runner.deliver(h, numbered(1, "service"));
        runner.deliver(h, numbered(2, "service"));
        run_until(&loop, [&] { return sink.requests >= 3; });  // 1's three attempts
        REQUIRE(sink.requests >= 3);
        sink.down = false;
        run_until(&loop, [&] { return runner.pending() == 0; });
        CHECK(runner.pending() == 0);
        CHECK(sink.accepted == std::vector<uint64_t>{2});
        runner.stop();
    }
    sink.close();
    close_loop(&loop);
    REQUIRE_FALSE(sink.accepted.empty());
    CHECK(sink.accepted.back() == 2);  // the last event the receiver took is the current state
}

TEST_CASE("hooks: a slow sink never delays another") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    GatedCommand slow("gated-slow");
    auto fast_out = temp_path("fast.out");
    bool fast_done_while_slow_held = false;
    {
        hooks::HookRunner runner(&loop);
        runner.deliver(slow.hook, numbered(1));
        runner.deliver(command("echo $SIGNPOST_SEQ >> " + fast_out), numbered(1));
        run_until(&loop, [&] { return read_file(fast_out) == "1\n"; });
        fast_done_while_slow_held = read_file(fast_out) == "1\n" && !slow.saw("end 1");
        slow.open();
        run_until(&loop, [&] { return runner.pending() == 0; });
        runner.stop();
    }
    close_loop(&loop);
    CHECK(fast_done_while_slow_held);
    CHECK(slow.text() == "start 1\nend 1\n");
}

TEST_CASE("hooks: a full sink queue drops its oldest waiting events and counts them") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    GatedCommand sink("gated-bound");
    hooks::HookOptions o;
    o.max_queued = 3;
    {
        hooks::HookRunner runner(&loop, o);
        for (uint64_t seq = 1; seq <= 6; ++seq) runner.deliver(sink.hook, numbered(seq));
        CHECK(runner.pending() == 4);  // 1 in flight, 4 5 6 waiting
        CHECK(runner.dropped() == 2);  // 2 and 3
        run_until(&loop, [&] { return sink.saw("start 1"); });
        sink.open();
        run_until(&loop, [&] { return runner.pending() == 0; }, std::chrono::seconds(20));
        CHECK(runner.pending() == 0);
        runner.stop();
    }
    close_loop(&loop);
    CHECK(sink.text() == "start 1\nend 1\nstart 4\nend 4\nstart 5\nend 5\nstart 6\nend 6\n");
}

TEST_CASE("hooks: a drained event reaches the hook like any other") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    auto out = temp_path("drained.out");
    HttpSink sink(&loop, {204});
    {
        hooks::HookRunner runner(&loop);
        auto e = numbered(9, "drained");
        e.endpoint = "primary/web1";
        zones::Hook h = command("echo \"$SIGNPOST_EVENT $SIGNPOST_SEQ $SIGNPOST_ENDPOINT\" > " + out);
        h.url = "http://127.0.0.1:" + std::to_string(sink.port) + "/hook";
        runner.deliver(h, e);
        CHECK(runner.pending() == 2);  // the command and the URL are two sinks
        run_until(&loop, [&] { return runner.pending() == 0; });
        runner.stop();
    }
    sink.close();
    close_loop(&loop);
    CHECK(read_file(out) == "drained 9 primary/web1\n");
    REQUIRE(sink.bodies.size() == 1);
    CHECK(nlohmann::json::parse(sink.bodies[0])["event"] == "drained");
}

TEST_CASE("hooks: on_outcome hears every attempt: retrying, given up, delivered") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    hooks::HookOptions o;
    o.max_attempts = 2;
    o.first_backoff = std::chrono::milliseconds(10);
    std::vector<hooks::DeliveryOutcome> seen;
    {
        hooks::HookRunner runner(&loop, o);
        runner.on_outcome([&](const hooks::DeliveryOutcome& d) { seen.push_back(d); });
        runner.deliver(command("exit 3"), event());
        run_until(&loop, [&] { return runner.pending() == 0; });
        runner.deliver(command("exit 0"), event());
        run_until(&loop, [&] { return runner.pending() == 0; });
        runner.stop();
    }
    close_loop(&loop);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].attempt == 1);
    CHECK_FALSE(seen[0].ok);
    CHECK_FALSE(seen[0].final);
    CHECK(seen[0].error == "exit 3");
    CHECK(seen[0].event.seq == event().seq);
    CHECK(seen[1].attempt == 2);
    CHECK(seen[1].final);
    CHECK_FALSE(seen[1].ok);
    CHECK(seen[2].ok);
    CHECK(seen[2].final);
    CHECK(seen[2].attempt == 1);
    CHECK(seen[2].error.empty());
}
