// Big-endian (network order) integers written to and read from wire buffers, and the
// protocol numbers that are not record types (zones::rrtype has those). The one
// implementation the DNS, DNSSEC and transfer code share.
#pragma once

#include <cstdint>

namespace signpost::core {

inline constexpr uint16_t kClassIn = 1, kClassCh = 3, kClassAny = 255;
inline constexpr uint16_t kNsidOption = 3, kEcsOption = 8;  // EDNS option codes

inline uint16_t get16(const uint8_t* p) noexcept { return uint16_t((p[0] << 8) | p[1]); }
inline uint32_t get32(const uint8_t* p) noexcept {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

template <class Buffer>
void put16(Buffer& out, uint16_t v) {
    using Byte = typename Buffer::value_type;
    out.push_back(Byte(v >> 8));
    out.push_back(Byte(v & 0xff));
}

template <class Buffer>
void put32(Buffer& out, uint32_t v) {
    put16(out, uint16_t(v >> 16));
    put16(out, uint16_t(v & 0xffff));
}

}  // namespace signpost::core
