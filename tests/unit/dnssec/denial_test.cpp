// NSEC and NSEC3 chains: bit maps and hashes against RFC 4034 and RFC 5155 vectors and
// ldns, and the proofs checked for what each must show (match, cover).
#include <doctest/doctest.h>

#include <algorithm>

#include "dnssec/denial.hpp"
#include "dnssec/encoding.hpp"
#include "dnssec/sign.hpp"
#include "ldns_support.hpp"

using namespace signpost;
using namespace signpost::dnssec;
using test::name;
namespace t = zones::rrtype;

namespace {

constexpr uint16_t kHinfo = 13;

// The RFC 5155 Appendix A zone without its glue; b.example is an unsigned delegation
// (the RFC marks it opt-out; signpost never does, so here it has an NSEC3).
std::vector<OwnerTypes> rfc5155_owners() {
    return {
        {name("example."), {t::NS, t::SOA, t::MX, t::DNSKEY}, false},
        {name("a.example."), {t::NS, t::DS}, true},
        {name("ai.example."), {t::A, kHinfo, t::AAAA}, false},
        {name("b.example."), {t::NS}, true},
        {name("ns1.example."), {t::A}, false},
        {name("ns2.example."), {t::A}, false},
        {name("*.w.example."), {t::MX}, false},
        {name("x.w.example."), {t::MX}, false},
        {name("x.y.w.example."), {t::MX}, false},
        {name("xx.example."), {t::A, kHinfo, t::AAAA}, false},
    };
}

std::string label_of(const core::Name& owner) {
    auto w = owner.wire();
    return std::string(w.substr(1, uint8_t(w[0])));
}

// The next hashed owner in an NSEC3 rdata (flags etc. before it).
std::string nsec3_next(const std::string& rdata) {
    std::size_t salt_len = uint8_t(rdata[4]);
    std::size_t at = 5 + salt_len;
    return rdata.substr(at + 1, uint8_t(rdata[at]));
}

// Whether the NSEC3 record covers (owner < h < next, wrapping at the end) or matches h.
bool covers(const DenialRecord& r, const core::Name& apex, const std::string& h) {
    (void)apex;
    std::string owner = label_of(r.owner), next = base32hex_encode(nsec3_next(r.rdata)), x = base32hex_encode(h);
    if (owner < next) return owner < x && x < next;
    return x > owner || x < next;
}
bool matches(const DenialRecord& r, const std::string& h) { return label_of(r.owner) == base32hex_encode(h); }

}  // namespace

TEST_CASE("denial: the type bit map is RFC 4034 4.3's example and what ldns writes") {
    std::vector<uint16_t> types = {t::NSEC, t::A, t::MX, t::RRSIG, 1234, t::A};
    std::string b = type_bitmap(types);
    std::string want("\x00\x06\x40\x01\x00\x00\x00\x03\x04\x1b", 10);
    want += std::string(26, '\0') + "\x20";
    CHECK(hex_encode(b) == hex_encode(want));
    ldns_rr* rr = nullptr;
    REQUIRE(ldns_rr_new_frm_str(&rr, "alfa.example.com. 86400 IN NSEC host.example.com. A MX RRSIG NSEC TYPE1234",
                                0, nullptr, nullptr) == LDNS_STATUS_OK);
    core::LdnsRr owned(rr);
    CHECK(test::rdf_bytes(ldns_rr_rdf(rr, 1)) == b);
    auto back = bitmap_types(b);
    REQUIRE(back);
    CHECK(*back == std::vector<uint16_t>{t::A, t::MX, t::RRSIG, t::NSEC, 1234});
    CHECK(type_bitmap(std::vector<uint16_t>{}).empty());
    CHECK(bitmap_types(std::string("\x00\x00", 2)) == std::nullopt);           // length 0
    CHECK(bitmap_types(std::string("\x01\x01\x40\x00\x01\x40", 6)) == std::nullopt);  // windows out of order
    CHECK(bitmap_types(std::string("\x00\x05\x40", 3)) == std::nullopt);       // truncated
}

TEST_CASE("denial: NSEC3 hashes are RFC 5155 Appendix A's and what ldns computes") {
    const std::string salt("\xaa\xbb\xcc\xdd", 4);
    struct Row {
        const char* name;
        const char* hash;
    };
    for (auto [n, h] : {Row{"example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"}, Row{"a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"},
                        Row{"ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"},
                        Row{"w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h"},
                        Row{"*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"},
                        Row{"x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"}}) {
        CAPTURE(n);
        std::string mine = base32hex_encode(nsec3_hash(name(n), salt, 12));
        CHECK(mine == h);
        core::LdnsRdf dname(ldns_dname_new_frm_str(n));
        core::LdnsRdf hashed(ldns_nsec3_hash_name(dname.get(), 1, 12, 4, (uint8_t*)salt.data()));
        char* text = ldns_rdf2str(hashed.get());
        std::string theirs = text;
        free(text);
        CHECK(theirs == std::string(h) + ".");
    }
    // No salt, no extra iterations (RFC 9276), against ldns.
    core::LdnsRdf dname(ldns_dname_new_frm_str("www.example.com."));
    core::LdnsRdf hashed(ldns_nsec3_hash_name(dname.get(), 1, 0, 0, nullptr));
    char* text = ldns_rdf2str(hashed.get());
    CHECK(std::string(text) == base32hex_encode(nsec3_hash(name("www.example.com."), "", 0)) + ".");
    free(text);
}

TEST_CASE("denial: an NSEC3 chain over RFC 5155's zone proves what RFC 5155 7.2 asks") {
    const core::Name apex = name("example.");
    Nsec3Chain chain(apex, rfc5155_owners(), {std::string("\xaa\xbb\xcc\xdd", 4), 12});
    auto& recs = chain.records();
    auto h = [&](const char* n) { return nsec3_hash(name(n), chain.params().salt, 12); };
    // 10 owners and the empty non-terminals w.example and y.w.example.
    CHECK(recs.size() == 12);
    for (std::size_t i = 0; i + 1 < recs.size(); ++i) CHECK(label_of(recs[i].owner) < label_of(recs[i + 1].owner));
    CHECK(nsec3_next(recs.back().rdata) == h("example."));  // the chain closes
    SUBCASE("bit maps: RRSIG where there is signed data, NSEC3PARAM at the apex, nothing at an ENT") {
        auto types_of = [&](const char* n) {
            for (auto& r : recs)
                if (matches(r, h(n))) {
                    std::size_t at = 5 + uint8_t(r.rdata[4]);
                    return *bitmap_types(std::string_view(r.rdata).substr(at + 1 + uint8_t(r.rdata[at])));
                }
            FAIL("no record for " << n);
            return std::vector<uint16_t>{};
        };
        CHECK(types_of("example.") == std::vector<uint16_t>{t::NS, t::SOA, t::MX, t::RRSIG, t::DNSKEY, 51});
        CHECK(types_of("a.example.") == std::vector<uint16_t>{t::NS, t::DS, t::RRSIG});
        CHECK(types_of("b.example.") == std::vector<uint16_t>{t::NS});
        CHECK(types_of("w.example.").empty());
        CHECK(uint8_t(recs[0].rdata[0]) == 1);  // SHA-1
        CHECK(uint8_t(recs[0].rdata[1]) == 0);  // no opt-out
    }
    SUBCASE("name error (RFC 5155 B.1): a.c.x.w.example") {
        CHECK(chain.closest_encloser(name("a.c.x.w.example.")) == name("x.w.example."));
        auto p = chain.nxdomain(name("a.c.x.w.example."));
        REQUIRE(p.size() == 3);
        CHECK(matches(recs[p[0]], h("x.w.example.")));
        CHECK(covers(recs[p[1]], apex, h("c.x.w.example.")));
        CHECK(covers(recs[p[2]], apex, h("*.x.w.example.")));
        // The RFC's answer carries these three owners.
        std::vector<std::string> owners;
        for (auto i : p) owners.push_back(label_of(recs[i].owner));
        std::sort(owners.begin(), owners.end());
        CHECK(owners == std::vector<std::string>{"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "35mthgpgcu1qg68fab165klnsnk3dpvl",
                                                 "b4um86eghhds6nea196smvmlo4ors995"});
    }
    SUBCASE("no data (RFC 5155 B.2): ns1.example MX, and the empty non-terminal y.w.example") {
        auto p = chain.nodata(name("ns1.example."));
        REQUIRE(p.size() == 1);
        CHECK(label_of(recs[p[0]].owner) == "2t7b4g4vsa5smi47k61mv5bv1a22bojr");
        auto ent = chain.nodata(name("y.w.example."));
        REQUIRE(ent.size() == 1);
        CHECK(label_of(recs[ent[0]].owner) == "ji6neoaepv8b5o6k4ev33abha8ht9fgc");
    }
    SUBCASE("wildcard expansion (RFC 5155 B.4): a.z.w.example") {
        auto p = chain.wildcard_answer(name("a.z.w.example."), name("*.w.example."));
        REQUIRE(p.size() == 1);
        CHECK(covers(recs[p[0]], apex, h("z.w.example.")));
        CHECK(label_of(recs[p[0]].owner) == "q04jkcevqvmu85r014c7dkba38o0ji5r");
    }
    SUBCASE("wildcard no data (RFC 5155 B.5): a.z.w.example AAAA") {
        auto p = chain.wildcard_nodata(name("a.z.w.example."), name("*.w.example."));
        REQUIRE(p.size() == 3);
        CHECK(matches(recs[p[0]], h("w.example.")));
        CHECK(covers(recs[p[1]], apex, h("z.w.example.")));
        CHECK(matches(recs[p[2]], h("*.w.example.")));
    }
}

TEST_CASE("denial: an NSEC chain links the names in canonical order and proves denials") {
    const core::Name apex = name("example.com.");
    NsecChain chain(apex, {{name("www.example.com."), {t::A, t::AAAA}, false},
                           {name("example.com."), {t::SOA, t::NS, t::DNSKEY}, false},
                           {name("a.b.c.example.com."), {t::TXT}, false},
                           {name("*.w.example.com."), {t::A}, false},
                           {name("outside.example.net."), {t::A}, false}});
    auto& recs = chain.records();
    REQUIRE(recs.size() == 4);
    std::vector<std::string> owners;
    for (auto& r : recs) owners.push_back(r.owner.to_text());
    CHECK(owners == std::vector<std::string>{"example.com.", "a.b.c.example.com.", "*.w.example.com.", "www.example.com."});
    // Next names, and the last one back at the apex; NSEC and RRSIG in every bit map.
    auto next = [&](std::size_t i) {
        const std::string& r = recs[i].rdata;
        std::size_t at = 0;
        while (at < r.size() && r[at] != 0) at += 1 + uint8_t(r[at]);
        auto n = core::Name::from_wire(r.substr(0, at + 1));
        return n ? n->to_text() : std::string("(bad name)");
    };
    CHECK(next(0) == "a.b.c.example.com.");
    CHECK(next(3) == "example.com.");
    CHECK(*bitmap_types(std::string_view(recs[3].rdata).substr(recs[0].owner.wire_length())) ==
          std::vector<uint16_t>{t::A, t::AAAA, t::RRSIG, t::NSEC});
    // ldns reads every record.
    for (auto& r : recs) CHECK(test::as_ldns(r.owner, t::NSEC, 300, r.rdata));
    SUBCASE("NXDOMAIN: the NSEC covering the name and the one covering the wildcard") {
        auto p = chain.nxdomain(name("nope.example.com."));
        CHECK(chain.closest_encloser(name("nope.example.com.")) == apex);
        // *.example.com sorts before c...: the apex NSEC covers it.
        CHECK(p == Proof{1, 0});  // c < nope < w: the NSEC of a.b.c covers it
        auto deep = chain.nxdomain(name("x.b.c.example.com."));
        CHECK(chain.closest_encloser(name("x.b.c.example.com.")) == name("b.c.example.com."));
        CHECK(deep == Proof{1, 0});
        auto last = chain.nxdomain(name("zzz.example.com."));
        CHECK(last == Proof{3, 0});
    }
    SUBCASE("NODATA: the name's own NSEC; an empty non-terminal: the NSEC covering it") {
        CHECK(chain.nodata(name("www.example.com.")) == Proof{3});
        CHECK(chain.nodata(name("b.c.example.com.")) == Proof{0});
    }
    SUBCASE("wildcards") {
        CHECK(chain.wildcard_answer(name("x.w.example.com.")) == Proof{2});
        CHECK(chain.wildcard_nodata(name("x.w.example.com."), name("*.w.example.com.")) == Proof{2});
    }
    CHECK(negative_ttl(300, 3600) == 300);
    CHECK(negative_ttl(3600, 600) == 600);
}

TEST_CASE("denial: NSEC3PARAM rdata") {
    CHECK(nsec3param_rdata({"", 0}) == std::string("\x01\x00\x00\x00\x00", 5));
    CHECK(nsec3param_rdata({"\xab", 0}) == std::string("\x01\x00\x00\x00\x01\xab", 6));
}
