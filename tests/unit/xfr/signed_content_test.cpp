// A signed zone's transfer (issue 15): what a secondary receives verifies with ldns
// (independent of the OpenSSL code that signed it): DNSKEY/CDS/CDNSKEY at the apex,
// one RRSIG per authoritative RRset, none over a child's NS or glue, a signed DS at a
// secure delegation, one NSEC per authoritative name closing the chain at the apex; the
// SOA's signatures follow the serial; a failover changes only the RRsets that moved.
#include <doctest/doctest.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <map>
#include <set>

#include "dnssec/denial.hpp"
#include "dnssec/encoding.hpp"
#include "dnssec/sign.hpp"
#include "xfr/history.hpp"
#include "xfr/signed_content.hpp"
#include "xfr/zone_content.hpp"
#include "zones/loader.hpp"

#include "core/ldns_wrap.hpp"  // last: ldns's headers define names the C++ library uses

using namespace signpost;
namespace rt = zones::rrtype;

namespace {

const char* kZone = R"(
origin = "example.com"
ttl = 300
[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
minimum = 60
[records."@"]
NS = ["ns1"]
MX = ["10 mail"]
[records.ns1]
A = "192.0.2.53"
[records.mail]
A = "192.0.2.25"
[records.deep.below]
TXT = "an empty non-terminal above"
[records.unsigned]
NS = "ns.unsigned"
[records."ns.unsigned"]
A = "192.0.2.99"
[records.secure]
NS = "ns.secure.example.net."
DS = "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
[pools.primary]
endpoints = ["192.0.2.10"]
[pools.secondary]
endpoints = ["198.51.100.10"]
[services.site]
names = ["@", "www"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
[dnssec]
sign = true
)";

std::shared_ptr<const zones::Catalog> catalog() {
    auto r = zones::load_text(kZone, "example.com.toml");
    for (auto& d : r.diagnostics.items()) MESSAGE(d.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

const dnssec::ZoneKeys& keys(bool split) {
    static std::map<bool, dnssec::ZoneKeys> made;
    auto it = made.find(split);
    if (it != made.end()) return it->second;
    dnssec::ZoneKeys zk;
    zk.zone = *core::Name::from_text("example.com.", core::Name());
    auto key = [&](dnssec::KeyRole role) {
        uint16_t flags = role == dnssec::KeyRole::Zsk ? dnssec::kZoneKeyFlags : dnssec::kSepKeyFlags;
        zk.keys.push_back(dnssec::ZoneKey{
            "test", role,
            dnssec::Signer(zk.zone, flags, dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256)), 0, {}, {}});
    };
    if (split) {
        key(dnssec::KeyRole::Ksk);
        key(dnssec::KeyRole::Zsk);
    } else {
        key(dnssec::KeyRole::Csk);
    }
    zk.complete = true;
    return made.emplace(split, std::move(zk)).first->second;
}

policy::Evaluation at(const char* address, const char* label) {
    policy::Evaluation ev;
    policy::Variant v;
    v.v4 = {*core::IpAddress::parse(address)};
    v.endpoints = {0};
    ev.decision.variants.push_back(v);
    ev.decision.label = label;
    ev.decision.reason = "test";
    ev.decision.ttl = 30;
    return ev;
}

struct Signed {
    xfr::ZoneContent content;
    int signatures_made = 0;
};

Signed sign(const zones::Zone& zone, const policy::Evaluation& ev, const dnssec::ZoneKeys& k,
            std::map<std::string, std::string>* cache = nullptr,
            const std::optional<dnssec::Nsec3Params>& nsec3 = std::nullopt) {
    Signed s;
    std::vector<policy::Evaluation> evs{ev};
    s.content = xfr::render_zone(zone, evs);
    const int64_t now = std::time(nullptr);
    xfr::RrsigFn rrsig = [&](const dnssec::Signer& signer, const core::Name& owner, uint16_t type, uint32_t ttl,
                             const zones::RdataList& rdatas) {
        dnssec::RrsigHeader h{type, uint8_t(signer.key().algorithm()), dnssec::rrsig_labels(owner), ttl, {},
                              signer.key_tag(), signer.zone()};
        std::string id = dnssec::signed_data(h, owner, rdatas);
        if (cache)
            if (auto it = cache->find(id); it != cache->end()) return it->second;
        ++s.signatures_made;
        std::string sig = signer.sign(owner, type, ttl, rdatas, dnssec::validity_at(now, zone.dnssec()));
        if (cache) (*cache)[id] = sig;
        return sig;
    };
    xfr::sign_content(s.content, k, dnssec::negative_ttl(zone.soa.minimum, zone.soa.ttl), rrsig, nsec3);
    auto soa_sigs = xfr::soa_signatures(s.content.soa, k, rrsig);
    s.content.records.insert(s.content.records.end(), soa_sigs.begin(), soa_sigs.end());
    s.content.records.push_back(s.content.soa);
    return s;
}

core::Name owner_of(const xfr::Record& r) { return *core::Name::from_wire(r.owner); }

core::LdnsRr ldns_of(const xfr::Record& r) {
    std::string w = r.owner;
    auto put16 = [&](uint16_t v) {
        w.push_back(char(v >> 8));
        w.push_back(char(v & 0xff));
    };
    put16(r.type);
    put16(1);
    for (int s = 24; s >= 0; s -= 8) w.push_back(char((r.ttl >> s) & 0xff));
    put16(uint16_t(r.rdata.size()));
    w += r.rdata;
    ldns_rr* rr = nullptr;
    size_t pos = 0;
    REQUIRE(ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(w.data()), w.size(), &pos, LDNS_SECTION_ANSWER) ==
            LDNS_STATUS_OK);
    return core::LdnsRr(rr);
}

uint16_t covered(const xfr::Record& sig) { return uint16_t(uint8_t(sig.rdata[0]) << 8 | uint8_t(sig.rdata[1])); }

// Checks every RRSIG with ldns against the zone's own DNSKEYs and returns, per (owner, type),
// how many valid signatures it has.
std::map<std::pair<std::string, uint16_t>, int> verify_all(const xfr::ZoneContent& c) {
    core::LdnsRrList dnskeys(ldns_rr_list_new());
    std::map<std::pair<std::string, uint16_t>, std::vector<const xfr::Record*>> sets;
    for (auto& r : c.records) {
        if (r.type == rt::DNSKEY) ldns_rr_list_push_rr(dnskeys.get(), ldns_of(r).release());
        if (r.type != rt::RRSIG) sets[{r.owner, r.type}].push_back(&r);
    }
    std::map<std::pair<std::string, uint16_t>, int> good;
    for (auto& r : c.records) {
        if (r.type != rt::RRSIG) continue;
        auto it = sets.find({r.owner, covered(r)});
        REQUIRE_MESSAGE(it != sets.end(), "an RRSIG over nothing at ", owner_of(r).to_text());
        core::LdnsRrList set(ldns_rr_list_new());
        for (auto* m : it->second) {
            CHECK(m->ttl == r.ttl);  // an RRSIG's TTL is its RRset's
            ldns_rr_list_push_rr(set.get(), ldns_of(*m).release());
        }
        auto sig = ldns_of(r);
        ldns_rr_list* good_keys = ldns_rr_list_new();  // holds the keys' pointers: freed shallow
        ldns_status st = ldns_verify_rrsig_keylist(set.get(), sig.get(), dnskeys.get(), good_keys);
        ldns_rr_list_free(good_keys);
        if (st != LDNS_STATUS_OK) {
            char* a = ldns_rr2str(sig.get());
            char* b = ldns_rr_list2str(dnskeys.get());
            std::string text = std::string(a) + b;
            MESSAGE(text);
            free(a);
            free(b);
        }
        CHECK_MESSAGE(st == LDNS_STATUS_OK, owner_of(r).to_text(), " type ", covered(r), ": ",
                      std::string(ldns_get_errorstr_by_id(st)));
        if (st == LDNS_STATUS_OK) ++good[{r.owner, covered(r)}];
    }
    return good;
}

}  // namespace

TEST_CASE("xfr signing: every authoritative RRset verifies, nothing else is signed, the NSEC chain is whole") {
    auto cat = catalog();
    auto& zone = cat->zones[0];
    for (bool split : {false, true}) {
        CAPTURE(split);
        auto s = sign(zone, at("192.0.2.10", "primary"), keys(split));
        auto good = verify_all(s.content);
        auto wire = [](const char* t) { return std::string(core::Name::from_text(t, core::Name())->wire()); };
        const std::string apex = wire("example.com."), sub = wire("unsigned.example.com."),
                          glue = wire("ns.unsigned.example.com."), secure = wire("secure.example.com.");
        std::set<std::pair<std::string, uint16_t>> rrsets;
        std::map<std::string, std::set<uint16_t>> types;
        std::vector<const xfr::Record*> nsecs;
        for (auto& r : s.content.records) {
            if (r.type == rt::RRSIG) continue;
            rrsets.insert({r.owner, r.type});
            types[r.owner].insert(r.type);
            if (r.type == rt::NSEC) nsecs.push_back(&r);
        }
        // The keys are published: both keys (or the CSK), CDS and CDNSKEY of the SEP key.
        CHECK(rrsets.count({apex, rt::DNSKEY}));
        CHECK(rrsets.count({apex, rt::CDS}));
        CHECK(rrsets.count({apex, rt::CDNSKEY}));
        for (auto& rs : rrsets) {
            CAPTURE(core::Name::from_wire(rs.first)->to_text());
            CAPTURE(rs.second);
            bool child = (rs.first == sub && rs.second == rt::NS) || rs.first == glue ||
                         (rs.first == secure && rs.second == rt::NS);
            // With KSK + ZSK: DNSKEY, CDS and CDNSKEY by the KSK, the rest by the ZSK.
            CHECK(good[rs] == (child ? 0 : 1));
        }
        // The SOA is signed too (after its serial is final).
        CHECK(good[{apex, rt::SOA}] == 1);
        // One NSEC per authoritative name: the apex, ns1, mail, deep.below (not the empty
        // non-terminal below), www, both delegation points, the state TXT's owner; none at glue.
        std::set<std::string> owners;
        for (auto* n : nsecs) owners.insert(n->owner);
        std::set<std::string> expected{apex,
                                       wire("ns1.example.com."),
                                       wire("mail.example.com."),
                                       wire("deep.below.example.com."),
                                       wire("www.example.com."),
                                       sub,
                                       secure,
                                       wire("site._signpost.example.com.")};
        CHECK(owners == expected);
        for (auto* n : nsecs) CHECK(n->ttl == 60);  // min(SOA minimum, SOA TTL)
        // Each bit map lists the owner's types, RRSIG and NSEC; a delegation's lists NS
        // (and DS) but no RRSIG when unsigned.
        std::map<std::string, std::string> next;
        for (auto* n : nsecs) {
            auto next_name = core::Name::from_wire(std::string_view(n->rdata).substr(0, n->rdata.find('\0') + 1));
            REQUIRE(next_name);
            next[n->owner] = next_name->wire();
            auto bitmap = dnssec::bitmap_types(std::string_view(n->rdata).substr(next_name->wire().size()));
            REQUIRE(bitmap);
            std::set<uint16_t> got(bitmap->begin(), bitmap->end());
            std::set<uint16_t> want = types[n->owner];
            if (n->owner == sub) {
                want = {rt::NS, rt::NSEC, rt::RRSIG};  // the NSEC itself is signed
            } else {
                want.insert(rt::RRSIG);
            }
            CHECK_MESSAGE(got == want, core::Name::from_wire(n->owner)->to_text());
        }
        // The chain visits every NSEC owner once and closes at the apex.
        std::string at_name = apex;
        std::set<std::string> seen;
        for (std::size_t i = 0; i < nsecs.size(); ++i) {
            REQUIRE(next.count(at_name));
            seen.insert(at_name);
            at_name = next[at_name];
        }
        CHECK(at_name == apex);
        CHECK(seen == expected);
    }
}

TEST_CASE("xfr signing: with NSEC3 the zone carries NSEC3PARAM and a whole NSEC3 chain, every record signed") {
    auto cat = catalog();
    auto& zone = cat->zones[0];
    auto wire = [](const char* t) { return std::string(core::Name::from_text(t, core::Name())->wire()); };
    for (std::string salt : {std::string(), std::string("\xaa\xbb\xcc\xdd")}) {
        CAPTURE(salt.size());
        auto s = sign(zone, at("192.0.2.10", "primary"), keys(false), nullptr, dnssec::Nsec3Params{salt, 0});
        auto good = verify_all(s.content);
        const std::string apex = wire("example.com.");
        std::vector<const xfr::Record*> nsec3s;
        std::map<std::string, std::set<uint16_t>> types;
        for (auto& r : s.content.records) {
            CHECK(r.type != rt::NSEC);
            if (r.type == rt::NSEC3) nsec3s.push_back(&r);
            else if (r.type != rt::RRSIG) types[r.owner].insert(r.type);
        }
        REQUIRE(types[apex].count(rt::NSEC3PARAM));
        CHECK(good[{apex, rt::NSEC3PARAM}] == 1);
        for (auto& r : s.content.records)
            if (r.type == rt::NSEC3PARAM) {
                CHECK(r.rdata == dnssec::nsec3param_rdata({salt, 0}));
                CHECK(r.ttl == 60);
            }
        // One NSEC3 per authoritative name and empty non-terminal (below, _signpost), none
        // at glue; hashed by ldns, independent of dnssec/.
        auto hashed = [&](const char* n) {
            ldns_rdf* d = ldns_dname_new_frm_str(n);
            ldns_rdf* h = ldns_nsec3_hash_name(d, 1, 0, uint8_t(salt.size()), reinterpret_cast<const uint8_t*>(salt.data()));
            ldns_rdf* z = ldns_dname_new_frm_str("example.com.");
            (void)ldns_dname_cat(h, z);
            std::string w(reinterpret_cast<const char*>(ldns_rdf_data(h)), ldns_rdf_size(h));
            ldns_rdf_deep_free(d);
            ldns_rdf_deep_free(h);
            ldns_rdf_deep_free(z);
            return std::string(core::Name::from_wire(w)->wire());  // lowercased, as the chain's owners
        };
        std::set<std::string> expected;
        for (const char* n : {"example.com.", "ns1.example.com.", "mail.example.com.", "deep.below.example.com.",
                              "below.example.com.", "www.example.com.", "unsigned.example.com.", "secure.example.com.",
                              "site._signpost.example.com.", "_signpost.example.com."})
            expected.insert(hashed(n));
        std::set<std::string> owners;
        for (auto* n : nsec3s) {
            owners.insert(n->owner);
            CHECK(n->ttl == 60);
            CHECK(good[{n->owner, rt::NSEC3}] == 1);
        }
        CHECK(owners == expected);
        CHECK(nsec3s.size() == expected.size());
        // The chain: each next hash is the following owner's, the last wraps to the first.
        std::vector<std::string> hashes;
        std::map<std::string, std::string> next_of;
        const std::size_t fixed = 5 + salt.size();
        for (auto* n : nsec3s) {
            CHECK(uint8_t(n->rdata[0]) == 1);  // SHA-1
            CHECK(uint8_t(n->rdata[1]) == 0);  // no opt-out
            CHECK(n->rdata.substr(4, 1 + salt.size()) == std::string(1, char(salt.size())) + salt);
            REQUIRE(uint8_t(n->rdata[fixed]) == 20);
            std::string label = n->owner.substr(1, uint8_t(n->owner[0]));
            hashes.push_back(label);
            next_of[label] = n->rdata.substr(fixed + 1, 20);
        }
        std::sort(hashes.begin(), hashes.end());
        for (std::size_t i = 0; i < hashes.size(); ++i) {
            std::string next_label = dnssec::base32hex_encode(next_of[hashes[i]]);
            CHECK(next_label == hashes[(i + 1) % hashes.size()]);
        }
    }
}

TEST_CASE("xfr signing: a failover re-signs only what moved, IXFR carries the SOA's old and new signatures") {
    auto cat = catalog();
    auto& zone = cat->zones[0];
    auto& k = keys(false);
    std::map<std::string, std::string> cache;
    auto first = sign(zone, at("192.0.2.10", "primary"), k, &cache);
    auto moved = sign(zone, at("198.51.100.10", "failover:secondary"), k, &cache);
    // www A, the apex A and the state TXT; the SOA keeps its serial here (no history).
    CHECK(moved.signatures_made == 3);
    auto back = sign(zone, at("192.0.2.10", "primary"), k, &cache);
    CHECK(back.signatures_made == 0);
    verify_all(moved.content);

    // Through ZoneHistory as the control core does it.
    xfr::ZoneHistory h;
    // Kept signatures, as the SignatureCache keeps them: ECDSA signs with a random
    // nonce, so signing an RRset again would change every RRSIG and the IXFR would
    // carry the whole zone.
    std::map<std::string, std::string> kept;
    auto rrsig = [&](const dnssec::Signer& signer, const core::Name& owner, uint16_t type, uint32_t ttl,
                     const zones::RdataList& rdatas) {
        dnssec::RrsigHeader hd{type, uint8_t(signer.key().algorithm()), dnssec::rrsig_labels(owner), ttl, {},
                               signer.key_tag(), signer.zone()};
        auto [it, fresh] = kept.try_emplace(dnssec::signed_data(hd, owner, rdatas));
        if (fresh)
            it->second = signer.sign(owner, type, ttl, rdatas, dnssec::validity_at(std::time(nullptr), zone.dnssec()));
        return it->second;
    };
    auto version = [&](const policy::Evaluation& ev) {
        std::vector<policy::Evaluation> e{ev};
        auto c = xfr::render_zone(zone, e);
        xfr::sign_content(c, k, 60, rrsig);
        REQUIRE(h.update(c));
        h.sign_current_soa(xfr::soa_signatures(h.current().soa, k, rrsig));
    };
    version(at("192.0.2.10", "primary"));
    uint32_t old_serial = h.current().serial;
    auto old_soa_sigs = h.current().soa_signatures;
    REQUIRE(old_soa_sigs.size() == 1);
    version(at("198.51.100.10", "failover:secondary"));
    REQUIRE(h.current().soa_signatures.size() == 1);
    auto plan = h.plan(old_serial);
    REQUIRE(plan.kind == xfr::IxfrPlan::Kind::Incremental);
    auto has = [](const std::vector<xfr::Record>& v, const xfr::Record& r) {
        return std::find(v.begin(), v.end(), r) != v.end();
    };
    CHECK(has(plan.deleted, old_soa_sigs[0]));
    CHECK(has(plan.added, h.current().soa_signatures[0]));
    // Deleted: the old www/apex A, the TXT and their RRSIGs, the old SOA RRSIG; added likewise.
    int deleted_sigs = 0, added_sigs = 0;
    for (auto& r : plan.deleted) deleted_sigs += r.type == rt::RRSIG;
    for (auto& r : plan.added) added_sigs += r.type == rt::RRSIG;
    CHECK(deleted_sigs == 4);
    CHECK(added_sigs == 4);
    CHECK(plan.deleted.size() == 7);
    CHECK(plan.added.size() == 7);
}

// Key timing in transfers, the View's rule (ZoneKeys::at): a pre-published ZSK and a KSK
// waiting for its DS are in the DNSKEY set (the KSK in CDS too) and sign nothing.
TEST_CASE("xfr signing: keys as their timing says: published keys that do not sign yet") {
    auto cat = catalog();
    const auto& zone = cat->zones.at(0);
    const int64_t now = std::time(nullptr);
    dnssec::ZoneKeys all = keys(true);
    dnssec::KeyTiming pre;
    pre.publish = now - 1;
    pre.activate = now + 100;
    dnssec::KeyTiming waiting;
    waiting.publish = waiting.sync_publish = now - 1;
    all.keys.push_back(dnssec::ZoneKey{
        "pre", dnssec::KeyRole::Zsk,
        dnssec::Signer(all.zone, dnssec::kZoneKeyFlags, dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256)),
        0, pre, {}});
    all.keys.push_back(dnssec::ZoneKey{
        "waiting", dnssec::KeyRole::Ksk,
        dnssec::Signer(all.zone, dnssec::kSepKeyFlags, dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256)),
        0, waiting, {}});
    for (int64_t t : {now, now + 100}) {
        CAPTURE(t - now);
        auto s = sign(zone, at("192.0.2.10", "primary"), all.at(t));
        std::map<uint16_t, int> count;
        std::set<uint16_t> signers;
        for (auto& r : s.content.records) {
            count[r.type]++;
            if (r.type == rt::RRSIG)
                signers.insert(uint16_t(uint8_t(r.rdata[16]) << 8 | uint8_t(r.rdata[17])));
        }
        CHECK(count[rt::DNSKEY] == 4);
        CHECK(count[rt::CDS] == 2);
        // The first ZSK has no timing (signs always); the pre-published one joins at its Activate.
        std::set<uint16_t> want{all.keys[0].signer.key_tag(), all.keys[1].signer.key_tag()};
        if (t > now) want.insert(all.keys[2].signer.key_tag());
        CHECK(signers == want);
    }
}
