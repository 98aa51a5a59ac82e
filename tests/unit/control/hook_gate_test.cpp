// Hooks once per cluster: the lowest live id emits, the others hold their
// events until the emitter's watermark covers them, and deliver what they hold
// when the emitter dies (at least once, never lost). Injected time.
#include <doctest/doctest.h>

#include "control/hook_gate.hpp"

namespace signpost::control {
namespace {

Event event(uint64_t seq, std::size_t sinks = 1) {
    Event e;
    e.payload.seq = seq;
    e.payload.event = "service";
    e.hooks.resize(sinks);
    return e;
}

const std::vector<std::string> kAll = {"ns1", "ns2", "ns3"};

TEST_CASE("hook gate: the lowest live id emits") {
    CHECK(hook_emitter(kAll) == "ns1");
    CHECK(hook_emitter({"ns3", "ns2"}) == "ns2");
    CHECK(hook_emitter({}) == "");
}

TEST_CASE("hook gate: the emitter delivers at once, its watermark waits for the deliveries") {
    HookGate g("ns1", 1500);
    CHECK(g.update(kAll, std::nullopt, 1000).empty());
    CHECK(g.emitting());
    auto out = g.admit(event(1, 2), 1000);
    REQUIRE(out);
    CHECK(out->payload.seq == 1);
    CHECK(g.watermark(5000) == 999);  // two sinks still delivering
    g.sink_done(1);
    CHECK(g.watermark(5000) == 999);
    g.sink_done(1);
    CHECK(g.watermark(5000) == 5000);  // all delivered: everything up to now is covered
}

TEST_CASE("hook gate: events are held before the first poll, then delivered or dropped by who emits") {
    SUBCASE("this instance turns out to emit") {
        HookGate g("ns1", 1500);
        CHECK_FALSE(g.admit(event(1), 1000));
        auto out = g.update(kAll, std::nullopt, 1100);
        REQUIRE(out.size() == 1);
        CHECK(out[0].payload.seq == 1);
    }
    SUBCASE("another instance emits") {
        HookGate g("ns2", 1500);
        CHECK_FALSE(g.admit(event(1), 1000));
        CHECK(g.update(kAll, std::nullopt, 1100).empty());
        CHECK(g.held() == 1);
    }
}

TEST_CASE("hook gate: a held event is dropped once the emitter's watermark passes it by the grace") {
    HookGate g("ns2", 1500);
    g.update(kAll, std::nullopt, 1000);
    CHECK_FALSE(g.emitting());
    CHECK_FALSE(g.admit(event(7), 2000));
    CHECK(g.update(kAll, 3499, 3499).empty());  // the emitter may still decide the same change
    CHECK(g.held() == 1);
    CHECK(g.update(kAll, 3500, 3500).empty());
    CHECK(g.held() == 0);  // covered: the emitter delivered everything up to 3500
}

TEST_CASE("hook gate: when the emitter dies its successor delivers what it holds (maybe twice, never lost)") {
    HookGate ns2("ns2", 1500), ns3("ns3", 1500);
    ns2.update(kAll, 0, 1000);
    ns3.update(kAll, 0, 1000);
    CHECK_FALSE(ns2.admit(event(10), 2000));
    CHECK_FALSE(ns3.admit(event(20), 2010));
    // ns1 dies before its watermark covers the change: ns2 is the lowest live id.
    std::vector<std::string> left = {"ns2", "ns3"};
    auto out = ns2.update(left, std::nullopt, 4000);
    REQUIRE(out.size() == 1);
    CHECK(out[0].payload.seq == 10);
    CHECK(ns2.emitting());
    CHECK(ns3.update(left, ns2.watermark(4000), 4000).empty());
    CHECK(ns3.held() == 1);  // ns2's delivery of its copy is still running
    ns2.sink_done(10);
    CHECK(ns3.update(left, ns2.watermark(4000), 4000).empty());
    CHECK(ns3.held() == 0);
}

TEST_CASE("hook gate: a peer holds at most max_held events") {
    HookGate g("ns2", 1500, 3);
    g.update(kAll, 0, 0);
    for (uint64_t i = 1; i <= 5; ++i) CHECK_FALSE(g.admit(event(i), 1000 + int64_t(i)));
    CHECK(g.held() == 3);
    CHECK(g.dropped() == 2);
    auto out = g.update({"ns2"}, std::nullopt, 2000);
    REQUIRE(out.size() == 3);
    CHECK(out.front().payload.seq == 3);  // the oldest went first
}

}  // namespace
}  // namespace signpost::control
