// The fast path for client-dependent services (geo rules, nearest pools, subnet
// rules) against the general renderer: byte for byte the same replies — ECS scope
// and every other OPT field included — for clients everywhere, with and without ECS
// and EDNS, A and AAAA, and the same per-rule answer counts.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dns/view.hpp"
#include "dns/view_impl.hpp"
#include "geo/database.hpp"
#include "support.hpp"
#include "zones/loader.hpp"

using namespace signpost;
using namespace dnstest;
using Strings = std::vector<std::string>;

namespace {

namespace rt = zones::rrtype;

// site: rules EU -> eu, us; JP -> ap only (ap is down: all-down inside the rule);
// near: nearest pool by coordinates; apex: site's twin at the apex (flattened
// hostnames); sub: a failover service given subnet rules by hand (below); mx: MX
// pointing at www (additional addresses depend on the client: general renderer).
const char* kZone = R"(origin = "example.com"
ttl = 300
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[records.mx]
MX = "10 www"
[pools.eu]
endpoints = ["127.0.0.21", "2001:db8::21"]
location = [50.11, 8.68]
[pools.us]
endpoints = ["127.0.0.22"]
location = [39.04, -77.49]
[pools.ap]
endpoints = ["127.0.0.23"]
location = [35.68, 139.69]
[services.site]
names = ["www"]
policy = "geo"
pools = ["us", "eu", "ap"]
rules = [{ continents = ["EU"], pools = ["eu", "us"] }, { countries = ["JP"], pools = ["ap"] }]
[services.near]
names = ["near"]
policy = "geo"
pools = ["us", "eu", "ap"]
nearest = true
[services.apex]
names = ["@"]
policy = "geo"
pools = ["us", "eu"]
rules = [{ continents = ["EU"], pools = ["eu", "us"] }]
[services.sub]
names = ["sub"]
pools = ["us", "eu"]
)";

policy::Variant hostname_variant(const std::string& host, std::vector<std::string> addrs, uint32_t weight) {
    auto v = variant(std::move(addrs), weight);
    v.cname = name(host);
    v.ttl_cap = 20;
    return v;
}

struct Views {
    std::shared_ptr<const zones::Catalog> catalog;
    std::vector<policy::Evaluation> evs;
    std::shared_ptr<const geo::Databases> db;

    Views() {
        auto loaded = zones::load_text(kZone, "zones/example.com.toml");
        REQUIRE_MESSAGE(loaded.catalog, loaded.diagnostics.to_string());
        catalog = loaded.catalog;
        auto& cat = *catalog;
        std::vector<core::EndpointHealth> health(cat.endpoints.size());
        for (std::size_t i = 0; i < health.size(); ++i) {
            health[i].state = cat.endpoints[i].key == "example.com/ap/127.0.0.23" ? core::HealthState::Down : core::HealthState::Up;
            health[i].confirmed = true;
        }
        evs.resize(cat.services.size());
        for (auto& ref : cat.services) {
            auto& z = cat.zones[ref.zone];
            auto& s = z.services[ref.service];
            evs[s.index] = policy::evaluate(z, s, health, core::TimePoint{} + std::chrono::hours(1), {}, 1);
        }
        std::string error;
        db = geo::Databases::open({std::string(SIGNPOST_FIXTURES) + "/geo/test-city.mmdb"}, error);
        REQUIRE_MESSAGE(db, error);
    }
    std::size_t index(const std::string& key) const {
        for (std::size_t i = 0; i < catalog->services.size(); ++i)
            if (catalog->services[i].key == key) return catalog->zones[catalog->services[i].zone].services[catalog->services[i].service].index;
        FAIL("no service " << key);
        return 0;
    }
    // The evaluations, changed by hand where the policy would need more endpoints:
    // site's EU rule answers two weighted variants (one a hostname: CNAME at www),
    // apex's EU rule a hostname (flattened at the apex), near's eu pool NODATA, and
    // sub gets subnet rules.
    std::vector<policy::Evaluation> edited() const {
        auto out = evs;
        auto& site = out[index("example.com/site")];
        REQUIRE(site.geo_rules.size() == 2);
        site.geo_rules[0].variants = {variant({"127.0.0.21", "2001:db8::21"}, 3),
                                      hostname_variant("eu.lb.test", {"127.0.0.121", "2001:db8::121"}, 1)};
        auto& apex = out[index("example.com/apex")];
        REQUIRE(apex.geo_rules.size() == 1);
        apex.geo_rules[0].variants = {hostname_variant("eu.lb.test", {"127.0.0.121", "2001:db8::121"}, 1)};
        auto& near = out[index("example.com/near")];
        REQUIRE(near.geo_pools.size() == 3);
        near.geo_pools[1].variants.clear();
        auto& sub = out[index("example.com/sub")];
        policy::SubnetRule eu, jp, v6;
        eu.prefix = *core::IpPrefix::parse("192.0.2.0/24");
        eu.decision = evaluation({variant({"127.0.0.21", "2001:db8::21"})}, "eu", "subnet", 40).decision;
        jp.prefix = *core::IpPrefix::parse("203.0.113.128/25");
        jp.decision = evaluation({}, "all-down", "every endpoint down", 10).decision;
        v6.prefix = *core::IpPrefix::parse("2001:db8:1::/48");
        v6.decision = evaluation({variant({"127.0.0.23"}, 1), variant({"127.0.0.24"}, 2)}, "ap", "subnet", 50).decision;
        sub.subnets = {eu, jp, v6};
        return out;
    }
    std::shared_ptr<const dns::View> view(bool prerender, bool with_db = true) const {
        dns::ViewOptions o;
        o.prerender = prerender;
        if (with_db) o.geo = db;
        return dns::build_view(catalog, edited(), 1, o);
    }
};

const Views& views() {
    static Views v;
    return v;
}

struct Client {
    const char* what;
    std::string source;   // the resolver's address
    bool ecs = false;
    uint16_t family = 1;
    uint8_t source_prefix = 0;
    std::string address;  // ECS address bytes
};

std::vector<Client> clients() {
    return {
        {"DE resolver", "192.0.2.53"},
        {"US resolver", "198.51.100.7"},
        {"JP resolver", "203.0.113.200"},
        {"FR resolver (127/8)", "127.0.0.1"},
        {"unknown resolver", "10.1.2.3"},
        {"AU v6 resolver", "2001:db8:1::53"},
        {"unknown v6 resolver", "2001:db8:ff::1"},
        {"ECS DE /24", "10.9.9.9", true, 1, 24, std::string("\xc0\x00\x02", 3)},
        {"ECS DE /16 (scope capped)", "10.9.9.9", true, 1, 16, std::string("\xc0\x00", 2)},
        {"ECS DE /32", "10.9.9.9", true, 1, 32, std::string("\xc0\x00\x02\x81", 4)},
        {"ECS US /24", "192.0.2.53", true, 1, 24, std::string("\xc6\x33\x64", 3)},
        {"ECS JP /25", "192.0.2.53", true, 1, 25, std::string("\xcb\x00\x71\x80", 4)},
        {"ECS JP /24", "192.0.2.53", true, 1, 24, std::string("\xcb\x00\x71", 3)},
        {"ECS nowhere /24", "192.0.2.53", true, 1, 24, std::string("\x0a\x01\x02", 3)},
        {"ECS source 0", "192.0.2.53", true, 1, 0, ""},
        {"ECS AU /56", "192.0.2.53", true, 2, 56, std::string("\x20\x01\x0d\xb8\x00\x01\x00", 7)},
        {"ECS v6 /0", "192.0.2.53", true, 2, 0, ""},
    };
}

const Strings kNames = {"www.example.com", "WWW.example.COM", "near.example.com", "example.com",
                        "sub.example.com", "mx.example.com",  "nope.example.com"};
const std::vector<uint16_t> kTypes = {rt::A, rt::AAAA, rt::MX, rt::TXT, rt::CNAME};

// One query in every shape: no EDNS, EDNS (1232, 512, with NSID), TCP.
struct Shape {
    bool edns;
    uint16_t udp;
    bool nsid;
    bool tcp;
};
const std::vector<Shape> kShapes = {{false, 0, false, false}, {true, 1232, false, false}, {true, 512, false, false},
                                    {true, 1232, true, false},  {true, 1232, false, true},  {false, 0, false, true}};

std::vector<uint8_t> query_for(const std::string& n, uint16_t type, const Client& c, const Shape& s) {
    QueryOptions o;
    o.edns = s.edns || c.ecs;
    if (s.udp) o.udp_size = s.udp;
    if (c.ecs) o.options += ecs_option(c.family, c.source_prefix, 0, c.address);
    if (s.nsid) o.options += std::string("\x00\x03\x00\x00", 4);
    return make_query(n, type, o);
}

Strings counts(const dns::View& v) {
    Strings out;
    for (auto& c : dns::geo_answer_counts(v)) out.push_back(c.service + " " + c.rule + " " + std::to_string(c.answers));
    return out;
}

}  // namespace

TEST_CASE("geo fast path: replies are byte for byte the general renderer's, and count the same") {
    auto& vs = views();
    auto fast = vs.view(true), slow = vs.view(false);
    dns::ServerIdentity id("ns1.test", "");
    int compared = 0;
    for (auto& c : clients())
        for (auto& n : kNames)
            for (uint16_t t : kTypes)
                for (auto& s : kShapes)
                    for (uint64_t seed : {1u, 2u, 3u, 4u}) {
                        auto q = query_for(n, t, c, s);
                        dns::seed_variant_random(seed);
                        Reply a = ask(*fast, q, s.tcp, c.source, &id);
                        dns::seed_variant_random(seed);
                        Reply b = ask(*slow, q, s.tcp, c.source, &id);
                        CAPTURE(c.what);
                        CAPTURE(n);
                        CAPTURE(t);
                        CAPTURE(s.edns);
                        CAPTURE(s.udp);
                        CAPTURE(s.nsid);
                        CAPTURE(s.tcp);
                        CAPTURE(seed);
                        REQUIRE(a.ok);
                        CHECK(a.answer == b.answer);
                        CHECK(a.authority == b.authority);
                        CHECK(a.additional == b.additional);
                        CHECK(a.ecs == b.ecs);
                        CHECK(a.nsid == b.nsid);
                        // A service's addresses: the blob rendered for this owner, byte for byte.
                        // NODATA and NXDOMAIN elsewhere reuse the zone's negative blob, whose
                        // name compression differs (dns/prerender.cpp): compared as records.
                        if ((t == rt::A || t == rt::AAAA) && n != "mx.example.com" && n != "nope.example.com")
                            CHECK(a.wire == b.wire);
                        CHECK(a.rcode == b.rcode);
                        CHECK(a.aa == b.aa);
                        CHECK(a.tc == b.tc);
                        CHECK(a.opt_udp_size == b.opt_udp_size);
                        ++compared;
                    }
    CHECK(compared > 10000);
    CHECK(counts(*fast) == counts(*slow));
    // Every rule was reached: the comparison covered rules, nearest and default.
    for (auto& line : counts(*fast)) {
        CAPTURE(line);
        if (line.find("nearest:ap") == std::string::npos) CHECK(line.substr(line.rfind(' ')) != " 0");
    }
}

TEST_CASE("geo fast path: the client's rule, the all-down rule and the scope come from pre-rendered answers") {
    auto& vs = views();
    auto fast = vs.view(true), slow = vs.view(false);
    auto ask_ecs = [](const dns::View& v, const char* n, uint16_t type, std::string addr, uint8_t source) {
        dns::seed_variant_random(7);
        return ask(v, make_query(n, type, {.edns = true, .options = ecs_option(1, source, 0, std::move(addr))}));
    };
    // JP: the rule's only pool is down; what the policy answers then (all-down) is served.
    auto jp = ask_ecs(*fast, "www.example.com", rt::A, std::string("\xcb\x00\x71", 3), 24);
    CHECK(jp.answer == ask_ecs(*slow, "www.example.com", rt::A, std::string("\xcb\x00\x71", 3), 24).answer);
    CHECK(jp.ecs == std::string("\x00\x01\x18\x18\xcb\x00\x71", 7));
    // DE from a /16: scope capped at 16.
    auto de = ask_ecs(*fast, "www.example.com", rt::AAAA, std::string("\xc0\x00", 2), 16);
    CHECK(de.ecs == std::string("\x00\x01\x10\x10\xc0\x00", 6));
    // sub: subnet rules' scope (the general path's policy::match_subnet).
    auto sub = ask_ecs(*fast, "sub.example.com", rt::A, std::string("\xcb\x00\x71\x80", 4), 25);
    CHECK(sub.answer.empty());
    CHECK(sub.authority.size() == 1);
    CHECK(sub.ecs == std::string("\x00\x01\x19\x19\xcb\x00\x71\x80", 8));
}

TEST_CASE("geo fast path: without a database every client gets the default, as the general renderer answers") {
    auto& vs = views();
    auto fast = vs.view(true, false), slow = vs.view(false, false);
    for (auto& c : clients())
        for (uint16_t t : {rt::A, rt::AAAA}) {
            auto q = query_for("www.example.com", t, c, {true, 1232, false, false});
            CAPTURE(c.what);
            CHECK(ask(*fast, q, false, c.source).wire == ask(*slow, q, false, c.source).wire);
        }
    CHECK(counts(*fast) == counts(*slow));
}

TEST_CASE("geo fast path: geo and subnet owners have A and AAAA pre-rendered for every decision and variant") {
    auto v = views().view(true);
    auto& z = v->zones_.at(0);
    int owners = 0;
    for (auto& n : z.nodes) {
        if (n.service < 0) continue;
        auto& sd = v->services_[std::size_t(n.service)];
        REQUIRE(sd.subnet_dependent);
        std::size_t blobs = 0;
        auto add = [&](const dns::detail::DecisionData& d) {
            CHECK(d.blob_offset == blobs);
            blobs += std::max<std::size_t>(1, d.decision->variants.size());
        };
        add(sd.fallback);
        for (auto& d : sd.rules) add(d);
        for (auto& d : sd.geo_rules) add(d);
        for (auto& d : sd.geo_pools) add(d);
        int types = 0;
        for (unsigned i = 0; i < n.fast_count; ++i) {
            auto& ft = v->fast_types_[n.fast_first + i];
            if (ft.type != rt::A && ft.type != rt::AAAA) continue;
            CHECK(ft.service == n.service);
            CHECK(ft.count == blobs);
            ++types;
        }
        CHECK(types == 2);
        ++owners;
    }
    CHECK(owners == 4);  // www, near, the apex, sub
}
