// The control core driven step by step: real catalogs from TOML, health as the
// monitor would report it, injected time. No loop, no sockets, no sleeping.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "control/controller.hpp"
#include "control/rules.hpp"
#include "zones/loader.hpp"

namespace signpost::control {
namespace {

using namespace std::chrono_literals;

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
hooks = [{ url = "http://127.0.0.1:9/hook" }]
)";

const char* kExtraService = R"(
[pools.standby]
endpoints = ["192.0.2.12"]
checks = ["health"]
[services.api]
names = ["api"]
policy = "failover"
pools = ["standby", "secondary"]
ttl = 20
)";

std::shared_ptr<const zones::Catalog> catalog(const std::string& text) {
    auto r = zones::load_text(text, "example.com.toml");
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

// The monitor's side: health by target index, as probe_targets() assigned it.
struct Probes {
    std::vector<core::EndpointHealth> health;
    std::vector<probes::ProbeTarget> targets;

    void retarget(Controller& c) {
        auto next = c.probe_targets();
        // Indexed by target index (catalog index): sparse when a cluster probes some endpoints only.
        std::size_t size = 0;
        for (auto& t : next) size = std::max<std::size_t>(size, std::size_t(t.index) + 1);
        std::vector<core::EndpointHealth> h(size);
        for (auto& t : next)
            for (std::size_t i = 0; i < targets.size(); ++i)
                if (targets[i].key == t.key) h[t.index] = health[targets[i].index];
        targets = std::move(next);
        health = std::move(h);
    }
    std::optional<std::size_t> index(const std::string& key) const {
        for (auto& t : targets)
            if (t.key == key) return t.index;
        return std::nullopt;
    }
    probes::HealthChange set(const std::string& key, core::HealthState s, core::TimePoint at) {
        auto i = index(key);
        REQUIRE(i);
        probes::HealthChange c{core::EndpointIndex(*i), health[*i], {}};
        auto& h = health[*i];
        if (h.state != s) h.since = at;
        h.state = s;
        h.confirmed = true;
        h.reason = s == core::HealthState::Up ? "HTTP 200" : "HTTP 503";
        c.after = h;
        return c;
    }
    std::span<const core::EndpointHealth> span() const { return health; }
};

struct Harness {
    Controller core{Options{}};
    Probes probes;
    Now now{core::TimePoint{} + 100h, 1'800'000'000'000};
    std::vector<Event> events;
    std::vector<LogLine> log;
    uint64_t published_version = 0;
    std::shared_ptr<const dns::Snapshot> snapshot;  // the last one published

    void advance(core::Millis d) {
        now.mono += d;
        now.unix_ms += d.count();
    }
    // What the daemon does with a step.
    void apply(Step s) {
        for (auto& l : s.log) log.push_back(l);
        if (s.snapshot) {
            snapshot = s.snapshot;
            published_version = s.snapshot->version;
            core.published(s.snapshot->version, now);
        }
        for (auto& e : s.events) events.push_back(e);
        if (s.retarget) probes.retarget(core);
    }
    void load(const std::string& text) { apply(core.load(catalog(text), now)); }
    void all_up() {
        for (auto& t : probes.targets) probes.set(t.key, core::HealthState::Up, now.mono);
    }
    void start() { apply(core.start(probes.span(), now)); }
    void set(const std::string& key, core::HealthState s) {
        auto c = probes.set(key, s, now.mono);
        apply(core.health_changed(probes.span(), std::span(&c, 1), now));
    }
    void tick() { apply(core.tick(probes.span(), now)); }
    std::string label(const std::string& service = "example.com/site") const {
        auto& cat = core.catalog();
        for (std::size_t i = 0; i < cat.services.size(); ++i)
            if (cat.services[i].key == service) return core.evaluations()[i].decision.label;
        return "(none)";
    }
    bool logged(const std::string& part) const {
        return std::any_of(log.begin(), log.end(), [&](auto& l) { return l.text.find(part) != std::string::npos; });
    }
};

const std::string kPrimary = "example.com/primary/192.0.2.10";
const std::string kSecondary = "example.com/secondary/192.0.2.11";

TEST_CASE("control: a failover and a failback are events numbered in order, with the time in milliseconds") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    CHECK(h.label() == "primary");
    CHECK(h.events.empty());  // starting is not a change
    h.advance(1500ms);
    h.set(kPrimary, core::HealthState::Down);
    CHECK(h.label() == "failover:secondary");
    h.advance(2000ms);
    h.set(kPrimary, core::HealthState::Up);
    CHECK(h.label() == "primary");
    REQUIRE(h.events.size() == 4);  // endpoint down, service moved, endpoint up, service back
    for (std::size_t i = 0; i < h.events.size(); ++i) CHECK(h.events[i].payload.seq == i + 1);
    CHECK(h.events[0].payload.event == "endpoint");
    CHECK(h.events[1].payload.event == "service");
    CHECK(h.events[1].payload.to == "failover:secondary");
    CHECK(h.events[1].payload.time == std::chrono::system_clock::time_point(std::chrono::milliseconds(1'800'000'001'500)));
    CHECK(h.events[3].payload.to == "primary");
    CHECK(h.events[1].hooks.size() == 1);
    CHECK(h.core.last_seq() == 4);
}

TEST_CASE("control: the event sequence continues after a restart") {
    Harness h;
    PersistedState st;
    st.event_seq = 41;
    h.core.restore(st, h.now);
    h.load(kZone);
    h.all_up();
    h.start();
    h.set(kPrimary, core::HealthState::Down);
    REQUIRE(!h.events.empty());
    CHECK(h.events.front().payload.seq == 42);
    CHECK(h.core.persisted(h.probes.span(), h.now).event_seq == h.events.back().payload.seq);
}

TEST_CASE("control: a service added by a reload is published only after its first probe round") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    auto before = h.published_version;
    h.apply(h.core.reload(catalog(std::string(kZone) + kExtraService), h.probes.span(), h.now));
    h.apply(h.core.health_changed(h.probes.span(), {}, h.now));
    // The new endpoint has no result yet: the old catalog keeps answering.
    CHECK(h.core.reload_status().staged);
    CHECK(h.core.catalog().services.size() == 1);
    CHECK(h.published_version == before);
    // Health of the old endpoints still moves the old answers meanwhile.
    h.set(kPrimary, core::HealthState::Down);
    CHECK(h.label() == "failover:secondary");
    h.set(kPrimary, core::HealthState::Up);
    CHECK(h.label() == "primary");
    // Its first result arrives: the new catalog is published with the truth.
    h.set("example.com/standby/192.0.2.12", core::HealthState::Up);
    CHECK_FALSE(h.core.reload_status().staged);
    CHECK(h.core.catalog().services.size() == 2);
    CHECK(h.label("example.com/api") == "primary");
    CHECK(h.published_version > before);
    CHECK_FALSE(h.logged("all-down"));
    for (auto& e : h.events) CHECK(e.payload.service != "api");  // no hooks for moves that never happened
}

TEST_CASE("control: a staged reload is published at its first round's deadline even without results") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    h.apply(h.core.reload(catalog(std::string(kZone) + kExtraService), h.probes.span(), h.now));
    h.apply(h.core.health_changed(h.probes.span(), {}, h.now));
    REQUIRE(h.core.reload_status().staged);
    h.advance(1000ms);
    h.tick();
    CHECK(h.core.reload_status().staged);
    h.advance(1000ms);  // timeout 1 s + 1 s
    h.tick();
    CHECK_FALSE(h.core.reload_status().staged);
    CHECK(h.core.catalog().services.size() == 2);
}

TEST_CASE("control: a reload during a staged one keeps the active answers on the right endpoints") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    h.set(kPrimary, core::HealthState::Down);
    REQUIRE(h.label() == "failover:secondary");
    // Two reloads in a row, each adding an endpoint placed before the others.
    std::string first = std::string(kZone) + kExtraService;
    h.apply(h.core.reload(catalog(first), h.probes.span(), h.now));
    h.apply(h.core.health_changed(h.probes.span(), {}, h.now));
    REQUIRE(h.core.reload_status().staged);
    std::string second = first + "[pools.more]\nendpoints = [\"192.0.2.13\"]\nchecks = [\"health\"]\n";
    h.apply(h.core.reload(catalog(second), h.probes.span(), h.now));
    h.apply(h.core.health_changed(h.probes.span(), {}, h.now));
    REQUIRE(h.core.reload_status().staged);
    CHECK(h.label() == "failover:secondary");
    auto eff = h.core.effective_health(h.probes.span());
    REQUIRE(eff.size() == 2);
    CHECK_FALSE(eff[0].up());  // the primary is still down, not some other endpoint's health
    CHECK(eff[1].up());
}

TEST_CASE("control: a reload that adds no endpoint is published at once and keeps the answers") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    h.set(kPrimary, core::HealthState::Down);
    std::string changed = kZone;
    changed += "[records.extra]\nA = \"192.0.2.99\"\n";
    h.apply(h.core.reload(catalog(changed), h.probes.span(), h.now));
    h.apply(h.core.health_changed(h.probes.span(), {}, h.now));
    CHECK_FALSE(h.core.reload_status().staged);
    CHECK(h.label() == "failover:secondary");
    CHECK(h.logged("reloaded 1 zone(s)"));
}

TEST_CASE("control: a reload of zones without services publishes their new records") {
    const std::string z = "origin = \"example.org\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n[records.www]\nA = \"192.0.2.1\"\n";
    Harness h;
    h.load(z);
    h.start();
    REQUIRE(h.snapshot);
    const uint64_t before = dns::view_generation(*h.snapshot->view);
    auto changed = catalog(z + "[records.new]\nA = \"192.0.2.2\"\n");
    h.apply(h.core.reload(changed, h.probes.span(), h.now));
    h.apply(h.core.health_changed(h.probes.span(), {}, h.now));
    REQUIRE(h.snapshot);
    CHECK(dns::view_generation(*h.snapshot->view) > before);
    CHECK(h.logged("reloaded 1 zone(s), 0 service(s)"));
}

TEST_CASE("control: drained only once the highest TTL served has passed since the answer without it was published") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    h.advance(10s);
    auto r = h.core.drain(kPrimary, false, h.probes.span(), h.now);
    REQUIRE(r.status == 200);
    auto* d = h.core.drain_for(kPrimary);
    REQUIRE(d);
    CHECK(d->highest_ttl == 30);
    CHECK_FALSE(d->left_answers);  // the snapshot without it is not published yet
    REQUIRE(r.step.snapshot);
    h.advance(7ms);  // the daemon publishes a little later
    h.apply(std::move(r.step));
    REQUIRE(d->left_answers);
    CHECK(*d->left_answers == h.now.mono);
    CHECK(h.label() == "failover:secondary");
    for (int i = 0; i < 119; ++i) {  // 29.75 s of ticks
        h.advance(250ms);
        h.tick();
        CHECK_FALSE(d->drained());
    }
    h.advance(250ms);
    h.tick();
    REQUIRE(d->drained());
    CHECK(*d->drained_at - *d->left_answers >= 30s);
    CHECK(h.events.back().payload.event == "drained");
    CHECK(h.events.back().payload.endpoint == kPrimary);
    // Undo: back in answers.
    REQUIRE(h.core.drain(kPrimary, true, h.probes.span(), h.now).status == 200);
}

TEST_CASE("control: draining an endpoint no answer carries counts from the drain") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    auto r = h.core.drain(kSecondary, false, h.probes.span(), h.now);  // the standby is not answered
    h.apply(std::move(r.step));
    auto* d = h.core.drain_for(kSecondary);
    REQUIRE(d);
    REQUIRE(d->left_answers);
    CHECK(*d->left_answers == h.now.mono);
}

TEST_CASE("control: a drain waits for the higher TTL served before a reload lowered it") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    h.apply(h.core.drain(kPrimary, false, h.probes.span(), h.now).step);
    std::string lower = kZone;
    lower.replace(lower.find("ttl = 30"), 8, "ttl = 5");
    h.apply(h.core.reload(catalog(lower), h.probes.span(), h.now));
    h.apply(h.core.health_changed(h.probes.span(), {}, h.now));
    auto* d = h.core.drain_for(kPrimary);
    REQUIRE(d);
    CHECK(d->highest_ttl == 30);
}

TEST_CASE("control: an override wins over the probes and expires on time") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    auto r = h.core.set_override("example.com/primary", core::Override::ForceDown, "drill", 5000ms, h.probes.span(), h.now);
    CHECK(r.status == 200);
    CHECK(r.message == "example.com/primary forced down for 5s");
    h.apply(std::move(r.step));
    CHECK(h.label() == "failover:secondary");
    auto eff = h.core.effective_health(h.probes.span());
    CHECK(eff[0].reason == "forced down by operator (probe: HTTP 200)");
    CHECK(eff[0].drained);  // an operator's down is out of the all-down answer too
    h.advance(4999ms);
    h.tick();
    CHECK(h.label() == "failover:secondary");
    h.advance(1ms);
    h.tick();
    CHECK(h.label() == "primary");
    CHECK(h.logged("override of example.com/primary expired"));
}

TEST_CASE("control: commands name what does not exist") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    auto r = h.core.set_override("example.com/nope", core::Override::ForceUp, "", std::nullopt, h.probes.span(), h.now);
    CHECK(r.status == 404);
    CHECK(r.message == "no endpoint or pool 'example.com/nope'; use a key such as example.com/primary/127.0.0.10 or "
                       "example.com/primary");
    CHECK(h.core.drain("example.com/primary/192.0.2.99", false, h.probes.span(), h.now).status == 404);
    CHECK(h.core.release("example.com/nope", h.probes.span(), h.now).status == 404);
}

TEST_CASE("control: a recent state file answers at once, an old one is probed first") {
    PersistedState st;
    st.endpoints[kPrimary] = {core::HealthState::Down, 1, "HTTP 503"};
    st.endpoints[kSecondary] = {core::HealthState::Up, 1, "HTTP 200"};
    SUBCASE("written 10 s ago") {
        Harness h;
        st.written_ms = h.now.unix_ms - 10'000;
        h.core.restore(st, h.now);
        CHECK(h.core.warm());
        h.load(kZone);
        // The probes start from the file's states.
        for (auto& t : h.probes.targets)
            CHECK(t.checks.front().initial == (t.key == kPrimary ? core::HealthState::Down : core::HealthState::Up));
    }
    SUBCASE("written 31 s ago") {
        Harness h;
        st.written_ms = h.now.unix_ms - 31'000;
        auto log = h.core.restore(st, h.now);
        CHECK_FALSE(h.core.warm());
        REQUIRE(!log.empty());
        CHECK(log.front().text.find("state file is 31.0 s old") != std::string::npos);
        h.load(kZone);
        for (auto& t : h.probes.targets) CHECK(t.checks.front().initial == core::CheckSpec{}.initial);
    }
    SUBCASE("an older file without a time of writing") {
        Harness h;
        st.written_ms = 0;
        h.core.restore(st, h.now);
        CHECK_FALSE(h.core.warm());
    }
}

TEST_CASE("control: the services a health change touches") {
    auto cat = catalog(std::string(kZone) + kExtraService);
    std::size_t secondary = 0;
    for (std::size_t i = 0; i < cat->endpoints.size(); ++i)
        if (cat->endpoints[i].key == kSecondary) secondary = i;
    auto using_it = services_using(*cat, core::EndpointIndex(secondary));
    CHECK(using_it.size() == 2);  // site and api both have the secondary pool
    CHECK(services_touched(*cat, core::EndpointIndex(secondary)) == using_it);
    CHECK(services_touched(*cat, core::EndpointIndex(99)).empty());
}

TEST_CASE("control: same_answer compares what is answered, not how it was decided") {
    policy::Evaluation a, b;
    a.decision.label = b.decision.label = "primary";
    a.decision.variants.push_back({{*core::IpAddress::parse("192.0.2.10")}, {}, 1});
    b.decision.variants = a.decision.variants;
    b.time_dependent = true;
    CHECK(same_answer(a, b));
    b.decision.ttl = 5;
    CHECK_FALSE(same_answer(a, b));
}

TEST_CASE("control: the drain rule is at or after the TTL, never before") {
    core::TimePoint t0{};
    CHECK_FALSE(drain_complete(std::nullopt, 0, t0 + 1h));
    CHECK_FALSE(drain_complete(t0, 2, t0 + 1999ms));
    CHECK(drain_complete(t0, 2, t0 + 2000ms));
}


TEST_CASE("control: a brownout of the answered pool is an early warning, then warning-cleared, once each") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    REQUIRE(h.label() == "primary");
    auto degrade = [&](bool on) {
        auto i = h.probes.index(kPrimary);
        REQUIRE(i);
        probes::HealthChange c{core::EndpointIndex(*i), h.probes.health[*i], {}};
        h.probes.health[*i].degraded = on;
        h.probes.health[*i].warning = on ? "slow: 400 ms, usually 5 ms" : "";
        c.after = h.probes.health[*i];
        h.apply(h.core.health_changed(h.probes.span(), std::span(&c, 1), h.now));
    };
    auto count = [&](const char* kind) {
        return std::count_if(h.events.begin(), h.events.end(), [&](auto& e) { return e.payload.event == kind; });
    };
    degrade(true);
    REQUIRE(count("early-warning") == 1);
    CHECK(h.events.back().payload.reason ==
          "pool primary endpoint 192.0.2.10 degraded: slow: 400 ms, usually 5 ms (still up)");
    CHECK(h.label() == "primary");  // a brownout moves nothing
    h.advance(1s);
    degrade(false);
    h.advance(1s);
    degrade(true);  // flickers: the same episode
    h.advance(1s);
    degrade(false);
    for (int i = 0; i < 40; ++i) {
        h.advance(250ms);
        h.tick();
    }
    CHECK(count("early-warning") == 1);
    REQUIRE(count("warning-cleared") == 1);
    CHECK(h.events.back().payload.event == "warning-cleared");
    CHECK(h.events.back().payload.to == "primary");
    CHECK(count("service") == 0);
}

TEST_CASE("control: a warning that ends in a failover is not cleared") {
    Harness h;
    h.load(kZone);
    h.all_up();
    h.start();
    auto i = h.probes.index(kPrimary);
    REQUIRE(i);
    probes::HealthChange c{core::EndpointIndex(*i), h.probes.health[*i], {}};
    h.probes.health[*i].suspect = true;
    c.after = h.probes.health[*i];
    h.apply(h.core.health_changed(h.probes.span(), std::span(&c, 1), h.now));
    h.advance(400ms);
    h.probes.health[*i].suspect = false;
    h.set(kPrimary, core::HealthState::Down);
    CHECK(h.label() == "failover:secondary");
    for (int k = 0; k < 40; ++k) {
        h.advance(250ms);
        h.tick();
    }
    auto count = [&](const char* kind) {
        return std::count_if(h.events.begin(), h.events.end(), [&](auto& e) { return e.payload.event == kind; });
    };
    CHECK(count("early-warning") == 1);
    CHECK(count("warning-cleared") == 0);
}

// A cluster as the core sees it: a fixed split, the local verdicts as the quorum.
struct SplitCluster final : ClusterView {
    std::set<std::string> mine;  // the endpoints this instance probes
    bool probes(const std::string& key) const override { return mine.count(key) > 0; }
    std::optional<core::HealthState> last_state(const std::string&) const override { return std::nullopt; }
    void combine(std::span<const LocalVerdict>, std::vector<core::EndpointHealth>&) override {}
    bool settled() const override { return true; }
};

TEST_CASE("control: a split that moved before the first answer is applied at the start") {
    // Instances started together: each probes everything until it hears a peer's
    // verdict; when every peer's verdicts arrive before this instance serves, no
    // later poll changes anything, so the start itself must narrow the probing.
    Harness h;
    SplitCluster cluster;
    cluster.mine = {kPrimary, kSecondary};
    h.core.set_cluster(&cluster);
    h.load(kZone);
    REQUIRE(h.probes.targets.size() == 2);
    h.all_up();
    cluster.mine = {kSecondary};  // the peers' verdicts arrived; the primary is another instance's
    auto probed = [&] {
        std::vector<core::EndpointHealth> storage;
        std::vector<std::string> out;
        for (auto& v : h.core.local_verdicts(h.probes.span(), storage))
            if (v.probed) out.push_back(*v.key);
        return out;
    };
    // What peers and GET /v1/cluster hear is what the probes run on, not the wish.
    CHECK(probed() == std::vector<std::string>{kPrimary, kSecondary});
    auto step = h.core.start(h.probes.span(), h.now);
    CHECK(step.retarget);
    h.apply(std::move(step));
    REQUIRE(h.probes.targets.size() == 1);
    CHECK(h.probes.targets[0].key == kSecondary);
    CHECK(h.label() == "primary");
    CHECK(probed() == std::vector<std::string>{kSecondary});

    // Nothing moved since: a later cluster change does not retarget again.
    CHECK_FALSE(h.core.cluster_changed(h.probes.span(), h.now).retarget);
    // A start with the split unchanged does not retarget either.
    Harness plain;
    SplitCluster all;
    all.mine = {kPrimary, kSecondary};
    plain.core.set_cluster(&all);
    plain.load(kZone);
    plain.all_up();
    CHECK_FALSE(plain.core.start(plain.probes.span(), plain.now).retarget);
}

}  // namespace
}  // namespace signpost::control

namespace signpost::control {

// With secondaries, every publication renders (and signs) each transferred zone for
// them. For a health change that comes after the View: the flip is published at
// once, and the zone's new version, its serial and the NOTIFY follow on the next tick.
TEST_CASE("control: a health change publishes its View first, the transfer version and NOTIFY follow on the tick") {
    Harness h;
    Options o;
    o.transferred = [](const std::string&) { return true; };
    h.core.set_options(o);
    h.load(kZone);
    h.all_up();
    h.start();
    const uint32_t serial = h.core.catalog().zones[0].soa.serial;
    auto c = h.probes.set(kPrimary, core::HealthState::Down, h.now.mono);
    Step flip = h.core.health_changed(h.probes.span(), std::span(&c, 1), h.now);
    REQUIRE(flip.snapshot);
    CHECK(flip.notifies.empty());
    CHECK(h.core.catalog().zones[0].soa.serial == serial);
    auto flipped = flip.snapshot->view;
    h.apply(std::move(flip));
    CHECK(h.label() == "failover:secondary");
    Step t = h.core.tick(h.probes.span(), h.now);
    REQUIRE(t.snapshot);
    REQUIRE(t.notifies.size() == 1);
    CHECK(h.core.catalog().zones[0].soa.serial == serial + 1);
    CHECK(t.snapshot->view != flipped);  // a View with the new serial in its SOA
    CHECK(t.snapshot->transfers);
    h.apply(std::move(t));
    // Nothing more is due: the next tick publishes nothing.
    Step idle = h.core.tick(h.probes.span(), h.now);
    CHECK_FALSE(idle.snapshot);
    CHECK(idle.notifies.empty());
}

// A flip over the render budget publishes at once, the names over it answered by the
// general renderer; the next tick publishes a View that pre-renders them, and says so.
TEST_CASE("control: a flip over the render budget is pre-rendered in full on the next tick") {
    Harness h;
    Options o;
    o.prerender_budget = 1;
    h.core.set_options(o);
    h.load(kZone);
    h.all_up();
    h.start();
    auto c = h.probes.set(kPrimary, core::HealthState::Down, h.now.mono);
    Step flip = h.core.health_changed(h.probes.span(), std::span(&c, 1), h.now);
    REQUIRE(flip.snapshot);
    CHECK(dns::prerender_counts(*flip.snapshot->view).rendered == 1);
    CHECK(dns::deferred_renders(*flip.snapshot->view) > 0);
    h.apply(std::move(flip));
    CHECK(h.label() == "failover:secondary");
    Step t = h.core.tick(h.probes.span(), h.now);
    REQUIRE(t.snapshot);
    CHECK(dns::deferred_renders(*t.snapshot->view) == 0);
    bool said = false;
    for (auto& l : t.log) said = said || l.text.find("pre-rendering them") != std::string::npos;
    CHECK(said);
    h.apply(std::move(t));
    Step idle = h.core.tick(h.probes.span(), h.now);
    CHECK_FALSE(idle.snapshot);
}

}  // namespace signpost::control
