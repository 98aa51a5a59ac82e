#include "core/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace signpost::core {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.v6 = false;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.v6 = true;
        return a;
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    unsigned max = addr->v6 ? 128 : 32;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
        if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty() || len > max)
            return std::nullopt;
    }
    IpPrefix out;
    out.length = uint8_t(len);
    out.address = *addr;
    for (unsigned bit = len; bit < 128; ++bit) out.address.bytes[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
    return out;
}

bool IpPrefix::contains(const IpAddress& a) const noexcept {
    if (a.v6 != address.v6) return false;
    unsigned full = length / 8;
    if (std::memcmp(a.bytes.data(), address.bytes.data(), full) != 0) return false;
    unsigned rest = length % 8;
    if (rest == 0) return true;
    uint8_t mask = uint8_t(0xff00u >> rest);
    return (a.bytes[full] & mask) == address.bytes[full];
}

std::string IpPrefix::to_string() const { return address.to_string() + "/" + std::to_string(length); }

}  // namespace signpost::core
