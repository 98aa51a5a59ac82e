// Transfers of a zone with hostname endpoints: CNAME <hostname> at owners that may
// hold one, the flattened addresses (TTL capped) at the apex and `flatten` owners.
#include <doctest/doctest.h>

#include "xfr/zone_content.hpp"
#include "zones/loader.hpp"

using namespace signpost;

namespace {

const char* kZone = R"(
origin = "example.com"
ttl = 300
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[checks.health]
kind = "tcp"
port = 80
[pools.primary]
endpoints = ["eu.lb.test"]
checks = ["health"]
[pools.backup]
endpoints = ["192.0.2.30"]
checks = ["health"]
[services.site]
names = ["@", "www"]
policy = "failover"
pools = ["primary", "backup"]
ttl = 30
[services.flat]
names = ["flat"]
policy = "failover"
pools = ["primary"]
ttl = 30
flatten = true
)";

std::shared_ptr<const zones::Catalog> catalog() {
    auto r = zones::load_text(kZone, "example.com.toml");
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

policy::Evaluation hostname_answer(uint32_t ttl_cap) {
    policy::Evaluation ev;
    policy::Variant v;
    v.v4 = {*core::IpAddress::parse("127.0.0.10")};
    v.v6 = {*core::IpAddress::parse("2001:db8::10")};
    v.cname = core::Name::from_text("eu.lb.test.", core::Name());
    v.ttl_cap = ttl_cap;
    v.endpoints = {0};
    ev.decision.variants.push_back(v);
    ev.decision.label = "primary";
    ev.decision.reason = "all endpoints up";
    ev.decision.ttl = 30;
    return ev;
}

// Evaluations indexed by Service::index: `site` and `flat`.
std::vector<policy::Evaluation> by_service(const zones::Zone& z, const policy::Evaluation& site,
                                           const policy::Evaluation& flat) {
    std::vector<policy::Evaluation> evs(z.services.size());
    for (auto& s : z.services) evs.at(s.index) = s.name == "site" ? site : flat;
    return evs;
}

std::string owner(const std::string& text) { return std::string(core::Name::from_text(text, core::Name())->wire()); }

// The records at `name` as "TYPE TTL", in order.
std::vector<std::string> at(const xfr::ZoneContent& c, const std::string& name) {
    std::vector<std::string> out;
    for (auto& r : c.records)
        if (r.owner == owner(name))
            out.push_back((r.type == zones::rrtype::CNAME ? std::string("CNAME")
                           : r.type == zones::rrtype::A   ? std::string("A")
                           : r.type == zones::rrtype::AAAA ? std::string("AAAA")
                                                           : std::to_string(r.type)) +
                          " " + std::to_string(r.ttl));
    return out;
}

}  // namespace

TEST_CASE("zone content: a hostname endpoint is a CNAME at www and flattened, capped addresses at the apex") {
    auto cat = catalog();
    REQUIRE(cat->zones[0].pools[0].endpoints[0].hostname);
    auto evs = by_service(cat->zones[0], hostname_answer(20), hostname_answer(60));
    auto c = xfr::render_zone(cat->zones[0], evs);
    CHECK(at(c, "www.example.com.") == std::vector<std::string>{"CNAME 30"});
    for (auto& r : c.records)
        if (r.owner == owner("www.example.com.")) CHECK(r.rdata == owner("eu.lb.test."));
    // The apex: the addresses and NS (sorted by type), TTL min(30, 20); never a CNAME.
    CHECK(at(c, "example.com.") == std::vector<std::string>{"A 20", "2 300", "AAAA 20"});
    // flatten = true: addresses with the service's TTL (the record's 60 is more).
    CHECK(at(c, "flat.example.com.") == std::vector<std::string>{"A 30", "AAAA 30"});
}

TEST_CASE("zone content: after failover to the address pool, www carries addresses again") {
    auto cat = catalog();
    policy::Evaluation over;
    policy::Variant v;
    v.v4 = {*core::IpAddress::parse("192.0.2.30")};
    v.endpoints = {1};
    over.decision.variants.push_back(v);
    over.decision.label = "failover:backup";
    over.decision.ttl = 5;
    auto evs = by_service(cat->zones[0], over, hostname_answer(60));
    auto c = xfr::render_zone(cat->zones[0], evs);
    CHECK(at(c, "www.example.com.") == std::vector<std::string>{"A 5"});
    CHECK(at(c, "example.com.") == std::vector<std::string>{"A 5", "2 300"});
    // A different content: secondaries are told (the digest moves).
    auto before = xfr::render_zone(cat->zones[0], by_service(cat->zones[0], hostname_answer(20), hostname_answer(60)));
    CHECK(xfr::content_digest(c) != xfr::content_digest(before));
}
