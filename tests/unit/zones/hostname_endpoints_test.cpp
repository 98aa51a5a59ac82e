// Unit tests for hostname endpoints in zone files: the accepted forms, flatten and
// addresses, the static-records-at-a-CNAME-owner rule and the catalog-wide loop check,
// with the exact text of every diagnostic.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "zones/loader.hpp"

using namespace signpost;

namespace {

const std::string kFixtures = SIGNPOST_FIXTURES;

zones::LoadResult load(const std::string& text) { return zones::load_text(text, "zones/t.toml"); }

// A valid zone head (lines 1-6); snippets appended to it start at line 7.
const std::string kHead =
    "origin = \"example.com\"\n"
    "ttl = 300\n"
    "[records.\"@\"]\n"
    "NS = [\"ns1\"]\n"
    "[records.ns1]\n"
    "A = \"192.0.2.53\"\n";

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

#define CHECK_LOADS(r)                                         \
    do {                                                       \
        INFO("diagnostics:\n" << (r).diagnostics.to_string()); \
        CHECK((r).catalog);                                    \
        CHECK_FALSE((r).diagnostics.has_errors());             \
    } while (0)

// A pool 'p' (line 7) with the given endpoints line (line 8).
zones::LoadResult pool(const std::string& endpoints_line) { return load(kHead + "[pools.p]\n" + endpoints_line + "\n"); }

const std::string kPoolCtx = "error: zone 'example.com' pool 'p': ";

}  // namespace

TEST_CASE("hostname endpoints: every accepted form loads as a hostname endpoint") {
    auto r = load(kHead +
                  "[pools.p]\n"
                  "endpoints = [\"EU.LB.Example.NET\", \"us.lb.example.net.\", \"192.0.2.10\",\n"
                  "  { address = \"ap.lb.example.net\", name = \"ap\" },\n"
                  "  { hostname = \"_sa.lb.example.net\" }]\n"
                  "[services.site]\n"
                  "names = [\"www\"]\n"
                  "pools = [\"p\"]\n");
    CHECK_LOADS(r);
    REQUIRE(r.catalog);
    auto& eps = r.catalog->zones[0].pools[0].endpoints;
    REQUIRE(eps.size() == 5);
    SUBCASE("hostnames are absolute, lower-cased, a final dot optional") {
        REQUIRE(eps[0].hostname);
        CHECK(eps[0].hostname->to_text() == "eu.lb.example.net.");
        REQUIRE(eps[1].hostname);
        CHECK(eps[1].hostname->to_text() == "us.lb.example.net.");
        CHECK_FALSE(eps[2].hostname);
        CHECK(eps[2].address.to_string() == "192.0.2.10");
        REQUIRE(eps[3].hostname);
        CHECK(eps[3].hostname->to_text() == "ap.lb.example.net.");
        REQUIRE(eps[4].hostname);
        CHECK(eps[4].hostname->to_text() == "_sa.lb.example.net.");
    }
    SUBCASE("the default name is the hostname without its final dot; keys are zone/pool/name") {
        CHECK(eps[0].name == "eu.lb.example.net");
        CHECK(eps[1].name == "us.lb.example.net");
        CHECK(eps[3].name == "ap");
        CHECK(eps[4].name == "_sa.lb.example.net");
        REQUIRE(r.catalog->endpoints.size() == 5);
        CHECK(r.catalog->endpoints[0].key == "example.com/p/eu.lb.example.net");
        CHECK(r.catalog->endpoints[1].key == "example.com/p/us.lb.example.net");
        CHECK(r.catalog->endpoints[2].key == "example.com/p/192.0.2.10");
        CHECK(r.catalog->endpoints[3].key == "example.com/p/ap");
    }
    SUBCASE("a hostname endpoint is probed as its hostname; an address endpoint as the service's name") {
        CHECK(eps[0].probe_host == "eu.lb.example.net");
        CHECK(eps[1].probe_host == "us.lb.example.net");
        CHECK(eps[2].probe_host == "www.example.com");
        CHECK(eps[3].probe_host == "ap.lb.example.net");
        CHECK(eps[4].probe_host == "_sa.lb.example.net");
    }
}

TEST_CASE("hostname endpoints: a hostname endpoint counts as one against max_endpoints") {
    const std::string text = kHead + "[pools.p]\nendpoints = [\"eu.lb.example.net\", \"192.0.2.10\"]\n";
    zones::Limits lim;
    lim.max_endpoints = 2;
    CHECK_LOADS(zones::load_text(text, "zones/t.toml", lim));
    lim.max_endpoints = 1;
    auto r = zones::load_text(text, "zones/t.toml", lim);
    CHECK_DIAG(r, "zones/t.toml:1:10: error: zone 'example.com' brings the probed endpoints to 2, more than the limit of "
                  "1; raise [limits] max_endpoints in the server config");
}

TEST_CASE("hostname endpoints: a broken address is still an address error") {
    CHECK_DIAG(pool("endpoints = [\"10.0.0.300\"]"),
               "zones/t.toml:8:14: " + kPoolCtx + "endpoint address must be an IPv4 or IPv6 address, got \"10.0.0.300\"");
    CHECK_DIAG(pool("endpoints = [\"2001:db8::zz\"]"),
               "zones/t.toml:8:14: " + kPoolCtx + "endpoint address must be an IPv4 or IPv6 address, got \"2001:db8::zz\"");
    CHECK_DIAG(pool("endpoints = [{ address = \"192.0.2\" }]"),
               "zones/t.toml:8:26: " + kPoolCtx + "endpoint address must be an IPv4 or IPv6 address, got \"192.0.2\"");
}

TEST_CASE("hostname endpoints: a string that is neither an address nor a hostname says why") {
    const std::string m = "endpoint must be an IPv4 or IPv6 address or a hostname such as \"eu.lb.example.net\", got ";
    SUBCASE("one label") {
        CHECK_DIAG(pool("endpoints = [\"localhost\"]"),
                   "zones/t.toml:8:14: " + kPoolCtx + m +
                       "\"localhost\": a hostname needs at least two labels; it is absolute, never completed with the "
                       "zone's origin");
    }
    SUBCASE("characters outside letters, digits, '-' and '_'") {
        CHECK_DIAG(pool("endpoints = [\"eu lb.example.net\"]"),
                   "zones/t.toml:8:14: " + kPoolCtx + m +
                       "\"eu lb.example.net\": label \"eu lb\" may contain only letters, digits, '-' and '_'");
        CHECK_DIAG(pool("endpoints = [\"eu*.example.net\"]"),
                   "zones/t.toml:8:14: " + kPoolCtx + m +
                       "\"eu*.example.net\": label \"eu*\" may contain only letters, digits, '-' and '_'");
    }
    SUBCASE("a hyphen at the start or end of a label") {
        CHECK_DIAG(pool("endpoints = [\"-eu.example.net\"]"),
                   "zones/t.toml:8:14: " + kPoolCtx + m + "\"-eu.example.net\": label \"-eu\" may not start or end with '-'");
    }
    SUBCASE("an empty label") {
        CHECK_DIAG(pool("endpoints = [\"eu..example.net\"]"),
                   "zones/t.toml:8:14: " + kPoolCtx + m + "\"eu..example.net\": empty label");
    }
    SUBCASE("a label above 63 characters, a name above 253") {
        std::string label(64, 'a');
        CHECK_DIAG(pool("endpoints = [\"" + label + ".example.net\"]"),
                   "zones/t.toml:8:14: " + kPoolCtx + m + "\"" + label +
                       ".example.net\": label \"aaaaaaaaaaaaaaaaaaaa...\" is longer than 63 characters");
        std::string longname;
        for (int i = 0; i < 4; ++i) longname += std::string(62, 'b') + ".";
        longname += "net";  // 4 * 63 + 3 = 255 characters
        CHECK_DIAG(pool("endpoints = [\"" + longname + "\"]"),
                   "zones/t.toml:8:14: " + kPoolCtx + m + "\"" + longname + "\": longer than 253 characters");
        std::string fits = std::string(63, 'c') + "." + std::string(63, 'c') + "." + std::string(63, 'c') + "." +
                           std::string(57, 'c') + ".net";  // 253 characters
        CHECK(fits.size() == 253);
        CHECK_LOADS(pool("endpoints = [\"" + fits + "\"]"));
    }
}

TEST_CASE("hostname endpoints: the table forms and their errors") {
    SUBCASE("address and hostname together") {
        CHECK_DIAG(pool("endpoints = [{ address = \"192.0.2.1\", hostname = \"eu.lb.example.net\" }]"),
                   "zones/t.toml:8:50: " + kPoolCtx + "give either address or hostname, not both");
    }
    SUBCASE("neither address nor hostname") {
        CHECK_DIAG(pool("endpoints = [{ name = \"eu\" }]"),
                   "zones/t.toml:8:14: " + kPoolCtx +
                       "an endpoint table needs an address or a hostname, e.g. { address = \"192.0.2.10\" } or { hostname = "
                       "\"eu.lb.example.net\" }");
    }
    SUBCASE("hostname = an address") {
        CHECK_DIAG(pool("endpoints = [{ hostname = \"192.0.2.1\" }]"),
                   "zones/t.toml:8:27: " + kPoolCtx +
                       "hostname must be a name such as \"eu.lb.example.net\", got the address \"192.0.2.1\"; write it as "
                       "address = \"192.0.2.1\"");
        CHECK_DIAG(pool("endpoints = [{ hostname = \"10.0.0.300\" }]"),
                   "zones/t.toml:8:27: " + kPoolCtx +
                       "hostname must be a name such as \"eu.lb.example.net\", got \"10.0.0.300\": its last label is all "
                       "digits, as in an address");
    }
    SUBCASE("hostname must be a string") {
        CHECK_DIAG(pool("endpoints = [{ hostname = 5 }]"),
                   "zones/t.toml:8:27: " + kPoolCtx + "hostname must be a string, got integer 5");
    }
    SUBCASE("check_address does not apply to a hostname endpoint") {
        const std::string m = "check_address does not apply to a hostname endpoint: each address eu.lb.example.net "
                              "resolves to is probed";
        CHECK_DIAG(pool("endpoints = [{ hostname = \"eu.lb.example.net\", check_address = \"192.0.2.1\" }]"),
                   "zones/t.toml:8:64: " + kPoolCtx + m);
        CHECK_DIAG(pool("endpoints = [{ address = \"eu.lb.example.net\", check_address = \"192.0.2.1\" }]"),
                   "zones/t.toml:8:63: " + kPoolCtx + m);
    }
    SUBCASE("an unknown key lists hostname among the allowed ones") {
        auto r = pool("endpoints = [{ hostnme = \"eu.lb.example.net\" }]");
        CHECK_DIAG(r, "zones/t.toml:8:16: error: zone 'example.com' pool 'p' endpoint: unknown key 'hostnme'; did you "
                      "mean 'hostname'?; allowed: address, hostname, name, check_address");
    }
    SUBCASE("a hostname is listed once per pool, whatever the endpoints are named") {
        CHECK_DIAG(pool("endpoints = [\"eu.lb.example.net\", { hostname = \"EU.lb.example.net.\", name = \"eu2\" }]"),
                   "zones/t.toml:8:35: " + kPoolCtx +
                       "duplicate endpoint hostname 'eu.lb.example.net' (also at line 8); a pool lists each hostname once");
        CHECK_DIAG(pool("endpoints = [{ hostname = \"eu.lb.example.net\", name = \"a\" }, { address = \"192.0.2.1\", name = "
                        "\"a\" }]"),
                   "zones/t.toml:8:62: " + kPoolCtx +
                       "duplicate endpoint name 'a' (also at line 8); endpoint names must be unique within a pool");
    }
}

TEST_CASE("hostname endpoints: flatten in a service, addresses in a check") {
    const std::string base = kHead +
                             "[checks.health]\n"            // 7
                             "kind = \"http\"\n"            // 8
                             "[pools.p]\n"                  // 9
                             "endpoints = [\"eu.lb.example.net\"]\n"  // 10
                             "[services.site]\n"            // 11
                             "names = [\"@\", \"www\"]\n"  // 12
                             "pools = [\"p\"]\n";           // 13
    SUBCASE("defaults: no flattening, any address") {
        auto r = load(base);
        CHECK_LOADS(r);
        REQUIRE(r.catalog);
        CHECK_FALSE(r.catalog->zones[0].services[0].flatten);
        CHECK_FALSE(r.catalog->zones[0].checks.at("health").all_addresses);
    }
    SUBCASE("flatten = true and addresses = \"all\"") {
        auto text = base + "flatten = true\n";
        text.insert(text.find("[pools.p]"), "addresses = \"all\"\n");
        auto r = load(text);
        CHECK_LOADS(r);
        REQUIRE(r.catalog);
        CHECK(r.catalog->zones[0].services[0].flatten);
        CHECK(r.catalog->zones[0].checks.at("health").all_addresses);
    }
    SUBCASE("addresses applies to every kind of check") {
        auto r = load(kHead + "[checks.t]\nkind = \"tcp\"\nport = 443\naddresses = \"any\"\n");
        CHECK_LOADS(r);
        CHECK(r.diagnostics.empty());
    }
    SUBCASE("flatten must be a boolean") {
        CHECK_DIAG(load(base + "flatten = \"yes\"\n"),
                   "zones/t.toml:14:11: error: zone 'example.com' service 'site': flatten must be true or false, got "
                   "string \"yes\"");
    }
    SUBCASE("addresses must be any or all") {
        auto text = base;
        text.insert(text.find("[pools.p]"), "addresses = \"every\"\n");
        CHECK_DIAG(load(text), "zones/t.toml:9:13: error: zone 'example.com' check 'health': addresses must be one of any, "
                               "all, got \"every\"");
    }
}

TEST_CASE("hostname endpoints: static records at a name answered with a CNAME") {
    const std::string pools = kHead +
                              "[records.www]\n"                        // 7
                              "TXT = \"v=spf1 -all\"\n"                 // 8
                              "MX = \"10 mail.example.net.\"\n"         // 9
                              "[records.\"*\"]\n"                       // 10
                              "TXT = \"wild\"\n"                        // 11
                              "[records.other]\n"                       // 12
                              "TXT = \"other\"\n"                       // 13
                              "[pools.lb]\n"                            // 14
                              "endpoints = [\"eu.lb.example.net\"]\n"   // 15
                              "[pools.addr]\n"                          // 16
                              "endpoints = [\"192.0.2.10\"]\n"          // 17
                              "[services.site]\n";                      // 18
    const std::string ctx = "error: zone 'example.com' service 'site': ";
    SUBCASE("an error at the name in the service, naming each record type and its line") {
        auto r = load(pools + "names = [\"@\", \"www\"]\npools = [\"addr\", \"lb\"]\n");
        CHECK_FALSE(r.catalog);
        CHECK_DIAG(r, "zones/t.toml:19:15: " + ctx +
                          "name \"www\" is answered with a CNAME (pool 'lb' has hostname endpoints), which cannot share its "
                          "name with static records: MX (line 9), TXT (line 8); set flatten = true to answer with addresses "
                          "instead, or move the records to another name");
        CHECK(r.diagnostics.error_count() == 1);  // the apex has SOA and NS, and is flattened anyway
    }
    SUBCASE("a '*' owner conflicts with records at the wildcard only") {
        auto r = load(pools + "names = [\"*\"]\npools = [\"lb\"]\n");
        CHECK_DIAG(r, "zones/t.toml:19:10: " + ctx +
                          "name \"*\" is answered with a CNAME (pool 'lb' has hostname endpoints), which cannot share its "
                          "name with static records: TXT (line 11); set flatten = true to answer with addresses instead, "
                          "or move the records to another name");
        CHECK(r.diagnostics.error_count() == 1);  // www and other have their own records; the wildcard does not cover them
    }
    SUBCASE("flatten = true answers addresses, so records may share the name") {
        CHECK_LOADS(load(pools + "names = [\"www\", \"*\"]\npools = [\"lb\"]\nflatten = true\n"));
    }
    SUBCASE("the apex is always flattened") {
        CHECK_LOADS(load(pools + "names = [\"@\"]\npools = [\"lb\"]\n"));
    }
    SUBCASE("a service with address endpoints only never answers a CNAME") {
        CHECK_LOADS(load(pools + "names = [\"www\", \"*\"]\npools = [\"addr\"]\n"));
    }
}

TEST_CASE("hostname endpoints: a hostname that signpost answers must not lead back to itself") {
    const std::string tail = "; a hostname endpoint must lead to addresses, so point one endpoint of the loop at a name "
                             "outside it";
    SUBCASE("a service whose endpoint is its own name") {
        auto r = load(kHead +
                      "[pools.p]\n"                            // 7
                      "endpoints = [\"www.example.com\"]\n"    // 8
                      "[services.site]\n"                      // 9
                      "names = [\"www\"]\n"                    // 10
                      "pools = [\"p\"]\n");                    // 11
        CHECK_FALSE(r.catalog);
        CHECK_DIAG(r, "zones/t.toml:8:14: " + kPoolCtx +
                          "hostname endpoint \"www.example.com\" loops back to itself: www.example.com (CNAME by service "
                          "'example.com/site') -> www.example.com" + tail);
        CHECK(r.diagnostics.error_count() == 1);
    }
    SUBCASE("two services pointing at each other: one error, naming the whole loop") {
        auto r = load(kHead +
                      "[pools.pa]\n"                          // 7
                      "endpoints = [\"b.example.com\"]\n"     // 8
                      "[pools.pb]\n"                          // 9
                      "endpoints = [\"a.example.com\"]\n"     // 10
                      "[services.a]\n"                        // 11
                      "names = [\"a\"]\n"                     // 12
                      "pools = [\"pa\"]\n"                    // 13
                      "[services.b]\n"                        // 14
                      "names = [\"b\"]\n"                     // 15
                      "pools = [\"pb\"]\n");                  // 16
        CHECK_FALSE(r.catalog);
        CHECK_DIAG(r, "zones/t.toml:8:14: error: zone 'example.com' pool 'pa': hostname endpoint \"b.example.com\" loops "
                      "back to itself: b.example.com (CNAME by service 'example.com/b') -> a.example.com (CNAME by service "
                      "'example.com/a') -> b.example.com" + tail);
        CHECK(r.diagnostics.error_count() == 1);
    }
    SUBCASE("a name covered by the service at '*'") {
        auto r = load(kHead +
                      "[pools.p]\n"                               // 7
                      "endpoints = [\"eu.site.example.com\"]\n"   // 8
                      "[services.site]\n"                         // 9
                      "names = [\"*\"]\n"                         // 10
                      "pools = [\"p\"]\n");                       // 11
        CHECK_DIAG(r, "zones/t.toml:8:14: " + kPoolCtx +
                          "hostname endpoint \"eu.site.example.com\" loops back to itself: eu.site.example.com (CNAME by "
                          "service 'example.com/site') -> eu.site.example.com" + tail);
    }
    SUBCASE("through a static CNAME in the zone") {
        auto r = load(kHead +
                      "[records.alias]\n"                         // 7
                      "CNAME = \"www\"\n"                         // 8
                      "[pools.p]\n"                               // 9
                      "endpoints = [\"alias.example.com\"]\n"     // 10
                      "[services.site]\n"                         // 11
                      "names = [\"www\"]\n"                       // 12
                      "pools = [\"p\"]\n");                       // 13
        CHECK_DIAG(r, "zones/t.toml:10:14: " + kPoolCtx +
                          "hostname endpoint \"alias.example.com\" loops back to itself: alias.example.com (static CNAME) -> "
                          "www.example.com (CNAME by service 'example.com/site') -> alias.example.com" + tail);
    }
    SUBCASE("a flattened apex that resolves its own name") {
        auto r = load(kHead +
                      "[pools.p]\n"                               // 7
                      "endpoints = [\"example.com\"]\n"           // 8
                      "[services.site]\n"                         // 9
                      "names = [\"@\"]\n"                         // 10
                      "pools = [\"p\"]\n");                       // 11
        CHECK_DIAG(r, "zones/t.toml:8:14: " + kPoolCtx +
                          "hostname endpoint \"example.com\" loops back to itself: example.com (flattened by service "
                          "'example.com/site') -> example.com" + tail);
    }
    SUBCASE("names in the zone that end at addresses are fine") {
        auto r = load(kHead +
                      "[records.lb]\n"                            // 7
                      "A = \"192.0.2.20\"\n"                      // 8
                      "[records.alias]\n"                         // 9
                      "CNAME = \"lb\"\n"                          // 10
                      "[records.deleg]\n"                         // 11
                      "NS = \"ns1.example.net.\"\n"               // 12
                      "[pools.addr]\n"                            // 13
                      "endpoints = [\"192.0.2.10\"]\n"            // 14
                      "[pools.p]\n"                               // 15
                      "endpoints = [\"lb.example.com\", \"alias.example.com\", \"api.example.com\", \"www.deleg.example.com\", "
                      "\"missing.example.com\", \"eu.lb.example.net\"]\n"  // 16
                      "[services.site]\n"                         // 17
                      "names = [\"www\", \"@\"]\n"                // 18
                      "pools = [\"p\"]\n"                         // 19
                      "[services.api]\n"                          // 20
                      "names = [\"api\"]\n"                       // 21
                      "pools = [\"addr\"]\n");                    // 22
        CHECK_LOADS(r);
    }
    SUBCASE("a chain between services that ends outside is fine") {
        auto r = load(kHead +
                      "[pools.pa]\n"
                      "endpoints = [\"b.example.com\"]\n"
                      "[pools.pb]\n"
                      "endpoints = [\"eu.lb.example.net\"]\n"
                      "[services.a]\n"
                      "names = [\"a\", \"@\"]\n"
                      "pools = [\"pa\"]\n"
                      "[services.b]\n"
                      "names = [\"b\"]\n"
                      "pools = [\"pb\"]\n");
        CHECK_LOADS(r);
    }
}

TEST_CASE("hostname endpoints: a loop across zones is found once every zone is loaded") {
    auto dir = kFixtures + "/zones/hostname_loop";
    auto r = zones::load_path(dir);
    CHECK_FALSE(r.catalog);
    CHECK_DIAG(r, dir + "/example.com.toml:13:14: error: zone 'example.com' pool 'eu': hostname endpoint "
                        "\"www.example.net\" loops back to itself: www.example.net (CNAME by service 'example.net/site') "
                        "-> www.example.com (CNAME by service 'example.com/site') -> www.example.net; a hostname endpoint "
                        "must lead to addresses, so point one endpoint of the loop at a name outside it");
    CHECK(r.diagnostics.error_count() == 1);
    SUBCASE("each zone alone loads") {
        CHECK_LOADS(zones::load_path(dir + "/example.com.toml"));
        CHECK_LOADS(zones::load_path(dir + "/example.net.toml"));
    }
}

TEST_CASE("hostname endpoints: the documented fixture loads with every form") {
    auto r = zones::load_path(kFixtures + "/zones/hostnames/example.com.toml");
    CHECK_LOADS(r);
    CHECK(r.diagnostics.empty());
    REQUIRE(r.catalog);
    auto& z = r.catalog->zones[0];
    CHECK(z.checks.at("health").all_addresses);
    REQUIRE(z.services.size() == 2);
    CHECK_FALSE(z.services[0].flatten);
    CHECK(z.services[1].flatten);
    std::vector<std::string> keys, hosts;
    for (std::size_t i = 0; i < r.catalog->endpoints.size(); ++i) {
        keys.push_back(r.catalog->endpoints[i].key);
        auto& ep = r.catalog->endpoint(core::EndpointIndex(i));
        hosts.push_back(ep.hostname ? ep.hostname->to_text() : "-");
    }
    CHECK(keys == std::vector<std::string>{"example.com/primary/eu.lb.example.net", "example.com/secondary/us",
                                           "example.com/secondary/ap", "example.com/mixed/192.0.2.10",
                                           "example.com/mixed/origin.example.com"});
    CHECK(hosts == std::vector<std::string>{"eu.lb.example.net.", "us.lb.example.net.", "ap.lb.example.net.", "-",
                                            "origin.example.com."});
}
