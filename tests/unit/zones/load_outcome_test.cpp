// What the daemon asks of a load: can it be served, and which watcher events are zone changes.
#include <doctest/doctest.h>

#include "zones/loader.hpp"

namespace signpost::zones {

TEST_CASE("load_errors: a good load has none, a broken one lists its errors, an empty one says so") {
    auto good = load_text("origin = \"example.com\"\n[soa]\nmname = \"ns1.example.com.\"\nrname = \"h.example.com.\"\n",
                          "example.com.toml");
    CHECK(load_errors(good, "zones").empty());
    auto bad = load_text("origin = \"example.com\"\nttl = \"x\"\n", "example.com.toml");
    auto errors = load_errors(bad, "zones");
    REQUIRE_FALSE(errors.empty());
    CHECK(errors.front().rfind("example.com.toml:", 0) == 0);
    CHECK(load_errors(LoadResult{}, "zones") == std::vector<std::string>{"zones: no zone files (*.toml) to serve"});
}

TEST_CASE("is_zone_change: editors' temporary files and the state file are not zone changes") {
    CHECK(is_zone_change("example.com.toml", "state.json"));
    CHECK(is_zone_change("", "state.json"));  // the watcher did not say which file
    for (auto f : {".example.com.toml.swx", "example.com.toml.tmp", "example.com.toml~", "example.com.toml.swp",
                   "state.json"})
        CHECK_FALSE(is_zone_change(f, "state.json"));
}

}  // namespace signpost::zones
