// SHA-1 per RFC 3174 / FIPS 180-4: 64-byte blocks, 80 rounds. No allocation.
#include "dnssec/sha1.hpp"

#include <cstring>

namespace signpost::dnssec {

namespace {
inline uint32_t rol(uint32_t x, int n) noexcept { return (x << n) | (x >> (32 - n)); }
}  // namespace

Sha1::Sha1() noexcept : h_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u} {}

void Sha1::block(const uint8_t* p) noexcept {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
        w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 | uint32_t(p[4 * i + 3]);
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999u;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1u;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
        else f = b ^ c ^ d, k = 0xCA62C1D6u;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
}

void Sha1::update(const uint8_t* data, std::size_t len) noexcept {
    total_ += len;
    while (len > 0) {
        std::size_t n = 64 - fill_ < len ? 64 - fill_ : len;
        std::memcpy(buf_ + fill_, data, n);
        fill_ += n;
        data += n;
        len -= n;
        if (fill_ == 64) {
            block(buf_);
            fill_ = 0;
        }
    }
}

Sha1Digest Sha1::finish() noexcept {
    const uint64_t bits = total_ * 8;
    const uint8_t one = 0x80, zero = 0;
    update(&one, 1);
    while (fill_ != 56) update(&zero, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(bits >> (56 - 8 * i));
    update(len, 8);
    Sha1Digest out;
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 4; ++j) out[std::size_t(4 * i + j)] = uint8_t(h_[i] >> (24 - 8 * j));
    return out;
}

Sha1Digest nsec3_hash0(const uint8_t* wire, std::size_t wire_len, const uint8_t* salt, std::size_t salt_len) noexcept {
    Sha1 s;
    s.update(wire, wire_len);
    s.update(salt, salt_len);
    return s.finish();
}

}  // namespace signpost::dnssec
