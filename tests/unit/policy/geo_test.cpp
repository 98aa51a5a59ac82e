// Geo policy: rules by ASN, subdivision, country, continent (most specific first),
// each a failover over its own pools; `nearest` by great-circle distance.
#include <cstring>

#include "policy/geo_choice.hpp"
#include "policy_fixture.hpp"

using namespace signpost;
using namespace signpost::policy::test;

namespace {

geo::Location at(const char* continent, const char* country, const char* subdivision = "", uint32_t asn = 0) {
    geo::Location l;
    l.found = true;
    l.prefix_length = 24;
    std::strcpy(l.continent, continent);
    std::strcpy(l.country, country);
    std::strcpy(l.subdivision, subdivision);
    l.asn = asn;
    return l;
}
geo::Location coords(double lat, double lon) {
    geo::Location l = at("", "");
    l.has_coordinates = true;
    l.latitude = lat;
    l.longitude = lon;
    return l;
}

zones::GeoRule rule(std::vector<std::size_t> pools, std::vector<std::string> countries,
                    std::vector<std::string> continents = {}, std::vector<std::string> subdivisions = {},
                    std::vector<uint32_t> asns = {}) {
    zones::GeoRule r;
    r.pools = std::move(pools);
    r.countries = std::move(countries);
    r.continents = std::move(continents);
    r.subdivisions = std::move(subdivisions);
    r.asns = std::move(asns);
    return r;
}

// eu (Frankfurt), us (Ashburn), ap (Tokyo); rules: Europe -> eu, us; JP -> ap, us;
// US-CA -> us; AS64500 -> ap.
World regions() {
    World w;
    w.pool("eu", {"192.0.2.1"}).pool("us", {"198.51.100.1"}).pool("ap", {"203.0.113.1"});
    w.zone.pools[0].location = zones::GeoPoint{50.11, 8.68};
    w.zone.pools[1].location = zones::GeoPoint{39.04, -77.49};
    w.zone.pools[2].location = zones::GeoPoint{35.68, 139.69};
    auto& s = w.service(zones::PolicyKind::Geo);
    s.geo_rules = {rule({0, 1}, {}, {"EU"}), rule({2, 1}, {"JP"}), rule({1}, {}, {}, {"US-CA"}), rule({2}, {}, {}, {}, {64500})};
    return w;
}

const policy::Decision& decision(const World& w, const policy::Evaluation& ev, const geo::Location& where) {
    policy::GeoMatcher m(w.zone, w.zone.services[0]);
    std::vector<uint8_t> up;
    for (auto& d : ev.geo_pools) up.push_back(!d.label.empty());
    auto g = m.match(where, up);
    if (g.kind == policy::GeoMatch::Kind::Rule) return ev.geo_rules.at(g.index);
    if (g.kind == policy::GeoMatch::Kind::Nearest) return ev.geo_pools.at(g.index);
    return ev.decision;
}

}  // namespace

TEST_CASE("geo: each rule answers its first pool, other clients the service's pools in order") {
    World w = regions();
    auto ev = w.eval();
    REQUIRE(ev.geo_rules.size() == 4);
    CHECK(decision(w, ev, at("EU", "DE")).label == "geo:eu");
    CHECK(decision(w, ev, at("AS", "JP")).label == "geo:ap");
    CHECK(texts(decision(w, ev, at("AS", "JP")).variants.at(0).v4) == Strings{"203.0.113.1"});
    CHECK(decision(w, ev, at("SA", "BR")).label == "primary");
    CHECK(&decision(w, ev, geo::Location{}) == &ev.decision);
    CHECK(ev.state.subnet_active == std::vector<int>{0, 2, 1, 2});
}

TEST_CASE("geo: the most specific match wins: ASN, then subdivision, then country, then continent") {
    World w = regions();
    auto& s = w.service();
    s.geo_rules.push_back(rule({1, 0}, {"DE"}));
    auto ev = w.eval();
    CHECK(decision(w, ev, at("EU", "DE")).label == "geo:us");           // the country rule, not the continent's
    CHECK(decision(w, ev, at("EU", "FR")).label == "geo:eu");           // the continent's
    CHECK(decision(w, ev, at("NA", "US", "CA")).label == "geo:us");     // US-CA
    CHECK(decision(w, ev, at("NA", "US", "NY")).label == "primary");    // no rule for US or NA
    CHECK(decision(w, ev, at("EU", "DE", "", 64500)).label == "geo:ap");  // the ASN beats the country
}

TEST_CASE("geo: a rule fails over inside its own list and comes back") {
    World w = regions();
    w.eval();
    w.down("eu");
    w.now += 1s;
    auto ev = w.eval();
    auto& d = decision(w, ev, at("EU", "FR"));
    CHECK(d.label == "failover:us");
    CHECK(d.reason == "endpoint 192.0.2.1 down: HTTP 503");
    CHECK(d.ttl == 5);  // just moved: unstable
    CHECK(decision(w, ev, at("AS", "JP")).label == "geo:ap");
    CHECK(ev.changed);
    w.up("eu");
    w.now += 2min;
    ev = w.eval();
    CHECK(decision(w, ev, at("EU", "FR")).label == "geo:eu");
}

TEST_CASE("geo: a rule whose pools are all down answers the service's all-down rule") {
    World w = regions();
    w.down("us");
    auto ev = w.eval();
    auto& d = decision(w, ev, at("NA", "US", "CA"));
    CHECK(d.label == "all-down");
    CHECK(d.all_down);
}

TEST_CASE("geo: nearest orders the pools that are up by great-circle distance") {
    World w = regions();
    w.service().nearest = true;
    auto ev = w.eval();
    REQUIRE(ev.geo_pools.size() == 3);
    SUBCASE("Madrid: Frankfurt") { CHECK(decision(w, ev, coords(40.42, -3.70)).label == "nearest:eu"); }
    SUBCASE("Sao Paulo: Ashburn") { CHECK(decision(w, ev, coords(-23.55, -46.63)).label == "nearest:us"); }
    SUBCASE("Sydney: Tokyo") { CHECK(decision(w, ev, coords(-33.87, 151.21)).label == "nearest:ap"); }
    SUBCASE("no coordinates: the default order") { CHECK(decision(w, ev, at("AF", "ZA")).label == "primary"); }
}

TEST_CASE("geo: nearest skips pools that are down, beyond max_km, and counts bias_km") {
    World w = regions();
    w.service().nearest = true;
    auto sydney = coords(-33.87, 151.21);
    SUBCASE("down") {
        w.down("ap");
        auto ev = w.eval();
        CHECK(ev.geo_pools.at(2).label.empty());
        CHECK(decision(w, ev, sydney).label == "nearest:us");  // 15,700 km vs Frankfurt's 16,500
    }
    SUBCASE("max_km") {
        w.zone.pools[2].max_km = 5000;  // Sydney-Tokyo is 7,800 km
        auto ev = w.eval();
        CHECK(decision(w, ev, sydney).label == "nearest:us");
    }
    SUBCASE("bias_km") {
        w.zone.pools[1].bias_km = 9000;  // us counts 9,000 km farther
        auto ev = w.eval();
        CHECK(decision(w, ev, coords(-23.55, -46.63)).label == "nearest:eu");
    }
    SUBCASE("none in reach: the default order") {
        for (auto& p : w.zone.pools) p.max_km = 100;
        auto ev = w.eval();
        CHECK(decision(w, ev, sydney).label == "primary");
    }
}

TEST_CASE("geo: distance_km is the great-circle distance") {
    CHECK(policy::distance_km(50.11, 8.68, 50.11, 8.68) == doctest::Approx(0));
    // Frankfurt - New York: 6,200 km; antipodes: half the circumference.
    CHECK(policy::distance_km(50.11, 8.68, 40.71, -74.01) == doctest::Approx(6206).epsilon(0.01));
    CHECK(policy::distance_km(0, 0, 0, 180) == doctest::Approx(20015.1).epsilon(0.001));
}
