// Unit tests for the zone model's storage: the node table (sorted, shared between
// copies, copied on change), set_serial and the shared record locations.
#include <doctest/doctest.h>

#include <string>

#include "zones/loader.hpp"
#include "zones/model.hpp"

using namespace signpost;

namespace {

core::Name name(const char* text) { return *core::Name::from_text(text, core::Name()); }

zones::Catalog load(const std::string& text) {
    auto r = zones::load_text(text, "zones/t.toml");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    return *r.catalog;
}

const std::string kZone =
    "origin = \"example.com\"\n"
    "ttl = 300\n"
    "[soa]\n"
    "mname = \"ns1\"\n"
    "rname = \"hostmaster\"\n"
    "serial = 7\n"
    "[records.\"@\"]\n"
    "NS = [\"ns1\"]\n"
    "[records.ns1]\n"
    "A = \"192.0.2.53\"\n"
    "[records.www]\n"
    "A = \"192.0.2.80\"\n"
    "TXT = \"hello\"\n";

uint32_t apex_soa_serial(const zones::Zone& z) {
    auto rd = z.find_node(z.origin)->find(zones::rrtype::SOA)->rdatas.front();
    auto* p = reinterpret_cast<const uint8_t*>(rd.data() + rd.size() - 20);
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

TEST_CASE("node table: iterates in name order and finds every owner") {
    zones::NodeTable t;
    t[name("www.example.com")].rrsets.push_back({zones::rrtype::A, 60, {"\xc0\x00\x02\x01"}, {}});
    t[name("example.com")];
    t[name("a.example.com")];
    REQUIRE(t.size() == 3);
    std::vector<std::string> order;
    for (auto& [owner, node] : t) order.push_back(owner.to_text());
    // Byte order of the wire names (a length byte first), not the DNSSEC canonical order.
    CHECK(order == std::vector<std::string>{"a.example.com.", "www.example.com.", "example.com."});
    CHECK(t.find(name("www.example.com"))->second.find(zones::rrtype::A)->ttl == 60);
    CHECK(t.find(name("b.example.com")) == t.end());
    CHECK(t.find_mutable(name("b.example.com")) == nullptr);
    t[name("www.example.com")];  // present: not inserted again
    CHECK(t.size() == 3);
}

TEST_CASE("node table: compact() keeps every record, TTL and location, and leaves shared tables alone") {
    const std::string* file = zones::intern_file_name("zones/a.toml");
    zones::NodeTable t;
    t[name("www.example.com")].rrsets.push_back({zones::rrtype::A, 60, {"\xc0\x00\x02\x01", "\xc0\x00\x02\x02"}, {file, 7, 3}});
    t[name("www.example.com")].rrsets.push_back({zones::rrtype::TXT, 30, {std::string("\x05hello") + std::string(40, 'x')}, {}});
    t[name("example.com")];  // an owner without records (an empty non-terminal)
    t[name("*.example.com")].rrsets.push_back({zones::rrtype::AAAA, 0, {std::string(16, '\0')}, {file, 9, 1}});
    zones::NodeTable before = t;  // shares its entries with t: copy them first
    zones::NodeTable expect;
    for (auto& [n, node] : t) expect[n] = node;
    zones::NodeTable shared = before;
    zones::NodeTable none;
    zones::NodeTable::compact({&expect, &shared, &none, nullptr});
    CHECK(&*shared.begin() == &*before.begin());  // shared: untouched
    CHECK(none.empty());
    REQUIRE(expect.size() == t.size());
    auto a = t.begin();
    for (auto b = expect.begin(); b != expect.end(); ++a, ++b) {
        CHECK(a->first == b->first);
        REQUIRE(a->second.rrsets.size() == b->second.rrsets.size());
        for (std::size_t i = 0; i < a->second.rrsets.size(); ++i) {
            auto &x = a->second.rrsets[i], &y = b->second.rrsets[i];
            CHECK(x.type == y.type);
            CHECK(x.ttl == y.ttl);
            CHECK(x.rdatas == y.rdatas);
            CHECK(x.where.file_name == y.where.file_name);  // the one shared path, not a copy
            CHECK(x.where.line == y.where.line);
            CHECK(x.where.column == y.where.column);
        }
    }
}

TEST_CASE("node table: a copied zone shares its records until one copy changes them") {
    auto cat = load(kZone);
    zones::Catalog copy = cat;
    auto& z = cat.zones[0];
    auto& c = copy.zones[0];
    CHECK(&*z.nodes.begin() == &*c.nodes.begin());  // shared, not copied

    zones::set_serial(c, 7);  // same serial: nothing to change, still shared
    CHECK(&*z.nodes.begin() == &*c.nodes.begin());

    zones::set_serial(c, 8);
    CHECK(&*z.nodes.begin() != &*c.nodes.begin());
    CHECK(c.soa.serial == 8);
    CHECK(apex_soa_serial(c) == 8);
    CHECK(z.soa.serial == 7);
    CHECK(apex_soa_serial(z) == 7);  // the original keeps its serial
    CHECK(zones::static_digest(z) == zones::static_digest(c));

    c.nodes[name("new.example.com")];
    CHECK(c.nodes.size() == z.nodes.size() + 1);
}

TEST_CASE("loader: every record of a file shares one copy of its path") {
    auto cat = load(kZone);
    auto& z = cat.zones[0];
    auto* www = z.find_node(name("www.example.com"));
    REQUIRE(www);
    auto* a = www->find(zones::rrtype::A);
    auto* txt = www->find(zones::rrtype::TXT);
    REQUIRE(a);
    REQUIRE(txt);
    CHECK(a->where.file() == "zones/t.toml");
    CHECK(a->where.file_name == txt->where.file_name);
    CHECK(a->where.location() == core::SourceLocation{"zones/t.toml", 12, 5});
    CHECK(zones::RecordSource{}.file().empty());
}
