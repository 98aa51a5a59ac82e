// Runtime TXT records: where they may be, their bounds and expiry (RuntimeRecords),
// and how the control core serves them (a new View at once, a new serial and
// NOTIFY for transferred zones, the state file, reloads). Injected time, no loop.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "control/controller.hpp"
#include "dns/view.hpp"
#include "zones/loader.hpp"

namespace signpost::control {
namespace {

using namespace std::chrono_literals;

const char* kZone = R"(origin = "example.com"
ttl = 300
runtime_txt = ["_acme-challenge", "_dnsauth.mail"]
[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records."@"]
NS = ["ns1"]
[records.ns1]
A = "192.0.2.53"
[records.www]
A = "192.0.2.1"
[records.old]
CNAME = "www"
[records.sub]
NS = "ns1.sub"
[records."ns1.sub"]
A = "192.0.2.54"
[records."_acme-challenge.static"]
TXT = "from the file"
[checks.health]
kind = "tcp"
port = 443
[pools.primary]
endpoints = ["192.0.2.10"]
checks = ["health"]
[services.site]
names = ["*", "app"]
pools = ["primary"]
)";

std::shared_ptr<const zones::Catalog> catalog(const std::string& text, const std::string& file = "example.com.toml") {
    auto r = zones::load_text(text, file);
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

core::Name name(const char* text) { return *core::Name::from_text(text, core::Name()); }

constexpr int64_t kNow = 1'800'000'000'000;

TEST_CASE("runtime txt: a prefix allows its name at the apex and at any name below it, nothing else") {
    auto cat = catalog(kZone);
    auto& zone = cat->zones[0];
    CHECK(zones::runtime_txt_allowed(zone, name("_acme-challenge.example.com.")));
    CHECK(zones::runtime_txt_allowed(zone, name("_acme-challenge.www.example.com.")));
    CHECK(zones::runtime_txt_allowed(zone, name("_ACME-Challenge.deep.er.example.com.")));
    CHECK(zones::runtime_txt_allowed(zone, name("_dnsauth.mail.example.com.")));
    CHECK_FALSE(zones::runtime_txt_allowed(zone, name("_dnsauth.example.com.")));
    CHECK_FALSE(zones::runtime_txt_allowed(zone, name("www.example.com.")));
    CHECK_FALSE(zones::runtime_txt_allowed(zone, name("x._acme-challenge.example.com.")));
    CHECK_FALSE(zones::runtime_txt_allowed(zone, name("_acme-challengex.example.com.")));
    CHECK_FALSE(zones::runtime_txt_allowed(zone, name("_acme-challenge.example.org.")));
}

TEST_CASE("runtime txt: refusals say why, with the status the API answers") {
    auto cat = catalog(kZone);
    auto refusal = [&](const char* n) { return runtime_txt_refusal(*cat, name(n)); };
    CHECK_FALSE(refusal("_acme-challenge.example.com."));
    CHECK_FALSE(refusal("_acme-challenge.www.example.com."));
    // A wildcard site: the explicit name wins over the wildcard service.
    CHECK_FALSE(refusal("_acme-challenge.shop.example.com."));
    auto r = refusal("_acme-challenge.example.org.");
    REQUIRE(r);
    CHECK(r->first == 404);
    CHECK(r->second == "no zone of this server contains _acme-challenge.example.org");
    r = refusal("www.example.com.");
    REQUIRE(r);
    CHECK(r->first == 403);
    CHECK(r->second == "zone example.com allows runtime TXT records only at _acme-challenge.<name> or "
                       "_dnsauth.mail.<name> (runtime_txt in example.com.toml), not at www.example.com");
    r = refusal("_acme-challenge.x.sub.example.com.");
    REQUIRE(r);
    CHECK(r->first == 409);
    CHECK(r->second.find("is at or below the delegation sub.example.com") != std::string::npos);
    r = refusal("_acme-challenge.static.example.com.");
    REQUIRE(r);
    CHECK(r->first == 409);
    CHECK(r->second.find("has TXT records in the zone file (example.com.toml") != std::string::npos);
    r = refusal("_acme-challenge.site._signpost.example.com.");
    REQUIRE(r);
    CHECK(r->first == 409);

    auto none = catalog("origin = \"example.net\"\n[records.\"@\"]\nNS = \"ns.example.org.\"\n", "example.net.toml");
    auto n = runtime_txt_refusal(*none, name("_acme-challenge.example.net."));
    REQUIRE(n);
    CHECK(n->first == 403);
    CHECK(n->second == "zone example.net allows no runtime TXT records: add runtime_txt = [\"_acme-challenge\"] to "
                       "example.net.toml");
}

TEST_CASE("runtime txt: set adds values, is idempotent, and del removes one or all") {
    auto cat = catalog(kZone);
    RuntimeRecords rr;
    auto a = rr.set(*cat, "_acme-challenge.example.com", "token-one", std::nullopt, std::nullopt, kNow);
    CHECK(a.status == 200);
    CHECK(a.changed);
    CHECK(a.message == "_acme-challenge.example.com TXT \"token-one\" set (ttl 60 s, for 1h)");
    // ACME asks for example.com and *.example.com at once: two values at one name.
    CHECK(rr.set(*cat, "_acme-challenge.example.com.", "token-two", 120, 10min, kNow).changed);
    auto again = rr.set(*cat, "_ACME-challenge.example.com", "token-one", std::nullopt, 2h, kNow + 1000);
    CHECK(again.status == 200);
    CHECK_FALSE(again.changed);  // the same value again only renews it
    CHECK(again.message.find("was set already: renewed") != std::string::npos);
    CHECK(rr.size() == 2);
    auto& values = rr.names().at(name("_acme-challenge.example.com."));
    CHECK(values[0].expires_ms == kNow + 1000 + 2 * 3600 * 1000);
    CHECK(values[1].ttl == 120);

    auto d = rr.del(*cat, "_acme-challenge.example.com", std::string("token-two"));
    CHECK(d.changed);
    CHECK(rr.size() == 1);
    auto gone = rr.del(*cat, "_acme-challenge.example.com", std::string("token-two"));
    CHECK(gone.status == 200);  // a cleanup hook may run twice
    CHECK_FALSE(gone.changed);
    CHECK(rr.set(*cat, "_acme-challenge.www.example.com", "w", std::nullopt, std::nullopt, kNow).changed);
    auto all = rr.del(*cat, "_acme-challenge.example.com", std::nullopt);
    CHECK(all.changed);
    CHECK(all.message == "_acme-challenge.example.com: 1 runtime TXT value(s) deleted");
    CHECK(rr.size() == 1);
    CHECK(rr.del(*cat, "_acme-challenge.example.org", std::nullopt).status == 404);
}

TEST_CASE("runtime txt: bad values, TTLs and lifetimes are refused with the bound") {
    auto cat = catalog(kZone);
    RuntimeRecords rr;
    const char* n = "_acme-challenge.example.com";
    auto bad = [&](std::string_view value, std::optional<uint32_t> ttl, std::optional<core::Millis> life) {
        auto r = rr.set(*cat, n, value, ttl, life, kNow);
        CHECK(r.status == 400);
        CHECK_FALSE(r.changed);
        return r.message;
    };
    CHECK(bad("", std::nullopt, std::nullopt) == "missing value: give the TXT value, e.g. the ACME challenge's digest");
    CHECK(bad(std::string(256, 'x'), std::nullopt, std::nullopt) == "the value is 256 bytes; at most 255 (one TXT string)");
    CHECK(bad("a\nb", std::nullopt, std::nullopt) ==
          "the value holds byte 0x0a; only printable ASCII (0x20..0x7e) is allowed");
    CHECK(bad("v", 0, std::nullopt) == "ttl must be 1..86400 seconds, got 0");
    CHECK(bad("v", 86401, std::nullopt) == "ttl must be 1..86400 seconds, got 86401");
    CHECK(bad("v", std::nullopt, 500ms) == "'for' must be 1s..30d, got 500ms");
    CHECK(rr.set(*cat, "bad..name", "v", std::nullopt, std::nullopt, kNow).status == 400);
    CHECK(rr.set(*cat, "", "v", std::nullopt, std::nullopt, kNow).status == 400);
    CHECK(rr.set(*cat, n, std::string(255, 'x'), 86400, 30 * 24h, kNow).status == 200);
    CHECK(rr.empty() == false);
}

TEST_CASE("runtime txt: a name holds at most 16 values and a zone 256") {
    auto cat = catalog(kZone);
    RuntimeRecords rr;
    for (int i = 0; i < 16; ++i)
        REQUIRE(rr.set(*cat, "_acme-challenge.example.com", "v" + std::to_string(i), {}, {}, kNow).status == 200);
    auto full = rr.set(*cat, "_acme-challenge.example.com", "v16", {}, {}, kNow);
    CHECK(full.status == 409);
    CHECK(full.message == "_acme-challenge.example.com has 16 runtime TXT values, the most one name may hold; "
                          "delete some first");
    for (int i = 1; i < 16; ++i)
        for (int k = 0; k < 16; ++k)
            REQUIRE(rr.set(*cat, "_acme-challenge.n" + std::to_string(i) + ".example.com", "v" + std::to_string(k), {},
                           {}, kNow)
                        .status == 200);
    CHECK(rr.size() == 256);
    auto zone_full = rr.set(*cat, "_acme-challenge.more.example.com", "v", {}, {}, kNow);
    CHECK(zone_full.status == 409);
    CHECK(zone_full.message ==
          "zone example.com has 256 runtime TXT records, the most a zone may hold; delete some first");
    CHECK(rr.names().count(name("_acme-challenge.more.example.com.")) == 0);  // a refusal leaves nothing behind
}

TEST_CASE("runtime txt: values expire one by one, and a state file round trip keeps them") {
    auto cat = catalog(kZone);
    RuntimeRecords rr;
    rr.set(*cat, "_acme-challenge.example.com", "short", {}, 1min, kNow);
    rr.set(*cat, "_acme-challenge.example.com", "long", {}, 1h, kNow);
    CHECK(rr.expire(kNow + 59'999).empty());
    auto gone = rr.expire(kNow + 60'000);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0] == "_acme-challenge.example.com TXT \"short\"");
    RuntimeRecords back;
    back.restore(rr.persisted());
    REQUIRE(back.size() == 1);
    auto& v = back.names().at(name("_acme-challenge.example.com."));
    CHECK(v[0].value == "long");
    CHECK(v[0].expires_ms == kNow + 3'600'000);
    CHECK(back.expire(kNow + 3'600'000).size() == 1);
    CHECK(back.empty());
    // Garbage in a state file is skipped, not served.
    RuntimeRecords junk;
    junk.restore({{"_acme-challenge.example.com", {{"ok", 60, 0, kNow}, {"bad\x01", 60, 0, kNow}, {"", 60, 0, kNow}}},
                  {"bad..name", {{"x", 60, 0, kNow}}}});
    CHECK(junk.size() == 1);
}

TEST_CASE("runtime txt: apply serves each name as one TXT RRset with the lowest TTL, the file's catalog untouched") {
    auto cat = catalog(kZone);
    RuntimeRecords rr;
    CHECK(rr.apply(cat) == cat);  // nothing to add: the same catalog
    rr.set(*cat, "_acme-challenge.example.com", "one", 300, {}, kNow);
    rr.set(*cat, "_acme-challenge.example.com", "two", 60, {}, kNow);
    auto served = rr.apply(cat);
    REQUIRE(served != cat);
    auto* node = served->zones[0].find_node(name("_acme-challenge.example.com."));
    REQUIRE(node);
    auto* txt = node->find(zones::rrtype::TXT);
    REQUIRE(txt);
    CHECK(txt->ttl == 60);
    REQUIRE(txt->rdatas.size() == 2);
    CHECK(txt->rdatas[0] == std::string("\x03one", 4));
    CHECK(cat->zones[0].find_node(name("_acme-challenge.example.com.")) == nullptr);
}

TEST_CASE("runtime txt: a reload that no longer allows a name drops its records") {
    auto cat = catalog(kZone);
    RuntimeRecords rr;
    rr.set(*cat, "_acme-challenge.example.com", "keep", {}, {}, kNow);
    rr.set(*cat, "_dnsauth.mail.example.com", "drop", {}, {}, kNow);
    std::string text = kZone;
    text.replace(text.find(", \"_dnsauth.mail\""), std::string(", \"_dnsauth.mail\"").size(), "");
    auto dropped = rr.retain(*catalog(text));
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].rfind("_dnsauth.mail.example.com (1 value(s)): zone example.com allows runtime TXT records only at "
                           "_acme-challenge.<name>",
                           0) == 0);
    CHECK(rr.size() == 1);
}

// ---- the control core --------------------------------------------------------------

// A TXT query for `qname` answered by `view`: {rcode, answer count}.
std::pair<int, int> ask_txt(const dns::View& view, const std::string& qname) {
    std::vector<uint8_t> q = {0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    auto n = *core::Name::from_text(qname, core::Name());
    q.insert(q.end(), n.wire().begin(), n.wire().end());
    for (uint8_t b : {0, 16, 0, 1}) q.push_back(b);
    std::vector<uint8_t> out(65535);
    dns::ClientInfo client;
    client.tcp = true;
    std::size_t len = dns::answer_query(view, q, client, out);
    REQUIRE(len >= 12);
    return {out[3] & 0x0f, (out[6] << 8) | out[7]};
}

struct Core {
    Options options() {
        Options o;
        o.transferred = [](const std::string&) { return true; };
        return o;
    }
    Controller core{options()};
    std::vector<core::EndpointHealth> health;
    Now now{core::TimePoint{} + 100h, kNow};
    std::vector<LogLine> log;
    std::vector<Notify> notifies;
    bool persist = false;

    void apply(Step s) {
        for (auto& l : s.log) log.push_back(l);
        for (auto& n : s.notifies) notifies.push_back(n);
        persist |= s.persist;
        if (!s.retarget) return;
        health.assign(core.probe_targets().size(), core::EndpointHealth{});
        for (auto& h : health) {
            h.state = core::HealthState::Up;
            h.confirmed = true;
        }
    }
    void start(const std::string& text = kZone) {
        apply(core.load(catalog(text), now));
        apply(core.start(health, now));
    }
    uint32_t serial() const { return core.catalog().zones[0].soa.serial; }
    bool logged(const std::string& part) const {
        return std::any_of(log.begin(), log.end(), [&](auto& l) { return l.text.find(part) != std::string::npos; });
    }
};

TEST_CASE("control: a runtime TXT record is answered from the next View, with a new serial and a NOTIFY") {
    Core c;
    c.start();
    auto view = c.core.view();
    CHECK(ask_txt(*view, "_acme-challenge.example.com.") == std::pair{0, 0});  // the wildcard's NODATA before
    uint32_t before = c.serial();
    c.notifies.clear();
    auto r = c.core.txt_set("_acme-challenge.example.com", "challenge-digest", std::nullopt, std::nullopt, c.health, c.now);
    REQUIRE(r.status == 200);
    REQUIRE(r.step.snapshot);
    CHECK(r.step.persist);
    auto fresh = r.step.snapshot->view;
    CHECK(dns::view_generation(*fresh) > dns::view_generation(*view));
    c.apply(std::move(r.step));
    CHECK(ask_txt(*fresh, "_acme-challenge.example.com.") == std::pair{0, 1});
    CHECK(c.serial() == before + 1);
    REQUIRE(c.notifies.size() == 1);
    CHECK(c.logged("txt set: _acme-challenge.example.com TXT \"challenge-digest\" set (ttl 60 s, for 1h)"));
    // The wildcard service still answers every other name; below www, nothing exists.
    CHECK(ask_txt(*fresh, "_acme-challenge.shop.example.com.") == std::pair{0, 0});
    CHECK(ask_txt(*fresh, "_acme-challenge.www.example.com.").first == 3);

    // A second value: two records in one RRset.
    c.apply(c.core.txt_set("_acme-challenge.example.com", "second", std::nullopt, std::nullopt, c.health, c.now).step);
    CHECK(ask_txt(*c.core.view(), "_acme-challenge.example.com.") == std::pair{0, 2});
    // Renewing the same value changes nothing served: no new View, no new serial.
    auto gen = c.core.view_generation();
    auto same = c.core.txt_set("_acme-challenge.example.com", "second", std::nullopt, std::nullopt, c.health, c.now);
    CHECK_FALSE(same.step.snapshot);
    CHECK(c.core.view_generation() == gen);

    auto d = c.core.txt_del("_acme-challenge.example.com", std::nullopt, c.health, c.now);
    REQUIRE(d.status == 200);
    REQUIRE(d.step.snapshot);
    c.apply(std::move(d.step));
    CHECK(ask_txt(*c.core.view(), "_acme-challenge.example.com.") == std::pair{0, 0});
    CHECK(c.serial() == before + 3);
}

TEST_CASE("control: runtime TXT commands that are refused change nothing") {
    Core c;
    c.start();
    auto gen = c.core.view_generation();
    auto r = c.core.txt_set("www.example.com", "x", std::nullopt, std::nullopt, c.health, c.now);
    CHECK(r.status == 403);
    CHECK_FALSE(r.step.snapshot);
    CHECK(r.step.log.empty());
    CHECK(c.core.txt_set("_acme-challenge.example.org", "x", {}, {}, c.health, c.now).status == 404);
    CHECK(c.core.view_generation() == gen);
    CHECK(c.core.runtime_txt().empty());
}

TEST_CASE("control: runtime TXT records expire on the tick, survive a restart, and leave with their prefix") {
    Core c;
    c.start();
    c.apply(c.core.txt_set("_acme-challenge.example.com", "a", {}, 10s, c.health, c.now).step);
    c.apply(c.core.txt_set("_dnsauth.mail.example.com", "b", {}, 1h, c.health, c.now).step);
    auto saved = c.core.persisted(c.health, c.now);
    REQUIRE(saved.runtime_txt.size() == 2);
    CHECK(saved.runtime_txt.at("_acme-challenge.example.com")[0].expires_ms == kNow + 10'000);

    c.now.mono += 10s;
    c.now.unix_ms += 10'000;
    auto t = c.core.tick(c.health, c.now);
    REQUIRE(t.snapshot);
    CHECK(t.persist);
    c.apply(std::move(t));
    CHECK(c.logged("txt expired: _acme-challenge.example.com TXT \"a\""));
    CHECK(ask_txt(*c.core.view(), "_acme-challenge.example.com.") == std::pair{0, 0});
    CHECK(ask_txt(*c.core.view(), "_dnsauth.mail.example.com.") == std::pair{0, 1});
    CHECK_FALSE(c.core.tick(c.health, c.now).snapshot);  // nothing more to expire

    // A restart with the state file: answered from the first View, serial kept.
    auto state = c.core.persisted(c.health, c.now);
    uint32_t serial = c.serial();
    Core d;
    d.now = c.now;
    d.core.restore(state, d.now);
    d.start();
    CHECK(ask_txt(*d.core.view(), "_dnsauth.mail.example.com.") == std::pair{0, 1});
    CHECK(d.serial() == serial);

    // A reload whose runtime_txt no longer lists the prefix drops the record, logged.
    std::string text = kZone;
    text.replace(text.find(", \"_dnsauth.mail\""), std::string(", \"_dnsauth.mail\"").size(), "");
    d.apply(d.core.reload(catalog(text), d.health, d.now));
    d.apply(d.core.health_changed(d.health, {}, d.now));
    CHECK(d.logged("txt dropped: _dnsauth.mail.example.com (1 value(s))"));
    CHECK(d.core.runtime_txt().empty());
    CHECK(ask_txt(*d.core.view(), "_dnsauth.mail.example.com.") == std::pair{0, 0});
}

// The controller keeps one record per zone origin (serial, static digest, answers
// digest) and writes it as the state file's two maps; a restart reads them back.
TEST_CASE("control: serials and digests go through the state file as they were, one zone's and a removed zone's") {
    Core c;
    c.start();
    auto state = c.core.persisted(c.health, c.now);
    REQUIRE(state.serials.count("example.com"));
    REQUIRE(state.zone_digests.count("example.com"));
    REQUIRE(state.zone_digests.count("example.com answers"));
    const uint32_t serial = c.serial();
    CHECK(state.serials["example.com"] == serial);
    // A zone no longer loaded keeps its serial and digests (its serial never goes back).
    state.serials["gone.example"] = 41;
    state.zone_digests["gone.example"] = "00000000000000aa";
    state.zone_digests["gone.example answers"] = "00000000000000bb";

    // A digest that is not hex (a hand-edited file) counts as none.
    auto with_bad = state;
    with_bad.zone_digests["bad.example"] = "not hex";

    Core d;
    d.now = c.now;
    d.core.restore(with_bad, d.now);
    d.start();
    CHECK(d.serial() == serial);  // same data: same serial
    auto again = d.core.persisted(d.health, d.now);
    CHECK(again.serials == state.serials);
    CHECK(again.zone_digests == state.zone_digests);  // the bad one dropped

    // Other static data after a restart: a serial above the one served before.
    Core e;
    e.now = c.now;
    e.core.restore(state, e.now);
    std::string text = kZone;
    text.replace(text.find("192.0.2.1\""), std::string("192.0.2.1\"").size(), "192.0.2.99\"");
    e.start(text);
    CHECK(int32_t(e.serial() - serial) > 0);
    auto changed = e.core.persisted(e.health, e.now);
    CHECK(changed.serials["example.com"] == e.serial());
    CHECK(changed.zone_digests["example.com"] != state.zone_digests["example.com"]);
    CHECK(changed.serials["gone.example"] == 41);
}

}  // namespace
}  // namespace signpost::control
