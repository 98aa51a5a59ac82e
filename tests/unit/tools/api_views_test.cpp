// tools/api_views: the JSON documents of the HTTP API (docs/api.md), rendered
// from a hand-built catalog, real policy evaluations and a fixed wall clock.
#include "tools/api_views.hpp"

#include <ctime>

#include "dns/signing.hpp"
#include "dnssec/encoding.hpp"
#include "dnssec/rollover.hpp"

#include "unit/policy/policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;
using nlohmann::json;

namespace {

// Steady time T maps to 2023-11-14T22:13:20Z + T: World's "now" (10h) is 2023-11-15T08:13:20Z.
constexpr int64_t kEpochMs = 1'700'000'000'000;
const tools::ToUnixMs to_unix_ms = [](core::TimePoint t) {
    return kEpochMs + std::chrono::duration_cast<core::Millis>(t.time_since_epoch()).count();
};

core::Name name(const std::string& text) {
    auto n = core::Name::from_text(text, core::Name{});
    REQUIRE(n);
    return *n;
}

// Two pools (primary: one endpoint; secondary: two, min_healthy 2), the service
// "site" over both, and a second service "api" that is never evaluated.
World two_regions() {
    World w;
    w.pool("primary", {"192.0.2.10"}).pool("secondary", {"192.0.2.20", "192.0.2.21"}, 2);
    w.service().owners = {name("example.com."), name("www.example.com.")};
    return w;
}

// The catalog the daemon would build from the world's zone: endpoint and service
// keys as the loader spells them ("example.com/pool/name", "example.com/service").
zones::Catalog catalog_of(const World& w) {
    zones::Catalog cat;
    zones::Zone z = w.zone;
    z.file_name = zones::intern_file_name("/etc/signpost/zones/example.com.toml");
    z.soa.serial = 2024010107;
    zones::Service api;
    api.name = "api";
    api.policy = zones::PolicyKind::Weighted;
    api.ttl = 60;
    api.failback = zones::Failback::Manual;
    api.owners = {name("api.example.com.")};
    api.pools = {1};
    api.index = 1;
    z.services.push_back(api);
    cat.zones.push_back(std::move(z));
    auto& zone = cat.zones[0];
    for (std::size_t p = 0; p < zone.pools.size(); ++p)
        for (std::size_t e = 0; e < zone.pools[p].endpoints.size(); ++e)
            cat.endpoints.push_back({"example.com/" + zone.pools[p].name + "/" + zone.pools[p].endpoints[e].name, 0, p, e});
    for (std::size_t s = 0; s < zone.services.size(); ++s)
        cat.services.push_back({"example.com/" + zone.services[s].name, 0, s});
    return cat;
}

}  // namespace

TEST_CASE("api_views: services_json after a failover shows the answer and why and since when") {
    World w = two_regions();
    w.settled();
    w.down("primary", 0, "HTTP 503");
    auto ev = w.after(1s);  // now = 10h + 61s
    auto cat = catalog_of(w);
    std::vector<policy::Evaluation> evs{ev};
    std::vector<policy::ServiceState> states{ev.state};

    json out = tools::services_json(cat, evs, states, w.health, to_unix_ms);
    REQUIRE(out.is_array());
    REQUIRE(out.size() == 2);
    const json& s = out[0];
    CHECK(s["key"] == "example.com/site");
    CHECK(s["zone"] == "example.com");
    CHECK(s["name"] == "site");
    CHECK(s["owners"] == json::array({"example.com.", "www.example.com."}));
    CHECK(s["policy"] == "failover");
    CHECK(s["label"] == "failover:secondary");
    CHECK(s["reason"] == "endpoint 192.0.2.10 down: HTTP 503");
    CHECK(s["since"] == "2023-11-15T08:14:21Z");
    CHECK(s["ttl"] == 5);  // unstable_ttl right after the move
    CHECK(s["unstable"] == true);
    CHECK(s["all_down"] == false);
    CHECK(s["failback"] == "auto");
    CHECK(s["released"] == false);
    CHECK(s["pools"] == json::parse(R"([
        {"name": "primary", "up": false, "healthy": 0, "endpoints": 1},
        {"name": "secondary", "up": true, "healthy": 2, "endpoints": 2}])"));
}

TEST_CASE("api_views: services_json counts min_healthy and shows unevaluated services blank") {
    World w = two_regions();
    w.down("secondary", 1, "timeout after 1000 ms");
    auto cat = catalog_of(w);
    policy::ServiceState released;
    released.since = w.now;
    released.released = true;

    // No evaluations at all; one state (for "site" only).
    json out = tools::services_json(cat, {}, std::vector<policy::ServiceState>{released}, w.health, to_unix_ms);
    REQUIRE(out.size() == 2);
    CHECK(out[0]["label"] == "");
    CHECK(out[0]["reason"] == "");
    CHECK(out[0]["since"] == "2023-11-15T08:13:20Z");
    CHECK(out[0]["released"] == true);
    CHECK(out[0]["ttl"] == 30);  // the service's configured TTL
    // secondary has 1 of its 2 endpoints up and needs 2
    CHECK(out[0]["pools"][1] == json{{"name", "secondary"}, {"up", false}, {"healthy", 1}, {"endpoints", 2}});

    const json& api = out[1];
    CHECK(api["key"] == "example.com/api");
    CHECK(api["policy"] == "weighted");
    CHECK(api["failback"] == "manual");
    CHECK(api["since"] == "");
    CHECK(api["released"] == false);
    CHECK(api["ttl"] == 60);
    CHECK(api["all_down"] == false);
    CHECK(api["unstable"] == false);
    CHECK(api["owners"] == json::array({"api.example.com."}));
    REQUIRE(api["pools"].size() == 1);
    CHECK(api["pools"][0]["name"] == "secondary");
}

TEST_CASE("api_views: endpoint_json shows probe counters and override and drain facts") {
    World w = two_regions();
    w.down("primary", 0, "forced down by operator");
    auto cat = catalog_of(w);

    probes::EndpointStatus st;
    st.last_result = "HTTP 503";
    st.last_latency_ms = 1.5;
    st.consecutive_ok = 0;
    st.consecutive_fail = 5;
    st.checks_run = 42;
    st.cert_warning = true;
    probes::CheckStatus c;
    c.name = "web";
    c.kind = core::CheckKind::Https;
    c.state = core::HealthState::Down;
    c.last_result = "HTTP 503";
    c.last_latency_ms = 1.5;
    c.cert_warning = true;
    st.checks.push_back(c);

    tools::EndpointFacts facts;
    facts.since_ms = kEpochMs + 36'000'000;  // 2023-11-15T08:13:20Z
    facts.status = &st;
    facts.override_in_force = tools::EndpointFacts::Override{core::Override::ForceDown, "maintenance",
                                                              kEpochMs + 39'600'000};
    facts.drain = tools::EndpointFacts::Drain{kEpochMs + 32'400'000, true, 30, 1000.25, 1030.5};

    json e = tools::endpoint_json(cat, 0, w.health[0], facts);
    CHECK(e["key"] == "example.com/primary/192.0.2.10");
    CHECK(e["zone"] == "example.com");
    CHECK(e["pool"] == "primary");
    CHECK(e["name"] == "192.0.2.10");
    CHECK(e["address"] == "192.0.2.10");
    CHECK(e["check_address"] == "192.0.2.10");
    CHECK(e["state"] == "down");
    CHECK(e["reason"] == "forced down by operator");
    CHECK(e["confirmed"] == true);
    CHECK(e["suspect"] == false);
    CHECK(e["since"] == "2023-11-15T08:13:20Z");
    CHECK(e["last_result"] == "HTTP 503");
    CHECK(e["latency_ms"] == 1.5);
    CHECK(e["consecutive_ok"] == 0);
    CHECK(e["consecutive_fail"] == 5);
    CHECK(e["checks_run"] == 42);
    CHECK(e["cert_warning"] == true);
    CHECK(e["override"] == json{{"state", "down"}, {"reason", "maintenance"}, {"expires", "2023-11-15T09:13:20Z"}});
    CHECK(e["drain"] == json{{"draining", true}, {"drained", true}, {"since", "2023-11-15T07:13:20Z"}, {"highest_ttl", 30},
                             {"left_answers_monotonic", 1000.25}, {"drained_monotonic", 1030.5}});
    REQUIRE(e["checks"].size() == 1);
    CHECK(e["checks"][0] == json{{"name", "web"}, {"kind", "https"}, {"state", "down"}, {"last_result", "HTTP 503"},
                                 {"latency_ms", 1.5}, {"timeout_ms", 0.0}, {"baseline_ms", 0.0}, {"degraded", ""},
                                 {"cert_warning", true}});
    CHECK(e["degraded"] == false);
    CHECK(e["warning"] == "");
}

TEST_CASE("api_views: endpoint_json without probe status or override or drain shows the defaults") {
    World w = two_regions();
    w.suspect("secondary", 1, "HTTP 500");
    auto cat = catalog_of(w);
    tools::EndpointFacts facts;
    facts.since_ms = kEpochMs;
    facts.override_in_force = tools::EndpointFacts::Override{core::Override::ForceUp, "", std::nullopt};

    json e = tools::endpoint_json(cat, 2, w.health[2], facts);
    CHECK(e["key"] == "example.com/secondary/192.0.2.21");
    CHECK(e["pool"] == "secondary");
    CHECK(e["state"] == "up");
    CHECK(e["suspect"] == true);
    CHECK(e["reason"] == "HTTP 500");
    CHECK(e["since"] == "2023-11-14T22:13:20Z");
    CHECK(e["last_result"] == "");
    CHECK(e["latency_ms"] == 0.0);
    CHECK(e["consecutive_fail"] == 0);
    CHECK(e["checks_run"] == 0);
    CHECK(e["cert_warning"] == false);
    CHECK(e["checks"] == json::array());
    // an override until changed: expires is null
    CHECK(e["override"] == json{{"state", "up"}, {"reason", ""}, {"expires", nullptr}});
    CHECK(e["drain"] == json{{"draining", false}, {"drained", false}, {"since", nullptr}});

    facts.override_in_force.reset();
    CHECK(tools::endpoint_json(cat, 2, w.health[2], facts)["override"] ==
          json{{"state", "auto"}, {"reason", ""}, {"expires", nullptr}});
}

TEST_CASE("api_views: zones_json shows origin and serial and record counts") {
    World w = two_regions();
    auto cat = catalog_of(w);
    auto& z = cat.zones[0];
    auto rr = [&](const std::string& owner, uint16_t type, std::vector<std::string> rdatas) {
        zones::RRset s;
        s.type = type;
        s.ttl = 300;
        s.rdatas = std::move(rdatas);
        z.nodes[name(owner)].rrsets.push_back(std::move(s));
    };
    rr("example.com.", 2, {"ns1", "ns2"});               // 2 NS
    rr("mail.example.com.", 1, {std::string("\xc0\x00\x02\x19", 4)});  // 1 A
    rr("mail.example.com.", 16, {"\x02hi", "\x03yo!"});  // 2 TXT

    json out = tools::zones_json(cat, kEpochMs + 36'000'000);
    REQUIRE(out.size() == 1);
    CHECK(out[0] == json{{"origin", "example.com"},
                         {"file", "/etc/signpost/zones/example.com.toml"},
                         {"serial", 2024010107},
                         {"records", 5},
                         {"services", 2},
                         {"last_reload", "2023-11-15T08:13:20Z"},
                         {"dnssec", {{"signed", false}}}});

    CHECK(tools::origin_text(name("example.com.")) == "example.com");
    CHECK(tools::origin_text(core::Name{}) == ".");
}

TEST_CASE("api_views: zones_json shows each key's state, timing and the next key event, nothing secret") {
    World w = two_regions();
    auto cat = catalog_of(w);
    auto& z = cat.zones[0];
    zones::DnssecSettings settings;
    settings.sign = true;
    settings.keys = zones::KeyScheme::KskZsk;
    z.dnssec_settings = std::make_shared<const zones::DnssecSettings>(settings);
    const int64_t now = std::time(nullptr);
    dnssec::ZoneKeys zk;
    zk.zone = z.origin;
    zk.complete = true;
    dnssec::KeyTiming pre;
    pre.publish = now - 10;
    pre.activate = now + 3600;
    auto gen = [&](uint16_t flags) {
        return dnssec::Signer(z.origin, flags, dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256));
    };
    zk.keys.push_back(dnssec::ZoneKey{"/k/ksk", dnssec::KeyRole::Ksk, gen(dnssec::kSepKeyFlags), 0, {}, {}});
    zk.keys.push_back(dnssec::ZoneKey{"/k/zsk", dnssec::KeyRole::Zsk, gen(dnssec::kZoneKeyFlags), 0, pre, {}});
    dns::SigningKeys keys;
    keys.emplace(z.origin.wire(), zk);
    json out = tools::zones_json(cat, kEpochMs, &keys, now + 86400);
    auto& d = out[0]["dnssec"];
    REQUIRE(d["keys"].size() == 2);
    CHECK(d["keys"][0]["state"] == "published+signing+ds");
    CHECK(d["keys"][0]["next_event"] == nullptr);
    CHECK(d["keys"][1]["state"] == "published");
    CHECK(d["keys"][1]["signing"] == false);
    CHECK(d["keys"][1]["timing"]["activate"] == dnssec::iso_utc(now + 3600));
    CHECK(d["keys"][1]["next_event"] == dnssec::iso_utc(now + 3600));
    CHECK(d["next_key_event"] == dnssec::iso_utc(now + 3600));
    const std::string text = out.dump();
    CHECK(text.find("/k/") == std::string::npos);  // no paths
    CHECK(text.find(dnssec::base64_encode(zk.keys[0].signer.key().private_bytes())) == std::string::npos);
}

TEST_CASE("api_views: status_json wraps the lists with the reload outcome and generation") {
    json st = tools::status_json(json::array({1}), json::array({2, 3}), json::array(), false, kEpochMs,
                                 {"zones/a.toml:3:1: error: bad ttl"}, 7);
    CHECK(st["services"] == json::array({1}));
    CHECK(st["endpoints"] == json::array({2, 3}));
    CHECK(st["zones"] == json::array());
    CHECK(st["reload"] ==
          json{{"ok", false}, {"at", "2023-11-14T22:13:20Z"}, {"errors", {"zones/a.toml:3:1: error: bad ttl"}},
               {"staged", false}});
    CHECK(st["generation"] == 7);

    json ok = tools::status_json(json::array(), json::array(), json::array(), true, kEpochMs + 1'000, {}, 1);
    CHECK(ok["reload"]["ok"] == true);
    CHECK(ok["reload"]["at"] == "2023-11-14T22:13:21Z");
    CHECK(ok["reload"]["errors"] == json::array());
    json staged = tools::status_json(json::array(), json::array(), json::array(), true, kEpochMs, {}, 2, true);
    CHECK(staged["reload"]["staged"] == true);
}

TEST_CASE("api_views: explanation_json shows service facts only for services and sections only when answered") {
    dns::Explanation e;
    e.name = "www.example.com.";
    e.type = "A";
    e.zone = "example.com";
    e.service = "example.com/site";
    e.policy = "failover";
    e.label = "failover:secondary";
    e.ttl = 5;
    e.answered = true;
    e.rcode = "NOERROR";
    e.answer = {"www.example.com. 5 IN A 192.0.2.20"};
    e.path = {"zone example.com", "service example.com/site"};

    json j = tools::explanation_json(e, "198.51.100.7");
    CHECK(j == json{{"name", "www.example.com."},
                    {"type", "A"},
                    {"client", "198.51.100.7"},
                    {"zone", "example.com"},
                    {"service", "example.com/site"},
                    {"policy", "failover"},
                    {"label", "failover:secondary"},
                    {"ttl", 5},
                    {"rcode", "NOERROR"},
                    {"answer", {"www.example.com. 5 IN A 192.0.2.20"}},
                    {"authority", json::array()},
                    {"additional", json::array()},
                    {"path", {"zone example.com", "service example.com/site"}}});

    dns::Explanation outside;
    outside.name = "nowhere.test.";
    outside.type = "AAAA";
    outside.path = {"no zone"};
    json o = tools::explanation_json(outside, "");
    CHECK(o == json{{"name", "nowhere.test."}, {"type", "AAAA"}, {"client", ""}, {"path", {"no zone"}}});
    CHECK_FALSE(o.contains("zone"));
    CHECK_FALSE(o.contains("service"));
    CHECK_FALSE(o.contains("rcode"));
}

TEST_CASE("api_views: a geo service lists its answers per rule, other services have no geo_answers") {
    World w = two_regions();
    auto cat = catalog_of(w);
    cat.zones[0].services[0].policy = zones::PolicyKind::Geo;
    std::vector<dns::GeoAnswerCount> geo = {{"example.com/site", "1", 12},
                                            {"example.com/site", "nearest:primary", 3},
                                            {"example.com/site", "default", 5},
                                            {"example.com/other", "1", 99}};
    json out = tools::services_json(cat, {}, {}, w.health, to_unix_ms, geo);
    REQUIRE(out.size() == 2);
    CHECK(out[0]["policy"] == "geo");
    CHECK(out[0]["geo_answers"] == json::parse(R"([
        {"rule": "1", "answers": 12}, {"rule": "nearest:primary", "answers": 3}, {"rule": "default", "answers": 5}])"));
    CHECK_FALSE(out[1].contains("geo_answers"));
}
