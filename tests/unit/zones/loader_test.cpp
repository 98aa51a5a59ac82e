// Unit tests for zones::load_text / load_path: the schema, the model it fills, and
// the exact text of every operator-facing diagnostic.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

#include <algorithm>
#include <string>

#include "zones/loader.hpp"

using namespace signpost;

namespace {

const std::string kFixtures = SIGNPOST_FIXTURES;

zones::LoadResult load(const std::string& text) { return zones::load_text(text, "zones/t.toml"); }

// A valid zone head (lines 1-6); test snippets appended to it start at line 7.
const std::string kHead =
    "origin = \"example.com\"\n"
    "ttl = 300\n"
    "[records.\"@\"]\n"
    "NS = [\"ns1\"]\n"
    "[records.ns1]\n"
    "A = \"192.0.2.53\"\n";

// A check and two pools (lines 7-12) for service tests; services start at line 13.
const std::string kPools = kHead +
                           "[checks.health]\n"
                           "kind = \"http\"\n"
                           "[pools.primary]\n"
                           "endpoints = [\"192.0.2.10\"]\n"
                           "[pools.secondary]\n"
                           "endpoints = [\"192.0.2.11\"]\n";

bool has(const zones::LoadResult& r, const std::string& line) {
    for (auto& d : r.diagnostics.items())
        if (d.to_string() == line) return true;
    return false;
}

#define CHECK_DIAG(r, text)                             \
    do {                                                \
        INFO("diagnostics:\n" << (r).diagnostics.to_string()); \
        CHECK(has((r), (text)));                        \
    } while (0)

const zones::RRset* rrset(const zones::Zone& z, const char* owner, uint16_t type) {
    auto n = core::Name::from_text(owner, z.origin);
    REQUIRE(n);
    auto* node = z.find_node(*n);
    return node ? node->find(type) : nullptr;
}

std::string wire_name(const char* text) { return std::string(core::Name::from_text(text, core::Name())->wire()); }

}  // namespace

TEST_CASE("loader: the failover example loads with 2 endpoints and 1 service with 3 owners") {
    auto r = zones::load_path(SIGNPOST_FIXTURES "/../../examples/failover/example.com.toml");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    CHECK(r.diagnostics.empty());
    REQUIRE(r.catalog->zones.size() == 1);
    auto& z = r.catalog->zones[0];
    CHECK(z.origin.to_text() == "example.com.");
    CHECK(z.default_ttl == 300);
    CHECK(r.catalog->endpoints.size() == 2);
    REQUIRE(z.services.size() == 1);
    auto& s = z.services[0];
    CHECK(s.name == "site");
    REQUIRE(s.owners.size() == 3);
    CHECK(s.owners[0].to_text() == "example.com.");
    CHECK(s.owners[1].to_text() == "www.example.com.");
    CHECK(s.owners[2].to_text() == "*.example.com.");
    CHECK(s.pools == std::vector<std::size_t>{0, 1});
    CHECK(s.ttl == 30);
    CHECK(r.catalog->endpoints[0].key == "example.com/primary/127.0.0.10");
    CHECK(r.catalog->endpoints[1].key == "example.com/secondary/127.0.0.11");
    CHECK(r.catalog->services[0].key == "example.com/site");
    auto& ep = r.catalog->endpoint(1);
    CHECK(ep.name == "127.0.0.11");
    CHECK(ep.index == 1);
    CHECK(ep.checks == std::vector<std::string>{"health"});
    CHECK(ep.probe_host == "example.com");
    auto& c = z.checks.at("health");
    CHECK(c.port == 8080);
    CHECK(c.path == "/health");
    CHECK(c.fast_interval == core::Millis(200));
    CHECK(c.where.line == 17);
}

TEST_CASE("loader: the full schema fixture fills every part of the model") {
    auto r = zones::load_path(kFixtures + "/zones/full");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    CHECK(r.diagnostics.empty());
    auto& z = r.catalog->zones.at(0);
    CHECK(z.file() == kFixtures + "/zones/full/example.com.toml");

    SUBCASE("runtime_txt names the owner prefixes of runtime TXT records") {
        REQUIRE(z.runtime_txt.size() == 1);
        CHECK(z.runtime_txt[0].text == "_acme-challenge");
    }

    SUBCASE("the SOA is built from [soa] and sits at the apex") {
        CHECK(z.soa.mname.to_text() == "ns1.example.com.");
        CHECK(z.soa.auto_serial);
        // Automatic serial: the newest modification time of the zone file and its include.
        auto mtime = std::filesystem::last_write_time(z.file());
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::file_clock::to_sys(mtime).time_since_epoch()).count();
        CHECK(z.soa.serial >= uint32_t(secs));
        CHECK(z.soa.minimum == 300);
        auto* soa = rrset(z, "@", zones::rrtype::SOA);
        REQUIRE(soa);
        CHECK(soa->ttl == 3600);
        std::string serial_bytes;
        for (int shift = 24; shift >= 0; shift -= 8) serial_bytes.push_back(char((z.soa.serial >> shift) & 0xff));
        std::string expect = wire_name("ns1.example.com.") + wire_name("hostmaster.example.com.") + serial_bytes +
                             std::string("\0\0\x1c\x20\0\0\x0e\x10\0\x12\x75\0\0\0\x01\x2c", 16);
        CHECK(soa->rdatas.at(0) == expect);
    }
    SUBCASE("relative names in rdata are completed with the origin") {
        auto* mx = rrset(z, "@", zones::rrtype::MX);
        REQUIRE(mx);
        REQUIRE(mx->rdatas.size() == 2);
        CHECK(mx->rdatas[0] == std::string("\0\x0a", 2) + wire_name("mail.example.com."));
        CHECK(mx->rdatas[1] == std::string("\0\x14", 2) + wire_name("mail2.example.net."));
        CHECK(mx->ttl == 600);  // the owner's ttl
        auto* srv = rrset(z, "_sip._tcp", zones::rrtype::SRV);
        REQUIRE(srv);
        CHECK(srv->rdatas[0] == std::string("\0\x0a\0\x3c\x13\xc4", 6) + wire_name("sip.example.com."));
    }
    SUBCASE("TXT strings are taken literally; an inner array is one record") {
        auto* txt = rrset(z, "@", zones::rrtype::TXT);
        REQUIRE(txt);
        REQUIRE(txt->rdatas.size() == 2);
        CHECK(txt->rdatas[0] == "\x0bv=spf1 -all");
        CHECK(txt->rdatas[1] == "\x0c" "first string\x0d" "second string");
    }
    SUBCASE("per-type TTLs, AAAA, DS and RFC 3597 types") {
        auto* a = rrset(z, "api", zones::rrtype::A);
        REQUIRE(a);
        CHECK(a->ttl == 60);
        CHECK(a->rdatas == std::vector<std::string>{std::string("\xc0\x00\x02\x09", 4)});
        CHECK(rrset(z, "static", zones::rrtype::AAAA)->rdatas.at(0).size() == 16);
        CHECK(rrset(z, "sub", zones::rrtype::DS)->rdatas.at(0).size() == 36);
        auto* unknown = rrset(z, "x", 65534);
        REQUIRE(unknown);
        CHECK(unknown->rdatas.at(0) == std::string("\x0a\x00\x00\x01", 4));
        CHECK(rrset(z, "*.wild", zones::rrtype::TXT));
        CHECK(unknown->where.line == 51);
        CHECK(unknown->where.column == 13);
    }
    SUBCASE("records of the included master file join the zone with its TTLs") {
        auto* a = rrset(z, "legacy", zones::rrtype::A);
        REQUIRE(a);
        CHECK(a->ttl == 1800);
        CHECK(a->where.file() == kFixtures + "/zones/full/example.com.zone");
        CHECK(a->where.line == 3);
        CHECK(rrset(z, "ftp", zones::rrtype::CNAME)->ttl == 300);
        CHECK(rrset(z, "reverse", zones::rrtype::PTR));
    }
    SUBCASE("checks keep every field") {
        auto& c = z.checks.at("health");
        CHECK(c.kind == core::CheckKind::Http);
        CHECK(c.expect_status == std::vector<core::StatusRange>{{200, 200}, {200, 299}, {301, 301}});
        CHECK(c.headers == std::vector<std::pair<std::string, std::string>>{{"X-Check", "1"}});
        CHECK(c.host == "www.example.com");
        CHECK(c.body_contains == "OK");
        CHECK(c.initial == core::HealthState::Down);
        auto& tls = z.checks.at("tls");
        CHECK(tls.kind == core::CheckKind::Https);
        CHECK(tls.interval == core::Millis(5000));
        CHECK(tls.cert_warning_days == 14);
        CHECK(z.checks.at("port").port == 5432);
        CHECK(z.checks.at("db").command == std::vector<std::string>{"/usr/local/bin/check-db", "--fast"});
    }
    SUBCASE("pools and endpoints, with catalog-wide indices and keys") {
        REQUIRE(z.pools.size() == 3);
        auto& p = z.pools[0];
        CHECK(p.name == "primary");
        CHECK(p.subnets.at(0).to_string() == "198.51.100.0/24");
        REQUIRE(p.endpoints.size() == 2);
        CHECK(p.endpoints[1].name == "fra-1");
        CHECK(p.endpoints[1].address.to_string() == "2001:db8::10");
        CHECK(p.endpoints[1].check_address.to_string() == "10.0.0.10");
        CHECK(p.endpoints[0].check_address == p.endpoints[0].address);
        CHECK(p.endpoints[0].checks == std::vector<std::string>{"health", "port"});
        CHECK(z.pools[1].endpoints[0].checks == std::vector<std::string>{"health"});
        std::vector<std::string> keys;
        for (auto& e : r.catalog->endpoints) keys.push_back(e.key);
        CHECK(keys == std::vector<std::string>{"example.com/primary/192.0.2.10", "example.com/primary/fra-1",
                                               "example.com/secondary/192.0.2.11",
                                               "example.com/replication/127.0.0.1"});
        for (core::EndpointIndex i = 0; i < r.catalog->endpoints.size(); ++i) CHECK(r.catalog->endpoint(i).index == i);
        CHECK(p.endpoints[0].probe_host == "example.com");  // "@" of service 'site'
        CHECK(z.pools[2].endpoints[0].probe_host == "example.com");  // no service: the origin
    }
    SUBCASE("services resolve names and pools") {
        REQUIRE(z.services.size() == 2);
        auto& site = z.services[0];
        CHECK(site.failback == zones::Failback::Gated);
        CHECK(site.failback_gate == "replication/127.0.0.1");
        CHECK(site.unstable_for == core::Millis(60000));
        REQUIRE(site.hooks.size() == 2);
        CHECK(site.hooks[0].command == std::vector<std::string>{"/usr/local/bin/on-change"});
        CHECK(site.hooks[1].url == "http://127.0.0.1:9000/hook");
        auto& shop = z.services[1];
        CHECK(shop.owners.at(0).to_text() == "shop.example.com.");
        CHECK(shop.policy == zones::PolicyKind::Weighted);
        CHECK(shop.pools == std::vector<std::size_t>{1, 0});
        CHECK(shop.hold_down == core::Millis(300000));
        CHECK(shop.ttl == 30);
        CHECK(shop.index == 1);
        CHECK(r.catalog->services.at(1).key == "example.com/shop");
    }
}

TEST_CASE("loader: a directory with one broken and one good file reports the broken one and returns no catalog") {
    auto r = zones::load_path(kFixtures + "/zones/mixed");
    CHECK_FALSE(r.catalog);
    CHECK(r.diagnostics.error_count() == 1);
    CHECK_DIAG(r, kFixtures +
                      "/zones/mixed/a-broken.example.org.toml:5:5: error: zone 'broken.example.org' record 'www' A: "
                      "cannot parse \"192.0.2.300\": Syntax error, could not parse the RR's rdata");
    for (auto& d : r.diagnostics.items()) CHECK(d.where.file.find("b-good") == std::string::npos);
}

TEST_CASE("loader: the same origin in two files is an error naming the first file") {
    auto r = zones::load_path(kFixtures + "/zones/duplicate");
    CHECK_FALSE(r.catalog);
    CHECK_DIAG(r, kFixtures + "/zones/duplicate/b.toml:2:10: error: zone 'example.com' is already defined in " +
                      kFixtures + "/zones/duplicate/a.toml; each origin may appear in one file only");
}

TEST_CASE("loader: a missing path is an error") {
    auto r = zones::load_path("/nonexistent/zones");
    CHECK_FALSE(r.catalog);
    CHECK_DIAG(r, "/nonexistent/zones: error: no such file or directory");
}

TEST_CASE("loader: include-file errors carry the master file's path and line") {
    auto r = zones::load_path(kFixtures + "/zones/include_errors");
    CHECK_FALSE(r.catalog);
    std::string zf = kFixtures + "/zones/include_errors/example.com.zone";
    CHECK(r.diagnostics.error_count() == 3);
    CHECK_DIAG(r, zf + ":3: error: zone 'example.com' include \"example.com.zone\": cannot parse record: Syntax error, "
                       "could not parse the RR's rdata");
    CHECK_DIAG(r, zf + ":4: error: zone 'example.com' include \"example.com.zone\": cannot parse record: Syntax error, "
                       "value expected");
    CHECK_DIAG(r, zf + ":5: error: zone 'example.com' record 'other.example.org.' A: name 'other.example.org.' is "
                       "outside the zone 'example.com.'");
}

TEST_CASE("loader: an include that cannot be opened points at the include key") {
    auto r = load("origin = \"example.com\"\ninclude = \"missing.zone\"\n");
    CHECK_DIAG(r, "zones/t.toml:2:11: error: zone 'example.com' include \"missing.zone\": cannot open master file: No "
                  "such file or directory");
}

TEST_CASE("loader: a TOML syntax error gives toml++'s position and message") {
    auto r = load("origin = \"example.com\"\nttl = = 3\n");
    CHECK_FALSE(r.catalog);
    REQUIRE(r.diagnostics.items().size() == 1);
    auto& d = r.diagnostics.items()[0];
    CHECK(d.where.line == 2);
    CHECK(d.where.column == 7);
    CHECK(d.message.rfind("TOML syntax error: ", 0) == 0);
}

TEST_CASE("loader: a missing or invalid origin is an error") {
    CHECK_DIAG(load("ttl = 300\n"), "zones/t.toml:1:1: error: origin is required, e.g. origin = \"example.com\"");
    CHECK_DIAG(load("origin = \"exa..mple.com\"\n"),
               "zones/t.toml:1:10: error: origin \"exa..mple.com\" is not a valid domain name: empty label in name");
    CHECK_DIAG(load("origin = 42\n"), "zones/t.toml:1:10: error: zone: origin must be a string, got integer 42");
}

TEST_CASE("loader: unknown keys are errors listing the allowed keys") {
    auto r = load("origin = \"example.com\"\ntll = 300\n[pools.p]\nendpoints = [\"192.0.2.1\"]\nwieght = 2\n");
    CHECK_FALSE(r.catalog);
    CHECK_DIAG(r, "zones/t.toml:2:1: error: zone 'example.com': unknown key 'tll'; did you mean 'ttl'?; allowed: "
                  "origin, ttl, include, soa, records, checks, pools, services, runtime_txt, dnssec");
    CHECK_DIAG(r, "zones/t.toml:5:1: error: zone 'example.com' pool 'p': unknown key 'wieght'; did you mean 'weight'?; "
                  "allowed: endpoints, checks, check, min_healthy, weight, subnets, location, bias_km, max_km");
}

TEST_CASE("loader: wrong value types name what was found") {
    auto r = load("origin = \"example.com\"\nttl = \"300\"\n");
    CHECK_DIAG(r, "zones/t.toml:2:7: error: zone 'example.com': ttl must be an integer, got string \"300\"");
    r = load(kHead + "[records.www]\nA = 17\n");
    CHECK_DIAG(r, "zones/t.toml:8:5: error: zone 'example.com' record 'www' A: record data must be a string in "
                  "presentation format, got integer 17");
}

TEST_CASE("loader: TTLs outside 0..2147483647 are errors") {
    auto r = load(kHead + "[records.www]\nA = { ttl = 2147483648, data = \"192.0.2.1\" }\n");
    CHECK_DIAG(r, "zones/t.toml:8:13: error: zone 'example.com' record 'www' A: ttl must be 0..2147483647, got 2147483648");
    r = load("origin = \"example.com\"\nttl = -1\n");
    CHECK_DIAG(r, "zones/t.toml:2:7: error: zone 'example.com': ttl must be 0..2147483647, got -1");
}

TEST_CASE("loader: bad owner names and owners outside the zone are errors") {
    auto r = load(kHead + "[records.\"a..b\"]\nA = \"192.0.2.1\"\n[records.\"www.example.org.\"]\nA = \"192.0.2.1\"\n"
                          "[records.\"a.*\"]\nA = \"192.0.2.1\"\n");
    CHECK_DIAG(r, "zones/t.toml:7:10: error: zone 'example.com' record 'a..b': bad name \"a..b\": empty label in name");
    CHECK_DIAG(r, "zones/t.toml:9:10: error: zone 'example.com' record 'www.example.org.': name \"www.example.org.\" is "
                  "outside the zone; write names relative to the origin or ending in 'example.com.'");
    CHECK_DIAG(r, "zones/t.toml:11:10: error: zone 'example.com' record 'a.*': bad name \"a.*\": '*' is allowed only as "
                  "the first label (a wildcard)");
}

TEST_CASE("loader: a per-type table needs data and '@' cannot be part of a longer name") {
    auto r = load(kHead + "[records.www]\nA = { ttl = 60 }\n[records.\"@\".foo]\nA = \"192.0.2.1\"\n");
    CHECK_DIAG(r, "zones/t.toml:8:5: error: zone 'example.com' record 'www' A: data is required in a table such as "
                  "{ ttl = 60, data = [\"...\"] }");
    CHECK_DIAG(r, "zones/t.toml:9:14: error: zone 'example.com' record '@.foo': bad name \"@.foo\": '@' stands alone "
                  "for the apex and cannot be part of a name");
}

TEST_CASE("loader: dotted owner keys name one owner read left to right") {
    auto r = load(kHead + "[records._sip._tcp]\nSRV = \"10 60 5060 sip\"\n[records.\"www.example.com.\"]\nA = \"192.0.2.1\"\n");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    auto& z = r.catalog->zones[0];
    CHECK(rrset(z, "_sip._tcp", zones::rrtype::SRV));
    CHECK(rrset(z, "www", zones::rrtype::A));
}

TEST_CASE("loader: unparsable rdata carries ldns's reason") {
    auto r = load(kHead + "[records.www]\nMX = \"10\"\nAAAA = [\"2001:db8::1\", \"2001:db8::zz\"]\n");
    CHECK_DIAG(r, "zones/t.toml:8:6: error: zone 'example.com' record 'www' MX: cannot parse \"10\": Syntax error, value "
                  "expected");
    CHECK_DIAG(r, "zones/t.toml:9:24: error: zone 'example.com' record 'www' AAAA: cannot parse \"2001:db8::zz\": Syntax "
                  "error, could not parse the RR's rdata");
}

TEST_CASE("loader: an unknown record type is an error with what is allowed") {
    auto r = load(kHead + "[records.www]\nAA = \"192.0.2.1\"\n");
    CHECK_DIAG(r, "zones/t.toml:8:1: error: zone 'example.com' record 'www': unknown record type 'AA'; did you mean "
                  "'A'?; allowed: a record type such as A, AAAA, CNAME, MX, TXT, SRV, CAA, NS, PTR, DS or TYPEnnn, or ttl");
    r = load(kHead + "[records.www]\nSOA = \"x\"\n");
    CHECK_DIAG(r, "zones/t.toml:8:7: error: zone 'example.com' record 'www' SOA: the SOA record is set in the [soa] "
                  "table, not in [records]");
}

TEST_CASE("loader: TXT strings longer than 255 octets become several character-strings") {
    std::string s(300, 'x');
    auto r = load(kHead + "[records.t]\nTXT = \"" + s + "\"\n");
    REQUIRE(r.catalog);
    auto* txt = rrset(r.catalog->zones[0], "t", zones::rrtype::TXT);
    REQUIRE(txt);
    CHECK(txt->rdatas.at(0) == "\xff" + std::string(255, 'x') + "\x2d" + std::string(45, 'x'));
}

TEST_CASE("loader: CNAME at the apex or beside other data is an error") {
    auto r = load(kHead + "[records.\"@\".CNAME]\ndata = \"www.example.net.\"\n");
    CHECK_DIAG(r, "zones/t.toml:7:1: error: zone 'example.com' record '@' CNAME: a CNAME is not allowed at the zone apex "
                  "(it would hide the SOA and NS)");
    r = load(kHead + "[records.www]\nCNAME = \"web\"\nA = \"192.0.2.1\"\nMX = \"10 mail\"\n");
    CHECK_DIAG(r, "zones/t.toml:8:9: error: zone 'example.com' record 'www' CNAME: a CNAME cannot share its name with "
                  "other records, found A, MX");
    r = load(kHead + "[records.www]\nCNAME = [\"a\", \"b\"]\n");
    CHECK_DIAG(r, "zones/t.toml:8:9: error: zone 'example.com' record 'www' CNAME: a name can have only one CNAME "
                  "record, got 2");
}

TEST_CASE("loader: the same name and type given twice is an error") {
    auto r = load(kHead + "[records.www]\nA = \"192.0.2.1\"\n[records.\"www.example.com.\"]\nA = \"192.0.2.2\"\n");
    CHECK_DIAG(r, "zones/t.toml:10:5: error: zone 'example.com' record 'www.example.com.' A: A records for "
                  "'www.example.com.' are already given at zones/t.toml:8; give each name and type once");
}

TEST_CASE("loader: an in-zone NS target without an address is a warning and not an error") {
    auto r = load(kHead + "[records.sub]\nNS = [\"ns1.sub\", \"ns.example.net.\"]\n");
    CHECK(r.catalog);
    CHECK_DIAG(r, "zones/t.toml:8:6: warning: zone 'example.com' record 'sub' NS: target 'ns1.sub.example.com.' is "
                  "inside the zone but has no A or AAAA record (glue); add [records.\"ns1.sub\"] A = \"...\"");
    CHECK(r.diagnostics.items().size() == 1);
}

TEST_CASE("loader: [soa] defaults come from the apex NS and the origin") {
    auto r = load("origin = \"example.com\"\n[records.\"@\"]\nNS = [\"a.example.net.\", \"b.example.net.\"]\n");
    REQUIRE(r.catalog);
    auto& soa = r.catalog->zones[0].soa;
    CHECK(soa.mname.to_text() == "a.example.net.");
    CHECK(soa.rname.to_text() == "hostmaster.example.com.");
    CHECK(soa.ttl == 3600);
    r = load("origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n[soa]\nserial = 2024010101\n"
             "rname = \"hostmaster@example.com\"\n");
    CHECK_DIAG(r, "zones/t.toml:6:9: error: zone 'example.com' [soa]: rname is a domain name, not an e-mail address: "
                  "write \"hostmaster.example.com.\" for hostmaster@example.com, got \"hostmaster@example.com\"");
    r = load("origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n[soa]\nserial = 7\n");
    REQUIRE(r.catalog);
    CHECK_FALSE(r.catalog->zones[0].soa.auto_serial);
    CHECK(r.catalog->zones[0].soa.serial == 7);
    CHECK(r.catalog->zones[0].soa.mname.to_text() == "ns.example.net.");
}

TEST_CASE("loader: check validation") {
    auto check = [](const std::string& body) { return load(kHead + "[checks.c]\n" + body); };
    const std::string ctx = "error: zone 'example.com' check 'c': ";
    SUBCASE("kind is required and must be known") {
        CHECK_DIAG(check("path = \"/\"\n"), "zones/t.toml:7:9: " + ctx + "kind is required; allowed: http, https, tcp, exec");
        CHECK_DIAG(check("kind = \"htp\"\n"),
                   "zones/t.toml:8:8: " + ctx + "kind must be one of http, https, tcp, exec, got \"htp\"; did you mean 'http'?");
    }
    SUBCASE("intervals must be positive durations") {
        CHECK_DIAG(check("kind = \"http\"\ninterval = \"0s\"\n"), "zones/t.toml:9:12: " + ctx + "interval must be above zero, got string \"0s\"");
        CHECK_DIAG(check("kind = \"http\"\ninterval = -1\n"),
                   "zones/t.toml:9:12: " + ctx + "interval must be a duration such as \"1s\", \"200ms\" or \"5m\", got integer -1");
        CHECK_DIAG(check("kind = \"http\"\ninterval = \"-1s\"\n"),
                   "zones/t.toml:9:12: " + ctx + "interval must be a duration such as \"1s\", \"200ms\" or \"5m\", got string \"-1s\"");
    }
    SUBCASE("timeout may not exceed interval") {
        CHECK_DIAG(check("kind = \"http\"\ninterval = \"1s\"\ntimeout = \"1500ms\"\n"),
                   "zones/t.toml:10:11: " + ctx + "timeout 1500ms must not exceed interval 1s");
    }
    SUBCASE("rise and fall are 1..10") {
        CHECK_DIAG(check("kind = \"http\"\nrise = 0\n"), "zones/t.toml:9:8: " + ctx + "rise must be 1..10, got 0");
        CHECK_DIAG(check("kind = \"http\"\nfall = 11\n"), "zones/t.toml:9:8: " + ctx + "fall must be 1..10, got 11");
    }
    SUBCASE("expect_status takes codes and ranges within 100..599") {
        auto r = check("kind = \"http\"\nexpect_status = [200, \"300-200\", 600, \"2xx\"]\n");
        const std::string m = "expect_status must be status codes or \"low-high\" ranges within 100..599, got ";
        CHECK_DIAG(r, "zones/t.toml:9:23: " + ctx + m + "string \"300-200\"");
        CHECK_DIAG(r, "zones/t.toml:9:34: " + ctx + m + "integer 600");
        CHECK_DIAG(r, "zones/t.toml:9:39: " + ctx + m + "string \"2xx\"");
    }
    SUBCASE("method is GET or HEAD") {
        CHECK_DIAG(check("kind = \"http\"\nmethod = \"POST\"\n"),
                   "zones/t.toml:9:10: " + ctx + "method must be one of GET, HEAD, got \"POST\"");
    }
    SUBCASE("tcp needs a port, exec needs a command") {
        CHECK_DIAG(check("kind = \"tcp\"\n"), "zones/t.toml:7:9: " + ctx + "a tcp check needs a port (1..65535)");
        CHECK_DIAG(check("kind = \"exec\"\n"),
                   "zones/t.toml:7:9: " + ctx + "an exec check needs a command: an array with the program and its arguments");
        CHECK_DIAG(check("kind = \"tcp\"\nport = 70000\n"), "zones/t.toml:9:8: " + ctx + "port must be 1..65535, got 70000");
    }
    SUBCASE("keys of other kinds are warned about") {
        auto r = check("kind = \"tcp\"\nport = 5432\npath = \"/health\"\n");
        CHECK(r.catalog);
        CHECK_DIAG(r, "zones/t.toml:10:1: warning: zone 'example.com' check 'c': key 'path' does not apply to tcp checks; ignored");
    }
}

TEST_CASE("loader: pool validation") {
    auto pool = [](const std::string& body) {
        return load(kHead + "[checks.health]\nkind = \"http\"\n[pools.p]\n" + body);
    };
    const std::string ctx = "error: zone 'example.com' pool 'p': ";
    CHECK_DIAG(pool("endpoints = []\n"), "zones/t.toml:10:13: " + ctx + "endpoints is empty; a pool needs at least one endpoint");
    CHECK_DIAG(pool("checks = [\"health\"]\n"),
               "zones/t.toml:9:8: " + ctx + "endpoints is required: an array of addresses such as [\"192.0.2.10\"]");
    CHECK_DIAG(pool("endpoints = [\"192.0.2.300\"]\n"),
               "zones/t.toml:10:14: " + ctx + "endpoint address must be an IPv4 or IPv6 address, got \"192.0.2.300\"");
    CHECK_DIAG(pool("endpoints = [\"192.0.2.1\"]\nchecks = [\"helth\"]\n"),
               "zones/t.toml:11:11: " + ctx + "unknown check 'helth'; did you mean 'health'?; defined checks: health");
    CHECK_DIAG(pool("endpoints = [\"192.0.2.1\", \"192.0.2.2\"]\nmin_healthy = 3\n"),
               "zones/t.toml:11:15: " + ctx + "min_healthy must be 1..2 (the number of endpoints), got 3");
    CHECK_DIAG(pool("endpoints = [\"192.0.2.1\"]\nweight = 0\n"), "zones/t.toml:11:10: " + ctx + "weight must be 1..1000, got 0");
    CHECK_DIAG(pool("endpoints = [\"192.0.2.1\"]\nsubnets = [\"198.51.100.0/33\"]\n"),
               "zones/t.toml:11:12: " + ctx +
                   "subnet must be a prefix such as \"198.51.100.0/24\" or \"2001:db8::/32\", got \"198.51.100.0/33\"");
    CHECK_DIAG(pool("endpoints = [{ address = \"192.0.2.1\", name = \"a\" }, { address = \"192.0.2.2\", name = \"a\" }]\n"),
               "zones/t.toml:10:53: " + ctx + "duplicate endpoint name 'a' (also at line 10); endpoint names must be unique within a pool");
    CHECK_DIAG(pool("endpoints = [\"192.0.2.1\", \"192.0.2.1\"]\n"),
               "zones/t.toml:10:27: " + ctx + "duplicate endpoint name '192.0.2.1' (also at line 10); endpoint names must be unique within a pool");
}

TEST_CASE("loader: service validation") {
    auto svc = [](const std::string& body) { return load(kPools + "[services.site]\n" + body); };
    const std::string ctx = "error: zone 'example.com' service 'site': ";
    SUBCASE("a service TTL above the zone TTL is an error naming both") {
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primary\"]\nttl = 600\n"),
                   "zones/t.toml:16:7: " + ctx + "ttl 600 is above the zone ttl 300; a service ttl must be at most the zone ttl");
    }
    SUBCASE("pools must exist and be given") {
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primray\"]\n"),
                   "zones/t.toml:15:10: " + ctx + "unknown pool 'primray'; did you mean 'primary'?; defined pools: primary, secondary");
        CHECK_DIAG(svc("names = [\"www\"]\n"),
                   "zones/t.toml:13:11: " + ctx + "pools is required: the pools to answer from, in priority order");
        CHECK_DIAG(svc("names = [\"www\"]\npools = []\n"),
                   "zones/t.toml:15:9: " + ctx + "pools is empty; give at least one pool, in priority order");
    }
    SUBCASE("policy, all_down and failback take fixed words") {
        auto r = svc("names = [\"www\"]\npools = [\"primary\"]\npolicy = \"round-robin\"\nall_down = \"none\"\nfailback = \"later\"\n");
        CHECK_DIAG(r, "zones/t.toml:16:10: " + ctx + "policy must be one of failover, weighted, multivalue, subnet, geo, got \"round-robin\"");
        CHECK_DIAG(r, "zones/t.toml:17:12: " + ctx + "all_down must be one of all, primary, nothing, got \"none\"");
        CHECK_DIAG(r, "zones/t.toml:18:12: " + ctx + "failback must be one of auto, hold-down, gated, manual, got \"later\"");
    }
    SUBCASE("hold-down needs hold_down; gated needs a valid failback_gate") {
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primary\"]\nfailback = \"hold-down\"\n"),
                   "zones/t.toml:13:11: " + ctx + "failback = \"hold-down\" needs hold_down, a duration such as \"5m\"");
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primary\"]\nfailback = \"gated\"\n"),
                   "zones/t.toml:13:11: " + ctx +
                       "failback = \"gated\" needs failback_gate, the endpoint that gates failback as \"pool/endpoint\"");
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primary\"]\nfailback = \"gated\"\nfailback_gate = \"primary/192.0.2.99\"\n"),
                   "zones/t.toml:17:17: " + ctx +
                       "failback_gate must name an endpoint of this zone as \"pool/endpoint\", got \"primary/192.0.2.99\"; pool "
                       "'primary' has no such endpoint");
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primary\"]\nfailback = \"gated\"\nfailback_gate = \"primary\"\n"),
                   "zones/t.toml:17:17: " + ctx +
                       "failback_gate must name an endpoint of this zone as \"pool/endpoint\", got \"primary\"");
    }
    SUBCASE("a name belongs to one service") {
        auto r = load(kPools + "[services.a]\nnames = [\"www\"]\npools = [\"primary\"]\n[services.b]\nnames = [\"www.example.com.\"]\n"
                               "pools = [\"secondary\"]\n");
        CHECK_DIAG(r, "zones/t.toml:17:10: error: zone 'example.com' service 'b': name \"www.example.com.\" is already answered "
                      "by service 'a'; a name belongs to one service");
    }
    SUBCASE("service names are unique without regard to case") {
        auto r = load(kPools + "[services.site]\nnames = [\"www\"]\npools = [\"primary\"]\n[services.Site]\nnames = [\"web\"]\n"
                               "pools = [\"primary\"]\n");
        CHECK_DIAG(r, "zones/t.toml:16:11: error: zone 'example.com' service 'Site': duplicate service name (also 'site' at "
                      "line 13); service names are compared without case");
    }
    SUBCASE("names must be inside the zone") {
        CHECK_DIAG(svc("names = [\"www.example.org.\"]\npools = [\"primary\"]\n"),
                   "zones/t.toml:14:10: " + ctx + "name \"www.example.org.\" is outside the zone; write names relative to the "
                                                  "origin or ending in 'example.com.'");
    }
    SUBCASE("a static A, AAAA or CNAME record at a service name is an error") {
        auto r = load(kPools + "[records.www]\nAAAA = \"2001:db8::1\"\nTXT = \"fine\"\n[services.site]\nnames = [\"www\"]\n"
                               "pools = [\"primary\"]\n");
        CHECK_DIAG(r, "zones/t.toml:14:8: error: zone 'example.com' record 'www' AAAA: the name is answered by service 'site' "
                      "(zones/t.toml:17); static A, AAAA and CNAME records may not share a name with a service");
        CHECK(r.diagnostics.error_count() == 1);
    }
    SUBCASE("a hook needs exactly one of command or url") {
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primary\"]\nhooks = [{ url = \"ftp://x\" }, {}]\n"),
                   "zones/t.toml:16:18: " + ctx + "hook url must start with http:// or https://, got \"ftp://x\"");
        CHECK_DIAG(svc("names = [\"www\"]\npools = [\"primary\"]\nhooks = [{}]\n"),
                   "zones/t.toml:16:10: " + ctx + "a hook needs exactly one of command (an array) or url (a string)");
    }
    SUBCASE("unstable_ttl defaults to at most the service ttl") {
        auto r = svc("names = [\"www\"]\npools = [\"primary\"]\nttl = 3\n");
        REQUIRE(r.catalog);
        CHECK(r.catalog->zones[0].services[0].unstable_ttl == 3);
    }
}

TEST_CASE("loader: every problem is reported and not only the first") {
    auto r = load(kHead + "[records.www]\nA = \"bad\"\n[pools.p]\nendpoints = []\nweight = 0\n");
    CHECK_FALSE(r.catalog);
    CHECK(r.diagnostics.error_count() == 3);
}

TEST_CASE("loader: values of the wrong shape anywhere are reported and never crash") {
    const char* bodies[] = {
        "records = 5\n",
        "soa = 5\n",
        "checks = { c = 5 }\n",
        "pools = []\n",
        "[records.www]\nA = [[\"192.0.2.1\"]]\n",
        "[records.www]\nTXT = [[]]\n",
        "[records.www]\nA = { ttl = 60 }\n",
        "[records.www]\nA = { ttl = 60, data = [] }\n",
        "[records.\"@\".foo]\nA = \"192.0.2.1\"\n",
        "[checks.c]\nkind = \"http\"\nheaders = 1\nexpect_status = []\ncommand = \"x\"\n",
        "[checks.c]\nkind = 1\ninterval = 1.5\n",
        "[pools.p]\nendpoints = [1, {}, { address = 2 }, { address = \"192.0.2.1\", check_address = \"x\" }]\n",
        "[services.s]\nnames = [1]\npools = 2\nhooks = [1, { command = [] }]\nunstable_for = true\n",
        "[services.\"a/b\"]\nnames = \"www\"\npools = []\n",
    };
    for (auto* b : bodies) {
        auto r = load("origin = \"example.com\"\n" + std::string(b));
        INFO(std::string(b) << "\n" << r.diagnostics.to_string());
        CHECK_FALSE(r.catalog);
        CHECK(r.diagnostics.has_errors());
    }
}
