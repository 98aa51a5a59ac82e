// Hostname endpoints in the control core: resolutions become probe targets
// (one per address), the endpoint's health comes from its addresses' probes,
// and the answers carry CNAME targets and flattened addresses.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "control/controller.hpp"
#include "control/hostnames.hpp"
#include "resolve/schedule.hpp"
#include "zones/loader.hpp"

namespace signpost::control {
namespace {

using namespace std::chrono_literals;

core::IpAddress ip(const char* t) { return *core::IpAddress::parse(t); }

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
endpoints = ["eu.lb.test"]
checks = ["health"]
[pools.secondary]
endpoints = ["us.lb.test"]
checks = ["health"]
[services.site]
names = ["@", "www"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
)";

std::shared_ptr<const zones::Catalog> catalog(const std::string& text) {
    auto r = zones::load_text(text, "example.com.toml");
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

struct Harness {
    Controller core{Options{}};
    std::vector<core::EndpointHealth> health;
    std::vector<probes::ProbeTarget> targets;
    Now now{core::TimePoint{} + 100h, 1'800'000'000'000};
    std::map<std::string, core::Resolution> names;
    std::vector<LogLine> log;
    resolve::Bounds bounds;

    void retarget() {
        auto next = core.probe_targets();
        std::size_t size = 0;
        for (auto& t : next) size = std::max<std::size_t>(size, t.index + 1);
        std::vector<core::EndpointHealth> h(size);
        for (auto& t : next) {
            h[t.index].state = t.checks.empty() ? core::HealthState::Up : t.checks[0].initial;
            for (auto& old : targets)
                if (old.key == t.key) h[t.index] = health[old.index];
        }
        targets = std::move(next);
        health = std::move(h);
    }
    void apply(Step s) {
        for (auto& l : s.log) log.push_back(l);
        if (s.snapshot) core.published(s.snapshot->version, now);
        if (s.retarget) retarget();
    }
    Probes span() const { return health; }
    void answer(const std::string& name, std::vector<const char*> addresses, uint32_t ttl = 60) {
        resolve::Outcome o;
        o.kind = resolve::Outcome::Answer;
        for (auto* a : addresses) o.addresses.push_back(ip(a));
        o.ttl = ttl;
        o.server = "127.0.0.1:53";
        feed(name, o);
    }
    void outcome(const std::string& name, resolve::Outcome::Kind kind, std::string error = "") {
        resolve::Outcome o;
        o.kind = kind;
        o.error = std::move(error);
        o.server = "127.0.0.1:53";
        feed(name, o);
    }
    void feed(const std::string& name, const resolve::Outcome& o) {
        auto& r = names[name];
        r.name = name;
        resolve::apply(r, o, now.mono, bounds);
        apply(core.resolved(std::span(&r, 1), span(), now));
    }
    void set(const std::string& key, core::HealthState s) {
        for (auto& t : targets) {
            if (t.key != key) continue;
            probes::HealthChange c{t.index, health[t.index], {}};
            auto& h = health[t.index];
            if (h.state != s) h.since = now.mono;
            h.state = s;
            h.confirmed = true;
            h.reason = s == core::HealthState::Up ? "HTTP 200" : "HTTP 503";
            c.after = h;
            apply(core.health_changed(span(), std::span(&c, 1), now));
            return;
        }
        FAIL("no target " << key);
    }
    const policy::Decision& decision() const { return core.evaluations()[0].decision; }
    std::string cname() const {
        auto& v = decision().variants;
        return v.empty() || !v[0].cname ? std::string() : v[0].cname->to_key();
    }
    std::vector<std::string> v4() const {
        std::vector<std::string> out;
        if (!decision().variants.empty())
            for (auto& a : decision().variants[0].v4) out.push_back(a.to_string());
        return out;
    }
    bool has_target(const std::string& key) const {
        return std::any_of(targets.begin(), targets.end(), [&](auto& t) { return t.key == key; });
    }
};

const std::string kEu10 = "example.com/primary/eu.lb.test@127.0.0.10";
const std::string kUs11 = "example.com/secondary/us.lb.test@127.0.0.11";

void started(Harness& h) {
    h.apply(h.core.load(catalog(kZone), h.now));
    CHECK(h.core.hostnames() == std::vector<std::string>{"eu.lb.test", "us.lb.test"});
    CHECK(h.targets.empty());  // nothing to probe before the names resolve
    CHECK_FALSE(h.core.hostnames_ready(h.span(), h.now));
    // The monitor's first round (no targets yet) is not enough: the names come first.
    CHECK_FALSE(h.core.start_reason({true, false}, h.span(), h.now));
    CHECK(h.core.start_wait() == "first probe round of 2 endpoint(s) (resolving 2 hostname(s) first) before answering");
    h.answer("eu.lb.test", {"127.0.0.10"});
    h.answer("us.lb.test", {"127.0.0.11"});
    CHECK(h.has_target(kEu10));
    CHECK(h.has_target(kUs11));
    CHECK_FALSE(h.core.hostnames_ready(h.span(), h.now));  // resolved, not probed yet
    h.set(kEu10, core::HealthState::Up);
    h.set(kUs11, core::HealthState::Up);
    REQUIRE(h.core.hostnames_ready(h.span(), h.now));
    CHECK_FALSE(h.core.start_reason({false, true}, h.span(), h.now));  // the monitor's round still runs
    auto why = h.core.start_reason({true, true}, h.span(), h.now);
    REQUIRE(why);
    CHECK(*why == "first probe round complete");
    h.apply(h.core.start(h.span(), h.now));
    CHECK_FALSE(h.core.start_reason({true, true}, h.span(), h.now));  // already serving
}

TEST_CASE("control: a hostname endpoint is probed at each address and answered as CNAME plus its addresses") {
    Harness h;
    started(h);
    CHECK(h.decision().label == "primary");
    CHECK(h.cname() == "eu.lb.test");
    CHECK(h.v4() == std::vector<std::string>{"127.0.0.10"});
    CHECK(h.decision().ttl == 30);
    // TTL 60, re-resolved at 30 s: 30 s of the record are left then.
    CHECK(h.decision().variants[0].ttl_cap == 30);
    // The probes' Host is the hostname.
    for (auto& t : h.targets) CHECK(t.host == (t.key == kEu10 ? "eu.lb.test" : "us.lb.test"));

    h.set(kEu10, core::HealthState::Down);
    CHECK(h.decision().label == "failover:secondary");
    CHECK(h.cname() == "us.lb.test");
    CHECK(h.v4() == std::vector<std::string>{"127.0.0.11"});
    auto eh = h.core.effective_health(h.span());
    CHECK_FALSE(eh[0].up());
    CHECK(eh[0].reason.find("127.0.0.10 HTTP 503") != std::string::npos);
    h.set(kEu10, core::HealthState::Up);
    CHECK(h.decision().label == "primary");
}

TEST_CASE("control: NXDOMAIN takes a hostname endpoint down with the reason, and an answer brings it back") {
    Harness h;
    started(h);
    h.now.mono += 31s;
    h.outcome("eu.lb.test", resolve::Outcome::NxDomain);
    CHECK_FALSE(h.has_target(kEu10));
    CHECK(h.decision().label == "failover:secondary");
    auto eh = h.core.effective_health(h.span());
    CHECK(eh[0].reason.find("NXDOMAIN for eu.lb.test") != std::string::npos);
    CHECK(h.decision().reason.find("NXDOMAIN for eu.lb.test") != std::string::npos);
    h.now.mono += 5s;
    h.answer("eu.lb.test", {"127.0.0.10"});
    REQUIRE(h.has_target(kEu10));
    // The returning address starts down, known: it needs `rise` good results, not one.
    for (auto& t : h.targets)
        if (t.key == kEu10)
            for (auto& c : t.checks) {
                CHECK(c.initial == core::HealthState::Down);
                CHECK(c.initial_known);
            }
    h.set(kEu10, core::HealthState::Up);
    CHECK(h.decision().label == "primary");
}

TEST_CASE("control: a failing resolver keeps the last good addresses, a new address is probed, the old one dropped") {
    Harness h;
    started(h);
    h.now.mono += 31s;
    h.outcome("eu.lb.test", resolve::Outcome::Failure, "timeout after 2 s from 127.0.0.1:53");
    CHECK(h.has_target(kEu10));
    CHECK(h.decision().label == "primary");
    CHECK(h.v4() == std::vector<std::string>{"127.0.0.10"});
    CHECK(h.decision().variants[0].ttl_cap >= 1);
    h.now.mono += 2s;
    h.answer("eu.lb.test", {"127.0.0.12"});
    CHECK_FALSE(h.has_target(kEu10));
    CHECK(h.has_target("example.com/primary/eu.lb.test@127.0.0.12"));
    // Its checks stay equal across retargets (the monitor keeps its state): decided once.
    auto checks_of = [&](const std::string& key) {
        for (auto& t : h.targets)
            if (t.key == key) return t.checks;
        return std::vector<core::CheckSpec>{};
    };
    auto before = checks_of("example.com/primary/eu.lb.test@127.0.0.12");
    CHECK(before.at(0).initial == core::HealthState::Up);
    CHECK(before.at(0).initial_known);
    h.set(kUs11, core::HealthState::Down);
    h.retarget();
    CHECK(checks_of("example.com/primary/eu.lb.test@127.0.0.12") == before);
    // The new address starts where the endpoint was: no flip while it is probed.
    CHECK(h.decision().label == "primary");
    CHECK(h.v4() == std::vector<std::string>{"127.0.0.12"});
    CHECK(h.cname() == "eu.lb.test");
}

TEST_CASE("control: hostname_health: any address up is up, with `all`, every address must be") {
    core::Resolution r;
    r.name = "eu.lb.test";
    CHECK(hostname_health("eu.lb.test", nullptr, {}, false, {}).reason == "resolving eu.lb.test");
    CHECK_FALSE(hostname_health("eu.lb.test", nullptr, {}, false, {}).confirmed);
    r.state = core::ResolveState::Negative;
    r.error = "NXDOMAIN for eu.lb.test";
    auto neg = hostname_health("eu.lb.test", &r, {}, false, {});
    CHECK_FALSE(neg.up());
    CHECK(neg.confirmed);
    CHECK(neg.reason == "NXDOMAIN for eu.lb.test");

    r.state = core::ResolveState::Ok;
    r.error.clear();
    r.addresses = {ip("127.0.0.10"), ip("127.0.0.12")};
    core::EndpointHealth up, down;
    up.state = core::HealthState::Up;
    up.confirmed = true;
    up.reason = "HTTP 200";
    down.state = core::HealthState::Down;
    down.confirmed = true;
    down.reason = "connection refused";
    std::vector<AddressProbe> mixed = {{ip("127.0.0.10"), &up}, {ip("127.0.0.12"), &down}};
    auto any = hostname_health("eu.lb.test", &r, mixed, false, {});
    CHECK(any.up());
    CHECK(any.confirmed);
    CHECK(any.reason == "127.0.0.10 HTTP 200, 127.0.0.12 connection refused");
    CHECK_FALSE(hostname_health("eu.lb.test", &r, mixed, true, {}).up());
    std::vector<AddressProbe> both = {{ip("127.0.0.10"), &up}, {ip("127.0.0.12"), &up}};
    CHECK(hostname_health("eu.lb.test", &r, both, true, {}).up());
    // Up but the only up address is failing: suspect (the answer may move).
    core::EndpointHealth failing = up;
    failing.suspect = true;
    std::vector<AddressProbe> shaky = {{ip("127.0.0.10"), &failing}, {ip("127.0.0.12"), &down}};
    CHECK(hostname_health("eu.lb.test", &r, shaky, false, {}).suspect);
    // Browning out like suspect: `any` when every up address is, `all` when one is.
    core::EndpointHealth slow = up;
    slow.degraded = true;
    slow.warning = "slow: 300 ms, usually 5 ms";
    std::vector<AddressProbe> one_slow = {{ip("127.0.0.10"), &slow}, {ip("127.0.0.12"), &up}};
    CHECK_FALSE(hostname_health("eu.lb.test", &r, one_slow, false, {}).degraded);
    auto all_slow = hostname_health("eu.lb.test", &r, one_slow, true, {});
    CHECK(all_slow.degraded);
    CHECK(all_slow.warning == "127.0.0.10 slow: 300 ms, usually 5 ms");
    std::vector<AddressProbe> slow_and_down = {{ip("127.0.0.10"), &slow}, {ip("127.0.0.12"), &down}};
    CHECK(hostname_health("eu.lb.test", &r, slow_and_down, false, {}).degraded);
}

}  // namespace
}  // namespace signpost::control
