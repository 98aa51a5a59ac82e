// Unit tests for zones::import_master_file: the TOML it writes loads with load_text
// and gives exactly the records of the master file.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "zones/import.hpp"
#include "zones/loader.hpp"

using namespace signpost;

namespace {

const std::string kZone = SIGNPOST_FIXTURES "/zones/import/example.com.zone";

// owner text -> type -> (ttl, sorted rdatas)
using Flat = std::map<std::pair<std::string, uint16_t>, std::pair<uint32_t, std::set<std::string>>>;

Flat flatten(const zones::Zone& z) {
    Flat out;
    for (auto& [name, node] : z.nodes)
        for (auto& s : node.rrsets)
            out[{name.to_text(), s.type}] = {s.ttl, std::set<std::string>(s.rdatas.begin(), s.rdatas.end())};
    return out;
}

std::string temp_file(const std::string& text) {
    char path[] = "/tmp/signpost-import-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::FILE* f = fdopen(fd, "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return path;
}

}  // namespace

TEST_CASE("import: a master file round-trips through TOML to the same RRsets") {
    core::Diagnostics d;
    auto toml = zones::import_master_file("example.com", kZone, d);
    INFO(d.to_string());
    REQUIRE(toml);
    CHECK_FALSE(d.has_errors());
    auto r = zones::load_text(*toml, "imported.toml");
    INFO("TOML:\n" << *toml << "\ndiagnostics:\n" << r.diagnostics.to_string());
    REQUIRE(r.catalog);
    CHECK(r.diagnostics.empty());
    auto& z = r.catalog->zones.at(0);

    // The same records read straight from the master file with an include.
    auto direct = zones::load_text("origin = \"example.com\"\ninclude = \"example.com.zone\"\n",
                                   SIGNPOST_FIXTURES "/zones/import/direct.toml");
    INFO(direct.diagnostics.to_string());
    REQUIRE(direct.catalog);
    auto& dz = direct.catalog->zones.at(0);
    CHECK(flatten(z) == flatten(dz));
    CHECK(z.nodes.size() == 13);

    SUBCASE("the SOA keeps the file's fields and serial") {
        CHECK(z.soa.serial == 2024010101);
        CHECK_FALSE(z.soa.auto_serial);
        CHECK(z.soa.mname.to_text() == "ns1.example.com.");
        CHECK(z.soa.rname.to_text() == "hostmaster.example.com.");
        CHECK(z.soa.refresh == 7200);
        CHECK(z.soa.expire == 1209600);
        CHECK(z.soa.minimum == 300);
        CHECK(z.default_ttl == 3600);  // $TTL
    }
    SUBCASE("per-RRset TTLs that differ from the default are kept") {
        auto n = core::Name::from_text("alias", z.origin);
        CHECK(z.find_node(*n)->find(zones::rrtype::CNAME)->ttl == 300);
        CHECK(toml->find("CNAME = { ttl = 300, data = ['www.example.com.'] }") != std::string::npos);
    }
    SUBCASE("TXT becomes arrays of strings, escaped for TOML") {
        CHECK(toml->find("TXT = ['v=spf1 -all', ['first string', 'second string'], "
                         "\"quote \\\" and backslash \\\\\\\\ and 'apostrophe'\"]") != std::string::npos);
        auto n = core::Name::from_text("long", z.origin);
        auto rd = z.find_node(*n)->find(zones::rrtype::TXT)->rdatas.at(0);
        CHECK(rd.size() == 402);
    }
    SUBCASE("TXT bytes TOML cannot hold, and unknown types, use presentation format") {
        CHECK(toml->find("TYPE16 = ['\"\\255\\000raw\"']") != std::string::npos);
        CHECK(toml->find("TYPE65534 = ['\\# 4 0a000001']") != std::string::npos);
        CHECK(toml->find("[records.'_sip._tcp']\nSRV = ['10 60 5060 sip.example.com.']") != std::string::npos);
    }
}

TEST_CASE("import: a record that does not parse is reported with the master file's line") {
    auto path = temp_file("$TTL 300\nwww IN A 192.0.2.1\nbad IN A 192.0.2.256\nmx IN MX 10\n");
    core::Diagnostics d;
    auto toml = zones::import_master_file("example.com", path, d);
    CHECK_FALSE(toml);
    REQUIRE(d.items().size() == 2);
    CHECK(d.items()[0].to_string() == path + ":3: error: cannot parse record: Syntax error, could not parse the RR's rdata");
    CHECK(d.items()[1].to_string() == path + ":4: error: cannot parse record: Syntax error, value expected");
    std::remove(path.c_str());
}

TEST_CASE("import: records outside the origin and a missing file are errors") {
    auto path = temp_file("www.example.org. 300 IN A 192.0.2.1\n");
    core::Diagnostics d;
    CHECK_FALSE(zones::import_master_file("example.com.", path, d));
    CHECK(d.to_string() == path + ":1: error: record 'www.example.org.' is outside the zone 'example.com.'\n");
    std::remove(path.c_str());
    core::Diagnostics d2;
    CHECK_FALSE(zones::import_master_file("example.com", "/nonexistent.zone", d2));
    CHECK(d2.to_string() == "/nonexistent.zone: error: cannot open master file: No such file or directory\n");
}

TEST_CASE("import: without $TTL the default TTL is the SOA minimum") {
    auto path = temp_file("example.com. 600 IN SOA ns1.example.com. h.example.com. 1 2 3 4 60\n"
                          "example.com. 600 IN NS ns1.example.com.\nns1.example.com. 60 IN A 192.0.2.1\n");
    core::Diagnostics d;
    auto toml = zones::import_master_file("example.com", path, d);
    std::remove(path.c_str());
    REQUIRE(toml);
    CHECK(toml->find("\nttl = 60\n") != std::string::npos);
    CHECK(toml->find("NS = { ttl = 600, data = ['ns1.example.com.'] }") != std::string::npos);
    auto r = zones::load_text(*toml, "t.toml");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    CHECK(r.catalog->zones[0].soa.ttl == 600);
}

TEST_CASE("import: control characters in TXT survive as TOML escapes") {
    auto path = temp_file("t.example.com. 300 IN TXT \"tab\\009nl\\010\\127\"\n");
    core::Diagnostics d;
    auto toml = zones::import_master_file("example.com", path, d);
    std::remove(path.c_str());
    REQUIRE(toml);
    CHECK(toml->find("TXT = { ttl = 300, data = [\"tab\\tnl\\n\\u007F\"] }") != std::string::npos);
    auto r = zones::load_text(*toml, "t.toml");
    REQUIRE(r.catalog);
    auto n = core::Name::from_text("t.example.com.", core::Name());
    CHECK(r.catalog->zones[0].find_node(*n)->find(zones::rrtype::TXT)->rdatas.at(0) == "\x08tab\tnl\n\x7f");
}
