// Hostname endpoints on the answer side: CNAME <hostname> at owners that may hold
// one, flattened addresses (TTL capped) at the apex and `flatten` owners, the fast
// path against the general renderer, and explain's rule path.
#include <doctest/doctest.h>

#include <algorithm>

#include "dns/explain.hpp"
#include "support.hpp"

using namespace dnstest;
using Strings = std::vector<std::string>;

namespace {

namespace rt = signpost::zones::rrtype;

core::IpAddress ip(const std::string& text) { return *core::IpAddress::parse(text); }

// A variant that is exactly one hostname endpoint, with its current addresses.
policy::Variant hostname_variant(const std::string& host, std::vector<std::string> addrs, uint32_t ttl_cap,
                                 core::EndpointIndex endpoint = 0, uint32_t weight = 1) {
    auto v = variant(std::move(addrs), weight);
    v.cname = name(host);
    v.ttl_cap = ttl_cap;
    v.endpoints = {endpoint};
    return v;
}

zones::Pool pool(const std::string& pool_name, const std::string& host_or_address, core::EndpointIndex index) {
    zones::Pool p;
    p.name = pool_name;
    zones::Endpoint e;
    e.name = host_or_address;
    if (auto a = core::IpAddress::parse(host_or_address)) e.address = e.check_address = *a;
    else e.hostname = name(host_or_address);
    e.index = index;
    p.endpoints.push_back(e);
    return p;
}

// example.com with hostname services:
//   site   (www, @, *.shop; pools primary eu.lb.test, secondary us.lb.test): answers
//          the primary's hostname (127.0.0.10, 2001:db8::10; record TTL left 20)
//   inzone (app): a hostname inside the zone (lbhost.example.com, static A)
//   flat   (flat, flatten = true): eu.lb.test, record TTL left 60 (above the service's)
//   mixed  (mix): eu.lb.test (weight 1) or the address 192.0.2.30 (weight 1)
//   plain  (plain): an address, as before hostnames
//   mx.example.com MX points at www (a CNAME owner: no additional addresses).
struct Fixture {
    std::shared_ptr<const zones::Catalog> catalog;
    std::vector<policy::Evaluation> evaluations;

    explicit Fixture(bool failed_over = false) {
        ZoneSpec z("example.com");
        z.ns("@", "ns1.example.com").a("ns1", "192.0.2.53");
        z.mx("@", 10, "ns1.example.com");
        z.a("lbhost", "192.0.2.80").aaaa("lbhost", "2001:db8::80");
        z.mx("mx", 10, "www.example.com");
        z.zone.pools.push_back(pool("primary", "eu.lb.test", 0));
        z.zone.pools.push_back(pool("secondary", "us.lb.test", 1));
        z.zone.pools.push_back(pool("backup", "192.0.2.30", 2));
        z.service("site", {"www", "@", "*.shop"});
        z.zone.services.back().pools = {0, 1};
        z.service("inzone", {"app"});
        z.service("flat", {"flat"});
        z.zone.services.back().flatten = true;
        z.zone.services.back().pools = {0};
        z.service("mixed", {"mix"}, zones::PolicyKind::Weighted);
        z.zone.services.back().pools = {0, 2};
        z.service("plain", {"plain"});
        z.zone.services.back().pools = {2};
        catalog = make_catalog({z});
        if (failed_over)  // the hostname pool is down: the address pool answers
            evaluations.push_back(evaluation({variant({"192.0.2.30"})}, "failover:backup", "eu.lb.test down", 5));
        else
            evaluations.push_back(evaluation({hostname_variant("eu.lb.test", {"127.0.0.10", "2001:db8::10"}, 20)},
                                             "primary", "all endpoints up", 30));
        evaluations.push_back(
            evaluation({hostname_variant("lbhost.example.com", {"192.0.2.80", "2001:db8::80"}, 300)}));
        evaluations.push_back(evaluation({hostname_variant("eu.lb.test", {"127.0.0.10"}, 60)}));
        evaluations.push_back(evaluation(
            {hostname_variant("eu.lb.test", {"127.0.0.10"}, 20), variant({"192.0.2.30"})}, "weighted"));
        evaluations.push_back(evaluation({variant({"192.0.2.30"})}));
    }
    std::shared_ptr<const dns::View> view(bool prerender = true) const {
        dns::ViewOptions o;
        o.prerender = prerender;
        return dns::build_view(catalog, evaluations, 1, o);
    }
};

struct Views {
    Fixture fixture;
    std::shared_ptr<const dns::View> fast, slow;
    explicit Views(bool failed_over = false) : fixture(failed_over), fast(fixture.view()), slow(fixture.view(false)) {}
};

const Views& views() {
    static Views v;
    return v;
}

Reply q(const std::string& qname, uint16_t type) { return ask(*views().fast, make_query(qname, type)); }

std::string describe(const Reply& r) {
    std::string s = "rcode=" + std::to_string(r.rcode) + " aa=" + std::to_string(r.aa) + " tc=" + std::to_string(r.tc);
    for (auto* sec : {&r.answer, &r.authority, &r.additional}) {
        s += " |";
        for (auto& rr : *sec) s += " " + rr;
    }
    return s;
}

const std::vector<std::string> kNames = {
    "example.com",     "www.example.com",  "WWW.Example.COM",  "app.example.com",    "flat.example.com",
    "mix.example.com", "plain.example.com", "mx.example.com",  "cart.shop.example.com", "*.shop.example.com",
    "lbhost.example.com", "x.www.example.com", "nope.example.com",
};
const std::vector<uint16_t> kTypes = {rt::A, rt::AAAA, rt::MX, rt::TXT, rt::CNAME, rt::NS, rt::SOA, rt::ANY, 99};

// Every name and type, the fast path against the general renderer; the same seed
// before each so that weighted services pick the same variant on both.
int compare_all(const Views& v) {
    int compared = 0;
    for (auto& n : kNames)
        for (uint16_t t : kTypes)
            for (bool edns : {false, true}) {
                QueryOptions o;
                o.edns = edns;
                auto query = make_query(n, t, o);
                for (uint64_t seed : {1, 2, 3, 4, 5, 6}) {
                    dns::seed_variant_random(seed);
                    Reply a = ask(*v.fast, query);
                    dns::seed_variant_random(seed);
                    Reply b = ask(*v.slow, query);
                    CAPTURE(n);
                    CAPTURE(t);
                    CAPTURE(edns);
                    CAPTURE(seed);
                    CHECK(a.ok);
                    CHECK(describe(a) == describe(b));
                    ++compared;
                }
            }
    return compared;
}

}  // namespace

TEST_CASE("hostname endpoints: a non-apex owner answers CNAME <hostname> with the decision's TTL for every type") {
    const Strings cname{"www.example.com. 30 IN CNAME eu.lb.test."};
    for (uint16_t t : {rt::A, rt::AAAA, rt::MX, rt::TXT, rt::CNAME, rt::ANY, rt::SRV, uint16_t(99)}) {
        CAPTURE(t);
        auto r = q("www.example.com", t);
        CHECK(r.rcode == 0);
        CHECK(r.aa);
        CHECK(r.answer == cname);  // out of the zone: not followed, the resolver does
        CHECK(r.authority.empty());
        CHECK(r.additional.empty());
    }
}

TEST_CASE("hostname endpoints: a CNAME to a name in the zone is followed") {
    auto r = q("app.example.com", rt::A);
    CHECK(r.answer == Strings{"app.example.com. 30 IN CNAME lbhost.example.com.", "lbhost.example.com. 300 IN A 192.0.2.80"});
    auto r6 = q("app.example.com", rt::AAAA);
    CHECK(r6.answer ==
          Strings{"app.example.com. 30 IN CNAME lbhost.example.com.", "lbhost.example.com. 300 IN AAAA 2001:db8::80"});
    SUBCASE("a type the target lacks: the CNAME and NODATA's SOA") {
        auto mx = q("app.example.com", rt::MX);
        CHECK(mx.answer == Strings{"app.example.com. 30 IN CNAME lbhost.example.com."});
        REQUIRE(mx.authority.size() == 1);
        CHECK(mx.authority[0].find(" IN SOA ") != std::string::npos);
    }
    SUBCASE("qtype CNAME and ANY: just the CNAME") {
        CHECK(q("app.example.com", rt::CNAME).answer == Strings{"app.example.com. 30 IN CNAME lbhost.example.com."});
        CHECK(q("app.example.com", rt::ANY).answer == Strings{"app.example.com. 30 IN CNAME lbhost.example.com."});
    }
}

TEST_CASE("hostname endpoints: a wildcard owner synthesizes the CNAME with the query name") {
    auto r = q("cart.shop.example.com", rt::A);
    CHECK(r.rcode == 0);
    CHECK(r.answer == Strings{"cart.shop.example.com. 30 IN CNAME eu.lb.test."});
    CHECK(q("cart.shop.example.com", rt::TXT).answer == Strings{"cart.shop.example.com. 30 IN CNAME eu.lb.test."});
}

TEST_CASE("hostname endpoints: the apex answers the hostname's addresses, TTL capped by the record's TTL left") {
    CHECK(q("example.com", rt::A).answer == Strings{"example.com. 20 IN A 127.0.0.10"});
    CHECK(q("example.com", rt::AAAA).answer == Strings{"example.com. 20 IN AAAA 2001:db8::10"});
    SUBCASE("other types are the apex's own data, no CNAME") {
        CHECK(q("example.com", rt::MX).answer == Strings{"example.com. 300 IN MX 10 ns1.example.com."});
        auto txt = q("example.com", rt::TXT);
        CHECK(txt.answer.empty());
        REQUIRE(txt.authority.size() == 1);
        CHECK(txt.authority[0].find(" IN SOA ") != std::string::npos);
    }
    SUBCASE("ANY (RFC 8482): the addresses") {
        CHECK(q("example.com", rt::ANY).answer == Strings{"example.com. 20 IN A 127.0.0.10"});
    }
}

TEST_CASE("hostname endpoints: flatten = true answers addresses, with the decision's TTL when it is lower") {
    CHECK(q("flat.example.com", rt::A).answer == Strings{"flat.example.com. 30 IN A 127.0.0.10"});
    auto aaaa = q("flat.example.com", rt::AAAA);  // the hostname has no IPv6 address
    CHECK(aaaa.answer.empty());
    CHECK(aaaa.rcode == 0);
    auto cname = q("flat.example.com", rt::CNAME);
    CHECK(cname.answer.empty());
    CHECK(cname.rcode == 0);
}

TEST_CASE("hostname endpoints: the additional section gives no addresses for a CNAME owner") {
    auto r = q("mx.example.com", rt::MX);
    CHECK(r.answer == Strings{"mx.example.com. 300 IN MX 10 www.example.com."});
    CHECK(r.additional.empty());
}

TEST_CASE("hostname endpoints: a weighted service answers a CNAME or addresses, one pick per query") {
    auto& v = views();
    int cnames = 0, addresses = 0;
    for (uint64_t seed = 1; seed <= 200; ++seed) {
        dns::seed_variant_random(seed);
        auto r = ask(*v.fast, make_query("mix.example.com", rt::A));
        if (r.answer == Strings{"mix.example.com. 30 IN CNAME eu.lb.test."}) ++cnames;
        else if (r.answer == Strings{"mix.example.com. 30 IN A 192.0.2.30"}) ++addresses;
        dns::seed_variant_random(seed);
        auto t = ask(*v.slow, make_query("mix.example.com", rt::TXT));  // CNAME or NODATA, never both
        CHECK((t.answer.empty() || t.answer == Strings{"mix.example.com. 30 IN CNAME eu.lb.test."}));
    }
    CHECK(cnames + addresses == 200);
    CHECK(cnames > 50);
    CHECK(addresses > 50);
}

TEST_CASE("hostname endpoints: plain address services answer as before") {
    CHECK(q("plain.example.com", rt::A).answer == Strings{"plain.example.com. 30 IN A 192.0.2.30"});
    auto txt = q("plain.example.com", rt::TXT);
    CHECK(txt.answer.empty());
    CHECK(txt.authority.size() == 1);
}

TEST_CASE("hostname endpoints: the fast path answers as the general renderer does") {
    CHECK(compare_all(views()) > 1000);
}

TEST_CASE("hostname endpoints: failing over from the hostname pool to an address pool and back") {
    Views over(true);
    CHECK(compare_all(over) > 1000);
    auto a = ask(*over.fast, make_query("www.example.com", rt::A));
    CHECK(a.answer == Strings{"www.example.com. 5 IN A 192.0.2.30"});
    auto txt = ask(*over.fast, make_query("www.example.com", rt::TXT));
    CHECK(txt.answer.empty());  // NODATA again, not a CNAME
    CHECK(ask(*over.fast, make_query("example.com", rt::A)).answer == Strings{"example.com. 5 IN A 192.0.2.30"});
    // Back: the hostname's CNAME again.
    CHECK(ask(*views().fast, make_query("www.example.com", rt::TXT)).answer ==
          Strings{"www.example.com. 30 IN CNAME eu.lb.test."});
}

TEST_CASE("hostname endpoints: explain names the CNAME or the flattened addresses") {
    auto& v = views();
    std::vector<core::EndpointHealth> health(3);
    for (auto& h : health) h.state = core::HealthState::Up;
    auto run = [&](const std::string& qname) {
        dns::ExplainQuery query;
        query.name = name(qname);
        query.client = ip("192.0.2.200");
        return dns::explain(*v.fixture.catalog, v.fixture.evaluations, health, *v.fast, query);
    };
    auto has = [](const Strings& lines, const std::string& want) {
        return std::find(lines.begin(), lines.end(), want) != lines.end();
    };
    SUBCASE("www: CNAME") {
        auto e = run("www.example.com");
        CHECK(e.answer == Strings{"www.example.com. 30 IN CNAME eu.lb.test."});
        CHECK(e.cname == "eu.lb.test.");
        CHECK(e.flattened.empty());
        CHECK(e.path.back() == "CNAME eu.lb.test. (hostname endpoint of pool primary)");
    }
    SUBCASE("the apex: flattened, capped") {
        auto e = run("example.com");
        CHECK(e.answer == Strings{"example.com. 20 IN A 127.0.0.10"});
        CHECK(e.cname.empty());
        CHECK(e.flattened == Strings{"eu.lb.test."});
        CHECK(e.path.back() == "flattened eu.lb.test. (the apex holds no CNAME): 127.0.0.10, 2001:db8::10 "
                               "(TTL 20, capped by the record's TTL left)");
    }
    SUBCASE("flatten = true: the service's TTL") {
        auto e = run("flat.example.com");
        CHECK(has(e.path, "flattened eu.lb.test. (flatten = true): 127.0.0.10 (TTL 30, the service's)"));
    }
    SUBCASE("a weighted pick: the variant the answer shows") {
        for (uint64_t seed = 1; seed <= 20; ++seed) {
            dns::seed_variant_random(seed);
            auto e = run("mix.example.com");
            REQUIRE(e.answer.size() == 1);
            if (e.answer[0].find("CNAME") != std::string::npos)
                CHECK(e.path.back() == "CNAME eu.lb.test. (hostname endpoint of pool primary)");
            else
                CHECK(e.path.back().rfind("decision ", 0) == 0);  // the address variant: nothing more
        }
    }
    SUBCASE("an address service: the path is unchanged") {
        auto e = run("plain.example.com");
        CHECK(e.cname.empty());
        CHECK(e.path.back().rfind("decision ", 0) == 0);
    }
}
