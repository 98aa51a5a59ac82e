// DNSSEC signing primitives with OpenSSL's EVP interface (libcrypto 3). Load time and
// View building only.
#include "dnssec/sign.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <stdexcept>

#include "core/wire.hpp"

namespace signpost::dnssec {

namespace {

using core::put16;
using core::put32;

unsigned char fold(unsigned char c) noexcept { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Lowercases the uncompressed name starting at `pos` in place; the offset after it, or
// npos when the bytes do not hold a whole name.
std::size_t lower_name(std::string& r, std::size_t pos) {
    while (pos < r.size()) {
        uint8_t len = uint8_t(r[pos]);
        if (len == 0) return pos + 1;
        if (len > 63 || pos + 1 + len > r.size()) return std::string::npos;
        for (std::size_t i = pos + 1; i <= pos + len; ++i) r[i] = char(fold(uint8_t(r[i])));
        pos += 1 + len;
    }
    return std::string::npos;
}

struct EvpPkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

std::runtime_error openssl_error(const char* what) { return std::runtime_error(std::string("OpenSSL: ") + what); }

}  // namespace

struct SigningKey::Pkey {
    PkeyPtr p;
};

int canonical_compare(std::string_view wa, std::string_view wb) noexcept {
    // At most 127 labels each: offsets on the stack (no allocation).
    std::size_t oa[128], ob[128];
    int na = 0, nb = 0;
    for (std::size_t i = 0; i < wa.size() && wa[i] != 0 && na < 128; i += 1 + uint8_t(wa[i])) oa[na++] = i;
    for (std::size_t i = 0; i < wb.size() && wb[i] != 0 && nb < 128; i += 1 + uint8_t(wb[i])) ob[nb++] = i;
    for (int ia = na - 1, ib = nb - 1; ia >= 0 && ib >= 0; --ia, --ib) {
        std::size_t pa = oa[ia], pb = ob[ib];
        uint8_t la = uint8_t(wa[pa]), lb = uint8_t(wb[pb]);
        for (std::size_t k = 0; k < std::min(la, lb) && pa + 1 + k < wa.size() && pb + 1 + k < wb.size(); ++k) {
            unsigned char ca = fold(uint8_t(wa[pa + 1 + k])), cb = fold(uint8_t(wb[pb + 1 + k]));
            if (ca != cb) return ca < cb ? -1 : 1;
        }
        if (la != lb) return la < lb ? -1 : 1;
    }
    return na == nb ? 0 : (na < nb ? -1 : 1);
}

int canonical_compare(const core::Name& a, const core::Name& b) noexcept {
    return canonical_compare(std::string_view(a.wire()), std::string_view(b.wire()));
}

uint8_t rrsig_labels(const core::Name& owner) noexcept {
    int n = owner.label_count();
    if (owner.is_wildcard()) --n;
    return uint8_t(n);
}

std::string canonical_rdata(uint16_t type, std::string_view rdata) {
    std::string r(rdata);
    namespace t = zones::rrtype;
    std::size_t pos = 0;
    switch (type) {
        case t::NS: case t::CNAME: case t::PTR: case t::DNAME:
            lower_name(r, 0);
            break;
        case t::SOA:
            pos = lower_name(r, 0);
            if (pos != std::string::npos) lower_name(r, pos);
            break;
        case t::MX:
            if (r.size() > 2) lower_name(r, 2);
            break;
        case t::SRV:
            if (r.size() > 6) lower_name(r, 6);
            break;
        default:
            break;
    }
    return r;
}

std::string dnskey_rdata(uint16_t flags, uint8_t algorithm, std::string_view public_key) {
    std::string out;
    put16(out, flags);
    out.push_back(char(kDnskeyProtocol));
    out.push_back(char(algorithm));
    out.append(public_key);
    return out;
}

uint16_t key_tag(std::string_view k) noexcept {
    uint32_t ac = 0;
    for (std::size_t i = 0; i < k.size(); ++i) ac += (i & 1) ? uint8_t(k[i]) : uint32_t(uint8_t(k[i])) << 8;
    ac += (ac >> 16) & 0xffff;
    return uint16_t(ac & 0xffff);
}

std::string ds_rdata(const core::Name& owner, std::string_view dnskey) {
    std::string data(owner.wire());
    data.append(dnskey);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) throw openssl_error("SHA-256 failed");
    std::string out;
    put16(out, key_tag(dnskey));
    out.push_back(dnskey.size() > 3 ? dnskey[3] : 0);
    out.push_back(char(kDsDigestSha256));
    out.append(reinterpret_cast<const char*>(md), len);
    return out;
}

Validity validity_at(int64_t now, const zones::DnssecSettings& s) noexcept {
    int64_t back = zones::kInceptionBackdate.count() / 1000;
    int64_t life = s.lifetime.count() / 1000;
    return {uint32_t(uint64_t(now - back) & 0xffffffffu), uint32_t(uint64_t(now + life) & 0xffffffffu)};
}

std::string rrsig_header_rdata(const RrsigHeader& h) {
    std::string out;
    put16(out, h.type_covered);
    out.push_back(char(h.algorithm));
    out.push_back(char(h.labels));
    put32(out, h.original_ttl);
    put32(out, h.validity.expiration);
    put32(out, h.validity.inception);
    put16(out, h.key_tag);
    out.append(h.signer.wire());
    return out;
}

std::string signed_data(const RrsigHeader& h, const core::Name& owner, const zones::RdataList& rdatas) {
    std::vector<std::string> canon;
    canon.reserve(rdatas.size());
    for (auto r : rdatas) canon.push_back(canonical_rdata(h.type_covered, r));
    // Canonical order: rdata as left-justified unsigned octet sequences (std::string's
    // char_traits compare bytes as unsigned char).
    std::sort(canon.begin(), canon.end());
    canon.erase(std::unique(canon.begin(), canon.end()), canon.end());
    std::string out = rrsig_header_rdata(h);
    for (auto& r : canon) {
        out.append(owner.wire());  // core::Name is lowercased wire already
        put16(out, h.type_covered);
        put16(out, 1);  // IN
        put32(out, h.original_ttl);
        put16(out, uint16_t(r.size()));
        out.append(r);
    }
    return out;
}

SigningKey SigningKey::generate(zones::DnssecAlgorithm algorithm) {
    EVP_PKEY* raw = algorithm == zones::DnssecAlgorithm::Ed25519
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (!raw) throw openssl_error("key generation failed");
    auto pkey = std::make_shared<Pkey>(Pkey{PkeyPtr(raw)});
    std::string pub;
    if (algorithm == zones::DnssecAlgorithm::Ed25519) {
        unsigned char buf[32];
        size_t len = sizeof buf;
        if (EVP_PKEY_get_raw_public_key(raw, buf, &len) != 1 || len != 32) throw openssl_error("no Ed25519 public key");
        pub.assign(reinterpret_cast<char*>(buf), len);
    } else {
        unsigned char buf[65];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(raw, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &len) != 1 || len != 65 ||
            buf[0] != 0x04)
            throw openssl_error("no uncompressed P-256 public key");
        pub.assign(reinterpret_cast<char*>(buf + 1), 64);
    }
    return SigningKey(algorithm, std::move(pkey), std::move(pub));
}

std::optional<SigningKey> SigningKey::from_private(zones::DnssecAlgorithm algorithm, std::string_view secret,
                                                   std::string_view public_key, std::string* error) {
    auto fail = [&](const std::string& why) -> std::optional<SigningKey> {
        if (error) *error = why;
        return std::nullopt;
    };
    if (secret.size() != 32) return fail("the private key must be 32 bytes, got " + std::to_string(secret.size()));
    if (algorithm == zones::DnssecAlgorithm::Ed25519) {
        PkeyPtr p(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(secret.data()), secret.size()));
        if (!p) return fail("not an Ed25519 private key");
        unsigned char buf[32];
        size_t len = sizeof buf;
        if (EVP_PKEY_get_raw_public_key(p.get(), buf, &len) != 1 || len != 32) return fail("not an Ed25519 private key");
        std::string pub(reinterpret_cast<char*>(buf), len);
        if (!public_key.empty() && pub != public_key) return fail("the private key does not match the public key");
        return SigningKey(algorithm, std::make_shared<Pkey>(Pkey{std::move(p)}), std::move(pub));
    }
    // ECDSA P-256: the public point is not derived from the scalar by OpenSSL 3.0's
    // fromdata, so it comes from the .key file and the pair is checked.
    if (public_key.size() != 64) return fail("an ECDSA P-256 public key must be 64 bytes, got " + std::to_string(public_key.size()));
    std::string point = "\x04" + std::string(public_key);
    BIGNUM* priv = BN_bin2bn(reinterpret_cast<const unsigned char*>(secret.data()), int(secret.size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM* params = nullptr;
    EVP_PKEY_CTX* ctx = nullptr;
    EVP_PKEY* raw = nullptr;
    bool ok = priv && bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
              OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1 &&
              OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1 &&
              (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
              (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)) != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
              EVP_PKEY_fromdata(ctx, &raw, EVP_PKEY_KEYPAIR, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    PkeyPtr p(raw);
    if (!ok || !p) return fail("not an ECDSA P-256 key pair");
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, p.get(), nullptr);
    bool pair = check && EVP_PKEY_pairwise_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!pair) return fail("the private key does not match the public key");
    return SigningKey(algorithm, std::make_shared<Pkey>(Pkey{std::move(p)}), std::string(public_key));
}

std::string SigningKey::private_bytes() const {
    if (algorithm_ == zones::DnssecAlgorithm::Ed25519) {
        unsigned char buf[32];
        size_t len = sizeof buf;
        if (EVP_PKEY_get_raw_private_key(pkey_->p.get(), buf, &len) != 1) throw openssl_error("no Ed25519 private key");
        std::string out(reinterpret_cast<char*>(buf), len);
        OPENSSL_cleanse(buf, sizeof buf);
        return out;
    }
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(pkey_->p.get(), OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1) throw openssl_error("no P-256 private key");
    unsigned char buf[32];
    int n = BN_bn2binpad(bn, buf, sizeof buf);
    BN_clear_free(bn);
    if (n != 32) throw openssl_error("P-256 private key is not 32 bytes");
    std::string out(reinterpret_cast<char*>(buf), 32);
    OPENSSL_cleanse(buf, sizeof buf);
    return out;
}

std::string SigningKey::sign(std::string_view data) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx) throw openssl_error("out of memory");
    bool ed = algorithm_ == zones::DnssecAlgorithm::Ed25519;
    unsigned char sig[128];
    size_t len = sizeof sig;
    bool ok = EVP_DigestSignInit(ctx, nullptr, ed ? nullptr : EVP_sha256(), nullptr, pkey_->p.get()) == 1 &&
              EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) throw openssl_error("signing failed");
    if (ed) return std::string(reinterpret_cast<char*>(sig), len);
    // DER ECDSA-Sig-Value -> r | s, 32 bytes each (RFC 6605 4).
    const unsigned char* p = sig;
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, long(len));
    if (!es) throw openssl_error("bad ECDSA signature");
    const BIGNUM *r = nullptr, *s = nullptr;
    ECDSA_SIG_get0(es, &r, &s);
    unsigned char out[64];
    bool sized = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32;
    ECDSA_SIG_free(es);
    if (!sized) throw openssl_error("ECDSA signature does not fit 64 bytes");
    return std::string(reinterpret_cast<char*>(out), 64);
}

Signer::Signer(core::Name zone, uint16_t flags, SigningKey key)
    : zone_(std::move(zone)), flags_(flags), key_(std::move(key)),
      dnskey_(dnskey_rdata(flags_, uint8_t(key_.algorithm()), key_.public_key())), tag_(dnssec::key_tag(dnskey_)) {}

std::string Signer::sign(const core::Name& owner, uint16_t type, uint32_t ttl, const zones::RdataList& rdatas,
                         Validity validity) const {
    RrsigHeader h{type, uint8_t(key_.algorithm()), rrsig_labels(owner), ttl, validity, tag_, zone_};
    std::string out = rrsig_header_rdata(h);
    out.append(key_.sign(signed_data(h, owner, rdatas)));
    return out;
}

}  // namespace signpost::dnssec
