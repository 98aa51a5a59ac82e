// The rise/fall state machine and the probe schedule, driven with injected time.
#include <doctest/doctest.h>

#include "probes/health_tracker.hpp"

using namespace signpost;
using namespace signpost::probes;
using core::HealthState;
using core::Millis;

namespace {

const core::TimePoint T0{std::chrono::seconds(1000)};
core::TimePoint at(int ms) { return T0 + Millis{ms}; }

core::CheckSpec spec(int rise = 2, int fall = 3) {
    core::CheckSpec s;
    s.name = "web";
    s.rise = rise;
    s.fall = fall;
    s.interval = Millis{1000};
    s.timeout = Millis{1000};
    s.fast_interval = Millis{200};
    return s;
}

ProbeResult ok() { return ProbeResult{true, "HTTP 200"}; }
ProbeResult bad(const char* why = "HTTP 503") { return ProbeResult{false, why}; }
ProbeResult timeout() {
    ProbeResult r{false, "timeout after 1000 ms"};
    r.timed_out = true;
    return r;
}

// Runs one probe that starts at its due time and ends `took` later.
void probe(CheckTracker& c, ProbeResult r, int took = 5) {
    const auto start = c.next_due();
    const auto seq = c.start(start);
    c.finish(seq, std::move(r), start + Millis{took});
}

}  // namespace

TEST_CASE("tracker: starts in the configured initial state, unconfirmed") {
    auto s = spec();
    SUBCASE("default down") {
        CheckTracker c(s, T0);
        CHECK(c.state() == HealthState::Down);
        CHECK_FALSE(c.confirmed());
        CHECK(c.next_due() == T0);
    }
    SUBCASE("initial up") {
        s.initial = HealthState::Up;
        CheckTracker c(s, T0);
        CHECK(c.up());
        CHECK_FALSE(c.confirmed());
    }
}

TEST_CASE("tracker: the first result decides the state directly") {
    auto s = spec(3, 3);
    SUBCASE("success while initially down comes up at once") {
        CheckTracker c(s, T0);
        probe(c, ok());
        CHECK(c.up());
        CHECK(c.confirmed());
        CHECK_FALSE(c.suspect());
        CHECK(c.since() == at(5));
    }
    SUBCASE("failure while initially up goes down at once") {
        s.initial = HealthState::Up;
        CheckTracker c(s, T0);
        probe(c, bad());
        CHECK_FALSE(c.up());
        CHECK(c.confirmed());
        CHECK(c.last().reason == "HTTP 503");
    }
    SUBCASE("failure while initially down keeps since") {
        CheckTracker c(s, T0);
        probe(c, bad());
        CHECK_FALSE(c.up());
        CHECK(c.since() == T0);
    }
}

TEST_CASE("tracker: goes down after fall consecutive failures, suspect before") {
    CheckTracker c(spec(2, 3), T0);
    probe(c, ok());
    REQUIRE(c.up());
    probe(c, bad());
    CHECK(c.up());
    CHECK(c.suspect());
    probe(c, bad());
    CHECK(c.up());
    CHECK(c.suspect());
    CHECK(c.consecutive_fail() == 2);
    probe(c, bad());
    CHECK_FALSE(c.up());
    CHECK_FALSE(c.suspect());
}

TEST_CASE("tracker: a success while suspect clears the suspicion and resets the count") {
    CheckTracker c(spec(2, 3), T0);
    probe(c, ok());
    probe(c, bad());
    probe(c, bad());
    probe(c, ok());
    CHECK(c.up());
    CHECK_FALSE(c.suspect());
    probe(c, bad());
    probe(c, bad());
    CHECK(c.up());  // only two in a row again
}

TEST_CASE("tracker: comes up after rise consecutive successes") {
    CheckTracker c(spec(2, 3), T0);
    probe(c, bad());
    REQUIRE_FALSE(c.up());
    probe(c, ok());
    CHECK_FALSE(c.up());
    CHECK(c.suspect());
    probe(c, ok());
    CHECK(c.up());
    CHECK_FALSE(c.suspect());
}

TEST_CASE("tracker: rise and fall of 1 change at once") {
    CheckTracker c(spec(1, 1), T0);
    probe(c, ok());
    probe(c, bad());
    CHECK_FALSE(c.up());
    probe(c, ok());
    CHECK(c.up());
}

TEST_CASE("tracker: a flapping endpoint never changes state with rise 2 / fall 3") {
    CheckTracker c(spec(2, 3), T0);
    probe(c, ok());
    const auto since = c.since();
    for (int i = 0; i < 20; ++i) {
        probe(c, i % 2 ? ok() : bad());
        CHECK(c.up());
    }
    CHECK(c.since() == since);
    // ok ok bad bad ok bad bad bad: down only at the third failure in a row
    probe(c, bad());
    probe(c, bad());
    CHECK(c.up());
    probe(c, bad());
    CHECK_FALSE(c.up());
}

TEST_CASE("schedule: interval while stable, fast_interval while suspect") {
    CheckTracker c(spec(2, 3), T0);
    auto seq = c.start(T0);
    CHECK(c.next_due() == at(1000));
    c.finish(seq, ok(), at(5));
    CHECK(c.next_due() == at(1000));
    seq = c.start(at(1000));
    c.finish(seq, bad(), at(1005));
    CHECK(c.suspect());
    CHECK(c.next_due() == at(1200));  // re-check soon after the failure
    seq = c.start(at(1200));
    CHECK(c.next_due() == at(1400));
    c.finish(seq, ok(), at(1205));
    CHECK_FALSE(c.suspect());
    seq = c.start(at(1400));
    CHECK(c.next_due() == at(2400));  // back to the normal interval
}

TEST_CASE("schedule: second probe is spread by the given delay") {
    CheckTracker c(spec(), T0, Millis{370});
    c.start(T0);
    CHECK(c.next_due() == at(370));
    c.start(at(370));
    CHECK(c.next_due() == at(1370));
}

TEST_CASE("schedule: a late start keeps the cadence, missed intervals are skipped, the phase kept") {
    CheckTracker c(spec(), T0);
    c.start(T0);
    CHECK(c.next_due() == at(1000));
    SUBCASE("40 ms late: the next probe is still due at 2000") {
        c.start(at(1040));
        CHECK(c.next_due() == at(2000));
        c.start(at(2001));
        CHECK(c.next_due() == at(3000));
    }
    SUBCASE("one interval late or more: missed beats are skipped, the phase stays") {
        c.start(at(2000));
        CHECK(c.next_due() == at(3000));
        c.start(at(4500));
        CHECK(c.next_due() == at(5000));
    }
    SUBCASE("early (a caller may start before due): counts from the start") {
        c.start(at(900));
        CHECK(c.next_due() == at(1900));
    }
}

TEST_CASE("schedule: refused endpoint goes down within interval + 2 fast intervals") {
    CheckTracker c(spec(2, 3), T0);
    probe(c, ok());                   // t=0 up
    // The endpoint starts refusing just after t=0; each probe starts when due.
    CHECK(c.next_due() == at(1000));
    for (int i = 0; i < 10 && c.up(); ++i) probe(c, bad("connection refused"), 2);
    CHECK_FALSE(c.up());
    CHECK(c.since() == at(1000 + 2 * 200 + 2));
}

TEST_CASE("schedule: a hanging endpoint goes down within 3.5 s with overlapping probes") {
    // interval 1 s, timeout 1 s, fall 3, fast 200 ms; the endpoint hangs from t=0+.
    CheckTracker c(spec(2, 3), T0);
    auto s0 = c.start(T0);
    c.finish(s0, ok(), at(5));
    REQUIRE(c.up());
    struct Running { uint64_t seq; int ends; };
    std::vector<Running> running;
    int now = 0;
    while (c.up() && now < 10000) {
        ++now;  // 1 ms steps
        // time-outs first (a probe times out exactly `timeout` after its start)
        for (auto it = running.begin(); it != running.end();) {
            if (it->ends <= now) {
                c.finish(it->seq, timeout(), at(now));
                it = running.erase(it);
            } else {
                ++it;
            }
        }
        if (c.next_due() <= at(now) && c.may_start()) {
            running.push_back({c.start(at(now)), now + 1000});
        }
    }
    CHECK_FALSE(c.up());
    CHECK(now <= 3500);
    CHECK(c.last().timed_out);
}

TEST_CASE("schedule: overlapping probes are capped and results applied in start order") {
    CheckTracker c(spec(2, 3), T0);
    const auto a = c.start(T0);
    const auto b = c.start(at(200));
    const auto d = c.start(at(400));
    CHECK_FALSE(c.may_start());
    CHECK(c.max_in_flight() == 3);
    // b and d finish before a: nothing is applied until a ends
    CHECK(c.finish(b, bad("HTTP 500"), at(210)) == 0);
    CHECK(c.finish(d, bad("HTTP 500"), at(410)) == 0);
    CHECK_FALSE(c.confirmed());
    CHECK(c.finish(a, ok(), at(1000)) == 3);
    // a=ok decides up (first result), then two failures: suspect, not yet down
    CHECK(c.up());
    CHECK(c.suspect());
    CHECK(c.consecutive_fail() == 2);
    CHECK(c.may_start());
}

TEST_CASE("schedule: cancelled probes are forgotten") {
    CheckTracker c(spec(), T0);
    const auto a = c.start(T0);
    c.cancel_all();
    CHECK(c.finish(a, ok(), at(5)) == 0);
    CHECK_FALSE(c.confirmed());
    CHECK(c.in_flight() == 0);
}

TEST_CASE("endpoint: up only when every check is up") {
    auto http = spec(1, 1);
    auto tcp = spec(1, 1);
    tcp.name = "port";
    tcp.kind = core::CheckKind::Tcp;
    const core::CheckSpec both[] = {http, tcp};
    EndpointTracker e(both, T0);
    CHECK_FALSE(e.health().up());
    CHECK_FALSE(e.health().confirmed);
    CHECK_FALSE(e.first_result_known());

    e.checks()[0].apply(ok(), at(10));
    e.update(at(10));
    CHECK_FALSE(e.health().up());  // tcp has no result yet and starts down
    CHECK_FALSE(e.health().confirmed);

    e.checks()[1].apply(ProbeResult{true, "TCP connect ok"}, at(20));
    CHECK(e.update(at(20)));
    CHECK(e.health().up());
    CHECK(e.health().confirmed);
    CHECK(e.health().since == at(20));
    CHECK(e.first_result_known());

    e.checks()[1].apply(bad("connection refused"), at(1000));
    CHECK(e.update(at(1000)));
    CHECK_FALSE(e.health().up());
    CHECK(e.health().reason == "port: connection refused");
}

TEST_CASE("endpoint: one check decided down is a known first result") {
    auto a = spec(), b = spec();
    b.name = "other";
    const core::CheckSpec both[] = {a, b};
    EndpointTracker e(both, T0);
    e.checks()[0].apply(bad("HTTP 500"), at(5));
    e.update(at(5));
    CHECK(e.first_result_known());
    CHECK(e.health().confirmed);
    CHECK_FALSE(e.health().up());
}

TEST_CASE("endpoint: suspect while up when any check is suspect") {
    const core::CheckSpec one[] = {spec(2, 3)};
    EndpointTracker e(one, T0);
    e.checks()[0].apply(ok(), at(5));
    CHECK(e.update(at(5)));
    e.checks()[0].apply(bad(), at(1005));
    CHECK(e.update(at(1005)));
    CHECK(e.health().up());
    CHECK(e.health().suspect);
    CHECK(e.health().reason == "HTTP 503");
}

TEST_CASE("endpoint: without checks is up") {
    EndpointTracker e({}, T0);
    CHECK(e.health().up());
    CHECK(e.health().confirmed);
    CHECK(e.first_result_known());
}

TEST_CASE("tracker: a known initial state is confirmed at once and moves by rise/fall, not by the first result") {
    auto s = spec(3, 3);
    s.initial = HealthState::Down;
    s.initial_known = true;  // a hostname's returning address while its endpoint is down
    CheckTracker c(s, T0);
    CHECK(c.confirmed());
    CHECK(c.state() == HealthState::Down);
    probe(c, ok());
    CHECK(c.state() == HealthState::Down);  // one success is not `rise`
    CHECK(c.suspect());
    probe(c, ok());
    probe(c, ok());
    CHECK(c.state() == HealthState::Up);
    s.initial = HealthState::Up;
    CheckTracker u(s, T0);
    probe(u, bad());
    CHECK(u.state() == HealthState::Up);  // nor one failure `fall`
    CHECK(u.suspect());
}

// ---- detecting sooner: passive signals, timeout = "auto", overdue probes, brownout

namespace {

ProbeResult ok_in(double ms) {
    ProbeResult r{true, "HTTP 200"};
    r.latency_ms = ms;
    return r;
}

// n successful probes of `ms` each, at their due times; the tracker ends up.
void warm(CheckTracker& c, int n, double ms) {
    for (int i = 0; i < n; ++i) probe(c, ok_in(ms), static_cast<int>(ms));
}

}  // namespace

TEST_CASE("passive signal: a kept connection closed while idle brings the next probe to now, no failure") {
    auto s = spec();
    CheckTracker c(s, T0);
    warm(c, 3, 5);
    REQUIRE(c.up());
    const auto planned = c.next_due();
    const auto now = planned - Millis{700};
    CHECK(c.nudge(now));
    CHECK(c.next_due() == now);
    CHECK(c.up());
    CHECK_FALSE(c.suspect());          // a close is no failure: nothing to warn about
    CHECK(c.consecutive_fail() == 0);
    SUBCASE("at most once per interval") {
        CHECK_FALSE(c.nudge(now + Millis{10}));
        const auto seq = c.start(now);
        CHECK(c.next_due() == now + s.fast_interval);  // looking closer until a result comes
        c.finish(seq, ok_in(5), now + Millis{5});
        CHECK_FALSE(c.hurried());
        CHECK(c.nudge(now + s.interval));
    }
    SUBCASE("the re-check's failure counts as usual, and the fast re-checks follow") {
        const auto seq = c.start(now);
        c.finish(seq, bad("connection refused"), now + Millis{1});
        CHECK(c.suspect());
        CHECK(c.consecutive_fail() == 1);
        CHECK(c.next_due() == now + s.fast_interval);
    }
}

TEST_CASE("timeout = \"auto\": the maximum first, then the measured latency's") {
    auto s = spec();
    s.timeout_auto = true;
    s.timeout = Millis{1000};
    s.timeout_min = Millis{50};
    CheckTracker c(s, T0);
    CHECK(c.timeout() == Millis{1000});
    warm(c, static_cast<int>(LatencyStats::kMinSamples), 5);
    CHECK(c.timeout() == Millis{50});
    warm(c, 20, 60);
    CHECK(c.timeout() == Millis{240});
    SUBCASE("each timeout in a row doubles the next one, up to the maximum; an answer resets it") {
        warm(c, 20, 5);
        REQUIRE(c.timeout() == Millis{50});
        probe(c, timeout());
        CHECK(c.timeout() == Millis{100});
        probe(c, timeout());
        CHECK(c.timeout() == Millis{200});
        probe(c, bad("connection refused"));  // not a timeout: back to the measured one
        CHECK(c.timeout() == Millis{50});
        for (int i = 0; i < 6; ++i) probe(c, timeout());
        CHECK(c.timeout() == Millis{1000});
        probe(c, ok_in(5));
        CHECK(c.timeout() == Millis{50});
    }
    SUBCASE("a fixed timeout stays fixed") {
        auto f = spec();
        CheckTracker fixed(f, T0);
        warm(fixed, 20, 5);
        CHECK(fixed.timeout() == Millis{1000});
    }
}

TEST_CASE("overdue probe: a probe running far past the usual latency starts the fast re-checks while it runs") {
    auto s = spec();  // fixed timeout 1 s, fall 3, fast 200 ms
    CheckTracker c(s, T0);
    warm(c, 12, 5);
    const auto start = c.next_due();
    const auto hung = c.start(start);
    // Usually 5 ms: overdue after 50 ms (the minimum), long before the 1 s timeout.
    CHECK(c.next_due() == start + Millis{50});
    const auto second = c.start(start + Millis{50});
    CHECK(c.hurried());
    CHECK(c.next_due() == start + Millis{250});
    const auto third = c.start(start + Millis{250});
    CHECK(c.in_flight() == 3);
    CHECK_FALSE(c.may_start());  // bounded: max(rise, fall) in flight
    // Each times out in turn: the third failure lands at 1.25 s, not 1 s + 2 × 1.2 s.
    c.finish(hung, timeout(), start + Millis{1000});
    c.finish(second, timeout(), start + Millis{1050});
    CHECK(c.up());
    c.finish(third, timeout(), start + Millis{1250});
    CHECK(c.state() == HealthState::Down);
    SUBCASE("an endpoint that is merely slow once answers, and the pace returns to the interval") {
        CheckTracker d(s, T0);
        warm(d, 12, 5);
        const auto t = d.next_due();
        const auto slow = d.start(t);
        const auto extra = d.start(t + Millis{50});
        d.finish(slow, ok_in(80), t + Millis{80});
        CHECK_FALSE(d.hurried());
        d.finish(extra, ok_in(5), t + Millis{55});
        CHECK(d.up());
        CHECK(d.next_due() == t + Millis{250});  // the re-check already planned runs once
        probe(d, ok_in(5));
        CHECK(d.next_due() == t + Millis{250} + s.interval);
    }
}

TEST_CASE("brownout: a check that is up but much slower than usual is degraded, and the endpoint with it") {
    auto s = spec();
    std::vector<core::CheckSpec> checks{s};
    EndpointTracker ep(checks, T0);
    auto& c = ep.checks()[0];
    for (int i = 0; i < 20; ++i) {
        probe(c, ok_in(5));
        ep.update(c.next_due());
    }
    CHECK(ep.health().up());
    CHECK_FALSE(ep.health().degraded);
    probe(c, ok_in(400));
    CHECK_FALSE(ep.update(c.next_due()));
    probe(c, ok_in(400));
    CHECK(ep.update(c.next_due()));  // a change: published, the early warning fires
    CHECK(ep.health().degraded);
    CHECK(ep.health().warning == "slow: 400 ms, usually 5 ms");
    CHECK_FALSE(ep.health().suspect);
    probe(c, ok_in(5));
    probe(c, ok_in(5));
    CHECK(ep.update(c.next_due()));
    CHECK_FALSE(ep.health().degraded);
    CHECK(ep.health().warning.empty());
}

TEST_CASE("brownout: failures from before a recovery are not a brownout of the recovered endpoint") {
    auto s = spec();
    s.rise = 1;
    CheckTracker c(s, T0);
    warm(c, 3, 5);
    for (int i = 0; i < 12; ++i) probe(c, bad());
    REQUIRE(c.state() == HealthState::Down);
    CHECK(c.degraded().empty());  // down is not degraded
    probe(c, ok_in(5));
    REQUIRE(c.up());
    CHECK(c.degraded().empty());
}
