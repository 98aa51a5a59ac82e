// The zone table [dnssec]: defaults, every value it takes, and every bad value an
// error (or warning) at its file:line:col with the exact text.
#include <doctest/doctest.h>

#include "zones/loader.hpp"

using namespace signpost;

namespace {

const std::string kHead = "origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n";

zones::LoadResult load(const std::string& dnssec) { return zones::load_text(kHead + dnssec, "zones/t.toml"); }

bool has(const zones::LoadResult& r, const std::string& line) {
    for (auto& d : r.diagnostics.items())
        if (d.to_string() == line) return true;
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    return false;
}

constexpr core::Millis kDay{86400LL * 1000};

}  // namespace

TEST_CASE("dnssec settings: a zone without [dnssec] is unsigned with the documented defaults") {
    auto r = load("");
    REQUIRE(r.catalog);
    auto& s = r.catalog->zones[0].dnssec();
    CHECK_FALSE(s.sign);
    CHECK(s.algorithm == zones::DnssecAlgorithm::EcdsaP256Sha256);
    CHECK(s.lifetime == 14 * kDay);
    CHECK(s.refresh == 7 * kDay);
    CHECK(s.denial == zones::DenialKind::Nsec);
    CHECK(s.nsec3_salt.empty());
    CHECK(s.nsec3_iterations == 0);
    CHECK(s.keys == zones::KeyScheme::Csk);
    CHECK(s.propagation == core::Millis(3600LL * 1000));
    CHECK(s.ds_ttl == kDay);
    CHECK(r.diagnostics.items().empty());
}

TEST_CASE("dnssec settings: the rollover margins propagation and ds_ttl") {
    auto r = load("[dnssec]\nsign = true\npropagation = \"2s\"\nds_ttl = \"2d\"\n");
    REQUIRE(r.catalog);
    CHECK(r.catalog->zones[0].dnssec().propagation == core::Millis(2000));
    CHECK(r.catalog->zones[0].dnssec().ds_ttl == 2 * kDay);
    auto bad = load("[dnssec]\nsign = true\npropagation = \"8d\"\nds_ttl = \"0s\"\n");
    CHECK_FALSE(bad.catalog);
    for (auto& d : bad.diagnostics.items()) MESSAGE(d.to_string());
    CHECK(bad.diagnostics.items().size() == 2);
    bool prop = false, ds = false;
    for (auto& d : bad.diagnostics.items()) {
        prop |= d.to_string().rfind("zones/t.toml:6:15: error: zone 'example.com' [dnssec]: propagation", 0) == 0;
        ds |= d.to_string().rfind("zones/t.toml:7:10: error: zone 'example.com' [dnssec]: ds_ttl", 0) == 0;
    }
    CHECK(prop);
    CHECK(ds);
}

TEST_CASE("dnssec settings: every key is read") {
    auto r = load("[dnssec]\nsign = true\nalgorithm = \"ed25519\"\nlifetime = \"30d\"\nrefresh = \"10d\"\n"
                  "denial = \"nsec3\"\nnsec3_salt = \"-\"\nnsec3_iterations = 0\nkeys = \"ksk+zsk\"\n");
    REQUIRE(r.catalog);
    auto& s = r.catalog->zones[0].dnssec();
    CHECK(s.sign);
    CHECK(s.algorithm == zones::DnssecAlgorithm::Ed25519);
    CHECK(s.lifetime == 30 * kDay);
    CHECK(s.refresh == 10 * kDay);
    CHECK(s.denial == zones::DenialKind::Nsec3);
    CHECK(s.nsec3_salt.empty());
    CHECK(s.keys == zones::KeyScheme::KskZsk);
    CHECK(s.where.line == 4);
    CHECK(r.diagnostics.items().empty());
    SUBCASE("a hex salt is kept as bytes, with RFC 9276's advice as a warning") {
        auto w = load("[dnssec]\ndenial = \"nsec3\"\nnsec3_salt = \"AABBCCDD\"\n");
        REQUIRE(w.catalog);
        CHECK(w.catalog->zones[0].dnssec().nsec3_salt == std::string("\xaa\xbb\xcc\xdd"));
        CHECK(has(w, "zones/t.toml:6:14: warning: zone 'example.com' [dnssec]: nsec3_salt: RFC 9276 recommends no "
                     "salt (\"-\"): a salt does not slow down zone walking and costs every resolver work"));
    }
    SUBCASE("a short lifetime without refresh gets half of it") {
        auto h = load("[dnssec]\nlifetime = \"2d\"\n");
        REQUIRE(h.catalog);
        CHECK(h.catalog->zones[0].dnssec().refresh == kDay);
    }
}

TEST_CASE("dnssec settings: bad values are errors at their place") {
    const std::string ctx = ": error: zone 'example.com' [dnssec]: ";
    SUBCASE("types and words") {
        auto r = load("[dnssec]\nsign = \"yes\"\nalgorithm = \"rsasha256\"\nkeys = \"kzk\"\ndenial = \"nsec5\"\n");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:5:8" + ctx + "sign must be true or false, got string \"yes\""));
        CHECK(has(r, "zones/t.toml:6:13" + ctx + "algorithm must be one of ecdsap256sha256, ed25519, got \"rsasha256\""));
        CHECK(has(r, "zones/t.toml:7:8" + ctx + "keys must be one of csk, ksk+zsk, got \"kzk\""));
        CHECK(has(r, "zones/t.toml:8:10" + ctx + "denial must be one of nsec, nsec3, got \"nsec5\"; did you mean 'nsec'?"));
    }
    SUBCASE("unknown keys") {
        auto r = load("[dnssec]\nsign = true\nnsec3_opt_out = true\n");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:6:1" + ctx +
                         "unknown key 'nsec3_opt_out'; allowed: sign, algorithm, lifetime, "
                         "refresh, denial, nsec3_salt, nsec3_iterations, keys, propagation, ds_ttl"));
    }
    SUBCASE("the table itself") {
        auto r = zones::load_text("origin = \"example.com\"\ndnssec = true\n[records.\"@\"]\nNS = \"ns.example.net.\"\n",
                                  "zones/t.toml");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:2:10: error: zone 'example.com': dnssec must be a table, got boolean true"));
    }
    SUBCASE("lifetime and refresh") {
        auto r = load("[dnssec]\nlifetime = \"12h\"\nrefresh = \"30m\"\n");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:5:12" + ctx + "lifetime must be a duration from 1d to 365d, e.g. \"14d\", got string \"12h\""));
        CHECK(has(r, "zones/t.toml:6:11" + ctx + "refresh must be a duration from 1h to 365d, e.g. \"7d\", got string \"30m\""));
        auto big = load("[dnssec]\nlifetime = \"400d\"\n");
        CHECK(has(big, "zones/t.toml:5:12" + ctx + "lifetime must be a duration from 1d to 365d, e.g. \"14d\", got string \"400d\""));
        auto order = load("[dnssec]\nlifetime = \"7d\"\nrefresh = \"7d\"\n");
        CHECK_FALSE(order.catalog);
        CHECK(has(order, "zones/t.toml:6:11" + ctx +
                             "refresh must be at least 1h below lifetime (7d): signatures are made again when less than "
                             "refresh remains, got 7d"));
        auto bad = load("[dnssec]\nrefresh = \"soon\"\n");
        CHECK(has(bad, "zones/t.toml:5:11" + ctx + "refresh must be a duration from 1h to 365d, e.g. \"7d\", got string \"soon\""));
    }
    SUBCASE("NSEC3 parameters") {
        auto r = load("[dnssec]\ndenial = \"nsec3\"\nnsec3_salt = \"abc\"\nnsec3_iterations = 10\n");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:6:14" + ctx +
                         "nsec3_salt must be hex digits such as \"a1b2\" (at most 255 bytes), or \"-\" for no salt, got "
                         "string \"abc\""));
        CHECK(has(r, "zones/t.toml:7:20" + ctx +
                         "nsec3_iterations must be 0 (RFC 9276: extra iterations add no protection, and validators may "
                         "treat the zone as insecure or bogus), got integer 10"));
        auto nothex = load("[dnssec]\ndenial = \"nsec3\"\nnsec3_salt = \"zz\"\n");
        CHECK_FALSE(nothex.catalog);
        auto toolong = load("[dnssec]\ndenial = \"nsec3\"\nnsec3_salt = \"" + std::string(512, 'a') + "\"\n");
        CHECK_FALSE(toolong.catalog);
        auto longest = load("[dnssec]\ndenial = \"nsec3\"\nnsec3_salt = \"" + std::string(510, 'a') + "\"\n");
        CHECK(longest.catalog);
        auto salt_type = load("[dnssec]\ndenial = \"nsec3\"\nnsec3_salt = 5\n");
        CHECK_FALSE(salt_type.catalog);
    }
    SUBCASE("NSEC3 parameters without NSEC3") {
        auto r = load("[dnssec]\nnsec3_salt = \"-\"\nnsec3_iterations = 0\n");
        CHECK_FALSE(r.catalog);
        CHECK(has(r, "zones/t.toml:5:14" + ctx + "nsec3_salt applies only with denial = \"nsec3\""));
        CHECK(has(r, "zones/t.toml:6:20" + ctx + "nsec3_iterations applies only with denial = \"nsec3\""));
    }
}

TEST_CASE("dnssec settings: a refresh below the zone's largest TTL is a warning") {
    auto r = zones::load_text("origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n"
                              "[records.www]\nA = { ttl = 172800, data = \"192.0.2.1\" }\n"
                              "[dnssec]\nsign = true\nlifetime = \"3d\"\nrefresh = \"1d\"\n",
                              "zones/t.toml");
    REQUIRE(r.catalog);
    CHECK(has(r, "zones/t.toml:9:11: warning: zone 'example.com' [dnssec]: refresh 1d is below the zone's largest TTL "
                 "(172800s): a resolver may cache an RRset longer than its signature is sure to stay valid"));
    // Unsigned: no warning about signatures.
    auto u = zones::load_text("origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n"
                              "[records.www]\nA = { ttl = 172800, data = \"192.0.2.1\" }\n"
                              "[dnssec]\nlifetime = \"3d\"\nrefresh = \"1d\"\n",
                              "zones/t.toml");
    CHECK(u.diagnostics.items().empty());
}
