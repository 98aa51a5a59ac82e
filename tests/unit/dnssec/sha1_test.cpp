// The allocation-free SHA-1 against RFC 3174's test vectors, and its NSEC3 hash against
// the OpenSSL-based nsec3_hash.
#include <doctest/doctest.h>

#include <string>

#include "dnssec/denial.hpp"
#include "dnssec/encoding.hpp"
#include "dnssec/sha1.hpp"
#include "ldns_support.hpp"

using namespace signpost;
using namespace signpost::dnssec;
using test::name;

namespace {

std::string hex_of(const Sha1Digest& d) {
    return hex_encode(std::string(reinterpret_cast<const char*>(d.data()), d.size()), false);
}

std::string sha1_hex(const std::string& s, int repeat) {
    Sha1 h;
    for (int i = 0; i < repeat; ++i) h.update(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    return hex_of(h.finish());
}

}  // namespace

TEST_CASE("sha1: RFC 3174 section 7.3 test vectors") {
    CHECK(sha1_hex("abc", 1) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(sha1_hex("a", 1000000) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    CHECK(sha1_hex("0123456701234567012345670123456701234567012345670123456701234567", 10) ==
          "dea356a2cddd90c7a7ecedc5ebb563934f460452");
    CHECK(sha1_hex("", 1) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    // Lengths around the padding boundary (55, 56, 63, 64 bytes), fed in odd pieces.
    for (std::size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
        std::string s(n, 'x');
        Sha1 whole, pieces;
        whole.update(reinterpret_cast<const uint8_t*>(s.data()), s.size());
        for (std::size_t i = 0; i < n; i += 7)
            pieces.update(reinterpret_cast<const uint8_t*>(s.data()) + i, std::min<std::size_t>(7, n - i));
        CHECK(whole.finish() == pieces.finish());
    }
}

TEST_CASE("sha1: nsec3_hash0 is RFC 5155's hash with 0 iterations, as OpenSSL computes it") {
    for (const char* salt : {"", "\xaa\xbb\xcc\xdd"}) {
        for (const char* n : {"example.", "a.example.", "*.w.example.", "x.y.w.example.", "."}) {
            CAPTURE(n);
            auto nm = name(n);
            std::string w(nm.wire()), s(salt);
            auto d = nsec3_hash0(reinterpret_cast<const uint8_t*>(w.data()), w.size(),
                                 reinterpret_cast<const uint8_t*>(s.data()), s.size());
            CHECK(std::string(reinterpret_cast<const char*>(d.data()), d.size()) == nsec3_hash(nm, s, 0));
        }
    }
}
