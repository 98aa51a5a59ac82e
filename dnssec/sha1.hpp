// SHA-1 (RFC 3174, FIPS 180-4) without allocation, for the NSEC3 hash of a query's
// next closer name (RFC 5155 7.2.1) on the query path: OpenSSL 3's one-shot SHA1()
// goes through EVP_Q_digest, which fetches the algorithm and allocates a context.
// Also the signature cache's key (dns/signing.cpp): a digest of the data to sign, to
// find an RRSIG made before. Not for signatures (SHA-1 is broken for them). Pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace signpost::dnssec {

using Sha1Digest = std::array<uint8_t, 20>;

class Sha1 {
public:
    Sha1() noexcept;
    void update(const uint8_t* data, std::size_t len) noexcept;
    Sha1Digest finish() noexcept;  // once; the object is spent after

private:
    void block(const uint8_t* p) noexcept;
    uint32_t h_[5];
    uint64_t total_ = 0;  // bytes
    uint8_t buf_[64];
    std::size_t fill_ = 0;
};

// RFC 5155 5 with 0 extra iterations (RFC 9276): SHA-1(wire | salt). `wire` must be the
// lowercased wire name. No allocation.
Sha1Digest nsec3_hash0(const uint8_t* wire, std::size_t wire_len, const uint8_t* salt, std::size_t salt_len) noexcept;

}  // namespace signpost::dnssec
