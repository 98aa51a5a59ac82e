// zones/toml_reader: typed reading of TOML values with file:line:col, what was found
// and what is allowed; every problem is collected and reading goes on.
#include <doctest/doctest.h>

#include <string>

#include "zones/toml_reader.hpp"

using namespace signpost;
using zones::TomlDocument;
using zones::TomlNode;
using zones::TomlReader;

namespace {

const char* kText =
    "count = 5\n"                       // 1
    "big = 5000\n"                      // 2
    "name = \"edge\"\n"                 // 3
    "flag = true\n"                     // 4
    "every = \"250ms\"\n"               // 5
    "bad_every = \"soon\"\n"            // 6
    "zero = 0\n"                        // 7
    "mode = \"fast\"\n"                 // 8
    "addrs = [\"192.0.2.1\", \"nope\"]\n"  // 9
    "nets = [\"192.0.2.0/24\", 7]\n"    // 10
    "words = [\"a\", 1]\n"              // 11
    "[section]\n"                       // 12
    "tll = 60\n"                        // 13
    "zeta = 1\n"                        // 14
    "alpha = 2\n";                      // 15

std::string line(const core::Diagnostics& d, std::size_t i) {
    REQUIRE(i < d.items().size());
    return d.items()[i].to_string();
}

}  // namespace

TEST_CASE("toml reader: values of the right type and range are read without a diagnostic") {
    core::Diagnostics d;
    TomlDocument doc(kText, "cfg.toml", d);
    REQUIRE(doc.ok());
    TomlReader r(d);
    auto root = doc.root();
    CHECK(r.integer(root.get("count"), "ctx", "count", 1, 10) == 5);
    CHECK(r.string(root.get("name"), "ctx", "name") == "edge");
    CHECK(r.boolean(root.get("flag"), "ctx", "flag") == true);
    CHECK(r.duration(root.get("every"), "ctx", "every", false) == core::Millis(250));
    CHECK(r.duration(root.get("count"), "ctx", "count", false) == core::Millis(5000));  // whole seconds
    CHECK(r.duration(root.get("zero"), "ctx", "zero", true) == core::Millis(0));
    CHECK(r.choice(root.get("mode"), "ctx", "mode", {"fast", "slow"}) == "fast");
    CHECK(r.address(root.get("addrs").elements()[0], "", "'addrs'"));
    CHECK(d.empty());
}

TEST_CASE("toml reader: each wrong value is reported at its file:line:col with what was found") {
    core::Diagnostics d;
    TomlDocument doc(kText, "cfg.toml", d);
    TomlReader r(d);
    auto root = doc.root();
    CHECK_FALSE(r.integer(root.get("big"), "zone 'x'", "count", 1, 10));
    CHECK(line(d, 0) == "cfg.toml:2:7: error: zone 'x': count must be 1..10, got 5000");
    CHECK_FALSE(r.integer(root.get("name"), "zone 'x'", "count", 1, 10));
    CHECK(line(d, 1) == "cfg.toml:3:8: error: zone 'x': count must be an integer, got string \"edge\"");
    CHECK_FALSE(r.integer(root.get("big"), "", "'workers'", 0, 256, "an integer 0..256 (0: one per core)"));
    CHECK(line(d, 2) == "cfg.toml:2:7: error: 'workers' must be an integer 0..256 (0: one per core), got integer 5000");
    CHECK_FALSE(r.boolean(root.get("count"), "ctx", "flag"));
    CHECK(line(d, 3) == "cfg.toml:1:9: error: ctx: flag must be true or false, got integer 5");
    CHECK_FALSE(r.duration(root.get("bad_every"), "ctx", "every", false));
    CHECK(line(d, 4) ==
          "cfg.toml:6:13: error: ctx: every must be a duration such as \"1s\", \"200ms\" or \"5m\", got string \"soon\"");
    CHECK_FALSE(r.duration(root.get("zero"), "ctx", "every", false));
    CHECK(line(d, 5) == "cfg.toml:7:8: error: ctx: every must be above zero, got integer 0");
    CHECK_FALSE(r.duration(root.get("every"), "", "'poll'", core::Millis(500), core::Millis(1000), "500ms..1s"));
    CHECK(line(d, 6) == "cfg.toml:5:9: error: 'poll' must be 500ms..1s, got string \"250ms\"");
    CHECK_FALSE(r.choice(root.get("mode"), "ctx", "mode", {"fest", "slow"}));
    CHECK(line(d, 7) == "cfg.toml:8:8: error: ctx: mode must be one of fest, slow, got \"fast\"; did you mean 'fest'?");
    CHECK_FALSE(r.table(root.get("count"), "ctx", "a check"));
    CHECK(line(d, 8) == "cfg.toml:1:9: error: ctx: a check must be a table, got integer 5");
    CHECK(d.error_count() == 9);  // reading went on after each
}

TEST_CASE("toml reader: addresses, prefixes and string lists report the bad element") {
    core::Diagnostics d;
    TomlDocument doc(kText, "cfg.toml", d);
    TomlReader r(d);
    auto root = doc.root();
    CHECK_FALSE(r.address(root.get("addrs").elements()[1], "", "'addrs'"));
    CHECK(line(d, 0) ==
          "cfg.toml:9:23: error: 'addrs': not an address: expected \"192.0.2.1\" or \"2001:db8::1\", got string \"nope\"");
    auto nets = r.prefixes(root.get("nets"), "", "'nets'", "an array of prefixes");
    REQUIRE(nets);
    CHECK(nets->size() == 1);  // the good one
    CHECK(line(d, 1) ==
          "cfg.toml:10:25: error: 'nets': not a prefix: expected \"192.0.2.0/24\" or \"2001:db8::/32\", got integer 7");
    CHECK_FALSE(r.prefixes(root.get("name"), "", "'nets'", "an array of prefixes"));
    CHECK(line(d, 2) == "cfg.toml:3:8: error: 'nets' must be an array of prefixes, got string \"edge\"");
    CHECK_FALSE(r.strings(root.get("words"), "ctx", "names"));
    CHECK(line(d, 3) == "cfg.toml:11:15: error: ctx: names must contain only strings, got integer 1");
    auto one = r.strings(root.get("name"), "ctx", "names");
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].value == "edge");
    CHECK((*one)[0].where == core::SourceLocation{"cfg.toml", 3, 8});
}

TEST_CASE("toml reader: unknown keys are reported at the key with a suggestion and what is allowed") {
    core::Diagnostics d;
    TomlDocument doc(kText, "cfg.toml", d);
    TomlReader r(d);
    auto section = doc.root().get("section");
    r.check_keys(section, "zone 'x' service 'api'", {"ttl", "zeta", "alpha"});
    REQUIRE(d.items().size() == 1);
    CHECK(line(d, 0) == "cfg.toml:13:1: error: zone 'x' service 'api': unknown key 'tll'; did you mean 'ttl'?; "
                        "allowed: ttl, zeta, alpha");
    r.check_keys(section, "", {"ttl"}, "section.");  // in key order: alpha, tll, zeta
    REQUIRE(d.items().size() == 4);
    CHECK(line(d, 1) == "cfg.toml:15:1: error: unknown key 'section.alpha'; allowed: ttl");
    CHECK(line(d, 2) == "cfg.toml:13:1: error: unknown key 'section.tll'; did you mean 'section.ttl'?; allowed: ttl");
}

TEST_CASE("toml reader: a table's entries come in key order or in the order written") {
    core::Diagnostics d;
    TomlDocument doc(kText, "cfg.toml", d);
    auto section = doc.root().get("section");
    std::string by_key, by_file;
    for (auto& e : section.entries()) by_key += e.key + " ";
    for (auto& e : section.entries_in_file_order()) by_file += e.key + " ";
    CHECK(by_key == "alpha tll zeta ");
    CHECK(by_file == "tll zeta alpha ");
    CHECK(section.entries_in_file_order()[1].key_where == core::SourceLocation{"cfg.toml", 14, 1});
}

TEST_CASE("toml reader: an absent node answers no to everything") {
    TomlNode none;
    CHECK_FALSE(none);
    CHECK_FALSE(none.is_table());
    CHECK(none.size() == 0);
    CHECK(none.elements().empty());
    CHECK(none.entries().empty());
    CHECK_FALSE(none.get("x"));
    CHECK_FALSE(none.as_string());
    CHECK(none.describe() == "nothing");
}

TEST_CASE("toml reader: a syntax error is one diagnostic at toml++'s position and the root is absent") {
    core::Diagnostics d;
    TomlDocument doc("a = 1\nb = [1,\n", "bad.toml", d);
    CHECK_FALSE(doc.ok());
    CHECK_FALSE(doc.root());
    REQUIRE(d.items().size() == 1);
    CHECK(d.items()[0].where.file == "bad.toml");
    CHECK(d.items()[0].where.line >= 2);
    CHECK(d.items()[0].message.rfind("TOML syntax error: ", 0) == 0);
}

TEST_CASE("toml document: consume_entries visits a table's entries in key order and frees them") {
    core::Diagnostics d;
    TomlDocument doc(kText, "t.toml", d);
    TomlDocument other(kText, "u.toml", d);
    REQUIRE(doc.ok());
    std::vector<std::string> seen;
    doc.consume_entries(other.root().get("section"), [&](const zones::TomlEntry& e) { seen.push_back(e.key); });
    CHECK(seen.empty());  // another document's table: not ours to free
    CHECK(other.root().get("section").size() == 3);
    doc.consume_entries(doc.root().get("section"), [&](const zones::TomlEntry& e) {
        seen.push_back(e.key + "@" + std::to_string(e.key_where.line) + ":" + std::to_string(e.key_where.column) +
                       "=" + std::to_string(e.value.as_integer().value_or(-1)));
        CHECK(e.key_where.file == "t.toml");
    });
    CHECK(seen == std::vector<std::string>{"alpha@15:1=2", "tll@13:1=60", "zeta@14:1=1"});
    CHECK(doc.root().get("section").empty());
    CHECK(doc.root().get("count").as_integer() == 5);  // the rest of the document stays
    doc.consume_entries(doc.root().get("count"), [&](const zones::TomlEntry&) { FAIL("not a table"); });
}
