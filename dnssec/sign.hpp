// DNSSEC signing primitives (RFC 4034, RFC 6605, RFC 8080): canonical names and RRsets,
// DNSKEY and DS rdata, key tags, RRSIG creation. Pure functions and one key type; made to
// run off the query path (when a View is built), never per query. Thread-safe: a
// SigningKey and a Signer may sign from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/name.hpp"
#include "zones/model.hpp"

namespace signpost::dnssec {

// DNSKEY flags: a zone key (256, ZSK) and a zone key with the SEP bit (257, KSK or CSK).
inline constexpr uint16_t kZoneKeyFlags = 256;
inline constexpr uint16_t kSepKeyFlags = 257;
inline constexpr uint8_t kDnskeyProtocol = 3;
inline constexpr uint8_t kDsDigestSha256 = 2;

// RFC 4034 6.1: -1, 0 or 1 comparing labels from the root, bytes as unsigned, case-folded.
int canonical_compare(const core::Name& a, const core::Name& b) noexcept;
// The same over wire names (uncompressed, ending in the root label). Query path: no allocation.
int canonical_compare(std::string_view a, std::string_view b) noexcept;
struct CanonicalLess {
    bool operator()(const core::Name& a, const core::Name& b) const noexcept { return canonical_compare(a, b) < 0; }
};
// RFC 4034 3.1.3: the owner's labels, not counting the root or a leading '*'.
uint8_t rrsig_labels(const core::Name& owner) noexcept;

// RFC 4034 6.2 (with RFC 6840 5.1): the rdata with the domain names it embeds lowercased,
// for the types whose names are canonicalised (NS, CNAME, SOA, PTR, MX, SRV, DNAME, ...).
// Other types, and rdata too short to hold their names, come back unchanged.
std::string canonical_rdata(uint16_t type, std::string_view rdata);

// DNSKEY rdata: flags, protocol 3, algorithm, public key (RFC 4034 2.1).
std::string dnskey_rdata(uint16_t flags, uint8_t algorithm, std::string_view public_key);
// RFC 4034 Appendix B, over DNSKEY rdata.
uint16_t key_tag(std::string_view dnskey_rdata) noexcept;
// DS rdata with a SHA-256 digest (RFC 4509) of owner | DNSKEY rdata. Also CDS rdata (RFC 7344).
std::string ds_rdata(const core::Name& owner, std::string_view dnskey_rdata);

// A signature's validity, in RFC 4034 3.1.5 serial-number seconds.
struct Validity {
    uint32_t inception = 0;
    uint32_t expiration = 0;
};
// From `now` (Unix seconds): inception backdated by zones::kInceptionBackdate,
// expiration `lifetime` ahead.
Validity validity_at(int64_t now_unix, const zones::DnssecSettings& settings) noexcept;

// The header fields of an RRSIG, everything but the signature.
struct RrsigHeader {
    uint16_t type_covered = 0;
    uint8_t algorithm = 0;
    uint8_t labels = 0;
    uint32_t original_ttl = 0;
    Validity validity;
    uint16_t key_tag = 0;
    core::Name signer;
};
std::string rrsig_header_rdata(const RrsigHeader& h);
// RFC 4034 3.1.8.1: RRSIG rdata without signature, then every RR of the set in canonical
// form and order (owner lowercased, class IN, original TTL, duplicates once).
std::string signed_data(const RrsigHeader& h, const core::Name& owner, const zones::RdataList& rdatas);

// A private key of one algorithm, held by OpenSSL. Its secret bytes leave it only through
// private_bytes() (for the key file); nothing prints them.
class SigningKey {
public:
    // A fresh key from OpenSSL's CSPRNG; throws std::runtime_error if OpenSSL fails.
    static SigningKey generate(zones::DnssecAlgorithm algorithm);
    // The key from its secret bytes (ECDSA P-256: the 32-byte scalar; Ed25519: the 32-byte
    // seed), checked against `public_key` (DNSKEY form) when that is not empty.
    // nullopt with `error` (no secret in it) when the bytes are not a key or do not match.
    static std::optional<SigningKey> from_private(zones::DnssecAlgorithm algorithm, std::string_view secret,
                                                  std::string_view public_key, std::string* error);

    zones::DnssecAlgorithm algorithm() const noexcept { return algorithm_; }
    // The public key as DNSKEY carries it: ECDSA X|Y (64 bytes), Ed25519 32 bytes.
    const std::string& public_key() const noexcept { return public_key_; }
    // The secret, for writing the key file only.
    std::string private_bytes() const;
    // A DNSSEC signature over `data`: ECDSA r|s (64 bytes, RFC 6605), Ed25519 64 bytes.
    // Throws std::runtime_error if OpenSSL fails.
    std::string sign(std::string_view data) const;

private:
    struct Pkey;
    SigningKey(zones::DnssecAlgorithm a, std::shared_ptr<Pkey> p, std::string pub)
        : algorithm_(a), pkey_(std::move(p)), public_key_(std::move(pub)) {}
    zones::DnssecAlgorithm algorithm_;
    std::shared_ptr<Pkey> pkey_;
    std::string public_key_;
};

// Signs RRsets of one zone with one key: RRSIG rdata for (owner, type, ttl, rdatas).
class Signer {
public:
    Signer(core::Name zone, uint16_t flags, SigningKey key);

    const core::Name& zone() const noexcept { return zone_; }
    uint16_t flags() const noexcept { return flags_; }
    const std::string& dnskey() const noexcept { return dnskey_; }  // DNSKEY rdata
    uint16_t key_tag() const noexcept { return tag_; }
    const SigningKey& key() const noexcept { return key_; }

    // The RRSIG rdata over the RRset (rdatas in any order; canonicalised here).
    std::string sign(const core::Name& owner, uint16_t type, uint32_t ttl, const zones::RdataList& rdatas,
                     Validity validity) const;

private:
    core::Name zone_;
    uint16_t flags_;
    SigningKey key_;
    std::string dnskey_;
    uint16_t tag_;
};

}  // namespace signpost::dnssec
