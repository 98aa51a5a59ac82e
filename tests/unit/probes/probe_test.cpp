// The probe kinds' lifetimes on a real libuv loop: each result is delivered once,
// never from inside start(); a cancelled probe calls nothing back; every handle a
// probe opened is freed (io::live_handles) and the loop closes with 0. http needs
// a server and is covered by integration_probes.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include <uv.h>

#include "io/handle.hpp"
#include "probes/probe.hpp"

using namespace signpost;
using namespace signpost::probes;

namespace {

struct Loop {
    uv_loop_t loop{};
    Loop() { uv_loop_init(&loop); }
    // Runs until nothing is left (a killed child is reaped first), then closes.
    int close() {
        uv_run(&loop, UV_RUN_DEFAULT);
        return uv_loop_close(&loop);
    }
    ProbeEnv env() { return ProbeEnv{&loop, nullptr, {}, {}}; }
};

struct Results {
    std::vector<ProbeResult> got;
    ProbeDone done() {
        return [this](ProbeResult r) { got.push_back(std::move(r)); };
    }
};

// A loopback listener that never accepts: connects complete from the backlog.
struct Listener {
    int fd = -1;
    int port = 0;
    Listener() {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(listen(fd, 16) == 0);
        socklen_t len = sizeof sa;
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
    }
    ~Listener() { ::close(fd); }
};

core::CheckSpec tcp_check(int port, int timeout_ms = 2000) {
    core::CheckSpec c;
    c.kind = core::CheckKind::Tcp;
    c.port = port;
    c.timeout = std::chrono::milliseconds{timeout_ms};
    return c;
}

core::CheckSpec exec_check(std::vector<std::string> command, int timeout_ms = 5000) {
    core::CheckSpec c;
    c.kind = core::CheckKind::Exec;
    c.command = std::move(command);
    c.timeout = std::chrono::milliseconds{timeout_ms};
    return c;
}

}  // namespace

TEST_CASE("probes: a probe that cannot start delivers once, on the loop, and frees its timer") {
    Loop l;
    const std::size_t before = io::live_handles();
    Results r;
    start_failed_probe(l.env(), ProbeResult{false, "nope"}, r.done());
    CHECK(r.got.empty());  // never from inside the call
    CHECK(l.close() == 0);
    REQUIRE(r.got.size() == 1);
    CHECK(r.got[0].reason == "nope");
    CHECK(io::live_handles() == before);
}

TEST_CASE("probes: tcp and exec errors found at start are delivered on the loop, once") {
    Loop l;
    const std::size_t before = io::live_handles();
    Results r;
    const auto bad_port = tcp_check(0);
    const auto no_command = exec_check({});
    const auto missing = exec_check({"/nonexistent/signpost-probe"});
    const auto port_53 = tcp_check(53);  // a probe keeps its spec by reference
    start_tcp_probe(l.env(), bad_port, "127.0.0.1", "", bad_port.timeout, r.done());
    start_tcp_probe(l.env(), port_53, "not-an-address", "", port_53.timeout, r.done());
    start_exec_probe(l.env(), no_command, "127.0.0.1", "", no_command.timeout, r.done());
    start_exec_probe(l.env(), missing, "127.0.0.1", "", missing.timeout, r.done());
    CHECK(r.got.empty());
    CHECK(l.close() == 0);
    REQUIRE(r.got.size() == 4);
    CHECK(r.got[0].reason == "tcp check needs a port");
    CHECK(r.got[1].reason == "bad address not-an-address");
    CHECK(r.got[2].reason == "exec check has no command");
    CHECK(r.got[3].reason == "cannot run /nonexistent/signpost-probe: no such file or directory");
    CHECK(io::live_handles() == before);
}

TEST_CASE("probes: tcp connects and reports once, a cancelled connect calls nothing back") {
    Loop l;
    Listener listener;
    const std::size_t before = io::live_handles();
    const auto spec = tcp_check(listener.port);
    Results ok, cancelled;
    start_tcp_probe(l.env(), spec, "127.0.0.1", "", spec.timeout, ok.done());
    Probe* p = start_tcp_probe(l.env(), spec, "127.0.0.1", "", spec.timeout, cancelled.done());
    p->cancel();  // connect pending: its request is called back with UV_ECANCELED and freed
    const auto no_port = tcp_check(0);
    Probe* failed = start_tcp_probe(l.env(), no_port, "127.0.0.1", "", no_port.timeout, cancelled.done());
    failed->cancel();
    CHECK(l.close() == 0);
    REQUIRE(ok.got.size() == 1);
    CHECK(ok.got[0].ok);
    CHECK(ok.got[0].reason == "TCP connect ok");
    CHECK(cancelled.got.empty());
    CHECK(io::live_handles() == before);
}

TEST_CASE("probes: exec reports the exit status, a hanging child is killed at the timeout and reaped") {
    Loop l;
    const std::size_t before = io::live_handles();
    Results r;
    const auto pass = exec_check({"/bin/sh", "-c", "test \"$SIGNPOST_ADDRESS\" = 127.0.0.7"});
    const auto fail = exec_check({"/bin/sh", "-c", "exit 3"});
    const auto hang = exec_check({"/bin/sleep", "30"}, 100);
    start_exec_probe(l.env(), pass, "127.0.0.7", "", pass.timeout, r.done());
    start_exec_probe(l.env(), fail, "127.0.0.7", "", fail.timeout, r.done());
    start_exec_probe(l.env(), hang, "127.0.0.7", "", hang.timeout, r.done());
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(l.close() == 0);  // returns only once every child is reaped
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{10});
    REQUIRE(r.got.size() == 3);
    int passed = 0, exit3 = 0, timed_out = 0;
    for (const auto& g : r.got) {
        if (g.ok && g.reason == "exit 0") ++passed;
        if (!g.ok && g.reason == "exit 3") ++exit3;
        if (!g.ok && g.timed_out && g.reason == "timeout after 100 ms (killed)") ++timed_out;
    }
    CHECK(passed == 1);
    CHECK(exit3 == 1);
    CHECK(timed_out == 1);
    CHECK(io::live_handles() == before);
}

TEST_CASE("probes: a cancelled exec probe kills its running child, calls nothing back and leaves no handle") {
    Loop l;
    const std::size_t before = io::live_handles();
    Results r;
    const auto hang = exec_check({"/bin/sleep", "30"});
    Probe* p = start_exec_probe(l.env(), hang, "127.0.0.1", "", hang.timeout, r.done());
    uv_run(&l.loop, UV_RUN_NOWAIT);
    p->cancel();
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(l.close() == 0);  // the killed child is reaped, then its handle freed
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{10});
    CHECK(r.got.empty());
    CHECK(io::live_handles() == before);
}
