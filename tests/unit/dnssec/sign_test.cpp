// Signing primitives checked against RFC vectors and against ldns, which verifies our
// signatures and computes DS digests with its own code.
#include <doctest/doctest.h>

#include <ctime>

#include "dnssec/encoding.hpp"
#include "dnssec/sign.hpp"
#include "ldns_support.hpp"

using namespace signpost;
using namespace signpost::dnssec;
using test::name;

namespace {

std::string a_rdata(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return std::string{char(a), char(b), char(c), char(d)}; }

// ldns's verdict on our RRSIG over the RRset.
ldns_status ldns_verify(const Signer& signer, const core::Name& owner, uint16_t type, uint32_t ttl,
                        const std::vector<std::string>& rdatas, const std::string& rrsig) {
    core::LdnsRrList set(ldns_rr_list_new());
    for (auto& r : rdatas) ldns_rr_list_push_rr(set.get(), test::as_ldns(owner, type, ttl, r).release());
    auto sig = test::as_ldns(owner, zones::rrtype::RRSIG, ttl, rrsig);
    auto key = test::as_ldns(signer.zone(), zones::rrtype::DNSKEY, 3600, signer.dnskey());
    REQUIRE(sig);
    REQUIRE(key);
    return ldns_verify_rrsig(set.get(), sig.get(), key.get());
}

const zones::DnssecSettings kDefaults;

}  // namespace

TEST_CASE("sign: names sort in RFC 4034 6.1 canonical order") {
    // The RFC's own list, in order.
    std::vector<std::string> in = {"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
                                   "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."};
    for (std::size_t i = 0; i + 1 < in.size(); ++i) {
        CAPTURE(in[i]);
        CHECK(canonical_compare(name(in[i].c_str()), name(in[i + 1].c_str())) < 0);
        CHECK(canonical_compare(name(in[i + 1].c_str()), name(in[i].c_str())) > 0);
    }
    CHECK(canonical_compare(name("Example."), name("example.")) == 0);
    CHECK(rrsig_labels(name("www.example.com.")) == 3);
    CHECK(rrsig_labels(name("*.example.com.")) == 2);
    CHECK(rrsig_labels(core::Name()) == 0);
}

TEST_CASE("sign: key tag and SHA-256 DS match RFC 4509's example") {
    auto key = base64_decode(
        "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/"
        "M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==");
    REQUIRE(key);
    std::string rdata = dnskey_rdata(256, 5, *key);
    CHECK(key_tag(rdata) == 60485);
    std::string ds = ds_rdata(name("dskey.example.com."), rdata);
    CHECK(hex_encode(ds) == "EC4505" "02" "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A");
}

TEST_CASE("sign: DS of a generated key is what ldns computes") {
    for (auto alg : {zones::DnssecAlgorithm::EcdsaP256Sha256, zones::DnssecAlgorithm::Ed25519}) {
        CAPTURE(zones::to_string(alg));
        Signer s(name("example.com."), kSepKeyFlags, SigningKey::generate(alg));
        auto key = test::as_ldns(s.zone(), zones::rrtype::DNSKEY, 3600, s.dnskey());
        REQUIRE(key);
        CHECK(ldns_calc_keytag(key.get()) == s.key_tag());
        core::LdnsRr ds(ldns_key_rr2ds(key.get(), LDNS_SHA256));
        REQUIRE(ds);
        auto mine = test::as_ldns(s.zone(), zones::rrtype::DS, 3600, ds_rdata(s.zone(), s.dnskey()));
        CHECK(test::rr_text(mine.get()) == test::rr_text(ds.get()));
        CHECK(s.key().public_key().size() == (alg == zones::DnssecAlgorithm::Ed25519 ? 32u : 64u));
    }
}

TEST_CASE("sign: ldns verifies our RRSIGs") {
    int64_t now = std::time(nullptr);
    for (auto alg : {zones::DnssecAlgorithm::EcdsaP256Sha256, zones::DnssecAlgorithm::Ed25519}) {
        CAPTURE(zones::to_string(alg));
        Signer s(name("example.com."), kZoneKeyFlags, SigningKey::generate(alg));
        auto v = validity_at(now, kDefaults);
        SUBCASE("an address set, given out of order and with a duplicate") {
            std::vector<std::string> rd = {a_rdata(192, 0, 2, 2), a_rdata(192, 0, 2, 1), a_rdata(192, 0, 2, 2)};
            auto sig = s.sign(name("www.example.com."), zones::rrtype::A, 30, rd, v);
            CHECK(sig.size() == 18 + s.zone().wire_length() + 64);
            CHECK(ldns_verify(s, name("www.example.com."), zones::rrtype::A, 30, {rd[0], rd[1]}, sig) == LDNS_STATUS_OK);
            // A different TTL or set does not verify.
            auto other = s.sign(name("www.example.com."), zones::rrtype::A, 30, std::vector<std::string>{rd[1]}, v);
            CHECK(ldns_verify(s, name("www.example.com."), zones::rrtype::A, 30, {rd[0], rd[1]}, other) != LDNS_STATUS_OK);
        }
        SUBCASE("a wildcard owner counts its labels without the '*'") {
            std::vector<std::string> rd = {std::string("\x0bhello world", 12)};
            auto sig = s.sign(name("*.example.com."), zones::rrtype::TXT, 300, rd, v);
            CHECK(uint8_t(sig[3]) == 2);
            CHECK(ldns_verify(s, name("*.example.com."), zones::rrtype::TXT, 300, rd, sig) == LDNS_STATUS_OK);
        }
        SUBCASE("names inside rdata are signed lowercased") {
            // CNAME WWW.Example.COM. spelled in upper case on the wire.
            std::string target("\x03WWW\x07" "Example\x03" "COM\x00", 17);
            std::vector<std::string> rd = {target};
            auto sig = s.sign(name("alias.example.com."), zones::rrtype::CNAME, 60, rd, v);
            CHECK(ldns_verify(s, name("alias.example.com."), zones::rrtype::CNAME, 60, rd, sig) == LDNS_STATUS_OK);
            CHECK(canonical_rdata(zones::rrtype::CNAME, target) == std::string("\x03www\x07" "example\x03" "com\x00", 17));
            std::string mx = std::string("\x00\x0a", 2) + target;
            CHECK(canonical_rdata(zones::rrtype::MX, mx) == std::string("\x00\x0a", 2) + canonical_rdata(zones::rrtype::CNAME, target));
            std::string srv = std::string(6, '\x01') + target;
            CHECK(canonical_rdata(zones::rrtype::SRV, srv).substr(6) == canonical_rdata(zones::rrtype::CNAME, target));
            CHECK(canonical_rdata(zones::rrtype::TXT, "\x02" "AB") == "\x02" "AB");
        }
        SUBCASE("the DNSKEY RRset signed by a SEP key") {
            Signer ksk(name("example.com."), kSepKeyFlags, SigningKey::generate(alg));
            std::vector<std::string> keys = {ksk.dnskey(), s.dnskey()};
            auto sig = ksk.sign(name("example.com."), zones::rrtype::DNSKEY, 3600, keys, v);
            CHECK(ldns_verify(ksk, name("example.com."), zones::rrtype::DNSKEY, 3600, keys, sig) == LDNS_STATUS_OK);
        }
    }
}

TEST_CASE("sign: validity is backdated an hour and lasts the lifetime") {
    zones::DnssecSettings s;
    auto v = validity_at(1'800'000'000, s);
    CHECK(v.inception == 1'800'000'000u - 3600);
    CHECK(v.expiration == 1'800'000'000u + 14 * 86400);
    // Serial-number arithmetic past 2106 wraps (RFC 4034 3.1.5).
    auto w = validity_at(int64_t(1) << 32, s);
    CHECK(w.inception == uint32_t(-3600));
    CHECK(w.expiration == 14u * 86400);
}

TEST_CASE("sign: a private key round-trips through its bytes and must match its public key") {
    for (auto alg : {zones::DnssecAlgorithm::EcdsaP256Sha256, zones::DnssecAlgorithm::Ed25519}) {
        CAPTURE(zones::to_string(alg));
        auto k = SigningKey::generate(alg);
        std::string err;
        auto back = SigningKey::from_private(alg, k.private_bytes(), k.public_key(), &err);
        REQUIRE(back);
        CHECK(back->public_key() == k.public_key());
        auto other = SigningKey::generate(alg);
        CHECK_FALSE(SigningKey::from_private(alg, k.private_bytes(), other.public_key(), &err));
        CHECK(err == "the private key does not match the public key");
        CHECK_FALSE(SigningKey::from_private(alg, "short", k.public_key(), &err));
        CHECK(err == "the private key must be 32 bytes, got 5");
    }
}
