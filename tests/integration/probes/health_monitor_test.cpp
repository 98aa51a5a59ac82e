// HealthMonitor against real local backends on a real libuv loop: every check
// kind, every failure mode, TLS with SNI, IPv6, reconciliation and shutdown.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "probes/health_monitor.hpp"
#include "support.hpp"

using namespace signpost;
using namespace signpost::probes;
using namespace itest;

namespace {

core::CheckSpec http_check(uint16_t port, int timeout_ms = 500) {
    core::CheckSpec c;
    c.name = "web";
    c.kind = core::CheckKind::Http;
    c.port = port;
    c.interval = Ms{1000};
    c.timeout = Ms{timeout_ms};
    c.fast_interval = Ms{200};
    c.rise = 2;
    c.fall = 3;
    return c;
}

ProbeTarget target(std::string key, core::EndpointIndex index, std::string address, std::vector<core::CheckSpec> checks,
                   std::string host = "www.example.com") {
    ProbeTarget t;
    t.key = std::move(key);
    t.index = index;
    t.address = std::move(address);
    t.host = std::move(host);
    t.checks = std::move(checks);
    return t;
}

double ms_since(SteadyClock::time_point t) {
    return std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
}

// Runs a fresh monitor until the only target has its first result.
CheckStatus first_result(Loop& loop, ProbeTarget t, double* elapsed = nullptr, Ms limit = Ms{8000}) {
    HealthMonitor m(loop.get());
    const auto start = SteadyClock::now();
    m.set_targets({std::move(t)});
    const bool got = loop.run_until([&] { return m.status().at(0).checks.at(0).checks_run > 0; }, limit);
    if (elapsed) *elapsed = ms_since(start);
    CheckStatus s = m.status().at(0).checks.at(0);
    m.stop();
    REQUIRE(got);
    return s;
}

uint16_t closed_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000001);
    bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    close(fd);  // nobody listens there now
    return ntohs(sa.sin_port);
}

}  // namespace

TEST_CASE("http: every backend mode is reported with a clear reason within its timeout") {
    TempDir dir;
    Loop loop;
    Backend b("127.0.0.1", dir.file("mode"), {"--log", dir.file("log"), "--slow-seconds", "3"});
    struct Row {
        const char* mode;
        bool ok;
        std::string reason_prefix;
    };
    const std::vector<Row> rows = {
        {"200", true, "HTTP 200"},
        {"500", false, "HTTP 500"},
        {"hang", false, "timeout after 500 ms"},
        {"slow", false, "timeout after 500 ms"},
        {"close", false, "connection"},
        {"garbage", false, "invalid HTTP response"},
        {"redirect", false, "redirect 301 to https://www.example.com/moved"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.mode);
        b.set_mode(row.mode);
        double took = 0;
        const auto s = first_result(loop, target("k", 0, "127.0.0.1", {http_check(b.port())}), &took);
        CHECK(s.last_result.rfind(row.reason_prefix, 0) == 0);
        CAPTURE(s.last_result);
        CHECK(s.state == (row.ok ? core::HealthState::Up : core::HealthState::Down));
        // The reason proves the timeout fired ("slow" would answer 200 after
        // 3 s); the clock only shows it did not fire early.
        if (row.reason_prefix.rfind("timeout", 0) == 0) CHECK(took >= 500);
    }
    const std::string log = read_file(dir.file("log"));
    CHECK(log.find("GET / www.example.com:" + std::to_string(b.port()) + " signpost-healthcheck/0.1") != std::string::npos);
    b.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("http: body check, HEAD and extra headers") {
    TempDir dir;
    Loop loop;
    Backend b("127.0.0.1", dir.file("mode"), {"--log", dir.file("log")});
    auto c = http_check(b.port());
    c.body_contains = "OK";
    b.set_mode("wrongbody");
    CHECK(first_result(loop, target("k", 0, "127.0.0.1", {c})).last_result == "body does not contain \"OK\"");
    b.set_mode("200");
    CHECK(first_result(loop, target("k", 0, "127.0.0.1", {c})).last_result == "HTTP 200");
    auto head = http_check(b.port());
    head.method = "HEAD";
    head.path = "/healthz";
    head.host = "api.example.com";
    CHECK(first_result(loop, target("k", 0, "127.0.0.1", {head})).last_result == "HTTP 200");
    auto expect = http_check(b.port());
    expect.expect_status = {{500, 503}};
    b.set_mode("500");
    CHECK(first_result(loop, target("k", 0, "127.0.0.1", {expect})).state == core::HealthState::Up);
    const std::string log = read_file(dir.file("log"));
    CHECK(log.find("HEAD /healthz api.example.com:") != std::string::npos);
    b.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("https: SNI and Host to the endpoint's address, verified with the test CA") {
    TempDir dir;
    Process openssl({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.file("key.pem"), "-out",
                     dir.file("cert.pem"), "-days", "10", "-subj", "/CN=www.example.com", "-addext",
                     "subjectAltName=DNS:www.example.com"},
                    true);
    REQUIRE(openssl.wait(Ms{30000}) == 0);
    Loop loop;
    Backend b("127.0.0.2", dir.file("mode"), {"--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem")});
    auto c = http_check(b.port(), 1000);
    c.kind = core::CheckKind::Https;
    c.ca_file = dir.file("cert.pem");

    SUBCASE("trusted CA and matching name pass") {
        const auto s = first_result(loop, target("k", 0, "127.0.0.2", {c}));
        CHECK(s.last_result == "HTTP 200");
        CHECK_FALSE(s.cert_warning);
    }
    SUBCASE("certificate expiring within cert_warning_days warns") {
        c.cert_warning_days = 30;
        const auto s = first_result(loop, target("k", 0, "127.0.0.2", {c}));
        CHECK(s.state == core::HealthState::Up);
        CHECK(s.cert_warning);
        CHECK(s.last_result == "HTTP 200 (certificate expires within 30 days)");
    }
    SUBCASE("without the CA the certificate is not trusted") {
        c.ca_file.clear();
        const auto s = first_result(loop, target("k", 0, "127.0.0.2", {c}));
        CHECK(s.state == core::HealthState::Down);
        CHECK(s.last_result.rfind("TLS: ", 0) == 0);
    }
    SUBCASE("a name the certificate does not cover fails") {
        c.host = "wrong.example.com";
        const auto s = first_result(loop, target("k", 0, "127.0.0.2", {c}));
        CHECK(s.state == core::HealthState::Down);
        CHECK(s.last_result.rfind("TLS: ", 0) == 0);
        CAPTURE(s.last_result);
    }
    SUBCASE("verification can be turned off") {
        c.ca_file.clear();
        c.tls_verify = false;
        CHECK(first_result(loop, target("k", 0, "127.0.0.2", {c})).last_result == "HTTP 200");
    }
    b.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("http over IPv6 on ::1") {
    TempDir dir;
    Loop loop;
    Backend b("::1", dir.file("mode"));
    CHECK(first_result(loop, target("k", 0, "::1", {http_check(b.port())})).last_result == "HTTP 200");
    CHECK(first_result(loop, target("k", 0, "::1", {http_check(b.port())}, "")).last_result == "HTTP 200");
    auto tcp = http_check(b.port());
    tcp.kind = core::CheckKind::Tcp;
    CHECK(first_result(loop, target("k", 0, "::1", {tcp})).last_result == "TCP connect ok");
    b.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("tcp: listening port passes, closed port is refused") {
    TempDir dir;
    Loop loop;
    Backend b("127.0.0.1", dir.file("mode"));
    auto c = http_check(b.port());
    c.kind = core::CheckKind::Tcp;
    auto s = first_result(loop, target("k", 0, "127.0.0.1", {c}));
    CHECK(s.state == core::HealthState::Up);
    CHECK(s.last_result == "TCP connect ok");
    c.port = closed_port();
    s = first_result(loop, target("k", 0, "127.0.0.1", {c}));
    CHECK(s.state == core::HealthState::Down);
    CHECK(s.last_result == "connection refused");
    b.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("exec: exit 0 passes, other exits fail, a hanging command is killed at the timeout") {
    Loop loop;
    core::CheckSpec c;
    c.name = "script";
    c.kind = core::CheckKind::Exec;
    // Generous for the commands that finish: a fork on a busy (sanitizer)
    // machine may take longer than the hang case's 300 ms.
    c.timeout = Ms{10000};
    c.command = {"/bin/sh", "-c", "test \"$SIGNPOST_ADDRESS\" = 127.0.0.3"};
    auto s = first_result(loop, target("k", 0, "127.0.0.3", {c}));
    CHECK(s.last_result == "exit 0");
    CHECK(s.state == core::HealthState::Up);

    c.command = {"/bin/sh", "-c", "echo noise; exit 3"};
    CHECK(first_result(loop, target("k", 0, "127.0.0.3", {c})).last_result == "exit 3");

    c.command = {"/bin/sleep", "30"};
    c.timeout = Ms{300};
    double took = 0;
    s = first_result(loop, target("k", 0, "127.0.0.3", {c}), &took);
    CHECK(s.last_result == "timeout after 300 ms (killed)");
    // Killed at its timeout, long before sleep's 30 s (first_result gives up at 8 s).
    // Not before: libuv times from the loop's clock, read once per loop turn in whole
    // ms, so the kill may come up to 1 ms before 300 ms of this test's clock (seen:
    // 299.975 ms on a loaded machine).
    CHECK(took >= 299);
    c.timeout = Ms{10000};

    c.command = {"/nonexistent/check"};
    CHECK(first_result(loop, target("k", 0, "127.0.0.3", {c})).last_result ==
          "cannot run /nonexistent/check: no such file or directory");
    CHECK(loop.close() == 0);
}

TEST_CASE("detection: 500 and a hanging server take the endpoint down with their reason, recovery after rise") {
    TempDir dir;
    Loop loop;
    Backend b("127.0.0.1", dir.file("mode"));
    b.set_mode("200");
    HealthMonitor m(loop.get());
    std::vector<HealthChange> changes;
    m.on_change([&](std::span<const HealthChange> batch) { changes.insert(changes.end(), batch.begin(), batch.end()); });
    m.set_targets({target("site/primary/127.0.0.1", 0, "127.0.0.1", {http_check(b.port(), 1000)})});
    auto up = [&] { return m.health().size() == 1 && m.health()[0].up() && m.health()[0].confirmed; };
    auto down = [&] { return m.health().size() == 1 && !m.health()[0].up(); };
    REQUIRE(loop.run_until(up, Ms{3000}));
    REQUIRE(!changes.empty());
    CHECK(changes.back().after.up());
    CHECK_FALSE(changes.back().before.confirmed);

    b.set_mode("500");
    auto t = SteadyClock::now();
    REQUIRE(loop.run_until(down, Ms{5000}));
    const double refused_ms = ms_since(t);
    // The figure is printed, not asserted (a loaded machine delays it): the rule is
    // that it goes down, and why.
    MESSAGE("HTTP 500 detected after " << refused_ms << " ms");
    CHECK(m.health()[0].reason == "HTTP 500");

    b.set_mode("200");
    t = SteadyClock::now();
    REQUIRE(loop.run_until(up, Ms{5000}));
    MESSAGE("recovery (rise 2) after " << ms_since(t) << " ms");

    b.set_mode("hang");
    t = SteadyClock::now();
    bool saw_suspect = false;
    REQUIRE(loop.run_until([&] { saw_suspect = saw_suspect || m.health()[0].suspect; return down(); }, Ms{8000}));
    const double hang_ms = ms_since(t);
    MESSAGE("hanging server detected after " << hang_ms << " ms");
    CHECK(saw_suspect);
    CHECK(m.health()[0].reason == "timeout after 1000 ms");
    m.stop();
    b.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("first round: runs at once for every target and reports when all are known") {
    TempDir dir;
    Loop loop;
    Backend ok("127.0.0.1", dir.file("mode-ok"));
    Backend hang("127.0.0.1", dir.file("mode-hang"));
    ok.set_mode("200");
    hang.set_mode("hang");
    HealthMonitor m(loop.get());
    bool fired = false;
    double fired_after = 0;
    const auto start = SteadyClock::now();
    m.on_first_round([&] { fired = true; fired_after = ms_since(start); });
    std::vector<ProbeTarget> ts;
    for (uint32_t i = 0; i < 20; ++i) {
        ts.push_back(target("ok/" + std::to_string(i), i, "127.0.0.1", {http_check(ok.port(), 1000)}));
    }
    ts.push_back(target("hang", 20, "127.0.0.1", {http_check(hang.port(), 600)}));
    m.set_targets(ts);
    CHECK(m.health().size() == 21);
    CHECK_FALSE(m.health()[0].confirmed);
    CHECK_FALSE(m.health()[0].up());  // initial state: down until the first result
    REQUIRE(loop.run_until([&] { return fired; }, Ms{5000}));
    // Not before the hanging target's 600 ms timeout decided it (libuv's ms clock
    // may run a little ahead of ours); how long after is load, printed only.
    CHECK(fired_after >= 550);
    MESSAGE("first round complete after " << fired_after << " ms");
    for (uint32_t i = 0; i < 20; ++i) CHECK(m.health()[i].up());
    CHECK(m.health()[20].confirmed);
    CHECK_FALSE(m.health()[20].up());
    m.stop();
    ok.stop();
    hang.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("set_targets keeps the state of unchanged targets, stops removed ones, starts new ones") {
    TempDir dir;
    Loop loop;
    Backend b("127.0.0.1", dir.file("mode"));
    b.set_mode("200");
    HealthMonitor m(loop.get());
    auto c = http_check(b.port());
    m.set_targets({target("a", 0, "127.0.0.1", {c}), target("b", 1, "127.0.0.1", {c})});
    REQUIRE(loop.run_until([&] { return m.health()[0].confirmed && m.health()[1].confirmed; }, Ms{3000}));
    const auto since = m.health()[0].since;

    auto changed = c;
    changed.path = "/other";
    m.set_targets({target("new", 0, "127.0.0.1", {c}), target("a", 3, "127.0.0.1", {c}), target("b", 1, "127.0.0.1", {changed})});
    REQUIRE(m.health().size() == 4);
    CHECK(m.health()[3].confirmed);  // "a" kept its state under its new index
    CHECK(m.health()[3].up());
    CHECK(m.health()[3].since == since);
    CHECK_FALSE(m.health()[0].confirmed);  // "new" starts from scratch
    CHECK_FALSE(m.health()[1].confirmed);  // "b" changed its checks: restarted
    const auto st = m.status();
    REQUIRE(st.size() == 3);
    CHECK(st[2].key == "a");
    CHECK(st[2].checks_run >= 1);
    REQUIRE(loop.run_until([&] { return m.health()[0].confirmed && m.health()[1].confirmed; }, Ms{3000}));

    m.set_targets({});
    CHECK(m.health().empty());
    CHECK(m.status().empty());
    m.stop();
    b.stop();
    CHECK(loop.close() == 0);
}

TEST_CASE("stop() with probes of every kind in flight leaves a loop that closes cleanly") {
    TempDir dir;
    Loop loop;
    Backend b("127.0.0.1", dir.file("mode"));
    b.set_mode("hang");
    {
        HealthMonitor m(loop.get());
        auto http = http_check(b.port(), 5000);
        auto tcp = http_check(b.port(), 5000);
        tcp.kind = core::CheckKind::Tcp;
        core::CheckSpec exec;
        exec.kind = core::CheckKind::Exec;
        exec.timeout = Ms{5000};
        exec.command = {"/bin/sleep", "30"};
        auto tcp_nowhere = tcp;
        tcp_nowhere.port = closed_port();
        m.set_targets({target("h", 0, "127.0.0.1", {http}), target("t", 1, "127.0.0.1", {tcp_nowhere}),
                       target("e", 2, "127.0.0.1", {exec})});
        loop.run_for(Ms{300});
        CHECK(m.probes_started() >= 3);
        m.stop();
        // the destructor after stop() is fine too
    }
    CHECK(loop.close() == 0);
    b.stop();
}
