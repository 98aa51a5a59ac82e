// The geo policy's zone keys: pools' location/bias_km/max_km, services' rules and
// nearest, and the exact text of their errors.
#include <doctest/doctest.h>

#include <string>

#include "zones/loader.hpp"

using namespace signpost;

namespace {

zones::LoadResult load(const std::string& text) { return zones::load_text(text, "zones/t.toml"); }

// Lines 1-15: a zone with three pools (eu with a location); services start at line 16.
const std::string kZone =
    "origin = \"example.com\"\n"
    "ttl = 300\n"
    "[records.\"@\"]\n"
    "NS = [\"ns1\"]\n"
    "[records.ns1]\n"
    "A = \"192.0.2.53\"\n"
    "[pools.eu]\n"
    "endpoints = [\"192.0.2.10\"]\n"
    "location = [50.11, 8.68]\n"
    "[pools.us]\n"
    "endpoints = [\"198.51.100.10\"]\n"
    "location = [39, -77.5]\n"
    "bias_km = -100\n"
    "[pools.ap]\n"
    "endpoints = [\"203.0.113.10\"]\n";

bool has(const zones::LoadResult& r, const std::string& line) {
    for (auto& d : r.diagnostics.items())
        if (d.to_string() == line) return true;
    return false;
}
#define CHECK_DIAG(r, text)                                    \
    do {                                                       \
        INFO("diagnostics:\n" << (r).diagnostics.to_string()); \
        CHECK(has((r), (text)));                               \
    } while (0)

}  // namespace

TEST_CASE("geo keys: rules, nearest and pool locations fill the model") {
    auto r = load(kZone +
                  "[services.site]\n"
                  "names = [\"www\"]\n"
                  "policy = \"geo\"\n"
                  "pools = [\"us\", \"eu\", \"ap\"]\n"
                  "nearest = true\n"
                  "rules = [\n"
                  "  { continents = [\"eu\"], countries = [\"GB\"], pools = [\"eu\", \"us\"] },\n"
                  "  { subdivisions = [\"us-hi\"], asns = [64500], pools = [\"ap\"] },\n"
                  "]\n");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    auto& z = r.catalog->zones.at(0);
    auto& s = z.services.at(0);
    CHECK(s.policy == zones::PolicyKind::Geo);
    CHECK(s.nearest);
    REQUIRE(s.geo_rules.size() == 2);
    CHECK(s.geo_rules[0].continents == std::vector<std::string>{"EU"});
    CHECK(s.geo_rules[0].countries == std::vector<std::string>{"GB"});
    CHECK(s.geo_rules[0].pools == std::vector<std::size_t>{0, 1});
    CHECK(s.geo_rules[1].subdivisions == std::vector<std::string>{"US-HI"});
    CHECK(s.geo_rules[1].asns == std::vector<uint32_t>{64500});
    CHECK(z.pools[0].location == zones::GeoPoint{50.11, 8.68});
    CHECK(z.pools[1].location == zones::GeoPoint{39, -77.5});
    CHECK(z.pools[1].bias_km == -100);
    CHECK_FALSE(z.pools[2].location);
}

TEST_CASE("geo keys: errors name the place and what is allowed") {
    SUBCASE("unknown codes, foreign pools, a code in two rules") {
        auto r = load(kZone +
                      "[services.site]\n"
                      "names = [\"www\"]\n"
                      "policy = \"geo\"\n"
                      "pools = [\"us\", \"eu\"]\n"
                      "rules = [\n"
                      "  { countries = [\"XX\"], continents = [\"EU\"], pools = [\"eu\", \"ap\"] },\n"
                      "  { continents = [\"eu\", \"ZZ\"], subdivisions = [\"US\"], pools = [\"nope\"] },\n"
                      "  { pools = [\"us\"] },\n"
                      "]\n");
        CHECK_FALSE(r.catalog);
        CHECK_DIAG(r, "zones/t.toml:21:18: error: zone 'example.com' service 'site' rule 1: unknown country code \"XX\"; countries are ISO 3166-1 alpha-2 codes such as \"DE\", \"US\", \"JP\"");
        CHECK_DIAG(r, "zones/t.toml:21:61: error: zone 'example.com' service 'site' rule 1: pool 'ap' is not one of the service's pools (us, eu); a rule orders the service's pools");
        CHECK_DIAG(r, "zones/t.toml:22:19: error: zone 'example.com' service 'site' rule 2: continent EU is already in rule 1; a client matches one rule");
        CHECK_DIAG(r, "zones/t.toml:22:25: error: zone 'example.com' service 'site' rule 2: unknown continent code \"ZZ\"; allowed: AF, AN, AS, EU, NA, OC, SA");
        CHECK_DIAG(r, "zones/t.toml:22:48: error: zone 'example.com' service 'site' rule 2: subdivision must be an ISO 3166-2 code such as \"US-CA\" or \"DE-BY\", got \"US\"");
        CHECK_DIAG(r, "zones/t.toml:22:64: error: zone 'example.com' service 'site' rule 2: unknown pool 'nope'; defined pools: eu, us, ap");
        CHECK_DIAG(r, "zones/t.toml:23:3: error: zone 'example.com' service 'site' rule 3: a rule needs at least one of continents, countries, subdivisions or asns");
    }
    SUBCASE("locations out of range, bias without a location, nearest without locations") {
        auto r = load(kZone +
                      "[pools.x]\n"
                      "endpoints = [\"192.0.2.20\"]\n"
                      "location = [135.68, 139.69]\n"
                      "[pools.y]\n"
                      "endpoints = [\"192.0.2.21\"]\n"
                      "location = [35, 200]\n"
                      "[pools.z]\n"
                      "endpoints = [\"192.0.2.22\"]\n"
                      "location = \"Tokyo\"\n"
                      "max_km = 100\n"
                      "[services.site]\n"
                      "names = [\"www\"]\n"
                      "policy = \"geo\"\n"
                      "pools = [\"ap\"]\n"
                      "nearest = true\n");
        CHECK_FALSE(r.catalog);
        CHECK_DIAG(r, "zones/t.toml:18:12: error: zone 'example.com' pool 'x': location latitude must be -90..90, got 135.68");
        CHECK_DIAG(r, "zones/t.toml:21:12: error: zone 'example.com' pool 'y': location longitude must be -180..180, got 200");
        CHECK_DIAG(r, "zones/t.toml:24:12: error: zone 'example.com' pool 'z': location must be [latitude, longitude] in degrees, e.g. [50.11, 8.68], got string \"Tokyo\"");
        CHECK_DIAG(r, "zones/t.toml:25:10: error: zone 'example.com' pool 'z': max_km needs the pool's location = [latitude, longitude]");
        CHECK_DIAG(r, "zones/t.toml:30:11: error: zone 'example.com' service 'site': nearest = true needs a location = [latitude, longitude] on at least one of its pools");
    }
    SUBCASE("rules and nearest on another policy are ignored with a warning") {
        auto r = load(kZone +
                      "[services.site]\n"
                      "names = [\"www\"]\n"
                      "pools = [\"eu\"]\n"
                      "nearest = true\n"
                      "rules = [{ countries = [\"DE\"], pools = [\"eu\"] }]\n");
        CHECK(r.catalog);
        CHECK_DIAG(r, "zones/t.toml:19:11: warning: zone 'example.com' service 'site': nearest is used only with policy = \"geo\"; ignored");
        CHECK_DIAG(r, "zones/t.toml:20:9: warning: zone 'example.com' service 'site': rules are used only with policy = \"geo\"; ignored");
    }
}
