// Geo answers through answer_query: the client located by ECS (scope = the
// database network, capped by the source prefix) or by the resolver's address,
// the rule's decision answered, the default without a database.
#include <doctest/doctest.h>

#include "dns/view.hpp"
#include "geo/database.hpp"
#include "support.hpp"
#include "zones/loader.hpp"

using namespace signpost;
using namespace dnstest;
using Strings = std::vector<std::string>;

namespace {

const char* kZone = R"(origin = "example.com"
ttl = 300
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[pools.eu]
endpoints = ["127.0.0.21"]
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
rules = [{ continents = ["EU"], pools = ["eu", "us"] }, { countries = ["JP"], pools = ["ap", "us"] }]
[services.near]
names = ["near"]
policy = "geo"
pools = ["us", "eu", "ap"]
nearest = true
)";

std::shared_ptr<const dns::View> geo_view(bool with_database) {
    auto loaded = zones::load_text(kZone, "zones/example.com.toml");
    REQUIRE_MESSAGE(loaded.catalog, loaded.diagnostics.to_string());
    auto& cat = *loaded.catalog;
    std::vector<core::EndpointHealth> health(cat.endpoints.size());
    for (auto& h : health) {
        h.state = core::HealthState::Up;
        h.confirmed = true;
    }
    std::vector<policy::Evaluation> evs(cat.services.size());
    for (auto& ref : cat.services) {
        auto& z = cat.zones[ref.zone];
        auto& s = z.services[ref.service];
        evs[s.index] = policy::evaluate(z, s, health, core::TimePoint{} + std::chrono::hours(1), {}, 1);
    }
    dns::ViewOptions vo;
    if (with_database) {
        std::string error;
        vo.geo = geo::Databases::open({std::string(SIGNPOST_FIXTURES) + "/geo/test-city.mmdb"}, error);
        REQUIRE_MESSAGE(vo.geo, error);
    }
    return dns::build_view(loaded.catalog, evs, 1, vo);
}

Reply ask_ecs(const dns::View& v, const char* name, std::string addr, uint8_t source, uint16_t family = 1) {
    return ask(v, make_query(name, 1, {.edns = true, .options = ecs_option(family, source, 0, std::move(addr))}));
}

}  // namespace

TEST_CASE("geo answers: ECS picks the rule, the scope is the database network, capped by the source prefix") {
    auto v = geo_view(true);
    auto de = ask_ecs(*v, "www.example.com", std::string("\xc0\x00\x02", 3), 24);  // 192.0.2.0/24: DE
    CHECK(de.answer == Strings{"www.example.com. 30 IN A 127.0.0.21"});
    CHECK(de.ecs == std::string("\x00\x01\x18\x18\xc0\x00\x02", 7));
    auto jp = ask_ecs(*v, "www.example.com", std::string("\xcb\x00\x71", 3), 24);  // 203.0.113.0/24: JP
    CHECK(jp.answer == Strings{"www.example.com. 30 IN A 127.0.0.23"});
    auto narrow = ask_ecs(*v, "www.example.com", std::string("\xc0\x00\x02", 3), 23);  // source /23: scope 23
    CHECK(narrow.ecs == std::string("\x00\x01\x17\x17\xc0\x00\x02", 7));
    auto none = ask_ecs(*v, "www.example.com", std::string("\x0a\x01\x02", 3), 24);  // 10.1.2.0: nowhere
    CHECK(none.answer == Strings{"www.example.com. 30 IN A 127.0.0.22"});
    auto zero = ask_ecs(*v, "www.example.com", "", 0);  // SOURCE 0: the default, scope 0
    CHECK(zero.answer == Strings{"www.example.com. 30 IN A 127.0.0.22"});
    CHECK(zero.ecs == std::string("\x00\x01\x00\x00", 4));
    std::string au("\x20\x01\x0d\xb8\x00\x01\x00", 7);  // 2001:db8:1::/56: Sydney, nearest Tokyo
    auto syd = ask_ecs(*v, "near.example.com", au, 56, 2);
    CHECK(syd.answer == Strings{"near.example.com. 30 IN A 127.0.0.23"});
    REQUIRE(syd.ecs.size() == 11);
    CHECK(uint8_t(syd.ecs[3]) == 48);
}

TEST_CASE("geo answers: without ECS the resolver's address is located, without a database, the default") {
    auto v = geo_view(true);
    auto paris = ask(*v, make_query("www.example.com", 1), false, "127.0.0.1");  // 127/8: FR, Europe
    CHECK(paris.answer == Strings{"www.example.com. 30 IN A 127.0.0.21"});
    auto near = ask(*v, make_query("near.example.com", 1), false, "203.0.113.9");
    CHECK(near.answer == Strings{"near.example.com. 30 IN A 127.0.0.23"});
    // site: rules 1, 2 and default; near: nearest:us, nearest:eu, nearest:ap and default.
    Strings counts;
    for (auto& c : dns::geo_answer_counts(*v)) counts.push_back(c.service + " " + c.rule + " " + std::to_string(c.answers));
    CHECK(counts == Strings{"example.com/site 1 1", "example.com/site 2 0", "example.com/site default 0",
                            "example.com/near nearest:us 0", "example.com/near nearest:eu 0",
                            "example.com/near nearest:ap 1", "example.com/near default 0"});
    auto no_db = geo_view(false);
    auto r = ask_ecs(*no_db, "www.example.com", std::string("\xcb\x00\x71", 3), 24);
    CHECK(r.answer == Strings{"www.example.com. 30 IN A 127.0.0.22"});
}
