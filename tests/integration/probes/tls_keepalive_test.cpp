// keepalive = true on https checks: the real HealthMonitor (libcurl multi on a
// libuv loop) against a real local TLS server (tls_keepalive_server.hpp) with a
// CA and certificates made at run time (tls_test_pki.hpp). The server counts
// connections, handshakes and requests; the tests assert on those counts and on
// the rise/fall transitions the monitor published, never on timings.
#include <doctest/doctest.h>

#include <span>
#include <string>
#include <vector>

#include "probes/health_monitor.hpp"
#include "support.hpp"
#include "tls_keepalive_server.hpp"
#include "tls_test_pki.hpp"

using namespace signpost;
using namespace signpost::probes;
using namespace itest;

namespace {

constexpr const char* kName = "www.example.com";
constexpr Ms kWait{20000};  // bound of every wait: far beyond what any step needs

// interval = fast_interval = 500 ms, timeout 450 ms: a probe always ends
// (answer or timeout) before the next one starts, so after the start-up pair
// (see Watched::settle) probes never overlap, never need a second connection,
// and connection counts are exact.
core::CheckSpec https_keepalive(uint16_t port, const std::string& ca_file) {
    core::CheckSpec c;
    c.name = "web";
    c.kind = core::CheckKind::Https;
    c.port = port;
    c.interval = Ms{500};
    c.fast_interval = Ms{500};
    c.timeout = Ms{450};
    c.rise = 2;
    c.fall = 3;
    c.keepalive = true;
    c.ca_file = ca_file;  // tls_verify stays at its default (on)
    return c;
}

ProbeTarget endpoint(const std::string& address, core::CheckSpec c) {
    ProbeTarget t;
    t.key = "example.com/primary/" + address;
    t.index = 0;
    t.address = address;
    t.host = kName;
    t.checks = {std::move(c)};
    return t;
}

// One published health change, with the check's counters when it was published.
struct Change {
    core::HealthState state;
    bool suspect;
    uint32_t consecutive_ok, consecutive_fail;
    std::string result;
};

// A monitor of one endpoint with one check, recording every change it publishes.
class Watched {
public:
    Watched(Loop& loop, ProbeTarget t) : loop_(loop), m_(loop.get()) {
        m_.on_change([this](std::span<const HealthChange> changes) {
            const CheckStatus s = check();
            for (const auto& c : changes)
                changes_.push_back(Change{c.after.state, c.after.suspect, s.consecutive_ok, s.consecutive_fail, s.last_result});
        });
        m_.set_targets({std::move(t)});
    }
    ~Watched() { m_.stop(); }

    CheckStatus check() const { return m_.status().at(0).checks.at(0); }
    const core::EndpointHealth& health() const { return m_.health()[0]; }
    const std::vector<Change>& changes() const { return changes_; }

    // Runs the loop past the first two probes. The second probe of a new target
    // starts at a random point of its first interval (spreading thousands of
    // endpoints) and may overlap the first, which is still in its handshake: the
    // two then need two connections. From the third probe on, one at a time.
    bool settle() { return probes(2); }
    // Runs the loop until `n` more probe results have been applied.
    bool probes(uint64_t n) {
        const uint64_t want = check().checks_run + n;
        return loop_.run_until([&] { return check().checks_run >= want; }, kWait);
    }
    // Runs the loop until the endpoint's published health is `state` (confirmed).
    bool until(core::HealthState state) {
        return loop_.run_until([&] { return health().confirmed && health().state == state; }, kWait);
    }
    void stop() { m_.stop(); }

private:
    Loop& loop_;
    HealthMonitor m_;
    std::vector<Change> changes_;
};

// Waits (bounded) for a counter the server bumps after the client has seen the effect.
template <class F>
bool eventually(F&& f, Ms limit = kWait) {
    const auto deadline = SteadyClock::now() + limit;
    while (!f()) {
        if (SteadyClock::now() >= deadline) return false;
        usleep(2000);
    }
    return true;
}

// Every change the monitor published since the first result: up, never suspect.
void check_never_flapped(const Watched& w) {
    REQUIRE(!w.changes().empty());
    for (const auto& c : w.changes()) {
        CAPTURE(c.result);
        CHECK(c.state == core::HealthState::Up);
        CHECK_FALSE(c.suspect);
    }
    CHECK(w.changes().size() == 1);  // initial down (unconfirmed) -> up, nothing since
}

}  // namespace

TEST_CASE("https keepalive: ten probes of an endpoint share one TLS connection and it is up") {
    TempDir dir;
    const TestPki pki = make_test_pki(dir, "good", kName);
    TlsKeepAliveServer server("127.0.0.41", pki.cert, pki.key);
    Loop loop;
    {
        Watched w(loop, endpoint("127.0.0.41", https_keepalive(server.port(), pki.ca)));
        REQUIRE(w.settle());
        const int connections = server.connections(), requests = server.requests(), reused = server.reused();
        CHECK(connections >= 1);
        CHECK(connections <= 2);
        CHECK(server.handshakes() == connections);

        REQUIRE(w.probes(10));
        const CheckStatus s = w.check();
        CHECK(s.last_result == "HTTP 200");
        CHECK(s.consecutive_ok == s.checks_run);  // every probe passed
        CHECK(s.state == core::HealthState::Up);
        CHECK(w.health().up());
        // 10 probes: 10 requests, every one on the kept connection; no new
        // connection, no handshake.
        CHECK(server.requests() - requests == 10);
        CHECK(server.reused() - reused == 10);
        CHECK(server.connections() == connections);
        CHECK(server.handshakes() == connections);
        CHECK(server.failed_handshakes() == 0);
        CHECK(server.resumed() == 0);
        check_never_flapped(w);
        w.stop();
    }
    CHECK(loop.close() == 0);
    CHECK(eventually([&] { return server.open() == 0; }));  // stop() closed the kept connection
}

TEST_CASE("https keepalive: a kept connection the server closed or dropped is replaced within the probe and the endpoint never flaps") {
    TempDir dir;
    const TestPki pki = make_test_pki(dir, "good", kName);
    TlsKeepAliveServer server("127.0.0.42", pki.cert, pki.key);
    auto c = https_keepalive(server.port(), pki.ca);
    // signpost retries either method. curl 7.88 retries a GET itself, but counts
    // its retries per easy handle across transfers and gives up at the 6th
    // ("Connection died, tried 5 times"): without signpost's retry, GET fails too.
    SUBCASE("GET") { c.method = "GET"; }
    SUBCASE("HEAD") { c.method = "HEAD"; }
    CAPTURE(c.method);
    Loop loop;
    {
        Watched w(loop, endpoint("127.0.0.42", c));
        REQUIRE(w.settle());

        // The server closes the idle kept connection between probes (close_notify,
        // FIN), as at its keep-alive timeout: the next probe still passes, on one
        // new connection.
        for (int i = 0; i < 3; ++i) {
            const int before = server.handshakes();
            REQUIRE(server.close_connections());
            REQUIRE(w.probes(1));
            CHECK(w.check().last_result == "HTTP 200");
            CHECK(server.handshakes() == before + 1);
        }

        // The server takes the request on the kept connection and closes (FIN, no
        // close_notify) or resets it without an answer, at every probe: each
        // probe retries once on a fresh connection and reports the real answer.
        for (const auto mode : {TlsKeepAliveServer::Mode::DropReused, TlsKeepAliveServer::Mode::ResetReused}) {
            CAPTURE(static_cast<int>(mode));
            server.set_mode(mode);
            const int dropped = server.dropped(), handshakes = server.handshakes();
            const uint64_t run = w.check().checks_run;
            REQUIRE(w.probes(4));
            const int probes = static_cast<int>(w.check().checks_run - run);
            CHECK(w.check().last_result == "HTTP 200");
            CHECK(server.dropped() - dropped == probes);        // every probe met a stale connection...
            CHECK(server.handshakes() - handshakes == probes);  // ... and one new connection answered it
        }
        server.set_mode(TlsKeepAliveServer::Mode::Ok);
        REQUIRE(w.probes(2));

        const CheckStatus s = w.check();
        CHECK(s.consecutive_ok == s.checks_run);  // not a single failed probe
        CHECK(w.health().up());
        CHECK(server.failed_handshakes() == 0);
        CHECK(server.resumed() == 0);  // never a resumed TLS session, even right after a drop
        check_never_flapped(w);
        w.stop();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("https keepalive: HTTP 500 on the kept connection takes the endpoint down after fall and 200 brings it back after rise") {
    TempDir dir;
    const TestPki pki = make_test_pki(dir, "good", kName);
    TlsKeepAliveServer server("127.0.0.43", pki.cert, pki.key);
    Loop loop;
    {
        const auto spec = https_keepalive(server.port(), pki.ca);
        Watched w(loop, endpoint("127.0.0.43", spec));
        REQUIRE(w.settle());
        REQUIRE(w.health().up());
        REQUIRE(w.changes().size() == 1);
        const int connections = server.connections(), requests = server.requests(), reused = server.reused();

        server.set_mode(TlsKeepAliveServer::Mode::Error);
        REQUIRE(w.until(core::HealthState::Down));
        // One failure makes it suspect, the fall-th takes it down.
        REQUIRE(w.changes().size() == 3);
        CHECK(w.changes()[1].state == core::HealthState::Up);
        CHECK(w.changes()[1].suspect);
        CHECK(w.changes()[1].consecutive_fail == 1);
        CHECK(w.changes()[1].result == "HTTP 500");
        CHECK(w.changes()[2].state == core::HealthState::Down);
        CHECK_FALSE(w.changes()[2].suspect);
        CHECK(w.changes()[2].consecutive_fail == static_cast<uint32_t>(spec.fall));
        CHECK(w.changes()[2].result == "HTTP 500");
        CHECK(w.health().reason == "HTTP 500");

        server.set_mode(TlsKeepAliveServer::Mode::Ok);
        REQUIRE(w.until(core::HealthState::Up));
        REQUIRE(w.changes().size() == 5);
        CHECK(w.changes()[3].state == core::HealthState::Down);
        CHECK(w.changes()[3].suspect);
        CHECK(w.changes()[3].consecutive_ok == 1);
        CHECK(w.changes()[4].state == core::HealthState::Up);
        CHECK_FALSE(w.changes()[4].suspect);
        CHECK(w.changes()[4].consecutive_ok == static_cast<uint32_t>(spec.rise));
        CHECK(w.changes()[4].result == "HTTP 200");

        // Every answer, 500s included, came over the kept connection.
        CHECK(server.requests() - requests >= spec.fall + spec.rise);
        CHECK(server.reused() - reused == server.requests() - requests);
        CHECK(server.connections() == connections);
        CHECK(server.handshakes() == connections);
        w.stop();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("https keepalive: a certificate not signed by ca_file fails the probe with a TLS reason at every new connection") {
    TempDir dir;
    const TestPki good = make_test_pki(dir, "good", kName);
    const TestPki rogue = make_test_pki(dir, "rogue", kName);  // same name, another CA
    TlsKeepAliveServer server("127.0.0.44", rogue.cert, rogue.key);
    Loop loop;
    {
        const auto spec = https_keepalive(server.port(), good.ca);
        Watched w(loop, endpoint("127.0.0.44", spec));

        // The first connection: the handshake fails, no request is sent.
        REQUIRE(w.probes(3));
        CheckStatus s = w.check();
        CAPTURE(s.last_result);
        CHECK(s.last_result.rfind("TLS: SSL certificate problem: ", 0) == 0);
        CHECK(s.consecutive_fail == s.checks_run);
        CHECK_FALSE(w.health().up());
        CHECK(w.health().reason == s.last_result);
        CHECK(server.handshakes() == 0);
        CHECK(server.requests() == 0);
        CHECK(eventually([&] { return server.failed_handshakes() >= 3; }));

        // The CA's certificate: up after rise, then on one kept connection.
        server.use_certificate(good.cert, good.key);
        REQUIRE(w.until(core::HealthState::Up));
        REQUIRE(w.probes(3));
        CHECK(w.check().last_result == "HTTP 200");
        CHECK(server.handshakes() == 1);

        // A certificate from another CA again, and the kept connection closed:
        // the new kept connection is verified (no resumed session skips it), the
        // probes fail with the TLS reason and the endpoint goes down after fall.
        server.use_certificate(rogue.cert, rogue.key);
        REQUIRE(server.close_connections());
        const int requests = server.requests();
        const std::size_t changes = w.changes().size();
        REQUIRE(w.until(core::HealthState::Down));
        s = w.check();
        CAPTURE(s.last_result);
        CHECK(s.last_result.rfind("TLS: SSL certificate problem: ", 0) == 0);
        CHECK(s.consecutive_fail == static_cast<uint32_t>(spec.fall));
        REQUIRE(w.changes().size() == changes + 2);  // suspect, then down
        CHECK(w.changes().back().consecutive_fail == static_cast<uint32_t>(spec.fall));
        CHECK(server.handshakes() == 1);
        CHECK(server.requests() == requests);  // nothing was sent over an unverified connection
        CHECK(server.resumed() == 0);
        w.stop();
    }
    CHECK(loop.close() == 0);
}
