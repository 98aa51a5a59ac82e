// zones/toml_split: a zone file's text cut at its [records] tables, following TOML's
// line structure, so that the parts read separately are the file's own text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "zones/loader.hpp"
#include "zones/toml_split.hpp"

using namespace signpost;
using zones::toml_runs;

namespace {

// "R3:" for a records run starting on line 3, "-1:" for another run.
std::string shape(std::string_view text, std::size_t part_bytes) {
    std::string out;
    std::size_t expect = 0;
    for (auto& r : toml_runs(text, part_bytes)) {
        CHECK(r.begin == expect);  // end to end, in order
        expect = r.end;
        out += (r.records ? "R" : "-") + std::to_string(r.first_line) + ":";
    }
    CHECK(expect == text.size());
    return out;
}

}  // namespace

TEST_CASE("toml split: records tables and the rest alternate, each run starting at its header's line") {
    std::string t =
        "origin = \"example.com\"\n"  // 1
        "[soa]\n"                     // 2
        "serial = 1\n"                // 3
        "[records.www]\n"             // 4
        "A = \"192.0.2.1\"\n"         // 5
        "[records.\"@\"]\n"           // 6
        "NS = [\"ns1\"]\n"            // 7
        "[services.site]\n"           // 8
        "policy = \"failover\"\n"     // 9
        "[[services.site.hooks]]\n"   // 10
        "url = \"http://x\"\n"        // 11
        "  [ records . mail ]  # indented, spaced, commented\n"  // 12
        "MX = \"10 mail\"\n";         // 13
    CHECK(shape(t, 1 << 20) == "-1:R4:-8:R12:");
    auto runs = toml_runs(t, 1 << 20);
    CHECK(zones::without_records(t, runs) ==
          "origin = \"example.com\"\n[soa]\nserial = 1\n\n\n\n\n[services.site]\npolicy = \"failover\"\n"
          "[[services.site.hooks]]\nurl = \"http://x\"\n\n\n");
    CHECK(shape("", 100) == "-1:");
    CHECK(shape("[records.a]\nA = \"192.0.2.1\"\n", 100) == "R1:");
}

TEST_CASE("toml split: a records run is cut between tables once it holds part_bytes") {
    std::string t;
    for (int i = 0; i < 6; ++i) t += "[records.h" + std::to_string(i) + "]\nA = \"192.0.2.1\"\n";  // 29 bytes each
    CHECK(shape(t, 58) == "R1:R5:R9:");
    CHECK(shape(t, 59) == "R1:R7:");
    CHECK(shape(t, 1) == "R1:R3:R5:R7:R9:R11:");
    CHECK(shape(t, 1000) == "R1:");
}

TEST_CASE("toml split: lines inside strings, arrays and inline tables are never headers") {
    std::string t =
        "[records.a]\n"                                     // 1
        "TXT = [\n"                                         // 2
        "  [\"one\", \"two\"],\n"                           // 3: an array in an array
        "  \"]\",\n"                                        // 4: a bracket in a string
        "]\n"                                               // 5
        "[records.b]\n"                                     // 6
        "TXT = \"\"\"\n"                                    // 7
        "[services.fake]\n"                                 // 8: inside a multi-line string
        "\\\"\"\" still inside\n"                           // 9: an escaped quote, then \"\"
        "end\"\"\"\"\n"                                     // 10: ends with a quote and the delimiter
        "[services.real]\n"                                 // 11
        "note = '''\n"                                      // 12
        "[records.fake]\n"                                  // 13
        "'''\n"                                             // 14
        "x = \"# not a comment [\" # a comment with [ and \"\n"  // 15
        "y = 'it''s'\n"                                     // 16
        "[recordsX]\n"                                      // 17: another key
        "z = 1\n"                                           // 18
        "[\"records\".c]\n"                                 // 19: quoted
        "A = \"192.0.2.3\"\n";                              // 20
    CHECK(shape(t, 1 << 20) == "R1:-11:R19:");
}

TEST_CASE("toml split: a zone read in parts is the zone read whole, and errors keep their lines") {
    // Enough owners for several parts of kRecordsPartBytes (256 KiB).
    std::string head = "origin = \"example.com\"\n[records.\"@\"]\nNS = [\"ns1\"]\n[records.ns1]\nA = \"192.0.2.53\"\n";
    std::string body;
    const int n = 30000;
    for (int i = 0; i < n; ++i)
        body += "[records.h" + std::to_string(i) + "]\nA = \"10.0." + std::to_string(i / 256) + "." +
                std::to_string(i % 256) + "\"\n";
    auto r = zones::load_text(head + body, "zones/big.toml");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    REQUIRE(zones::toml_runs(head + body, 256 * 1024).size() > 3);
    auto& z = r.catalog->zones[0];
    CHECK(z.nodes.size() == std::size_t(n + 2));
    auto h = z.nodes.find(*core::Name::from_text("h29999.example.com.", core::Name()));
    REQUIRE(h != z.nodes.end());
    CHECK(h->second.find(zones::rrtype::A)->rdatas.front() == std::string("\x0a\x00\x75\x2f", 4));  // 10.0.117.47
    CHECK(h->second.find(zones::rrtype::A)->where.line == uint32_t(2 * 29999 + 7));

    // A bad record in a late part, a syntax error in another: the file's own lines.
    std::string bad = head + body + "[records.late]\nA = \"not an address\"\n";
    r = zones::load_text(bad, "zones/big.toml");
    CHECK(r.diagnostics.to_string().find("zones/big.toml:" + std::to_string(2 * n + 7) + ":5: error: zone 'example.com' "
                                         "record 'late' A: cannot parse") != std::string::npos);
    std::string broken = head + body + "[records.late]\nA = \"192.0.2.1\n";
    r = zones::load_text(broken, "zones/big.toml");
    CHECK_FALSE(r.catalog);
    CHECK(r.diagnostics.to_string().find("zones/big.toml:" + std::to_string(2 * n + 7) + ":") != std::string::npos);

    // The same name and type in two parts is still an error (in one part, toml++ says so).
    std::string twice = head + body + "[records.h0]\nAAAA = \"2001:db8::1\"\nA = \"192.0.2.9\"\n";
    r = zones::load_text(twice, "zones/big.toml");
    CHECK(r.diagnostics.to_string().find("A records for 'h0.example.com.' are already given at zones/big.toml:7") !=
          std::string::npos);
}
