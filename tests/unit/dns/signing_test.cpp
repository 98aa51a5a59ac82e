// Signed zones in the View (issue 15): without DO the answers are the unsigned zone's,
// byte for byte; with DO every RRSIG verifies (ldns, independent of the OpenSSL code
// that made it) and every negative answer's NSECs prove the denial (ldns); a health
// change signs nothing new; signatures are made again once `refresh` is reached.
#include <doctest/doctest.h>

#include <algorithm>
#include <ctime>
#include <sstream>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "dns/explain.hpp"
#include "dns/signing.hpp"
#include "dns/view_impl.hpp"
#include "dnssec/encoding.hpp"
#include "dnssec/sign.hpp"
#include "support.hpp"
#include "zones/loader.hpp"

#include "core/ldns_wrap.hpp"  // last: ldns's headers define names the C++ library uses

using namespace dnstest;

namespace {

const std::string kZone = R"(
origin = "example.com"
ttl = 300
[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
[records."@"]
NS = ["ns1"]
MX = ["10 mail"]
[records.ns1]
A = "192.0.2.53"
[records.mail]
A = "192.0.2.25"
TXT = "v=spf1 -all"
[records.deep.below]
A = "192.0.2.26"
[records.unsigned]
NS = "ns.unsigned.example.net."
[records.secure]
NS = "ns.secure.example.net."
DS = "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
[pools.primary]
endpoints = ["192.0.2.10", "2001:db8::10"]
[pools.secondary]
endpoints = ["198.51.100.10"]
[services.site]
names = ["@", "www", "*"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = 30
)";

// `extra`: more [dnssec] settings (denial = "nsec3").
std::shared_ptr<const zones::Catalog> load(bool sign, const std::string& extra = "") {
    auto r = zones::load_text(kZone + (sign ? "[dnssec]\nsign = true\n" + extra : ""), "example.com.toml");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

// A fresh CSK (ECDSA P-256) for example.com, named `label`.
std::shared_ptr<const dns::SigningKeys> new_csk(const std::string& label) {
    auto k = std::make_shared<dns::SigningKeys>();
    dnssec::ZoneKeys zk;
    zk.zone = name("example.com.");
    zk.keys.push_back(dnssec::ZoneKey{label, dnssec::KeyRole::Csk,
                                      dnssec::Signer(zk.zone, dnssec::kSepKeyFlags,
                                                     dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256)),
                                      0, {}, {}});
    zk.complete = true;
    k->emplace(zk.zone.wire(), std::move(zk));
    return k;
}

std::shared_ptr<const dns::SigningKeys> csk() {
    static auto keys = new_csk("test");
    return keys;
}

std::vector<policy::Evaluation> primary() {
    return {evaluation({variant({"192.0.2.10", "2001:db8::10"})}, "primary", "all endpoints up", 30)};
}
std::vector<policy::Evaluation> secondary() {
    return {evaluation({variant({"198.51.100.10"})}, "failover:secondary", "primary down", 5)};
}

std::shared_ptr<const dns::View> view(bool sign, std::vector<policy::Evaluation> evs,
                                      std::shared_ptr<dns::SignatureCache> cache = nullptr, int64_t now = 0,
                                      const std::string& extra = "") {
    dns::ViewOptions o;
    if (sign) o.signing = csk();
    o.signatures = std::move(cache);
    o.now_unix = now;
    return dns::build_view(load(sign, extra), evs, 1, o);
}

const std::string kNsec3 = "denial = \"nsec3\"\n";
const std::string kNsec3Salted = "denial = \"nsec3\"\nnsec3_salt = \"aabbccdd\"\n";

struct Q {
    const char* name;
    uint16_t type;
};
const Q kQueries[] = {{"www.example.com", 1},         {"example.com", 1},          {"example.com", 28},
                      {"www.example.com", 28},        {"a.b.c.example.com", 1},    {"a.b.c.example.com", 28},
                      {"example.com", 6},             {"example.com", 2},          {"example.com", 15},
                      {"mail.example.com", 16},       {"mail.example.com", 1},     {"mail.example.com", 28},
                      {"below.example.com", 1},       {"x.deep.below.example.com", 1}, {"deep.below.example.com", 1},
                      {"host.unsigned.example.com", 1}, {"host.secure.example.com", 1}, {"unsigned.example.com", 43},
                      {"secure.example.com", 43},     {"site._signpost.example.com", 16}, {"nx._signpost.example.com", 1},
                      {"_signpost.example.com", 16},  {"example.com", 48},         {"example.com", 59}};

struct Pkt {
    ldns_pkt* p = nullptr;
    explicit Pkt(const std::vector<uint8_t>& wire) { REQUIRE(ldns_wire2pkt(&p, wire.data(), wire.size()) == LDNS_STATUS_OK); }
    ~Pkt() { ldns_pkt_free(p); }
};

// The reply's wire with each RRSIG's signature field zeroed: two Views that signed the
// same data apart (an ECDSA signature differs each time one is made) compare equal in
// everything else, the RRSIGs' other fields and the sizes included.
std::vector<uint8_t> signatures_zeroed(const Reply& r) {
    std::vector<uint8_t> w = r.wire;
    for (auto* section : {&r.answer, &r.authority, &r.additional})
        for (const std::string& rr : *section) {
            std::istringstream in(rr);
            std::string owner, ttl, cls, type, field, last;
            in >> owner >> ttl >> cls >> type;
            if (type != "RRSIG") continue;
            while (in >> field) last = field;
            auto sig = dnssec::base64_decode(last);
            REQUIRE(sig);
            REQUIRE(sig->size() >= 32);
            auto at = std::search(w.begin(), w.end(), sig->begin(), sig->end(),
                                  [](uint8_t a, char b) { return a == uint8_t(b); });
            REQUIRE(at != w.end());
            std::fill_n(at, sig->size(), uint8_t(0));
        }
    return w;
}

// Every RRSIG in `list` verifies over the RRset it covers with `keys`.
void verify_sigs(ldns_rr_list* list, ldns_rr_list* keys, const std::string& what) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
        ldns_rr* sig = ldns_rr_list_rr(list, i);
        if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG) continue;
        ldns_rr_type covered = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
        ldns_rr_list* set = ldns_rr_list_new();
        for (size_t j = 0; j < ldns_rr_list_rr_count(list); ++j) {
            ldns_rr* rr = ldns_rr_list_rr(list, j);
            if (ldns_rr_get_type(rr) == covered && ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(sig)) == 0)
                ldns_rr_list_push_rr(set, rr);
        }
        ldns_rr_list* good = ldns_rr_list_new();
        ldns_status s = ldns_verify_rrsig_keylist(set, sig, keys, good);
        CHECK_MESSAGE(s == LDNS_STATUS_OK, what, ": RRSIG over type ", int(covered), ": ", ldns_get_errorstr_by_id(s));
        CHECK(ldns_rr_list_rr_count(set) > 0);
        ldns_rr_list_free(good);
        ldns_rr_list_free(set);
    }
}

}  // namespace

// Views built one after another from one catalog, as the daemon builds them: each
// with the one before as ViewOptions::previous and one signature cache. A `fresh` View
// has no View before and a cache of its own: it signs everything itself.
struct Chain {
    std::shared_ptr<const zones::Catalog> catalog;
    std::shared_ptr<dns::SignatureCache> cache = std::make_shared<dns::SignatureCache>();
    std::shared_ptr<dns::SignatureCache> fresh_cache = std::make_shared<dns::SignatureCache>();
    std::shared_ptr<const dns::View> last;
    int64_t now = int64_t(std::time(nullptr));
    std::size_t budget = SIZE_MAX;

    explicit Chain(const std::string& extra = "") : catalog(load(true, extra)) {}
    std::shared_ptr<const dns::View> next(const std::vector<policy::Evaluation>& evs, bool fresh = false) {
        dns::ViewOptions o;
        o.signing = csk();
        o.signatures = fresh ? fresh_cache : cache;
        o.now_unix = now;
        o.state_signature_budget = budget;
        if (!fresh) o.previous = last;
        auto v = dns::build_view(catalog, evs, 1, o);
        if (!fresh) last = v;
        return v;
    }
};

QueryOptions with_do() {
    QueryOptions o;
    o.edns = true;
    o.do_bit = true;
    return o;
}

TEST_CASE("signing: without DO a signed zone answers byte for byte as unsigned (DNSKEY, CDS aside)") {
    auto plain = view(false, primary()), sig = view(true, primary());
    for (const Q& q : kQueries) {
        if (q.type == 48 || q.type == 59) continue;
        for (bool edns : {false, true}) {
            CAPTURE(q.name);
            CAPTURE(q.type);
            CAPTURE(edns);
            QueryOptions o;
            o.edns = edns;
            auto a = ask(*plain, make_query(q.name, q.type, o)), b = ask(*sig, make_query(q.name, q.type, o));
            CHECK(a.wire == b.wire);
        }
    }
}

TEST_CASE("signing: with DO every RRSIG verifies and every denial is proven, in each state") {
    for (auto evs : {primary(), secondary()}) {
        auto v = view(true, evs);
        QueryOptions o;
        o.edns = true;
        o.do_bit = true;
        Pkt keys_pkt(ask(*v, make_query("example.com", 48, o)).wire);
        ldns_rr_list* keys = ldns_pkt_rr_list_by_type(keys_pkt.p, LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);
        REQUIRE(keys);
        CHECK(ldns_rr_list_rr_count(keys) == 1);
        for (const Q& q : kQueries) {
            const std::string what = std::string(q.name) + "/" + std::to_string(q.type);
            CAPTURE(what);
            auto r = ask(*v, make_query(q.name, q.type, o));
            REQUIRE(r.ok);
            CHECK_FALSE(r.tc);
            CHECK(r.opt_do);
            Pkt p(r.wire);
            verify_sigs(ldns_pkt_answer(p.p), keys, what);
            verify_sigs(ldns_pkt_authority(p.p), keys, what);
            // Negative answers (and referrals without DS) carry NSECs that deny the question.
            bool negative = r.rcode == 3 || (r.rcode == 0 && r.answer.empty());
            ldns_rr_list* nsecs = ldns_pkt_rr_list_by_type(p.p, LDNS_RR_TYPE_NSEC, LDNS_SECTION_AUTHORITY);
            ldns_rr_list* sigs = ldns_pkt_rr_list_by_type(p.p, LDNS_RR_TYPE_RRSIG, LDNS_SECTION_AUTHORITY);
            if (negative && r.aa && std::string(q.name) == "below.example.com") {
                // An empty non-terminal (deep.below exists): the NSEC that covers it has a
                // next name below it (RFC 4035 3.1.3.2 with RFC 4592 2.2.2). ldns's
                // ldns_dnssec_verify_denial does not know this case (it asks for the
                // wildcard's absence); Unbound validates it (test_dnssec_validation).
                REQUIRE(nsecs);
                REQUIRE(ldns_rr_list_rr_count(nsecs) == 1);
                ldns_rr* n = ldns_rr_list_rr(nsecs, 0);
                ldns_rdf* qn = ldns_dname_new_frm_str("below.example.com.");
                CHECK(ldns_dname_compare(ldns_rr_owner(n), qn) < 0);
                CHECK(ldns_dname_is_subdomain(ldns_rr_rdf(n, 0), qn));
                ldns_rdf_deep_free(qn);
            } else if (negative && r.aa) {
                REQUIRE(nsecs);
                ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(p.p), 0);
                ldns_status s = ldns_dnssec_verify_denial(question, nsecs, sigs);
                CHECK_MESSAGE(s == LDNS_STATUS_OK, what, ": ", ldns_get_errorstr_by_id(s));
            }
            // Wildcard answers prove the name itself does not exist.
            if (std::string(q.name) == "a.b.c.example.com" && q.type == 1) CHECK(nsecs);
            ldns_rr_list_deep_free(nsecs);
            ldns_rr_list_deep_free(sigs);
        }
        ldns_rr_list_deep_free(keys);
    }
}

TEST_CASE("signing: a failover and a failback sign nothing, signatures are made again at refresh") {
    Chain chain;
    const int64_t t0 = chain.now;
    chain.next(primary());
    const uint64_t first = chain.cache->signatures_made();
    CHECK(first > 20);
    // The static RRsets, the NSEC chain and the presigned sets are the SignedZone's, not
    // the cache's: it keeps the apex's own sets and the state TXT.
    CHECK(chain.cache->size() < 10);
    chain.now = t0 + 1;
    chain.next(secondary());  // failover: each pool's set was signed ahead
    std::vector<policy::Evaluation> down{
        evaluation({variant({"192.0.2.10", "2001:db8::10", "198.51.100.10"})}, "all-down", "every pool down", 5)};
    chain.now = t0 + 2;
    chain.next(down);  // all down: every pool's addresses together, signed ahead too
    chain.now = t0 + 3;
    chain.next(primary());
    // Only the state TXT is new in each state: its text says why (failover:secondary,
    // all-down) and is signed when it first appears; back on the primary it is cached.
    CHECK(chain.cache->signatures_made() == first + 2);
    // 14 days' lifetime, 7 days' refresh (the defaults): 7 days on, every signature used is made again.
    const int64_t later = t0 + 7 * 86400 + 10;
    chain.now = later;
    auto refreshed = chain.next(primary());
    CHECK(chain.cache->signatures_made() >= 2 * first);
    CHECK(chain.cache->earliest_expiration() >= later + 14 * 86400 - 10);
    // Every signature served was made again: each expires a whole lifetime after `later`.
    std::size_t seen = 0;
    for (const Q& q : kQueries) {
        CAPTURE(q.name);
        CAPTURE(q.type);
        Pkt p(ask(*refreshed, make_query(q.name, q.type, with_do())).wire);
        for (ldns_rr_list* list : {ldns_pkt_answer(p.p), ldns_pkt_authority(p.p)})
            for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
                ldns_rr* rr = ldns_rr_list_rr(list, i);
                if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG) continue;
                ++seen;
                CHECK(int64_t(ldns_rdf2native_int32(ldns_rr_rrsig_expiration(rr))) == later + 14 * 86400);
            }
    }
    CHECK(seen > 20);
}

TEST_CASE("signing: an NSEC at a service owner shows the types it answers now, also when it only covers a name") {
    QueryOptions o;
    o.edns = true;
    o.do_bit = true;
    auto nsec_of = [&](const dns::View& v, const char* qname, uint16_t type, const std::string& owner) {
        for (auto& rr : ask(v, make_query(qname, type, o)).authority)
            if (rr.rfind(owner + " ", 0) == 0 && rr.find(" IN NSEC ") != std::string::npos) return rr;
        return std::string();
    };
    // The wildcard's NSEC covers nx._signpost (NXDOMAIN): with the primary (A and
    // AAAA) it says both; with the secondary (A only) just A.
    auto p = view(true, primary()), s = view(true, secondary());
    CHECK(nsec_of(*p, "nx._signpost.example.com", 1, "*.example.com.") ==
          "*.example.com. 300 IN NSEC site._signpost.example.com. A AAAA RRSIG NSEC");
    CHECK(nsec_of(*s, "nx._signpost.example.com", 1, "*.example.com.") ==
          "*.example.com. 300 IN NSEC site._signpost.example.com. A RRSIG NSEC");
    // NODATA at a service owner: its NSEC lasts as long as the SOA, the service's TTL.
    CHECK(nsec_of(*s, "www.example.com", 28, "www.example.com.") == "www.example.com. 5 IN NSEC example.com. A RRSIG NSEC");
}

// --- NSEC3 (denial = "nsec3") ---------------------------------------------------------

namespace {

// The NSEC3 owner name of `n` in the answer's chain (hashed with the first NSEC3's
// parameters), by ldns: independent of dnssec/sha1.cpp and nsec3_hash.
struct Nsec3Check {
    ldns_rr_list* nsec3s;
    ldns_rdf* hashed(const std::string& n) const {
        ldns_rdf* d = ldns_dname_new_frm_str(n.c_str());
        ldns_rdf* h = ldns_nsec3_hash_name_frm_nsec3(ldns_rr_list_rr(nsec3s, 0), d);
        ldns_rdf* zone = ldns_dname_new_frm_str("example.com.");
        (void)ldns_dname_cat(h, zone);
        ldns_rdf_deep_free(zone);
        ldns_rdf_deep_free(d);
        return h;
    }
    // The NSEC3 whose owner is n's hash, or null.
    ldns_rr* matching(const std::string& n) const {
        ldns_rdf* h = hashed(n);
        ldns_rr* found = nullptr;
        for (size_t i = 0; i < ldns_rr_list_rr_count(nsec3s); ++i)
            if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(nsec3s, i)), h) == 0) found = ldns_rr_list_rr(nsec3s, i);
        ldns_rdf_deep_free(h);
        return found;
    }
    // Some NSEC3 covers n's hash (strictly between owner and next).
    bool covered(const std::string& n) const {
        ldns_rdf* h = hashed(n);
        bool yes = false;
        for (size_t i = 0; i < ldns_rr_list_rr_count(nsec3s); ++i)
            yes |= ldns_nsec_covers_name(ldns_rr_list_rr(nsec3s, i), h) &&
                   ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(nsec3s, i)), h) != 0;
        ldns_rdf_deep_free(h);
        return yes;
    }
    bool has_type(ldns_rr* rr, ldns_rr_type t) const {
        ldns_rdf* bitmap = ldns_nsec3_bitmap(rr);
        return bitmap && ldns_nsec_bitmap_covers_type(bitmap, t);
    }
};

}  // namespace

TEST_CASE("signing NSEC3: without DO the answers are the unsigned zone's, byte for byte") {
    for (const std::string& extra : {kNsec3, kNsec3Salted}) {
        auto plain = view(false, primary()), sig = view(true, primary(), nullptr, 0, extra);
        for (const Q& q : kQueries) {
            if (q.type == 48 || q.type == 59) continue;
            for (bool edns : {false, true}) {
                CAPTURE(q.name);
                CAPTURE(q.type);
                QueryOptions o;
                o.edns = edns;
                auto a = ask(*plain, make_query(q.name, q.type, o)), b = ask(*sig, make_query(q.name, q.type, o));
                CHECK(a.wire == b.wire);
            }
        }
    }
}

TEST_CASE("signing NSEC3: with DO every RRSIG verifies and every denial is proven (RFC 5155 7.2), in each state") {
    for (const std::string& extra : {kNsec3, kNsec3Salted}) {
        for (auto evs : {primary(), secondary()}) {
            const bool primary_state = evs[0].decision.variants[0].v6.size() > 0;
            CAPTURE(extra);
            CAPTURE(primary_state);
            auto v = view(true, evs, nullptr, 0, extra);
            QueryOptions o;
            o.edns = true;
            o.do_bit = true;
            Pkt keys_pkt(ask(*v, make_query("example.com", 48, o)).wire);
            ldns_rr_list* keys = ldns_pkt_rr_list_by_type(keys_pkt.p, LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);
            REQUIRE(keys);
            std::vector<Q> queries(std::begin(kQueries), std::end(kQueries));
            queries.push_back({"example.com", 51});       // NSEC3PARAM
            queries.push_back({"below.example.com", 1});  // an empty non-terminal
            queries.push_back({"deep.below.example.com", 28});
            queries.push_back({"nx.example.com", 16});    // the wildcard: TXT at *.example.com is NODATA
            for (const Q& q : queries) {
                const std::string what = std::string(q.name) + "/" + std::to_string(q.type);
                CAPTURE(what);
                auto r = ask(*v, make_query(q.name, q.type, o));
                REQUIRE(r.ok);
                CHECK_FALSE(r.tc);
                Pkt p(r.wire);
                verify_sigs(ldns_pkt_answer(p.p), keys, what);
                verify_sigs(ldns_pkt_authority(p.p), keys, what);
                CHECK_FALSE(ldns_pkt_rr_list_by_type(p.p, LDNS_RR_TYPE_NSEC, LDNS_SECTION_AUTHORITY));
                ldns_rr_list* nsec3s = ldns_pkt_rr_list_by_type(p.p, LDNS_RR_TYPE_NSEC3, LDNS_SECTION_AUTHORITY);
                ldns_rr_list* sigs = ldns_pkt_rr_list_by_type(p.p, LDNS_RR_TYPE_RRSIG, LDNS_SECTION_AUTHORITY);
                ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(p.p), 0);
                const std::string qn = std::string(q.name) + ".";
                const bool negative = r.rcode == 3 || (r.rcode == 0 && r.answer.empty());
                const bool wildcard = qn == "a.b.c.example.com." || qn == "nx.example.com.";
                if (q.type == 51) {
                    REQUIRE(r.answer.size() == 2);  // NSEC3PARAM and its RRSIG
                    CHECK(r.answer[0] == "example.com. 300 IN NSEC3PARAM 1 0 0 " +
                                             std::string(extra == kNsec3 ? "-" : "aabbccdd"));
                }
                if (negative && !r.aa && qn == "host.secure.example.com.") {
                    CHECK_FALSE(nsec3s);  // a signed delegation: its DS, signed, says it all
                } else if (negative && !r.aa) {
                    // An unsigned delegation (RFC 5155 7.2.7): the cut's NSEC3, NS and no DS.
                    REQUIRE(nsec3s);
                    Nsec3Check c{nsec3s};
                    ldns_rr* cut = c.matching("unsigned.example.com.");
                    REQUIRE(cut);
                    CHECK(c.has_type(cut, LDNS_RR_TYPE_NS));
                    CHECK_FALSE(c.has_type(cut, LDNS_RR_TYPE_DS));
                    CHECK_FALSE(c.has_type(cut, LDNS_RR_TYPE_SOA));
                    CHECK(ldns_rr_list_rr_count(nsec3s) == 1);
                } else if (negative && wildcard) {
                    // Wildcard NODATA (7.2.5): the closest encloser (the apex), the next
                    // closer name covered, the wildcard's own NSEC3 without the type.
                    REQUIRE(nsec3s);
                    Nsec3Check c{nsec3s};
                    CHECK(c.matching("example.com."));
                    CHECK(c.covered(qn == "nx.example.com." ? "nx.example.com." : "c.example.com."));
                    ldns_rr* wc = c.matching("*.example.com.");
                    REQUIRE(wc);
                    CHECK_FALSE(c.has_type(wc, ldns_rr_type(q.type)));
                    CHECK(ldns_rr_list_rr_count(nsec3s) <= 3);  // one may match and cover
                } else if (negative) {
                    REQUIRE(nsec3s);
                    ldns_status s;
                    {
#if defined(__SANITIZE_ADDRESS__)
                        // ldns 1.8.3's ldns_dnssec_verify_denial_nsec3_match leaks the
                        // hashed names it makes (valgrind: ldns_nsec3_hash_name_frm_nsec3
                        // from it, never freed); not ours to report.
                        __lsan::ScopedDisabler ldns_leaks;
#endif
                        s = ldns_dnssec_verify_denial_nsec3(question, nsec3s, sigs, static_cast<ldns_pkt_rcode>(r.rcode),
                                                            ldns_rr_type(q.type), r.rcode == 0);
                    }
                    CHECK_MESSAGE(s == LDNS_STATUS_OK, what, ": ", ldns_get_errorstr_by_id(s));
                    Nsec3Check c{nsec3s};
                    if (r.rcode == 3) {
                        // 7.2.2: closest encloser matched, next closer and *.encloser covered.
                        const std::string ce = qn == "x.deep.below.example.com." ? "deep.below.example.com."
                                               : qn == "nx._signpost.example.com." ? "_signpost.example.com."
                                                                                     : "example.com.";
                        CHECK(c.matching(ce));
                        CHECK(c.covered("*." + ce));
                        CHECK(ldns_rr_list_rr_count(nsec3s) <= 3);  // one may match and cover
                    } else {
                        // 7.2.3/7.2.4: the name's own NSEC3, without the type (an empty
                        // non-terminal's has no types at all).
                        ldns_rr* own = c.matching(qn);
                        REQUIRE(own);
                        CHECK_FALSE(c.has_type(own, ldns_rr_type(q.type)));
                        CHECK(ldns_rr_list_rr_count(nsec3s) == 1);
                        if (qn == "below.example.com.") {
                            ldns_rdf* bitmap = ldns_nsec3_bitmap(own);
                            CHECK((!bitmap || ldns_rdf_size(bitmap) == 0));
                        }
                    }
                } else if (wildcard) {
                    // A wildcard answer (7.2.6): the NSEC3 covering the next closer name.
                    REQUIRE(nsec3s);
                    Nsec3Check c{nsec3s};
                    CHECK(c.covered("c.example.com."));
                    CHECK(ldns_rr_list_rr_count(nsec3s) == 1);
                } else {
                    CHECK_FALSE(nsec3s);
                }
                ldns_rr_list_deep_free(nsec3s);
                ldns_rr_list_deep_free(sigs);
            }
            ldns_rr_list_deep_free(keys);
        }
    }
}

TEST_CASE("signing NSEC3: the NSEC3 of a service owner shows the types it answers now") {
    QueryOptions o;
    o.edns = true;
    o.do_bit = true;
    auto nsec3s_of = [&](const dns::View& v, const char* qname, uint16_t type) {
        std::vector<std::string> out;
        for (auto& rr : ask(v, make_query(qname, type, o)).authority)
            if (rr.find(" IN NSEC3 ") != std::string::npos) out.push_back(rr);
        return out;
    };
    auto ends_with = [](const std::string& s, const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    auto p = view(true, primary(), nullptr, 0, kNsec3), s = view(true, secondary(), nullptr, 0, kNsec3);
    // NODATA at a service owner: its NSEC3 lasts as long as the SOA, the service's TTL.
    auto www = nsec3s_of(*s, "www.example.com", 28);
    REQUIRE(www.size() == 1);
    CHECK(www[0].find(".example.com. 5 IN NSEC3 1 0 0 - ") != std::string::npos);
    CHECK(ends_with(www[0], " A RRSIG"));
    // The apex: its own types, the state's addresses and NSEC3PARAM.
    auto apex = nsec3s_of(*s, "example.com", 28);
    REQUIRE(apex.size() == 1);
    CHECK(ends_with(apex[0], " A NS SOA MX RRSIG DNSKEY NSEC3PARAM CDS CDNSKEY"));
    // A static owner's NSEC3: its types and RRSIG.
    auto mail = nsec3s_of(*p, "mail.example.com", 28);
    REQUIRE(mail.size() == 1);
    CHECK(ends_with(mail[0], " A TXT RRSIG"));
}

TEST_CASE("signing NSEC3: a failover signs nothing new but the state TXT") {
    Chain chain(kNsec3);
    const int64_t t0 = chain.now;
    chain.next(primary());
    const uint64_t first = chain.cache->signatures_made();
    chain.now = t0 + 1;
    chain.next(secondary());
    chain.now = t0 + 2;
    chain.next(primary());
    CHECK(chain.cache->signatures_made() == first + 1);
}

// Key timing (dnssec/rollover.hpp) in the View: a pre-published ZSK is in the DNSKEY set
// and signs nothing; a KSK waiting for its DS is in DNSKEY and CDS and signs nothing;
// once active they sign, and a retired key's signatures are gone.
TEST_CASE("signing: the View signs with the keys the timing says, and publishes the others") {
    const int64_t now = std::time(nullptr);
    auto key = [&](uint16_t flags, dnssec::KeyRole role, dnssec::KeyTiming t) {
        return dnssec::ZoneKey{"test", role,
                               dnssec::Signer(name("example.com."), flags,
                                              dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256)),
                               0, t, {}};
    };
    dnssec::KeyTiming old_t, zsk_t, ksk_t, new_ksk_t;
    old_t.publish = old_t.activate = now - 1000;
    old_t.inactive = now + 100;
    old_t.remove = now + 200;
    zsk_t.publish = now - 10;
    zsk_t.activate = now + 100;
    ksk_t.publish = ksk_t.activate = now - 1000;
    new_ksk_t.publish = new_ksk_t.sync_publish = now - 5;  // waiting for ds-seen
    dnssec::ZoneKeys all;
    all.zone = name("example.com.");
    all.complete = true;
    all.keys.push_back(key(dnssec::kSepKeyFlags, dnssec::KeyRole::Ksk, ksk_t));
    all.keys.push_back(key(dnssec::kZoneKeyFlags, dnssec::KeyRole::Zsk, old_t));
    all.keys.push_back(key(dnssec::kZoneKeyFlags, dnssec::KeyRole::Zsk, zsk_t));
    all.keys.push_back(key(dnssec::kSepKeyFlags, dnssec::KeyRole::Ksk, new_ksk_t));
    const uint16_t ksk = all.keys[0].signer.key_tag(), old_zsk = all.keys[1].signer.key_tag(),
                   new_zsk = all.keys[2].signer.key_tag();
    auto tags = [](const Reply& r, uint16_t covered) {
        std::vector<uint16_t> out;
        Pkt p(r.wire);
        ldns_rr_list* list = ldns_pkt_answer(p.p);
        for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(list, i);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
                ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == covered)
                out.push_back(ldns_rdf2native_int16(ldns_rr_rrsig_keytag(rr)));
        }
        std::sort(out.begin(), out.end());
        return out;
    };
    auto count = [](const Reply& r, ldns_rr_type type) {
        Pkt p(r.wire);
        ldns_rr_list* l = ldns_pkt_rr_list_by_type(p.p, type, LDNS_SECTION_ANSWER);
        size_t n = l ? ldns_rr_list_rr_count(l) : 0;
        if (l) ldns_rr_list_deep_free(l);
        return n;
    };
    QueryOptions o;
    o.edns = true;
    o.do_bit = true;
    for (int64_t at : {now, now + 100, now + 200}) {
        CAPTURE(at - now);
        auto k = std::make_shared<dns::SigningKeys>();
        k->emplace(all.zone.wire(), all.at(at));
        dns::ViewOptions vo;
        vo.signing = k;
        vo.now_unix = at;
        auto v = dns::build_view(load(true, "keys = \"ksk+zsk\"\n"), primary(), 1, vo);
        auto www = ask(*v, make_query("www.example.com", 1, o));
        auto keys = ask(*v, make_query("example.com", 48, o));
        auto cds = ask(*v, make_query("example.com", 59, o));
        CHECK(tags(keys, 48) == std::vector<uint16_t>{ksk});  // the waiting KSK signs nothing
        CHECK(count(cds, LDNS_RR_TYPE_CDS) == 2);            // both DS wanted
        CHECK(count(keys, LDNS_RR_TYPE_DNSKEY) == (at < now + 200 ? 4u : 3u));
        CHECK(tags(www, 1) == std::vector<uint16_t>{at < now + 100 ? old_zsk : new_zsk});
    }
}

namespace {


std::string state_txt(const dns::View& v) {
    auto r = ask(v, make_query("site._signpost.example.com", 16, with_do()));
    for (auto& rr : r.answer)
        if (rr.find(" IN TXT ") != std::string::npos) return rr;
    return "";
}

}  // namespace

// A View built after another of the same zone and keys takes over what that one
// signed (the static RRsets' signatures, the NSEC chain, the presigned address sets):
// its answers are byte for byte those of a View built afresh, but for the signatures'
// own bytes (made again there: ECDSA differs each time).
TEST_CASE("signing: a View built after another reuses its signing and answers as one built afresh") {
    for (const std::string& extra : {std::string(), kNsec3}) {
        CAPTURE(extra);
        Chain chain(extra);
        chain.next(primary());
        const uint64_t first = chain.cache->signatures_made();
        for (auto evs : {secondary(), primary(), secondary()}) {
            auto reused = chain.next(evs);
            // The same state again: every answer is copied from the View before, none rendered.
            auto again = chain.next(evs);
            CHECK(dns::prerender_counts(*again).rendered == 0);
            CHECK(dns::prerender_counts(*again).copied > 0);
            auto fresh = chain.next(evs, true);
            for (const Q& q : kQueries) {
                CAPTURE(q.name);
                CAPTURE(q.type);
                auto b = signatures_zeroed(ask(*fresh, make_query(q.name, q.type, with_do())));
                auto r = ask(*reused, make_query(q.name, q.type, with_do()));
                CHECK(signatures_zeroed(r) == b);
                CHECK(ask(*again, make_query(q.name, q.type, with_do())).wire == r.wire);
            }
        }
        // Only the secondary's state TXT was new.
        CHECK(chain.cache->signatures_made() == first + 1);
        CHECK(chain.cache->earliest_expiration() > chain.now + 13 * 86400);
    }
}

// A View built after another of the same catalog takes over its nodes (names, index,
// RRsets) but for its own RRsets; with other keys (a rollover step) or keys where there
// were none, the apex's key sets differ, and the zone is built afresh.
TEST_CASE("signing: a View after another with other keys publishes and signs with its own") {
    auto catalog = load(true);
    auto other = new_csk("other");
    auto cache = std::make_shared<dns::SignatureCache>();
    auto build = [&](std::shared_ptr<const dns::SigningKeys> keys, std::shared_ptr<const dns::View> previous) {
        dns::ViewOptions o;
        o.signing = std::move(keys);
        o.signatures = cache;
        o.previous = std::move(previous);
        return dns::build_view(catalog, primary(), 1, o);
    };
    auto unsigned_view = build(nullptr, nullptr);
    auto first = build(csk(), unsigned_view);    // keys where there were none
    auto second = build(other, first);           // other keys
    auto same = build(other, second);            // the same keys: the nodes are taken over
    CHECK(first->owned_names_ != unsigned_view->owned_names_);
    CHECK(second->owned_names_ != first->owned_names_);
    CHECK(same->owned_names_ == second->owned_names_);
    for (auto& [v, keys] : {std::pair{first, csk()}, std::pair{second, other}, std::pair{same, other}}) {
        auto fresh = build(keys, nullptr);
        for (const Q& q : kQueries) {
            CAPTURE(q.name);
            CAPTURE(q.type);
            CHECK(signatures_zeroed(ask(*v, make_query(q.name, q.type, with_do()))) ==
                  signatures_zeroed(ask(*fresh, make_query(q.name, q.type, with_do()))));
        }
    }
    // The DNSKEY published is the key that signs.
    auto dnskey = ask(*second, make_query("example.com", 48, with_do()));
    REQUIRE(dnskey.answer.size() == 2);
    CHECK(dnskey.answer[0] != ask(*first, make_query("example.com", 48, with_do())).answer[0]);
}

// Over ViewOptions::state_signature_budget the addresses flip at once and the state
// TXT keeps its previous text, still signed; sign_pending() signs the new text and
// the next View serves it.
TEST_CASE("signing: over the budget a state TXT keeps its signed previous text until sign_pending") {
    Chain chain;
    chain.budget = 0;
    auto up = chain.next(primary());  // nothing before it: signed whatever the budget
    CHECK(dns::pending_signatures(*up) == 0);
    CHECK(state_txt(*up).find("\"primary\"") != std::string::npos);
    auto flipped = chain.next(secondary());
    CHECK(dns::pending_signatures(*flipped) == 1);
    auto r = ask(*flipped, make_query("www.example.com", 1, with_do()));
    REQUIRE(r.answer.size() == 2);
    CHECK(r.answer[0].find("198.51.100.10") != std::string::npos);
    CHECK(state_txt(*flipped).find("\"primary\"") != std::string::npos);
    // The TXT served is the one its RRSIG covers.
    {
        Pkt keys_pkt(ask(*flipped, make_query("example.com", 48, with_do())).wire);
        ldns_rr_list* keys = ldns_pkt_rr_list_by_type(keys_pkt.p, LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);
        REQUIRE(keys);
        Pkt p(ask(*flipped, make_query("site._signpost.example.com", 16, with_do())).wire);
        CHECK(ldns_rr_list_rr_count(ldns_pkt_answer(p.p)) == 2);
        verify_sigs(ldns_pkt_answer(p.p), keys, "state TXT");
        ldns_rr_list_deep_free(keys);
    }
    const uint64_t before = chain.cache->signatures_made();
    CHECK(dns::sign_pending(*flipped, *chain.cache, 0, 10) == 1);
    CHECK(chain.cache->signatures_made() == before + 1);
    chain.budget = 1;  // the View after sign_pending: its budget covers what was signed
    auto followed = chain.next(secondary());
    CHECK(dns::pending_signatures(*followed) == 0);
    CHECK(state_txt(*followed).find("\"failover:secondary\"") != std::string::npos);
    CHECK(chain.cache->signatures_made() == before + 1);
    // Back within the budget: the primary's text is in the cache, served at once.
    auto back = chain.next(primary());
    CHECK(dns::pending_signatures(*back) == 0);
    CHECK(state_txt(*back).find("\"primary\"") != std::string::npos);
    CHECK(chain.cache->signatures_made() == before + 1);
}

// DO=1 answers at a name itself are pre-rendered with their RRSIGs (the fast path);
// every DO=1 answer, pre-rendered or not, is the general renderer's, byte for byte.
TEST_CASE("signing: DO=1 answers from the fast path are the general renderer's") {
    for (const std::string& extra : {std::string(), kNsec3}) {
        CAPTURE(extra);
        auto catalog = load(true, extra);
        auto cache = std::make_shared<dns::SignatureCache>();
        for (auto evs : {primary(), secondary()}) {
            dns::ViewOptions o;
            o.signing = csk();
            o.signatures = cache;
            o.now_unix = int64_t(std::time(nullptr));
            auto fast = dns::build_view(catalog, evs, 1, o);
            o.prerender = false;
            o.previous = fast;  // its signatures: the same bytes
            auto slow = dns::build_view(catalog, evs, 1, o);
            // The fast View holds www's A with DO: the blob after the unsigned ones, A and RRSIG.
            {
                const auto& z = fast->zones_.at(0);
                const std::string www(name("www.example.com.").wire());
                const auto* n = z.find(reinterpret_cast<const uint8_t*>(www.data()), www.size());
                REQUIRE(n);
                const dns::detail::FastType* a = nullptr;
                for (unsigned i = 0; i < n->fast_count; ++i)
                    if (fast->fast_types_[n->fast_first + i].type == 1) a = &fast->fast_types_[n->fast_first + i];
                REQUIRE(a);
                REQUIRE(a->count > 0);
                REQUIRE(a->blob + 2u * a->count <= fast->blobs_.size());
                CHECK(fast->blobs_[a->blob + a->count].an == 2);
                CHECK(fast->blobs_[a->blob].an == 1);
                // The RRSIG is not in the arena: the DO=1 blob splices in the one copy of
                // the signature (detail::Splice); the DO=0 blob has nothing to splice.
                auto splices = fast->splices_of(&fast->blobs_[a->blob + a->count]);
                REQUIRE(splices.size() == 1);
                CHECK(splices[0].rrsig.size() > 64);  // ECDSA P-256: an 18-byte head, the signer, 64 bytes
                CHECK(splices[0].at <= fast->blobs_[a->blob + a->count].len);  // last: at == len
                CHECK(fast->splices_of(&fast->blobs_[a->blob]).empty());
                CHECK(fast->blob_splices_.size() == fast->blobs_.size());
                CHECK(slow->splices_.empty());
            }
            for (const Q& q : kQueries) {
                for (bool tcp : {false, true}) {
                    CAPTURE(q.name);
                    CAPTURE(q.type);
                    CAPTURE(tcp);
                    auto a = ask(*fast, make_query(q.name, q.type, with_do()), tcp);
                    auto b = ask(*slow, make_query(q.name, q.type, with_do()), tcp);
                    CHECK(a.wire == b.wire);
                }
            }
            // A client that takes only 512 bytes: the large ones are truncated alike.
            QueryOptions small = with_do();
            small.udp_size = 512;
            for (const Q& q : kQueries) {
                CAPTURE(q.name);
                CAPTURE(q.type);
                CHECK(ask(*fast, make_query(q.name, q.type, small)).wire ==
                      ask(*slow, make_query(q.name, q.type, small)).wire);
            }
        }
    }
}

// Explain shows a signed zone's answer as validating resolvers get it (DO=1: RRSIGs,
// NSEC proofs) and names the keys that sign.
TEST_CASE("signing: explain shows the RRSIGs and the signing keys of a signed zone") {
    auto catalog = load(true);
    dns::ViewOptions o;
    o.signing = csk();
    auto v = dns::build_view(catalog, primary(), 1, o);
    auto evs = primary();
    dns::ExplainQuery q;
    q.name = name("www.example.com.");
    q.client = *core::IpAddress::parse("192.0.2.1");
    auto lines = dns::explanation_lines(dns::explain(*catalog, evs, {}, *v, q), q);
    const std::string tag = std::to_string(csk()->begin()->second.keys[0].signer.key_tag());
    auto has = [&](const std::string& part) {
        return std::any_of(lines.begin(), lines.end(), [&](auto& l) { return l.find(part) != std::string::npos; });
    };
    CAPTURE(lines);
    CHECK(has("answer www.example.com. 30 IN A 192.0.2.10"));
    CHECK(has("answer www.example.com. 30 IN RRSIG A 13 3 30 "));
    CHECK(has("signed: NSEC, signing keys " + tag + " (CSK); answered as to a DO=1 query, with its RRSIGs"));
    q.name = name("nothing._signpost.example.com.");
    lines = dns::explanation_lines(dns::explain(*catalog, evs, {}, *v, q), q);
    CHECK(has(" IN NSEC "));
    // An unsigned zone is explained as before: no RRSIG, no signing line.
    auto plain = view(false, primary());
    q.name = name("www.example.com.");
    lines = dns::explanation_lines(dns::explain(*load(false), evs, {}, *plain, q), q);
    CHECK_FALSE(has("RRSIG"));
    CHECK_FALSE(has("signed:"));
}

// A reload makes a new catalog: the View after it signs its own answers, even when
// built with the View before (whose presigned sets had the old addresses).
TEST_CASE("signing: after a reload nothing signed for the catalog before is reused") {
    auto cache = std::make_shared<dns::SignatureCache>();
    dns::ViewOptions o;
    o.signing = csk();
    o.signatures = cache;
    auto before = dns::build_view(load(true), secondary(), 1, o);
    std::string text = kZone;
    text.replace(text.find("198.51.100.10"), 13, "198.51.100.77");
    auto r = zones::load_text(text + "[dnssec]\nsign = true\n", "example.com.toml");
    REQUIRE(r.catalog);
    o.previous = before;
    std::vector<policy::Evaluation> moved{
        evaluation({variant({"198.51.100.77"})}, "failover:secondary", "primary down", 5)};
    auto after = dns::build_view(r.catalog, moved, 2, o);
    Pkt keys_pkt(ask(*after, make_query("example.com", 48, with_do())).wire);
    ldns_rr_list* keys = ldns_pkt_rr_list_by_type(keys_pkt.p, LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);
    REQUIRE(keys);
    for (const char* qname : {"www.example.com", "example.com", "a.b.c.example.com"}) {
        CAPTURE(qname);
        auto reply = ask(*after, make_query(qname, 1, with_do()));
        REQUIRE(reply.answer.size() == 2);
        CHECK(reply.answer[0].find("198.51.100.77") != std::string::npos);
        Pkt p(reply.wire);
        verify_sigs(ldns_pkt_answer(p.p), keys, qname);
    }
    // Static records too: their signatures are found for the new catalog's RRsets.
    auto ns1 = ask(*after, make_query("ns1.example.com", 1, with_do()));
    CHECK(ns1.answer.size() == 2);
    ldns_rr_list_deep_free(keys);
}

// Every RRSIG a View serves for kQueries verifies with its DNSKEY set (ldns); returns
// how many it saw.
std::size_t verify_all(const dns::View& v) {
    Pkt keys_pkt(ask(v, make_query("example.com", 48, with_do())).wire);
    ldns_rr_list* keys = ldns_pkt_rr_list_by_type(keys_pkt.p, LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);
    REQUIRE(keys);
    std::size_t seen = 0;
    for (const Q& q : kQueries) {
        Pkt p(ask(v, make_query(q.name, q.type, with_do())).wire);
        for (ldns_rr_list* list : {ldns_pkt_answer(p.p), ldns_pkt_authority(p.p)}) {
            verify_sigs(list, keys, q.name);
            for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i)
                seen += ldns_rr_get_type(ldns_rr_list_rr(list, i)) == LDNS_RR_TYPE_RRSIG;
        }
    }
    ldns_rr_list_deep_free(keys);
    return seen;
}

// A reload (a new catalog: no SignedZone is taken over) finds each signature whose signed
// data is unchanged in the View before, by name (owner, type, TTL, rdata): the same text
// loaded again signs nothing, one record changed signs its RRset alone. The cache keeps
// none of them (SignatureCache::Keep::No): the SignedZones do.
TEST_CASE("signing: a reload signs only what changed, found in the View before by name") {
    for (const std::string& extra : {std::string(), kNsec3}) {
        CAPTURE(extra);
        Chain chain(extra);
        auto first_view = chain.next(primary());
        const uint64_t first = chain.cache->signatures_made();
        const std::size_t kept = chain.cache->size();
        CHECK(kept < 10);  // the apex's own sets (SOA, DNSKEY, CDS, CDNSKEY, NSEC3PARAM), the state TXT
        chain.catalog = load(true, extra);
        auto same = chain.next(primary());
        CHECK(chain.cache->signatures_made() == first);
        for (const Q& q : kQueries) {
            CAPTURE(q.name);
            CAPTURE(q.type);
            CHECK(ask(*same, make_query(q.name, q.type, with_do())).wire ==
                  ask(*first_view, make_query(q.name, q.type, with_do())).wire);
        }
        // mail's TXT changed: its RRset alone is signed (mail's NSEC still shows A and TXT).
        std::string text = kZone;
        text.replace(text.find("v=spf1 -all"), 11, "v=spf1 mx -all");
        auto r = zones::load_text(text + "[dnssec]\nsign = true\n" + extra, "example.com.toml");
        REQUIRE(r.catalog);
        chain.catalog = r.catalog;
        auto edited = chain.next(primary());
        CHECK(chain.cache->signatures_made() == first + 1);
        CHECK(chain.cache->size() == kept);
        auto txt = ask(*edited, make_query("mail.example.com", 16, with_do()));
        REQUIRE(txt.answer.size() == 2);
        CHECK(txt.answer[0].find("v=spf1 mx -all") != std::string::npos);
        CHECK(verify_all(*edited) > 20);
        // Back to the first text: its signature for the old TXT is gone with the View
        // that served it, so it is signed again (the cache did not keep it).
        chain.catalog = load(true, extra);
        auto back = chain.next(primary());
        CHECK(chain.cache->signatures_made() == first + 2);
        CHECK(verify_all(*back) > 20);
    }
}

// What the View serves signed, a transfer takes (dns::transfer_signature): the signature
// is the one the View answers with, for the same signer, data and TTL only, and only
// while it is fresh; otherwise the cache makes (and keeps) one.
TEST_CASE("signing: a transfer takes the View's signatures by what they sign") {
    for (const std::string& extra : {std::string(), kNsec3}) {
        CAPTURE(extra);
        Chain chain(extra);
        auto v = chain.next(primary());
        const dnssec::ZoneKeys& zk = csk()->begin()->second;
        const dnssec::Signer& signer = zk.keys.at(0).signer;
        const zones::DnssecSettings& settings = chain.catalog->zones.at(0).dnssec();
        const int64_t refresh = settings.refresh.count() / 1000;
        auto served = [&](const char* owner, uint16_t type, uint32_t ttl, const zones::RdataList& rdatas,
                          int64_t now) {
            return dns::served_signature(*v, signer, name(owner), type, ttl, rdatas, now, refresh);
        };
        // mail's TXT as the View answers it: the RRSIG's rdata is the one served.
        auto reply = ask(*v, make_query("mail.example.com", 16, with_do()));
        REQUIRE(reply.answer.size() == 2);
        const zones::RdataList spf{std::string("\x0bv=spf1 -all")};
        auto sig = served("mail.example.com.", 16, 300, spf, chain.now);
        REQUIRE(!sig.empty());
        CHECK(std::search(reply.wire.begin(), reply.wire.end(), sig.view().begin(), sig.view().end(),
                          [](uint8_t a, char b) { return a == uint8_t(b); }) != reply.wire.end());
        // Other data, another TTL, another owner, another key: none.
        CHECK(served("mail.example.com.", 16, 300, zones::RdataList{std::string("\x02no")}, chain.now).empty());
        CHECK(served("mail.example.com.", 16, 301, spf, chain.now).empty());
        CHECK(served("ns1.example.com.", 16, 300, spf, chain.now).empty());
        auto other = new_csk("other");
        CHECK(dns::served_signature(*v, other->begin()->second.keys.at(0).signer, name("mail.example.com."), 16, 300,
                                    spf, chain.now, refresh)
                  .empty());
        // Past the refresh point: none (the transfer signs anew).
        CHECK(served("mail.example.com.", 16, 300, spf, chain.now + 7 * 86400 + 1).empty());
        // A presigned address set (the secondary pool's, in any order) and the apex's denial.
        CHECK(!served("www.example.com.", 1, 30, zones::RdataList{std::string("\xc6\x33\x64\x0a")}, chain.now).empty());
        // Every pool's addresses together (the all-down answer), in another order than signed.
        CHECK(!served("www.example.com.", 1, 30,
                      zones::RdataList{std::string("\xc6\x33\x64\x0a"), std::string("\xc0\x00\x02\x0a", 4)}, chain.now)
                   .empty());
        // Through transfer_signature: the View's signature, nothing made; without a View the
        // cache signs and keeps it.
        const uint64_t made = chain.cache->signatures_made();
        CHECK(dns::transfer_signature(v.get(), *chain.cache, settings, signer, name("mail.example.com."), 16, 300, spf,
                                      chain.now) == std::string(sig.view()));
        CHECK(chain.cache->signatures_made() == made);
        const std::size_t size = chain.cache->size();
        CHECK(dns::transfer_signature(nullptr, *chain.cache, settings, signer, name("mail.example.com."), 16, 300,
                                      spf, chain.now) != std::string(sig.view()));
        CHECK(chain.cache->signatures_made() == made + 1);
        CHECK(chain.cache->size() == size + 1);
        // The denial records: every NSEC (NSEC3) the View serves in a negative answer (a
        // name that does not exist, a type that does not) is found.
        std::size_t found = 0;
        for (auto [qname, qtype] : {std::pair{"nx.mail.example.com", 1}, std::pair{"mail.example.com", 28}}) {
            CAPTURE(qname);
            Pkt p(ask(*v, make_query(qname, uint16_t(qtype), with_do())).wire);
            ldns_rr_list* auth = ldns_pkt_authority(p.p);
            for (size_t i = 0; i < ldns_rr_list_rr_count(auth); ++i) {
                ldns_rr* rr = ldns_rr_list_rr(auth, i);
                const auto t = uint16_t(ldns_rr_get_type(rr));
                if (t != 47 && t != 50) continue;
                ldns_buffer* b = ldns_buffer_new(512);
                REQUIRE(ldns_rr_rdata2buffer_wire(b, rr) == LDNS_STATUS_OK);
                const std::string rdata(reinterpret_cast<const char*>(ldns_buffer_begin(b)), ldns_buffer_position(b));
                ldns_buffer_free(b);
                char* owner = ldns_rdf2str(ldns_rr_owner(rr));
                CHECK_MESSAGE(!served(owner, t, ldns_rr_ttl(rr), zones::RdataList{rdata}, chain.now).empty(), owner);
                std::free(owner);
                ++found;
            }
        }
        CHECK(found >= 2);
    }
}

TEST_CASE("signing: a SigSet keeps one RRSIG in place and several together, and copies compare equal") {
    using signpost::core::SharedBytes;
    dns::detail::SigSet none;
    CHECK(none.size() == 0);
    CHECK(none.begin() == none.end());
    dns::detail::SigSet one;
    one.push_back(SharedBytes(std::string("first")));
    REQUIRE(one.size() == 1);
    CHECK(one.begin()->view() == "first");
    CHECK_FALSE(one == none);
    dns::detail::SigSet two = one;
    two.push_back(SharedBytes(std::string("second")));
    REQUIRE(two.size() == 2);
    std::vector<std::string> seen;
    for (const SharedBytes& s : two) seen.emplace_back(s.view());
    CHECK(seen == std::vector<std::string>{"first", "second"});
    CHECK(one.size() == 1);  // the copy did not change the original
    dns::detail::SigSet copy = two;
    CHECK(copy == two);
    CHECK(copy.begin()->data() == two.begin()->data());  // the bytes are shared
    copy.push_back(SharedBytes(std::string("third")));
    CHECK_FALSE(copy == two);
    dns::detail::SigSet moved = std::move(copy);
    CHECK(moved.size() == 3);
    CHECK(copy.size() == 0);  // NOLINT(bugprone-use-after-move): a moved-from set is empty
    one = two;
    CHECK(one == two);
    // One word: one RRSIG in place, several behind a tagged pointer; moves and
    // assignments between the two kinds, and onto itself, keep every count right (ASan).
    static_assert(sizeof(dns::detail::SigSet) == 8);
    dns::detail::SigSet single;
    single.push_back(SharedBytes(std::string("only")));
    dns::detail::SigSet many = moved;
    many = std::move(single);  // several <- one
    REQUIRE(many.size() == 1);
    CHECK(many.begin()->view() == "only");
    CHECK(single.size() == 0);  // NOLINT(bugprone-use-after-move)
    single = std::move(moved);  // empty <- several
    CHECK(single.size() == 3);
    CHECK(moved.size() == 0);  // NOLINT(bugprone-use-after-move)
    auto& self = single;
    single = self;
    single = std::move(self);
    CHECK(single.size() == 3);
    CHECK(std::string(single.begin()[2].view()) == "third");
    std::vector<dns::detail::SigSet> grown;
    for (int i = 0; i < 50; ++i) grown.push_back(i % 2 ? single : many);  // moved as the vector grows
    for (int i = 0; i < 50; ++i) CHECK(grown[std::size_t(i)].size() == (i % 2 ? 3u : 1u));
}
