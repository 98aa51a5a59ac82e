// The zone key runtime_txt: owner prefixes where `signpost txt set` may add TXT
// records at run time, every bad entry at its file:line:col.
#include <doctest/doctest.h>

#include <algorithm>

#include "zones/loader.hpp"

using namespace signpost;

namespace {

const std::string kHead = "origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n";

zones::LoadResult load(const std::string& top) { return zones::load_text(top + kHead, "zones/t.toml"); }

bool has(const zones::LoadResult& r, const std::string& line) {
    for (auto& d : r.diagnostics.items())
        if (d.to_string() == line) return true;
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    return false;
}

}  // namespace

TEST_CASE("zones: runtime_txt lists owner prefixes, lowercased, in wire form") {
    auto r = load("runtime_txt = [\"_acme-challenge\", \"_DNSAuth.mail\"]\n");
    REQUIRE(r.catalog);
    auto& rt = r.catalog->zones[0].runtime_txt;
    REQUIRE(rt.size() == 2);
    CHECK(rt[0].text == "_acme-challenge");
    CHECK(rt[0].labels == std::string("\x0f_acme-challenge"));
    CHECK(rt[1].text == "_dnsauth.mail");
    CHECK(rt[1].labels == std::string("\x08_dnsauth\x04mail"));
    CHECK(rt[0].where.line == 1);
    // One string is a list of one; none at all: no runtime records.
    auto one = load("runtime_txt = \"_acme-challenge\"\n");
    REQUIRE(one.catalog);
    CHECK(one.catalog->zones[0].runtime_txt.size() == 1);
    auto none = load("");
    REQUIRE(none.catalog);
    CHECK(none.catalog->zones[0].runtime_txt.empty());
}

TEST_CASE("zones: bad runtime_txt entries are errors at their place") {
    const std::string tail = "; write an owner prefix relative to any name of the zone, such as \"_acme-challenge\"";
    auto r = load("runtime_txt = [\"\", \"x.example.com.\", \"*\", \"a._signpost\", \"bad..label\"]\n");
    CHECK_FALSE(r.catalog);
    const std::string at = "zones/t.toml:1:";
    const std::string ctx = ": error: zone 'example.com' runtime_txt: bad entry ";
    CHECK(has(r, at + "16" + ctx + "\"\": empty" + tail));
    CHECK(has(r, at + "20" + ctx + "\"x.example.com.\": a prefix is relative: no final dot" + tail));
    CHECK(has(r, at + "38" + ctx + "\"*\": '*' is not allowed in a prefix" + tail));
    CHECK(has(r, at + "43" + ctx + "\"a._signpost\": '_signpost' names the services' state records" + tail));
    CHECK(has(r, at + "58" + ctx + "\"bad..label\": empty label in name" + tail));
    auto t = load("runtime_txt = 7\n");
    CHECK(has(t, "zones/t.toml:1:15: error: zone 'example.com': runtime_txt must be a string or an array of strings, got "
                 "integer 7"));
    auto dup = load("runtime_txt = [\"_acme-challenge\", \"_ACME-challenge\"]\n");
    CHECK(dup.catalog);
    CHECK(has(dup, "zones/t.toml:1:35: warning: zone 'example.com' runtime_txt: entry \"_ACME-challenge\" is listed twice"));
}
