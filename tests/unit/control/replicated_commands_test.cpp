// Operator commands in a cluster: the conflict rule (CommandLog) on its own, and
// two or three control cores exchanging their logs as peers would. Injected time.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "control/controller.hpp"
#include "control/replicated_commands.hpp"
#include "zones/loader.hpp"

namespace signpost::control {
namespace {

using namespace std::chrono_literals;

ReplicatedCommand override_cmd(const std::string& target, core::Override state, int64_t at, const std::string& origin,
                               std::optional<int64_t> expires = std::nullopt) {
    ReplicatedCommand c;
    c.kind = CommandKind::Override;
    c.target = target;
    c.state = state;
    c.at_ms = at;
    c.origin = origin;
    c.expires_ms = expires;
    return c;
}

TEST_CASE("commands: the later stamp wins, equal stamps go to the origin that sorts last") {
    auto a = override_cmd("example.com/primary", core::Override::ForceDown, 1000, "ns1");
    auto b = override_cmd("example.com/primary", core::Override::ForceUp, 1001, "ns2");
    CHECK(supersedes(b, a));
    CHECK_FALSE(supersedes(a, b));
    b.at_ms = 1000;
    CHECK(supersedes(b, a));  // "ns2" > "ns1"
    CHECK_FALSE(supersedes(a, b));
    auto twin = a;
    CHECK_FALSE(supersedes(a, twin));  // the same record: nothing to do
    twin.reason = "other";             // a corrupt twin: still one winner, whatever the order
    CHECK(supersedes(a, twin) != supersedes(twin, a));
}

TEST_CASE("commands: merging in any order gives the same log") {
    std::vector<ReplicatedCommand> records = {
        override_cmd("example.com/primary", core::Override::ForceDown, 1000, "ns1"),
        override_cmd("example.com/primary", core::Override::ForceUp, 1000, "ns2"),
        override_cmd("example.com/primary", core::Override::Auto, 999, "ns3"),
        override_cmd("example.com/secondary", core::Override::ForceDown, 5, "ns3"),
    };
    std::sort(records.begin(), records.end(), [](auto& x, auto& y) { return x.origin < y.origin; });
    std::vector<std::vector<ReplicatedCommand>> outcomes;
    do {
        CommandLog log;
        for (auto& r : records) log.merge(std::span(&r, 1));
        outcomes.push_back(log.all());
    } while (std::next_permutation(records.begin(), records.end(),
                                   [](auto& x, auto& y) { return x.origin + x.target < y.origin + y.target; }));
    REQUIRE(outcomes.size() > 1);
    for (auto& o : outcomes) CHECK(o == outcomes.front());
    REQUIRE(outcomes.front().size() == 2);
    CHECK(outcomes.front()[0].origin == "ns2");  // (1000, "ns2") beats (1000, "ns1") and (999, "ns3")
    CHECK(outcomes.front()[0].state == core::Override::ForceUp);
}

TEST_CASE("commands: a command made after seeing another wins even on a clock that is behind") {
    CommandLog behind;
    auto seen = override_cmd("example.com/primary", core::Override::ForceDown, 50'000, "ns2");
    behind.merge(std::span(&seen, 1));
    // This instance's wall clock reads 20 s earlier than ns2's.
    auto stamp = behind.stamp(30'000);
    CHECK(stamp == 50'001);
    auto mine = override_cmd("example.com/primary", core::Override::Auto, stamp, "ns1");
    behind.record(mine);
    CHECK(supersedes(mine, seen));
    // Stamps made here never repeat, even within one millisecond.
    CHECK(behind.stamp(30'000) == 50'002);
    CHECK(behind.stamp(60'000) == 60'000);
}

TEST_CASE("commands: malformed records are rejected and change nothing") {
    CommandLog log;
    auto good = override_cmd("example.com/primary", core::Override::ForceDown, 1000, "ns1");
    log.record(good);
    std::vector<ReplicatedCommand> bad = {override_cmd("", core::Override::ForceUp, 2000, "ns2"),
                                          override_cmd("example.com/primary", core::Override::ForceUp, 0, "ns2"),
                                          override_cmd("example.com/primary", core::Override(7), 3000, "ns2")};
    std::vector<std::string> rejected;
    CHECK(log.merge(bad, &rejected).empty());
    CHECK(rejected == std::vector<std::string>{"a command without a target", "command on example.com/primary has no time",
                                               "override of example.com/primary has an unknown state"});
    REQUIRE(log.size() == 1);
    CHECK(log.all().front() == good);
}

TEST_CASE("commands: undone and expired records are kept for the retention time, then forgotten") {
    CommandLog log;
    int64_t t = 1'800'000'000'000;
    log.record(override_cmd("example.com/primary", core::Override::Auto, t, "ns1"));
    log.record(override_cmd("example.com/secondary", core::Override::ForceDown, t, "ns1", t + 60'000));
    log.record(override_cmd("example.com/standby", core::Override::ForceDown, t, "ns1"));
    CHECK(log.prune(t + kCommandRetentionMs, kCommandRetentionMs) == 0);
    CHECK(log.prune(t + kCommandRetentionMs + 1, kCommandRetentionMs) == 1);  // the undo
    CHECK(log.prune(t + 60'000 + kCommandRetentionMs + 1, kCommandRetentionMs) == 1);  // expired, counted from expiry
    REQUIRE(log.size() == 1);  // a standing override is never forgotten
    CHECK(log.all().front().target == "example.com/standby");
}

// ---- control cores exchanging their logs ----------------------------------------

const char* kZone = R"(origin = "example.com"
ttl = 300
[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[checks.health]
kind = "http"
path = "/health"
port = 8080
interval = "1s"
timeout = "1s"
[pools.primary]
endpoints = ["192.0.2.10"]
checks = ["health"]
[pools.secondary]
endpoints = ["192.0.2.11"]
checks = ["health"]
[services.site]
names = ["@", "www"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
)";

const std::string kPrimary = "example.com/primary/192.0.2.10";

struct Instance {
    Controller core;
    std::vector<core::EndpointHealth> health;
    Now now{core::TimePoint{} + 100h, 1'800'000'000'000};
    std::vector<LogLine> log;

    explicit Instance(const std::string& id, int64_t skew_ms = 0) : core(options(id)) {
        now.unix_ms += skew_ms;
        auto r = zones::load_text(kZone, "example.com.toml");
        REQUIRE(r.catalog);
        apply(core.load(r.catalog, now));
        health.assign(core.probe_targets().size(), {});
        for (auto& h : health) {
            h.state = core::HealthState::Up;
            h.confirmed = true;
            h.reason = "HTTP 200";
        }
        apply(core.start(health, now));
    }
    static Options options(const std::string& id) {
        Options o;
        o.instance_id = id;
        return o;
    }
    void apply(Step s) {
        for (auto& l : s.log) log.push_back(l);
        if (s.snapshot) core.published(s.snapshot->version, now);
    }
    void advance(core::Millis d) {
        now.mono += d;
        now.unix_ms += d.count();
    }
    // One poll of a peer: its command log, merged here.
    void hears(const Instance& peer) {
        auto records = peer.core.commands().all();
        apply(core.merge_commands(records, health, now));
    }
    void tick() { apply(core.tick(health, now)); }
    std::string label() const { return core.evaluations()[0].decision.label; }
    core::Override forced(const std::string& target) const {
        auto& cat = core.catalog();
        for (auto& e : cat.endpoints)
            if (e.key == target || target.starts_with(e.key))
                if (auto* o = core.override_for(e)) return o->state;
        return core::Override::Auto;
    }
    bool logged(const std::string& part) const {
        return std::any_of(log.begin(), log.end(), [&](auto& l) { return l.text.find(part) != std::string::npos; });
    }
};

TEST_CASE("commands: an override made at one instance applies at its peers, with its origin") {
    Instance a("ns1"), b("ns2");
    auto r = a.core.set_override("example.com/primary", core::Override::ForceDown, "drill", std::nullopt, a.health, a.now);
    REQUIRE(r.status == 200);
    a.apply(std::move(r.step));
    CHECK(a.label() == "failover:secondary");
    CHECK(b.label() == "primary");
    b.hears(a);
    CHECK(b.label() == "failover:secondary");
    auto* rec = b.core.commands().find(CommandKind::Override, "example.com/primary");
    REQUIRE(rec);
    CHECK(rec->origin == "ns1");
    CHECK(rec->at_ms == a.now.unix_ms);
    CHECK(rec->reason == "drill");
    CHECK(b.logged("override example.com/primary: forced down by ns1 at 1800000000000 (Unix ms) (drill)"));
    // Hearing it again changes nothing (no new log line, no new evaluation).
    auto lines = b.log.size();
    b.hears(a);
    CHECK(b.log.size() == lines);
    // The undo travels the same way.
    a.apply(a.core.set_override("example.com/primary", core::Override::Auto, "", std::nullopt, a.health, a.now).step);
    b.hears(a);
    CHECK(b.label() == "primary");
}

TEST_CASE("commands: two overrides on one target at two instances converge on the same winner") {
    Instance a("ns1"), b("ns2"), c("ns3");
    SUBCASE("made in the same millisecond: the origin that sorts last wins") {
        a.apply(a.core.set_override("example.com/primary", core::Override::ForceDown, "a", std::nullopt, a.health, a.now).step);
        b.apply(b.core.set_override("example.com/primary", core::Override::ForceUp, "b", std::nullopt, b.health, b.now).step);
    }
    SUBCASE("b later by 1 ms: b wins") {
        a.apply(a.core.set_override("example.com/primary", core::Override::ForceDown, "a", std::nullopt, a.health, a.now).step);
        b.advance(1ms);
        b.apply(b.core.set_override("example.com/primary", core::Override::ForceUp, "b", std::nullopt, b.health, b.now).step);
    }
    // Every order of hearing each other.
    a.hears(b);
    c.hears(b);
    b.hears(a);
    c.hears(a);
    for (auto* i : {&a, &b, &c}) {
        auto* rec = i->core.commands().find(CommandKind::Override, "example.com/primary");
        REQUIRE(rec);
        CHECK(rec->origin == "ns2");
        CHECK(i->forced(kPrimary) == core::Override::ForceUp);
        CHECK(i->label() == "primary");
    }
}

TEST_CASE("commands: expiry is an absolute time, the same at every instance") {
    Instance a("ns1"), b("ns2");
    a.apply(a.core.set_override("example.com/primary", core::Override::ForceDown, "", 10'000ms, a.health, a.now).step);
    b.advance(4s);  // b hears it 4 s later
    b.hears(a);
    CHECK(b.label() == "failover:secondary");
    b.advance(5999ms);
    b.tick();
    CHECK(b.label() == "failover:secondary");
    b.advance(1ms);  // 10 s after it was made at a
    b.tick();
    CHECK(b.label() == "primary");
    SUBCASE("a record heard after its expiry is spent on arrival") {
        Instance late("ns3");
        late.advance(11s);
        late.hears(a);
        CHECK(late.label() == "primary");
        CHECK(late.core.commands().find(CommandKind::Override, "example.com/primary"));  // kept: it still outranks older ones
    }
}

TEST_CASE("commands: an instance that was down catches up from its state file and its peers") {
    Instance a("ns1"), b("ns2");
    a.apply(a.core.set_override("example.com/primary", core::Override::ForceDown, "", std::nullopt, a.health, a.now).step);
    b.hears(a);
    auto saved = b.core.persisted(b.health, b.now);
    REQUIRE(saved.has_commands);
    REQUIRE(saved.commands.size() == 1);
    // b is down; meanwhile a undoes the override and drains the primary.
    a.advance(60s);
    a.apply(a.core.set_override("example.com/primary", core::Override::Auto, "", std::nullopt, a.health, a.now).step);
    a.apply(a.core.drain(kPrimary, false, a.health, a.now).step);
    // b comes back 90 s later: a fresh core restored from its state file...
    Instance b2("ns2");
    b2.advance(90s);
    Controller c(Instance::options("ns2"));
    c.restore(saved, b2.now);
    CHECK(c.commands().size() == 1);
    auto r = zones::load_text(kZone, "example.com.toml");
    c.load(r.catalog, b2.now);
    std::vector<core::EndpointHealth> h(c.probe_targets().size());
    for (auto& x : h) {
        x.state = core::HealthState::Up;
        x.confirmed = true;
    }
    c.start(h, b2.now);
    CHECK(c.evaluations()[0].decision.label == "failover:secondary");  // the state file's override
    // ...then polls a: the undo and the drain win.
    auto records = a.core.commands().all();
    c.merge_commands(records, h, b2.now);
    CHECK(c.override_for(c.catalog().endpoints[0]) == nullptr);
    REQUIRE(c.drain_for(kPrimary));
    // The drain's own stamp (a's clock, one past the undo made in the same ms), not when b heard it.
    CHECK(c.drain_for(kPrimary)->since_ms == a.core.commands().find(CommandKind::Drain, kPrimary)->at_ms);
    CHECK(c.drain_for(kPrimary)->since_ms == a.now.unix_ms + 1);
    CHECK(c.evaluations()[0].decision.label == "failover:secondary");  // drained
}

TEST_CASE("commands: a state file from before replication becomes this instance's commands") {
    PersistedState st;
    st.overrides["example.com/primary"] = {core::Override::ForceDown, "old", 1'700'000'000'000, std::nullopt};
    st.drains[kPrimary] = 1'700'000'000'001;
    Controller c(Instance::options("ns1"));
    Now now{core::TimePoint{} + 100h, 1'800'000'000'000};
    c.restore(st, now);
    REQUIRE(c.commands().size() == 2);
    auto* o = c.commands().find(CommandKind::Override, "example.com/primary");
    REQUIRE(o);
    CHECK(o->origin == "ns1");
    CHECK(o->at_ms == 1'700'000'000'000);
    CHECK(c.commands().find(CommandKind::Drain, kPrimary)->active);
}

TEST_CASE("commands: a peer's command on a target this instance does not have is kept and not applied") {
    Instance a("ns1");
    auto rec = override_cmd("example.com/elsewhere", core::Override::ForceDown, a.now.unix_ms, "ns2");
    a.apply(a.core.merge_commands(std::span(&rec, 1), a.health, a.now));
    CHECK(a.logged("override example.com/elsewhere from ns2: no such target here"));
    CHECK(a.label() == "primary");
}

}  // namespace
}  // namespace signpost::control
