// The http(s) check key `keepalive` through the zone loader: its default, its
// value, and the exact text of its diagnostics (owned with probes/).
#include <doctest/doctest.h>

#include <string>

#include "zones/loader.hpp"

using namespace signpost;

namespace {

// A valid zone head (lines 1-6); the check table starts at line 7.
const std::string kHead =
    "origin = \"example.com\"\n"
    "ttl = 300\n"
    "[records.\"@\"]\n"
    "NS = [\"ns1\"]\n"
    "[records.ns1]\n"
    "A = \"192.0.2.53\"\n"
    "[checks.c]\n";

zones::LoadResult check(const std::string& body) { return zones::load_text(kHead + body, "zones/t.toml"); }

bool has(const zones::LoadResult& r, const std::string& line) {
    for (auto& d : r.diagnostics.items())
        if (d.to_string() == line) return true;
    return false;
}

}  // namespace

TEST_CASE("loader: keepalive is off by default and set per http(s) check") {
    SUBCASE("default: a fresh connection per probe") {
        auto r = check("kind = \"http\"\n");
        REQUIRE(r.catalog);
        CHECK_FALSE(r.catalog->zones.at(0).checks.at("c").keepalive);
    }
    SUBCASE("http") {
        auto r = check("kind = \"http\"\nkeepalive = true\n");
        REQUIRE(r.catalog);
        CHECK(r.catalog->zones.at(0).checks.at("c").keepalive);
        CHECK(r.diagnostics.items().empty());
    }
    SUBCASE("https") {
        auto r = check("kind = \"https\"\nkeepalive = true\n");
        REQUIRE(r.catalog);
        CHECK(r.catalog->zones.at(0).checks.at("c").keepalive);
    }
}

TEST_CASE("loader: keepalive diagnostics") {
    SUBCASE("not a boolean is an error with its position") {
        auto r = check("kind = \"http\"\nkeepalive = \"yes\"\n");
        INFO(r.diagnostics.to_string());
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:9:13: error: zone 'example.com' check 'c': keepalive must be true or false, got string \"yes\""));
    }
    SUBCASE("on a tcp check it is a warning and ignored") {
        auto r = check("kind = \"tcp\"\nport = 5432\nkeepalive = true\n");
        INFO(r.diagnostics.to_string());
        REQUIRE(r.catalog);
        CHECK(has(r, "zones/t.toml:10:1: warning: zone 'example.com' check 'c': key 'keepalive' does not apply to tcp checks; ignored"));
    }
}
