// Key timing and rollovers (dnssec/rollover.hpp): every state a key's timing gives, the
// next event, the plans of `signpost dnssec rollover` and `ds-seen` with their refusals,
// the rule a whole ZSK and KSK/CSK rollover keeps at every second, and the key files
// that carry the timing.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dnssec/keys.hpp"
#include "dnssec/rollover.hpp"
#include "ldns_support.hpp"
#include "zones/loader.hpp"

using namespace signpost;
using namespace signpost::dnssec;
using test::name;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kNow = 1'796'000'000;

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/signpost-roll-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

ZoneKey key(KeyRole role, KeyTiming t = {}) {
    uint16_t flags = role == KeyRole::Zsk ? kZoneKeyFlags : kSepKeyFlags;
    Signer s(name("example.com."), flags, SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256));
    std::string path = "/k/" + std::to_string(s.key_tag());
    return ZoneKey{path, role, std::move(s), t.created.value_or(0), t, {}};
}

KeyTiming active_since(int64_t t) {
    KeyTiming k;
    k.created = k.publish = k.activate = t;
    return k;
}

ZoneKeys zone_keys(std::vector<ZoneKey> keys) {
    ZoneKeys z;
    z.zone = name("example.com.");
    z.keys = std::move(keys);
    z.complete = true;
    return z;
}

RolloverTimes times() {
    RolloverTimes t;
    t.dnskey_ttl = 300;
    t.max_ttl = 3600;
    t.propagation = 60;
    t.ds_ttl = 86400;
    return t;
}

zones::DnssecSettings settings(zones::KeyScheme scheme) {
    zones::DnssecSettings s;
    s.sign = true;
    s.keys = scheme;
    return s;
}

void apply(ZoneKeys& keys, const RolloverPlan& plan, std::optional<ZoneKey> made = std::nullopt) {
    for (auto& c : plan.changes) keys.keys[c.key].timing = c.timing;
    if (made) keys.keys.push_back(std::move(*made));
}

}  // namespace

TEST_CASE("timing: a key without Publish and Activate is published, signs and wants its DS") {
    CHECK(key_state({}, true, kNow) == KeyState{true, true, true});
    CHECK(key_state({}, false, kNow) == KeyState{true, true, false});  // a ZSK has no DS
    CHECK_FALSE(next_key_event({}, kNow));
}

TEST_CASE("timing: every transition of Publish, Activate, Inactive, Delete") {
    KeyTiming t;
    t.created = kNow - 100;  // Created changes nothing
    t.publish = kNow + 10;
    t.activate = kNow + 20;
    t.inactive = kNow + 30;
    t.remove = kNow + 40;
    CHECK(key_state(t, false, kNow) == KeyState{false, false, false});
    CHECK(*next_key_event(t, kNow) == kNow + 10);
    CHECK(key_state(t, false, kNow + 9) == KeyState{false, false, false});
    CHECK(key_state(t, false, kNow + 10) == KeyState{true, false, false});
    CHECK(*next_key_event(t, kNow + 10) == kNow + 20);
    CHECK(key_state(t, false, kNow + 20) == KeyState{true, true, false});
    CHECK(*next_key_event(t, kNow + 20) == kNow + 30);
    CHECK(key_state(t, false, kNow + 30) == KeyState{true, false, false});
    CHECK(*next_key_event(t, kNow + 30) == kNow + 40);
    CHECK(key_state(t, false, kNow + 40) == KeyState{false, false, false});
    CHECK_FALSE(next_key_event(t, kNow + 40));
    // A SEP key's DS follows Activate..Inactive when SyncPublish/SyncDelete are absent.
    CHECK(key_state(t, true, kNow + 10) == KeyState{true, false, false});
    CHECK(key_state(t, true, kNow + 20) == KeyState{true, true, true});
    CHECK(key_state(t, true, kNow + 30) == KeyState{true, false, false});
}

TEST_CASE("timing: Activate without Publish publishes from Activate, Publish without Activate never signs") {
    KeyTiming a;
    a.activate = kNow + 5;
    CHECK(key_state(a, false, kNow) == KeyState{false, false, false});
    CHECK(key_state(a, false, kNow + 5) == KeyState{true, true, false});
    KeyTiming p;
    p.publish = kNow;
    CHECK(key_state(p, true, kNow + 1000000) == KeyState{true, false, false});
}

TEST_CASE("timing: SyncPublish and SyncDelete bound the DS of a SEP key") {
    KeyTiming t;
    t.publish = kNow;
    t.sync_publish = kNow + 10;  // before Activate: the double-DS new key
    t.activate = kNow + 50;
    t.sync_delete = kNow + 60;
    t.inactive = kNow + 70;
    CHECK(key_state(t, true, kNow) == KeyState{true, false, false});
    CHECK(key_state(t, true, kNow + 10) == KeyState{true, false, true});
    CHECK(key_state(t, true, kNow + 50) == KeyState{true, true, true});
    CHECK(key_state(t, true, kNow + 60) == KeyState{true, true, false});
    CHECK(key_state(t, true, kNow + 70) == KeyState{true, false, false});
    CHECK(*next_key_event(t, kNow) == kNow + 10);
    CHECK(*next_key_event(t, kNow + 50) == kNow + 60);
    CHECK(state_text(key_state(t, true, kNow + 50), true) == "published+signing+ds");
    CHECK(state_text(key_state(t, true, kNow + 10), true) == "published+ds");
    CHECK(state_text(key_state(t, true, kNow - 1), true) == "unpublished");
}

TEST_CASE("timing: ZoneKeys::at leaves unpublished keys out, signers() and CDS follow the states") {
    KeyTiming later;
    later.publish = kNow + 100;
    later.activate = kNow + 200;
    auto zk = zone_keys({key(KeyRole::Ksk, active_since(kNow - 10)), key(KeyRole::Zsk, active_since(kNow - 10)),
                         key(KeyRole::Zsk, later)});
    auto now = zk.at(kNow);
    CHECK(now.keys.size() == 2);
    CHECK(now.dnskey_rdatas().size() == 2);
    CHECK(now.signers(false).size() == 1);
    CHECK(now.signers(true).size() == 1);
    CHECK(*zk.next_event(kNow) == kNow + 100);
    auto pre = zk.at(kNow + 100);
    CHECK(pre.dnskey_rdatas().size() == 3);
    CHECK(pre.signers(false).size() == 1);  // published, not signing yet
    CHECK(pre.signers(false)[0] == &pre.keys[1].signer);
    CHECK(pre.cds_rdatas().size() == 1);
    CHECK(*zk.next_event(kNow + 100) == kNow + 200);
    CHECK(zk.at(kNow + 200).signers(false).size() == 2);
}

TEST_CASE("rollover --zsk: pre-publish times, then the old ZSK retires after its signatures' TTL") {
    auto zk = zone_keys({key(KeyRole::Ksk, active_since(kNow - 1000)), key(KeyRole::Zsk, active_since(kNow - 1000))});
    auto t = times();
    auto plan = plan_rollover(zk, zones::KeyScheme::KskZsk, RollKind::Zsk, kNow, t);
    REQUIRE_MESSAGE(plan.error.empty(), plan.error);
    CHECK(*plan.new_flags == kZoneKeyFlags);
    CHECK(*plan.new_timing.publish == kNow);
    CHECK(*plan.new_timing.activate == kNow + 300 + 60);
    CHECK_FALSE(plan.new_timing.sync_publish);
    REQUIRE(plan.changes.size() == 1);
    CHECK(plan.changes[0].key == 1);
    CHECK(*plan.changes[0].timing.inactive == kNow + 360);
    CHECK(*plan.changes[0].timing.remove == kNow + 360 + 3600 + 60);
    CHECK(*plan.changes[0].timing.activate == kNow - 1000);  // kept

    // The whole rollover, second by second: something signs everything at every
    // second, the new ZSK signs only after DNSKEY TTL + propagation in the DNSKEY set,
    // the old one leaves the DNSKEY set only after its last signatures' TTL.
    apply(zk, plan, key(KeyRole::Zsk, plan.new_timing));
    CHECK_FALSE(check_key_timeline(zk, zones::KeyScheme::KskZsk, kNow));
    const Signer* fresh = &zk.keys[2].signer;
    std::optional<int64_t> fresh_published, old_stopped;
    bool old_gone = false;
    for (int64_t now = kNow; now <= kNow + 5000; ++now) {
        auto s = zk.at(now);
        auto signers = s.signers(false);
        REQUIRE(!signers.empty());
        REQUIRE(s.signers(true).size() == 1);
        bool fresh_in = false, old_in = false, fresh_signs = false, old_signs = false;
        for (auto& k : s.keys) {
            if (k.signer.key_tag() == fresh->key_tag()) fresh_in = true, fresh_signs = k.state.signing;
            if (k.path == zk.keys[1].path) old_in = true, old_signs = k.state.signing;
        }
        if (fresh_in && !fresh_published) fresh_published = now;
        if (fresh_signs) REQUIRE(now - *fresh_published >= t.dnskey_ttl + t.propagation);
        if (!old_signs && !old_stopped) old_stopped = now;
        if (!old_in) {
            REQUIRE(now - *old_stopped >= t.max_ttl);
            old_gone = true;
        }
        REQUIRE((fresh_signs || old_signs));
        REQUIRE(!(fresh_signs && old_signs));  // pre-publish: one ZSK signs at a time
    }
    CHECK(old_gone);
    CHECK(*zk.next_event(kNow) == kNow + 360);
    CHECK(*zk.next_event(kNow + 360) == kNow + 360 + 3660);
    CHECK_FALSE(zk.next_event(kNow + 360 + 3660));
}

TEST_CASE("rollover --zsk: refused for a CSK zone and while a ZSK rollover runs") {
    auto csk = zone_keys({key(KeyRole::Csk, active_since(kNow - 10))});
    auto p = plan_rollover(csk, zones::KeyScheme::Csk, RollKind::Zsk, kNow, times());
    CHECK(p.error.find("has keys = \"csk\"") != std::string::npos);
    CHECK(p.error.find("--csk") != std::string::npos);
    CHECK(p.error.find("keys = \"ksk+zsk\"") != std::string::npos);
    CHECK_FALSE(p.new_flags);

    auto zk = zone_keys({key(KeyRole::Ksk, active_since(kNow - 10)), key(KeyRole::Zsk, active_since(kNow - 10))});
    auto plan = plan_rollover(zk, zones::KeyScheme::KskZsk, RollKind::Zsk, kNow, times());
    apply(zk, plan, key(KeyRole::Zsk, plan.new_timing));
    auto again = plan_rollover(zk, zones::KeyScheme::KskZsk, RollKind::Zsk, kNow + 1, times());
    CHECK(again.error.find("a ZSK rollover is running: ZSK " + std::to_string(zk.keys[1].signer.key_tag()) +
                           " stops signing at " + iso_utc(kNow + 360)) != std::string::npos);
    CHECK_FALSE(again.new_flags);
    // After the switch, the old one still has an Inactive in the past only: a new rollover is fine.
    auto later = plan_rollover(zk, zones::KeyScheme::KskZsk, RollKind::Zsk, kNow + 400, times());
    CHECK_MESSAGE(later.error.empty(), later.error);
    CHECK(plan_rollover(zk, zones::KeyScheme::KskZsk, RollKind::Csk, kNow, times()).error.find("there is no CSK") !=
          std::string::npos);
}

TEST_CASE("rollover --ksk, then ds-seen: double-DS with CDS") {
    auto zk = zone_keys({key(KeyRole::Ksk, active_since(kNow - 1000)), key(KeyRole::Zsk, active_since(kNow - 1000))});
    auto t = times();
    auto plan = plan_rollover(zk, zones::KeyScheme::KskZsk, RollKind::Ksk, kNow, t);
    REQUIRE_MESSAGE(plan.error.empty(), plan.error);
    CHECK(*plan.new_flags == kSepKeyFlags);
    CHECK(*plan.new_timing.publish == kNow);
    CHECK(*plan.new_timing.sync_publish == kNow);
    CHECK_FALSE(plan.new_timing.activate);
    CHECK(plan.changes.empty());
    apply(zk, plan, key(KeyRole::Ksk, plan.new_timing));
    const uint16_t fresh = zk.keys[2].signer.key_tag(), old = zk.keys[0].signer.key_tag();

    auto mid = zk.at(kNow + 10);
    CHECK(mid.dnskey_rdatas().size() == 3);
    CHECK(mid.cds_rdatas().size() == 2);      // both DS wanted
    CHECK(mid.cdnskey_rdatas().size() == 2);
    REQUIRE(mid.signers(true).size() == 1);   // the old KSK alone signs DNSKEY
    CHECK(mid.signers(true)[0]->key_tag() == old);
    CHECK_FALSE(zk.next_event(kNow));         // nothing happens by itself: waiting for ds-seen

    // A second rollover while this one waits is refused, naming the command that ends it.
    auto again = plan_rollover(zk, zones::KeyScheme::KskZsk, RollKind::Ksk, kNow + 20, t);
    CHECK(again.error.find("waiting for the parent") != std::string::npos);
    CHECK(again.error.find("ds-seen example.com " + std::to_string(fresh)) != std::string::npos);

    // ds-seen: refusals.
    uint16_t unknown = 1;
    while (unknown == fresh || unknown == old || unknown == zk.keys[1].signer.key_tag()) ++unknown;
    auto e1 = plan_ds_seen(zk, zones::KeyScheme::KskZsk, unknown, kNow + 30, t);
    CHECK(e1.error.find("has no key with tag " + std::to_string(unknown)) != std::string::npos);
    CHECK(e1.error.find("KSK " + std::to_string(fresh)) != std::string::npos);  // lists the keys
    auto e2 = plan_ds_seen(zk, zones::KeyScheme::KskZsk, zk.keys[1].signer.key_tag(), kNow + 30, t);
    CHECK(e2.error.find("is a ZSK") != std::string::npos);
    auto e3 = plan_ds_seen(zk, zones::KeyScheme::KskZsk, old, kNow + 30, t);
    CHECK(e3.error.find("signs already") != std::string::npos);

    const int64_t seen = kNow + 1000;
    auto ok = plan_ds_seen(zk, zones::KeyScheme::KskZsk, fresh, seen, t);
    REQUIRE_MESSAGE(ok.error.empty(), ok.error);
    REQUIRE(ok.changes.size() == 2);
    CHECK(ok.changes[0].key == 2);
    CHECK(*ok.changes[0].timing.activate == seen);
    CHECK(ok.changes[1].key == 0);
    CHECK(*ok.changes[1].timing.sync_delete == seen);
    CHECK(*ok.changes[1].timing.inactive == seen + 86400 + 60);
    CHECK(*ok.changes[1].timing.remove == seen + 86400 + 60 + 300 + 60);
    apply(zk, ok);
    CHECK_FALSE(check_key_timeline(zk, zones::KeyScheme::KskZsk, seen));

    auto after = zk.at(seen);
    REQUIRE(after.cds_rdatas().size() == 1);  // CDS names the new key alone
    CHECK(after.cdnskey_rdatas()[0] == zk.keys[2].signer.dnskey());
    CHECK(after.signers(true).size() == 2);   // both sign DNSKEY until resolvers drop the old DS
    CHECK(*zk.next_event(seen) == seen + 86460);
    auto retired = zk.at(seen + 86460);
    REQUIRE(retired.signers(true).size() == 1);
    CHECK(retired.signers(true)[0]->key_tag() == fresh);
    CHECK(retired.dnskey_rdatas().size() == 3);  // the old KSK still published
    auto gone = zk.at(seen + 86460 + 360);
    CHECK(gone.dnskey_rdatas().size() == 2);
    CHECK_FALSE(zk.next_event(seen + 86460 + 360));
    // ds-seen twice: the key signs already.
    CHECK(plan_ds_seen(zk, zones::KeyScheme::KskZsk, fresh, seen + 5, t).error.find("signs already") != std::string::npos);
}

TEST_CASE("rollover --csk: the new CSK signs everything only after ds-seen, the old one stays for the largest TTL") {
    auto zk = zone_keys({key(KeyRole::Csk, active_since(kNow - 1000))});
    auto t = times();
    // --ksk names a CSK zone's CSK too.
    CHECK(plan_rollover(zk, zones::KeyScheme::Csk, RollKind::Ksk, kNow, t).error.empty());
    auto plan = plan_rollover(zk, zones::KeyScheme::Csk, RollKind::Csk, kNow, t);
    REQUIRE(plan.error.empty());
    apply(zk, plan, key(KeyRole::Csk, plan.new_timing));
    auto mid = zk.at(kNow + 1);
    CHECK(mid.signers(false).size() == 1);
    CHECK(mid.signers(true).size() == 1);
    CHECK(mid.cds_rdatas().size() == 2);
    const int64_t seen = kNow + 100;  // sooner than DNSKEY TTL + propagation after the rollover
    auto ok = plan_ds_seen(zk, zones::KeyScheme::Csk, zk.keys[1].signer.key_tag(), seen, t);
    REQUIRE(ok.error.empty());
    CHECK(*ok.changes[1].timing.inactive == seen + 86400 + 60);
    CHECK(*ok.changes[1].timing.remove == seen + 86460 + 3600 + 60);  // the largest TTL: a CSK signs everything
    apply(zk, ok);
    auto after = zk.at(seen);
    CHECK(after.signers(false).size() == 2);
    CHECK(after.cds_rdatas().size() == 1);
    auto retired = zk.at(seen + 86460);
    CHECK(retired.signers(false).size() == 1);
    CHECK(retired.signers(false)[0]->key_tag() == zk.keys[1].signer.key_tag());

    // A short DS TTL: Inactive waits for the new key's DNSKEY to reach every cache.
    auto zk2 = zone_keys({key(KeyRole::Csk, active_since(kNow - 1000))});
    auto p2 = plan_rollover(zk2, zones::KeyScheme::Csk, RollKind::Csk, kNow, t);
    apply(zk2, p2, key(KeyRole::Csk, p2.new_timing));
    t.ds_ttl = 1;
    auto ok2 = plan_ds_seen(zk2, zones::KeyScheme::Csk, zk2.keys[1].signer.key_tag(), kNow + 5, t);
    CHECK(*ok2.changes[1].timing.inactive == kNow + 300 + 60);
}

TEST_CASE("timeline: a zone left without a signing key at a later time is refused") {
    KeyTiming ends = active_since(kNow - 10);
    ends.inactive = kNow + 100;
    auto zk = zone_keys({key(KeyRole::Ksk, active_since(kNow - 10)), key(KeyRole::Zsk, ends)});
    auto why = check_key_timeline(zk, zones::KeyScheme::KskZsk, kNow);
    REQUIRE(why);
    CHECK(why->find("from " + iso_utc(kNow + 100) + " no ZSK signs the zone's data") != std::string::npos);
    CHECK(why->find(".private") != std::string::npos);
    auto none = zone_keys({key(KeyRole::Csk, ends)});
    CHECK(check_key_timeline(none, zones::KeyScheme::Csk, kNow)->find("no CSK signs the zone") != std::string::npos);
    CHECK(check_key_timeline(none, zones::KeyScheme::Csk, kNow + 100)->find("now no CSK") != std::string::npos);
}

TEST_CASE("key files: timing written, read back, other lines kept, past-Delete keys left out") {
    TempDir dir;
    KeyStore store(dir.path);
    std::string err;
    auto s = settings(zones::KeyScheme::KskZsk);
    auto keys = store.load(name("example.com."), s, true, kNow, err);
    REQUIRE_MESSAGE(keys, err);
    REQUIRE(keys->keys.size() == 2);
    auto& zsk = keys->keys[0].role == KeyRole::Zsk ? keys->keys[0] : keys->keys[1];
    KeyTiming t = zsk.timing;
    CHECK(*t.activate == kNow);
    t.inactive = kNow + 100;
    t.remove = kNow + 200;
    t.sync_publish = kNow + 1;  // written even for a ZSK (BIND would too); means nothing there
    KeyTiming fresh_t;
    fresh_t.created = fresh_t.publish = kNow;
    fresh_t.activate = kNow + 100;
    auto fresh = store.create_key(name("example.com."), s, kZoneKeyFlags, fresh_t,
                                  {keys->keys[0].signer.key_tag(), keys->keys[1].signer.key_tag()}, err);
    REQUIRE_MESSAGE(fresh, err);
    REQUIRE_MESSAGE(store.write_timing(zsk, t, err), err);
    std::ifstream f(zsk.path + ".private");
    std::string priv((std::istreambuf_iterator<char>(f)), {});
    CHECK(priv.find("PrivateKey: ") != std::string::npos);
    CHECK(priv.find("Inactive: " + key_file_time(kNow + 100) + "\n") != std::string::npos);
    CHECK(priv.find("Delete: " + key_file_time(kNow + 200) + "\n") != std::string::npos);
    std::ifstream g(zsk.path + ".key");
    std::string pub((std::istreambuf_iterator<char>(g)), {});
    CHECK(pub.find("; Delete: " + key_file_time(kNow + 200) + "\n") != std::string::npos);
    CHECK(pub.find("IN DNSKEY 256 3 13 ") != std::string::npos);
    CHECK((fs::status(zsk.path + ".private").permissions() & fs::perms::all) == fs::perms::owner_read);

    auto again = store.load(name("example.com."), s, false, kNow + 150, err);
    REQUIRE_MESSAGE(again, err);
    CHECK(again->keys.size() == 3);
    for (auto& k : again->keys)
        if (k.path == zsk.path) CHECK(k.timing == t);
    // Past Delete: left out, files stay, said so.
    auto past = store.load(name("example.com."), s, false, kNow + 200, err);
    REQUIRE_MESSAGE(past, err);
    CHECK(past->keys.size() == 2);
    REQUIRE(past->removed.size() == 1);
    CHECK(past->removed[0] == zsk.path);
    CHECK(fs::exists(zsk.path + ".private"));
    // A broken timing field: file:line:col.
    fs::permissions(fresh->path + ".private", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(fresh->path + ".private", std::ios::app) << "Inactive: tomorrow\n";
    fs::permissions(fresh->path + ".private", fs::perms::owner_read);
    auto broken = store.load(name("example.com."), s, false, kNow, err);
    CHECK_FALSE(broken);
    CHECK(err.find(fresh->path + ".private:") == 0);
    CHECK(err.find(": error: Inactive must be a time such as 20261204112000, got \"tomorrow\"") != std::string::npos);
}

TEST_CASE("key files: every ZSK past Delete is an error, not a silent new key") {
    TempDir dir;
    KeyStore store(dir.path);
    std::string err;
    auto s = settings(zones::KeyScheme::KskZsk);
    auto keys = store.load(name("example.com."), s, true, kNow, err);
    REQUIRE(keys);
    for (auto& k : keys->keys)
        if (k.role == KeyRole::Zsk) {
            KeyTiming t = k.timing;
            t.inactive = kNow + 10;
            t.remove = kNow + 20;
            REQUIRE(store.write_timing(k, t, err));
        }
    // Before: the timeline check refuses (no ZSK from kNow + 10).
    auto before = store.load(name("example.com."), s, true, kNow, err);
    CHECK_FALSE(before);
    CHECK(err.find("no ZSK signs the zone's data") != std::string::npos);
    auto after = store.load(name("example.com."), s, true, kNow + 30, err);
    CHECK_FALSE(after);
    CHECK(err.find("every ZSK in " + dir.path + " is past its Delete time") != std::string::npos);
}

TEST_CASE("rollover times: the DNSKEY TTL, the largest TTL and the zone's margins") {
    auto zone_text = [](const std::string& top) {
        return "origin = \"example.com\"\nttl = 300\n" + top + "[soa]\nmname = \"ns1.example.com.\"\n"
                             "rname = \"h.example.com.\"\nttl = 600\n[records.\"@\"]\nNS = \"ns1.example.net.\"\n"
                             "[records.www]\nA = \"192.0.2.1\"\nttl = 7200\n[dnssec]\nsign = true\n"
                             "propagation = \"2s\"\nds_ttl = \"3h\"\n";
    };
    auto r = zones::load_text(zone_text(""), "example.com.toml");
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(r.catalog);
    auto t = rollover_times(r.catalog->zones[0]);
    CHECK(t.dnskey_ttl == 600);
    CHECK(t.max_ttl == 7200);
    CHECK(t.propagation == 2);
    CHECK(t.ds_ttl == 3 * 3600);
    auto acme = zones::load_text(zone_text("runtime_txt = [\"_acme-challenge\"]\n"), "example.com.toml");
    for (auto& d : acme.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(acme.catalog);
    CHECK(rollover_times(acme.catalog->zones[0]).max_ttl == 86400);
}
