#include "dnssec/encoding.hpp"

#include <cstdint>

namespace signpost::dnssec {

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
}  // namespace

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
    }
    if (std::size_t rest = in.size() - i) {
        uint32_t v = uint32_t(uint8_t(in[i])) << 16 | (rest == 2 ? uint32_t(uint8_t(in[i + 1])) << 8 : 0);
        out.push_back(kB64[(v >> 18) & 63]);
        out.push_back(kB64[(v >> 12) & 63]);
        out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0, chars = 0, pad = 0;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        if (c == '=') {
            ++pad;
            ++chars;
            continue;
        }
        if (pad) return std::nullopt;  // data after padding
        int v = b64_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6 | uint32_t(v)) & 0xffffff;
        bits += 6;
        ++chars;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(char((acc >> bits) & 0xff));
        }
    }
    if (chars % 4 != 0 || pad > 2) return std::nullopt;
    // The bits left over must be zero (canonical encoding) and match the padding.
    if (pad && ((chars - pad) % 4) != 4 - pad) return std::nullopt;
    if (bits && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string base32hex_encode(std::string_view in) {
    static constexpr char kB32[] = "0123456789abcdefghijklmnopqrstuv";
    std::string out;
    uint64_t acc = 0;
    int bits = 0;
    for (char c : in) {
        acc = acc << 8 | uint8_t(c);
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(kB32[(acc >> bits) & 31]);
        }
    }
    if (bits) out.push_back(kB32[(acc << (5 - bits)) & 31]);
    return out;
}

std::string hex_encode(std::string_view in, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(in.size() * 2);
    for (char c : in) {
        out.push_back(digits[uint8_t(c) >> 4]);
        out.push_back(digits[uint8_t(c) & 15]);
    }
    return out;
}

}  // namespace signpost::dnssec
