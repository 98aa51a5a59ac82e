// Check keys for detecting sooner: timeout = "auto" with its bounds and the
// brownout warning's settings, their defaults and the exact text of their
// diagnostics (owned with probes/).
#include <doctest/doctest.h>

#include <string>

#include "zones/loader.hpp"

using namespace signpost;
using core::Millis;

namespace {

// A valid zone head (lines 1-7); the check's keys start at line 8.
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

TEST_CASE("loader: timeout = \"auto\" with its bounds") {
    SUBCASE("defaults: 50 ms to 1 s") {
        auto r = check("kind = \"http\"\ntimeout = \"auto\"\n");
        REQUIRE(r.catalog);
        auto& c = r.catalog->zones.at(0).checks.at("c");
        CHECK(c.timeout_auto);
        CHECK(c.timeout == Millis{1000});
        CHECK(c.timeout_min == Millis{50});
        CHECK(r.diagnostics.items().empty());
    }
    SUBCASE("the maximum is at most the interval by default") {
        auto r = check("kind = \"tcp\"\nport = 5432\ninterval = \"500ms\"\ntimeout = \"auto\"\n");
        REQUIRE(r.catalog);
        CHECK(r.catalog->zones.at(0).checks.at("c").timeout == Millis{500});
    }
    SUBCASE("bounds") {
        auto r = check("kind = \"http\"\ntimeout = \"auto\"\ntimeout_min = \"20ms\"\ntimeout_max = \"800ms\"\n");
        REQUIRE(r.catalog);
        auto& c = r.catalog->zones.at(0).checks.at("c");
        CHECK(c.timeout == Millis{800});
        CHECK(c.timeout_min == Millis{20});
    }
    SUBCASE("a fixed timeout is still a fixed timeout") {
        auto r = check("kind = \"http\"\ntimeout = \"300ms\"\n");
        REQUIRE(r.catalog);
        CHECK_FALSE(r.catalog->zones.at(0).checks.at("c").timeout_auto);
        CHECK(r.catalog->zones.at(0).checks.at("c").timeout == Millis{300});
    }
}

TEST_CASE("loader: timeout = \"auto\" diagnostics") {
    SUBCASE("a word that is not auto") {
        auto r = check("kind = \"http\"\ntimeout = \"automatic\"\n");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:9:11: error: zone 'example.com' check 'c': timeout must be a duration such as "
                     "\"1s\" or \"200ms\", or \"auto\", got string \"automatic\""));
    }
    SUBCASE("a minimum above the maximum") {
        auto r = check("kind = \"http\"\ntimeout = \"auto\"\ntimeout_min = \"2s\"\n");
        INFO(r.diagnostics.to_string());
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:10:15: error: zone 'example.com' check 'c': timeout_min 2s must not exceed "
                     "timeout_max 1s"));
    }
    SUBCASE("a maximum above the interval") {
        auto r = check("kind = \"http\"\ninterval = \"1s\"\ntimeout = \"auto\"\ntimeout_max = \"5s\"\n");
        INFO(r.diagnostics.to_string());
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:11:15: error: zone 'example.com' check 'c': timeout_max 5s must not exceed "
                     "interval 1s"));
    }
    SUBCASE("a bound that is not a duration") {
        auto r = check("kind = \"http\"\ntimeout = \"auto\"\ntimeout_max = 0\n");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:10:15: error: zone 'example.com' check 'c': timeout_max must be a duration "
                     "such as \"1s\" or \"500ms\", got integer 0"));
    }
    SUBCASE("bounds without auto are ignored, with a warning") {
        auto r = check("kind = \"http\"\ntimeout = \"1s\"\ntimeout_min = \"20ms\"\n");
        INFO(r.diagnostics.to_string());
        REQUIRE(r.catalog);
        CHECK(has(r, "zones/t.toml:10:1: warning: zone 'example.com' check 'c': key 'timeout_min' does not apply "
                     "to http checks; ignored"));
    }
}

TEST_CASE("loader: brownout warning settings") {
    SUBCASE("defaults: 4 × the baseline, a quarter of the last 20 probes") {
        auto r = check("kind = \"http\"\n");
        REQUIRE(r.catalog);
        auto& c = r.catalog->zones.at(0).checks.at("c");
        CHECK(c.warn_latency == 4.0);
        CHECK(c.warn_failures == 0.25);
        CHECK(c.warn_window == 20);
    }
    SUBCASE("set, or off with 0") {
        auto r = check("kind = \"exec\"\ncommand = [\"true\"]\nwarn_latency = 0\nwarn_failures = 0.1\nwarn_window = 50\n");
        INFO(r.diagnostics.to_string());
        REQUIRE(r.catalog);
        auto& c = r.catalog->zones.at(0).checks.at("c");
        CHECK(c.warn_latency == 0);
        CHECK(c.warn_failures == doctest::Approx(0.1));
        CHECK(c.warn_window == 50);
        CHECK(r.diagnostics.items().empty());
    }
    SUBCASE("errors") {
        auto r = check("kind = \"http\"\nwarn_latency = 1.2\nwarn_failures = 2\nwarn_window = 1\n");
        INFO(r.diagnostics.to_string());
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:9:16: error: zone 'example.com' check 'c': warn_latency must be 0 (off) or a "
                     "factor from 1.5 to 1000, such as 4, got float 1.2"));
        CHECK(has(r, "zones/t.toml:10:17: error: zone 'example.com' check 'c': warn_failures must be 0 (off) or a "
                     "share of probes from 0.01 to 1, such as 0.25, got integer 2"));
        CHECK(has(r, "zones/t.toml:11:15: error: zone 'example.com' check 'c': warn_window must be 2..100, got 1"));
    }
}
