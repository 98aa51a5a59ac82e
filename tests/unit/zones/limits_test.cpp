// Resource limits of the loader: zone count, records per zone, probed
// endpoints and file size are refused with a diagnostic naming the limit.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "zones/loader.hpp"

using namespace signpost;

namespace {

const std::string kZone =
    "origin = \"example.com\"\n"
    "ttl = 300\n"
    "[records.\"@\"]\n"
    "NS = [\"ns1\"]\n"
    "[records.ns1]\n"
    "A = [\"192.0.2.53\", \"192.0.2.54\", \"192.0.2.55\"]\n"
    "[checks.health]\n"
    "kind = \"http\"\n"
    "[pools.primary]\n"
    "endpoints = [\"192.0.2.10\", \"192.0.2.11\"]\n"
    "[pools.secondary]\n"
    "endpoints = [\"192.0.2.12\"]\n"
    "[services.site]\n"
    "names = [\"www\"]\n"
    "policy = \"failover\"\n"
    "pools = [\"primary\", \"secondary\"]\n";

bool has(const zones::LoadResult& r, const std::string& line) {
    for (auto& d : r.diagnostics.items())
        if (d.to_string() == line) return true;
    return false;
}

}  // namespace

TEST_CASE("limits: a zone within every limit loads") {
    zones::Limits lim;
    auto r = zones::load_text(kZone, "zones/example.com.toml", lim);
    INFO(r.diagnostics.to_string());
    CHECK(r.catalog);
}

TEST_CASE("limits: too many records in one zone is an error naming the limit") {
    zones::Limits lim;
    lim.max_records_per_zone = 3;  
    auto r = zones::load_text(kZone, "zones/example.com.toml", lim);
    CHECK_FALSE(r.catalog);
    INFO(r.diagnostics.to_string());
    // SOA + NS + 3 A
    CHECK(has(r, "zones/example.com.toml:1:10: error: zone 'example.com' has 5 records, more than the limit of 3; "
                 "raise [limits] max_records_per_zone in the server config"));
}

TEST_CASE("limits: too many probed endpoints is an error naming the limit") {
    zones::Limits lim;
    lim.max_endpoints = 2;
    auto r = zones::load_text(kZone, "zones/example.com.toml", lim);
    CHECK_FALSE(r.catalog);
    INFO(r.diagnostics.to_string());
    CHECK(has(r, "zones/example.com.toml:1:10: error: zone 'example.com' brings the probed endpoints to 3, more "
                 "than the limit of 2; raise [limits] max_endpoints in the server config"));
}

TEST_CASE("limits: an oversized zone file is refused before it is parsed") {
    zones::Limits lim;
    lim.max_file_bytes = 100;
    auto r = zones::load_text(kZone, "zones/example.com.toml", lim);
    CHECK_FALSE(r.catalog);
    CHECK(has(r, "zones/example.com.toml: error: zone file is " + std::to_string(kZone.size()) +
                     " bytes, more than the limit of 100; raise [limits] max_file_bytes in the server config"));

    auto dir = std::filesystem::temp_directory_path() / "signpost-limits-test-big";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "example.com.toml") << kZone;
    auto p = zones::load_path(dir.string(), lim);
    CHECK_FALSE(p.catalog);
    CHECK(p.diagnostics.error_count() == 1);
    std::filesystem::remove_all(dir);
}

TEST_CASE("limits: too many zones in a directory is an error naming the limit") {
    auto dir = std::filesystem::temp_directory_path() / "signpost-limits-test-zones";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (const char* origin : {"a.example", "b.example", "c.example"})
        std::ofstream(dir / (std::string(origin) + ".toml"))
            << "origin = \"" << origin << "\"\nttl = 300\n[records.\"@\"]\nNS = [\"ns1.example.com.\"]\n";
    zones::Limits lim;
    lim.max_zones = 2;
    auto r = zones::load_path(dir.string(), lim);
    CHECK_FALSE(r.catalog);
    INFO(r.diagnostics.to_string());
    CHECK(has(r, (dir / "c.example.toml").string() +
                     ":1:10: error: 3 zones to load, more than the limit of 2; raise [limits] max_zones in the server "
                     "config"));
    lim.max_zones = 0;  // no limit
    CHECK(zones::load_path(dir.string(), lim).catalog);
    std::filesystem::remove_all(dir);
}

TEST_CASE("limits: a load's limits are its own and the short forms use the defaults") {
    zones::Limits tight;
    tight.max_file_bytes = 10;
    CHECK_FALSE(zones::load_text(kZone, "zones/example.com.toml", tight).catalog);
    // Nothing carries over to the next load: limits are an argument, not process state.
    CHECK(zones::load_text(kZone, "zones/example.com.toml").catalog);
    zones::Limits defaults;
    CHECK(defaults.max_zones == 10000);
    CHECK(defaults.max_records_per_zone == 1000000);
    CHECK(defaults.max_endpoints == 10000);
    CHECK(defaults.max_file_bytes == std::size_t(64) << 20);
}
