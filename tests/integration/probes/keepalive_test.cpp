// keepalive = true on http checks against a real keep-alive server: the
// connection is reused across probes, and every way a kept connection can go
// wrong (500, reset on reuse, closed after the answer, a server that hangs)
// still gives the endpoint's real answer within the check's timeout.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "keepalive_server.hpp"
#include "probes/health_monitor.hpp"
#include "support.hpp"

using namespace signpost;
using namespace signpost::probes;
using namespace itest;

namespace {

core::CheckSpec keepalive_check(uint16_t port, bool keepalive = true) {
    core::CheckSpec c;
    c.name = "web";
    c.kind = core::CheckKind::Http;
    c.port = port;
    c.interval = Ms{300};
    c.timeout = Ms{250};
    c.fast_interval = Ms{150};
    c.keepalive = keepalive;
    return c;
}

ProbeTarget one_target(core::CheckSpec c) {
    ProbeTarget t;
    t.key = "k";
    t.index = 0;
    t.address = "127.0.0.1";
    t.host = "www.example.com";
    t.checks = {std::move(c)};
    return t;
}

// Every result the monitor applies, in order (polled once per loop iteration).
class Results {
public:
    explicit Results(HealthMonitor& m) : m_(m) {}
    void poll() {
        const auto s = m_.status().at(0).checks.at(0);
        if (s.checks_run != seen_) {
            seen_ = s.checks_run;
            all_.push_back(s.last_result);
        }
    }
    // Runs the loop until a result equal to `want` arrives after the call.
    bool wait_for(Loop& loop, const std::string& want, Ms limit = Ms{3000}) {
        const std::size_t from = all_.size();
        return loop.run_until([&] {
            poll();
            for (std::size_t i = from; i < all_.size(); ++i)
                if (all_[i] == want) return true;
            return false;
        }, limit);
    }
    // Runs until `n` more results have arrived; returns them.
    std::vector<std::string> next(Loop& loop, std::size_t n, Ms limit = Ms{3000}) {
        const std::size_t from = all_.size();
        loop.run_until([&] { poll(); return all_.size() >= from + n; }, limit);
        return {all_.begin() + static_cast<long>(from), all_.end()};
    }

private:
    HealthMonitor& m_;
    uint64_t seen_ = 0;
    std::vector<std::string> all_;
};

}  // namespace

TEST_CASE("keepalive: one connection for every probe, 200, 500, reset and closed connections, then a hang") {
    KeepAliveServer server;
    Loop loop;
    {
        HealthMonitor m(loop.get());
        Results results(m);
        m.set_targets({one_target(keepalive_check(server.port()))});

        // 200 on one connection, probe after probe.
        auto first = results.next(loop, 4);
        REQUIRE(first.size() >= 4);
        for (const auto& r : first) CHECK(r == "HTTP 200");
        CHECK(server.connections() == 1);
        CHECK(server.requests() >= 4);

        // 500 on the same connection.
        server.set_mode(KeepAliveServer::Mode::Error);
        CHECK(results.wait_for(loop, "HTTP 500"));
        CHECK(server.connections() == 1);

        // The server resets the kept connection when it is reused: the probe
        // retries on a new connection and reports the real answer, not an error.
        server.set_mode(KeepAliveServer::Mode::ResetReused);
        const int before_reset = server.connections();
        auto after_reset = results.next(loop, 3);
        for (const auto& r : after_reset) CHECK(r == "HTTP 200");
        CHECK(server.connections() > before_reset);

        // The server closes every connection after its answer: each probe sees
        // the dead connection (or retries) and still reports 200.
        server.set_mode(KeepAliveServer::Mode::CloseAfter);
        auto after_close = results.next(loop, 3);
        for (const auto& r : after_close) CHECK(r == "HTTP 200");

        // A server that stops answering: reported as a timeout within the check's timeout.
        server.set_mode(KeepAliveServer::Mode::Ok);
        CHECK(results.wait_for(loop, "HTTP 200"));
        server.set_mode(KeepAliveServer::Mode::Hang);
        CHECK(results.wait_for(loop, "timeout after 250 ms"));  // the reason proves the timeout fired

        // And back: a new connection answers again.
        server.set_mode(KeepAliveServer::Mode::Ok);
        CHECK(results.wait_for(loop, "HTTP 200"));
        m.stop();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("keepalive: HEAD probes retry a reset kept connection too (curl itself retries only GET)") {
    KeepAliveServer server;
    Loop loop;
    {
        HealthMonitor m(loop.get());
        Results results(m);
        auto c = keepalive_check(server.port());
        c.method = "HEAD";
        m.set_targets({one_target(c)});
        for (const auto& r : results.next(loop, 3)) CHECK(r == "HTTP 200");
        CHECK(server.connections() == 1);
        server.set_mode(KeepAliveServer::Mode::ResetReused);
        for (const auto& r : results.next(loop, 3)) CHECK(r == "HTTP 200");
        CHECK(server.connections() >= 2);
        m.stop();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("keepalive: off by default, a new connection per probe") {
    KeepAliveServer server;
    Loop loop;
    {
        HealthMonitor m(loop.get());
        Results results(m);
        m.set_targets({one_target(keepalive_check(server.port(), false))});
        const auto got = results.next(loop, 3);
        REQUIRE(got.size() >= 3);
        for (const auto& r : got) CHECK(r == "HTTP 200");
        CHECK(server.connections() >= static_cast<int>(got.size()));
        m.stop();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("keepalive: the kept connection leaves from the configured source address") {
    KeepAliveServer server;
    Loop loop;
    {
        MonitorOptions options;
        options.source_v4 = "127.0.0.3";
        HealthMonitor m(loop.get(), options);
        Results results(m);
        m.set_targets({one_target(keepalive_check(server.port()))});
        for (const auto& r : results.next(loop, 3)) CHECK(r == "HTTP 200");
        CHECK(server.connections() == 1);
        CHECK(server.last_peer() == "127.0.0.3");
        m.stop();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("keepalive: many endpoints over several connection pools, removed and re-added cleanly") {
    // More keepalive checks than one pool holds (64), against one server.
    KeepAliveServer server;
    Loop loop;
    {
        HealthMonitor m(loop.get());
        std::vector<ProbeTarget> targets;
        for (int i = 0; i < 150; ++i) {
            targets.push_back(one_target(keepalive_check(server.port())));
            targets.back().key = std::to_string(i);  // "k" + ... draws a false -Wrestrict from GCC 12
            targets.back().index = static_cast<core::EndpointIndex>(i);
        }
        m.set_targets(targets);
        const bool all_up = loop.run_until([&] {
            for (const auto& h : m.health())
                if (!h.up()) return false;
            return true;
        }, Ms{5000});
        CHECK(all_up);
        // Drop half, then bring them back: pools are reused, nothing leaks.
        m.set_targets(std::vector<ProbeTarget>(targets.begin(), targets.begin() + 75));
        loop.run_for(Ms{400});
        m.set_targets(targets);
        const bool up_again = loop.run_until([&] {
            for (const auto& h : m.health())
                if (!h.up()) return false;
            return true;
        }, Ms{5000});
        CHECK(up_again);
        m.stop();
    }
    CHECK(loop.close() == 0);
}

// ---- passive signals: a kept connection that changes while idle is noticed at once

TEST_CASE("keepalive: a kept connection reset or closed while idle is re-checked at once, not counted as a failure") {
    bool reset = true;
    SUBCASE("reset (RST)") { reset = true; }
    SUBCASE("closed (FIN), as a server's keep-alive timeout does") { reset = false; }
    KeepAliveServer server;
    Loop loop;
    {
        HealthMonitor m(loop.get());
        Results results(m);
        std::vector<std::string> signals;
        m.on_signal([&](const std::string& key, const char* what) { signals.push_back(key + ": " + what); });
        auto c = keepalive_check(server.port());
        c.interval = Ms{60000};  // the next regular probe is far away: only the signal re-checks soon
        c.timeout = Ms{1000};
        m.set_targets({one_target(c)});
        REQUIRE(results.wait_for(loop, "HTTP 200"));
        REQUIRE(loop.run_until([&] { return server.open_connections() == 1; }, Ms{3000}));
        const uint64_t started = m.probes_started();

        server.drop_all(reset);
        REQUIRE(loop.run_until([&] { return !signals.empty(); }, Ms{5000}));
        CHECK(signals.front() == std::string("k: ") + (reset ? "reset by the endpoint" : "closed by the endpoint"));
        // The re-check runs now, on a new connection, and passes: no failure, no suspicion.
        REQUIRE(loop.run_until([&] { results.poll(); return m.probes_finished() > started; }, Ms{5000}));
        CHECK(server.connections() == 2);
        const auto st = m.status().at(0);
        CHECK(st.health.up());
        CHECK_FALSE(st.health.suspect);
        CHECK(st.consecutive_fail == 0);
        CHECK(st.last_result == "HTTP 200");
        m.stop();
    }
    CHECK(loop.close() == 0);
}

TEST_CASE("keepalive: a region that resets its kept connection and then fails goes down within fall fast re-checks") {
    KeepAliveServer server;
    Loop loop;
    {
        HealthMonitor m(loop.get());
        Results results(m);
        auto c = keepalive_check(server.port());
        c.interval = Ms{60000};  // without the passive signal nothing would look again for a minute
        c.timeout = Ms{1000};
        c.fall = 3;
        m.set_targets({one_target(c)});
        REQUIRE(results.wait_for(loop, "HTTP 200"));
        REQUIRE(loop.run_until([&] { return server.open_connections() == 1; }, Ms{3000}));
        server.set_mode(KeepAliveServer::Mode::Error);
        server.drop_all(true);
        // Reset noticed → re-check (500, suspect) → fast re-checks → down at the third failure.
        REQUIRE(loop.run_until([&] { return !m.health()[0].up(); }, Ms{10000}));
        const auto st = m.status().at(0);
        CHECK(st.last_result == "HTTP 500");
        CHECK(st.consecutive_fail >= 3);
        m.stop();
    }
    CHECK(loop.close() == 0);
}
