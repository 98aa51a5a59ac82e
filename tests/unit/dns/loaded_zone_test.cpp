// answer_query on a zone loaded from TOML by zones::load_text, as the daemon does it.
#include <doctest/doctest.h>

#include "support.hpp"
#include "zones/loader.hpp"

using namespace dnstest;
using Strings = std::vector<std::string>;

TEST_CASE("loaded zone: apex and www and wildcard owners of a failover service next to static records") {
    auto result = signpost::zones::load_text(R"(
origin = "example.com"
ttl = 300

[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."

[records."@"]
NS = ["ns1"]
MX = ["10 mail"]

[records.ns1]
A = "192.0.2.53"

[records.mail]
A = "192.0.2.25"

[pools.primary]
endpoints = ["192.0.2.10"]

[pools.secondary]
endpoints = ["198.51.100.10"]

[services.site]
names = ["@", "www", "*"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
)",
                                             "test.toml");
    INFO(result.diagnostics.to_string());
    REQUIRE(result.catalog);
    auto& cat = *result.catalog;
    REQUIRE(cat.services.size() == 1);
    std::vector<signpost::policy::Evaluation> evs{
        evaluation({variant({"198.51.100.10"})}, "failover:secondary", "primary down: HTTP 503", 5)};
    auto view = signpost::dns::build_view(result.catalog, evs, 1);

    CHECK(ask(*view, make_query("www.example.com", 1)).answer == Strings{"www.example.com. 5 IN A 198.51.100.10"});
    CHECK(ask(*view, make_query("example.com", 1)).answer == Strings{"example.com. 5 IN A 198.51.100.10"});
    CHECK(ask(*view, make_query("shop.example.com", 1)).answer == Strings{"shop.example.com. 5 IN A 198.51.100.10"});
    // Static names are not covered by the wildcard.
    auto mail = ask(*view, make_query("mail.example.com", 1));
    CHECK(mail.answer == Strings{"mail.example.com. 300 IN A 192.0.2.25"});
    auto ns = ask(*view, make_query("example.com", 2));
    CHECK(ns.answer == Strings{"example.com. 300 IN NS ns1.example.com."});
    CHECK(ns.additional == Strings{"ns1.example.com. 300 IN A 192.0.2.53"});
    auto soa = ask(*view, make_query("example.com", 6));
    REQUIRE(soa.answer.size() == 1);
    CHECK(soa.answer[0].find("ns1.example.com. hostmaster.example.com.") != std::string::npos);
    auto state = ask(*view, make_query("site._signpost.example.com", 16));
    CHECK(state.answer ==
          Strings{"site._signpost.example.com. 5 IN TXT \"failover:secondary\" \"primary down: HTTP 503\""});
    CHECK(ask(*view, make_query("example.com", 15)).additional == Strings{"mail.example.com. 300 IN A 192.0.2.25"});
}
