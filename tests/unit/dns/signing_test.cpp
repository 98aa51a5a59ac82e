// Signed zones in the View (issue 15): without DO the answers are the unsigned zone's,
// byte for byte; with DO every RRSIG verifies (ldns, independent of the OpenSSL code
// that made it) and every negative answer's NSECs prove the denial (ldns); a health
// change signs nothing new; signatures are made again once `refresh` is reached.
#include <doctest/doctest.h>

#include <ctime>

#include "dns/signing.hpp"
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

std::shared_ptr<const zones::Catalog> load(bool sign) {
    auto r = zones::load_text(kZone + (sign ? "[dnssec]\nsign = true\n" : ""), "example.com.toml");
    INFO(r.diagnostics.to_string());
    REQUIRE(r.catalog);
    return r.catalog;
}

std::shared_ptr<const dns::SigningKeys> csk() {
    static auto keys = [] {
        auto k = std::make_shared<dns::SigningKeys>();
        dnssec::ZoneKeys zk;
        zk.zone = name("example.com.");
        zk.keys.push_back(dnssec::ZoneKey{"test", dnssec::KeyRole::Csk,
                                          dnssec::Signer(zk.zone, dnssec::kSepKeyFlags,
                                                         dnssec::SigningKey::generate(zones::DnssecAlgorithm::EcdsaP256Sha256)),
                                          0});
        zk.complete = true;
        k->emplace(zk.zone.wire(), std::move(zk));
        return k;
    }();
    return keys;
}

std::vector<policy::Evaluation> primary() {
    return {evaluation({variant({"192.0.2.10", "2001:db8::10"})}, "primary", "all endpoints up", 30)};
}
std::vector<policy::Evaluation> secondary() {
    return {evaluation({variant({"198.51.100.10"})}, "failover:secondary", "primary down", 5)};
}

std::shared_ptr<const dns::View> view(bool sign, std::vector<policy::Evaluation> evs,
                                      std::shared_ptr<dns::SignatureCache> cache = nullptr, int64_t now = 0) {
    dns::ViewOptions o;
    if (sign) o.signing = csk();
    o.signatures = std::move(cache);
    o.now_unix = now;
    return dns::build_view(load(sign), evs, 1, o);
}

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

TEST_CASE("signing: a failover and a failback sign nothing; signatures are made again at refresh") {
    auto cache = std::make_shared<dns::SignatureCache>();
    const int64_t t0 = int64_t(std::time(nullptr));
    view(true, primary(), cache, t0);
    const uint64_t first = cache->signatures_made();
    CHECK(first > 20);
    view(true, secondary(), cache, t0 + 1);  // failover: each pool's set was signed ahead
    std::vector<policy::Evaluation> down{
        evaluation({variant({"192.0.2.10", "2001:db8::10", "198.51.100.10"})}, "all-down", "every pool down", 5)};
    view(true, down, cache, t0 + 2);  // all down: every pool's addresses together, signed ahead too
    view(true, primary(), cache, t0 + 3);
    // Only the state TXT is new in each state: its text says why (failover:secondary,
    // all-down) and is signed when it first appears; back on the primary it is cached.
    CHECK(cache->signatures_made() == first + 2);
    // 14 days' lifetime, 7 days' refresh (the defaults): 7 days on, every signature used is made again.
    const int64_t later = t0 + 7 * 86400 + 10;
    view(true, primary(), cache, later);
    CHECK(cache->signatures_made() >= 2 * first);
    CHECK(cache->earliest_expiration() >= later + 14 * 86400 - 10);
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
