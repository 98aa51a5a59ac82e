// The incident page's memory: the bounded timeline, per-key history and their JSON.
#include <doctest/doctest.h>

#include "timeline/timeline.hpp"

using namespace signpost;
using timeline::Entry;

namespace {

Entry entry(const std::string& kind, int64_t at) {
    Entry e;
    e.kind = kind;
    e.time_ms = at;
    return e;
}

hooks::HookEvent hook_event(const std::string& kind, const std::string& from, const std::string& to) {
    hooks::HookEvent e;
    e.seq = 41;
    e.event = kind;
    e.zone = "example.com";
    e.service = "site";
    e.from = from;
    e.to = to;
    e.reason = "endpoint 127.0.0.10 down: connection refused";
    e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    return e;
}

}  // namespace

TEST_CASE("timeline: entries are numbered from 1 and the oldest drop past the capacity") {
    timeline::Timeline t(3);
    CHECK(t.last_seq() == 0);
    CHECK(t.oldest_seq() == 1);
    for (int i = 0; i < 5; ++i) CHECK(t.add(entry("reload", i)) == uint64_t(i + 1));
    CHECK(t.size() == 3);
    CHECK(t.last_seq() == 5);
    CHECK(t.oldest_seq() == 3);
    auto all = t.since(0, 100);
    REQUIRE(all.size() == 3);
    CHECK(all[0]->seq == 3);
    CHECK(all[2]->seq == 5);
}

TEST_CASE("timeline: since returns what came after a seq, the newest when limited") {
    timeline::Timeline t(10);
    for (int i = 0; i < 6; ++i) t.add(entry("endpoint", i));
    SUBCASE("after 4") {
        auto r = t.since(4, 100);
        REQUIRE(r.size() == 2);
        CHECK(r[0]->seq == 5);
        CHECK(r[1]->seq == 6);
    }
    SUBCASE("nothing new") { CHECK(t.since(6, 100).empty()); }
    SUBCASE("limited to the newest two") {
        auto r = t.since(0, 2);
        REQUIRE(r.size() == 2);
        CHECK(r[0]->seq == 5);
    }
    SUBCASE("a seq from before a restart returns everything kept") { CHECK(t.since(99, 100).size() == 6); }
}

TEST_CASE("timeline: hook events become entries with their level") {
    auto down = timeline::from_event(hook_event("service", "primary", "failover:secondary"));
    CHECK(down.kind == "service");
    CHECK(down.level == "warning");
    CHECK(down.event_seq == 41);
    CHECK(down.time_ms == 1'700'000'000'123);
    CHECK(down.zone == "example.com");
    CHECK(down.from == "primary");
    CHECK(down.to == "failover:secondary");
    CHECK(timeline::from_event(hook_event("service", "failover:secondary", "primary")).level == "info");
    CHECK(timeline::from_event(hook_event("service", "primary", "all-down")).level == "warning");
    CHECK(timeline::from_event(hook_event("endpoint", "up", "down")).level == "warning");
    CHECK(timeline::from_event(hook_event("endpoint", "down", "up")).level == "info");
    CHECK(timeline::from_event(hook_event("early-warning", "primary", "primary")).level == "warning");
}

TEST_CASE("timeline: hook deliveries say what happened and hide secrets in URLs") {
    hooks::DeliveryOutcome o{hook_event("service", "primary", "failover:secondary"),
                             "https://user:pw@hooks.example.com/x?token=s3cret", 2, false, false, "HTTP 503"};
    auto e = timeline::from_delivery(o, 5000);
    CHECK(e.kind == "hook");
    CHECK(e.level == "warning");
    CHECK(e.to == "retrying");
    CHECK(e.time_ms == 5000);
    CHECK(e.reason == "event 41 (service) to https://hooks.example.com/x: attempt 2 failed: HTTP 503; retrying");
    o.final = true;
    e = timeline::from_delivery(o, 5000);
    CHECK(e.level == "error");
    CHECK(e.to == "gave up");
    CHECK(e.reason == "event 41 (service) to https://hooks.example.com/x: attempt 2 failed: HTTP 503; giving up");
    o.ok = true;
    o.target = "/usr/local/bin/page-oncall";
    e = timeline::from_delivery(o, 5000);
    CHECK(e.level == "info");
    CHECK(e.to == "delivered");
    CHECK(e.reason == "event 41 (service) to /usr/local/bin/page-oncall after 2 attempts");
}

TEST_CASE("history: a band starts when the state changes, not when it repeats") {
    timeline::History h;
    h.state("example.com/primary/127.0.0.10", "up", 1000);
    h.state("example.com/primary/127.0.0.10", "up", 2000);
    h.state("example.com/primary/127.0.0.10", "down", 3000);
    h.state("example.com/primary/127.0.0.10", "down", 4000);
    auto* s = h.find("example.com/primary/127.0.0.10");
    REQUIRE(s);
    REQUIRE(s->bands.size() == 2);
    CHECK(s->bands[0].from_ms == 1000);
    CHECK(s->bands[1].state == "down");
    CHECK(s->bands[1].from_ms == 3000);
}

TEST_CASE("history: bands older than the window go, the one in force at its start stays") {
    timeline::HistoryOptions o;
    o.window_ms = 10'000;
    timeline::History h(o);
    h.state("k", "up", 0);
    h.state("k", "down", 2000);
    h.state("k", "up", 4000);
    h.state("k", "up", 13'000);  // window starts at 3000: "down" (from 2000) is in force then
    auto* s = h.find("k");
    REQUIRE(s->bands.size() == 2);
    CHECK(s->bands[0].state == "down");
    h.state("k", "up", 20'000);
    CHECK(h.find("k")->bands.size() == 1);
}

TEST_CASE("history: at most max_bands bands per key") {
    timeline::HistoryOptions o;
    o.max_bands = 4;
    timeline::History h(o);
    for (int i = 0; i < 10; ++i) h.state("k", i % 2 ? "down" : "up", 1000 + i);
    CHECK(h.find("k")->bands.size() == 4);
    CHECK(h.find("k")->bands.back().from_ms == 1009);
}

TEST_CASE("history: probe latency is bucketed and counted once per new result") {
    timeline::HistoryOptions o;
    o.window_ms = 60'000;
    o.buckets = 6;  // 10 s each
    timeline::History h(o);
    CHECK(h.bucket_ms() == 10'000);
    h.probe("k", 1, 10.0, true, 1000);
    h.probe("k", 1, 99.0, true, 1500);  // same checks_run: sampled twice, counted once
    h.probe("k", 2, 30.0, false, 9000);
    h.probe("k", 3, 5.0, true, 12'000);
    h.probe("k", 0, 7.0, true, 12'500);  // no result yet: nothing
    auto* s = h.find("k");
    REQUIRE(s->latency.size() == 2);
    CHECK(s->latency[0].start_ms == 0);
    CHECK(s->latency[0].count == 2);
    CHECK(s->latency[0].failures == 1);
    CHECK(s->latency[0].sum_ms == doctest::Approx(40.0));
    CHECK(s->latency[0].max_ms == doctest::Approx(30.0));
    CHECK(s->latency[1].start_ms == 10'000);
    for (int i = 4; i < 40; ++i) h.probe("k", uint64_t(i), 1.0, true, 12'000 + i * 5000);
    CHECK(h.find("k")->latency.size() <= 6);
}

TEST_CASE("history: prune drops keys not seen for a whole window") {
    timeline::HistoryOptions o;
    o.window_ms = 10'000;
    timeline::History h(o);
    h.state("gone", "up", 0);
    h.state("kept", "up", 0);
    h.state("kept", "up", 8000);
    h.prune(10'000);
    CHECK(h.find("gone") == nullptr);
    CHECK(h.find("kept") != nullptr);
}

TEST_CASE("timeline: /v1/events JSON") {
    timeline::Timeline t(2);
    t.add(timeline::from_event(hook_event("service", "primary", "failover:secondary")));
    auto j = timeline::events_json(t, 0, 100);
    CHECK(j["last_seq"] == 1);
    CHECK(j["oldest_seq"] == 1);
    CHECK(j["capacity"] == 2);
    REQUIRE(j["events"].size() == 1);
    auto& e = j["events"][0];
    CHECK(e["seq"] == 1);
    CHECK(e["event_seq"] == 41);
    CHECK(e["time"] == "2023-11-14T22:13:20.123Z");
    CHECK(e["time_ms"] == 1'700'000'000'123);
    CHECK(e["kind"] == "service");
    CHECK(e["level"] == "warning");
    CHECK(e["service"] == "site");
    CHECK(e["reason"] == "endpoint 127.0.0.10 down: connection refused");
    CHECK(timeline::events_json(t, 1, 100)["events"].empty());
}

TEST_CASE("history: /v1/history JSON clips bands to the window") {
    timeline::HistoryOptions o;
    o.window_ms = 10'000;
    o.buckets = 10;
    timeline::History h(o);
    h.state("a", "up", 1000);
    h.state("b", "down", 1000);
    h.probe("a", 1, 12.0, true, 5500);
    auto j = timeline::history_json(h, 20'000);
    CHECK(j["window_ms"] == 10'000);
    CHECK(j["bucket_ms"] == 1000);
    CHECK(j["series"]["a"]["bands"][0]["from_ms"] == 10'000);
    CHECK(j["series"]["a"]["latency"].empty());  // 5 s bucket is out of the window
    auto only = timeline::history_json(h, 6000, {"a"});
    CHECK(only["series"].size() == 1);
    CHECK(only["series"]["a"]["latency"][0]["avg_ms"] == doctest::Approx(12.0));
}

TEST_CASE("timeline: reloads and operator commands as entries") {
    auto ok = timeline::from_reload("SIGHUP", true, false, {}, 7);
    CHECK(ok.kind == "reload");
    CHECK(ok.level == "info");
    CHECK(ok.reason == "SIGHUP: loaded");
    CHECK(timeline::from_reload("API", true, true, {}, 7).reason ==
          "API: loaded; waiting for the new endpoints' first probes");
    auto bad = timeline::from_reload("zones directory", false, false, {"a.toml:1:1: error: x", "b", "c", "d", "e"}, 7);
    CHECK(bad.level == "error");
    CHECK(bad.to == "failed");
    CHECK(bad.reason == "zones directory: still serving the previous configuration: a.toml:1:1: error: x; b; c; 2 more");
    auto cmd = timeline::from_command("override", "example.com/primary/127.0.0.10",
                                      "example.com/primary/127.0.0.10 forced down", "maintenance", 9);
    CHECK(cmd.kind == "override");
    CHECK(cmd.level == "warning");
    CHECK(cmd.endpoint == "example.com/primary/127.0.0.10");
    CHECK(cmd.reason == "example.com/primary/127.0.0.10 forced down (maintenance)");
    CHECK(timeline::from_command("release", "example.com/site", "released", "", 9).reason == "released");
}
