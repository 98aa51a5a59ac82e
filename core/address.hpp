// IPv4/IPv6 addresses and prefixes as plain bytes: what answers carry and what
// subnet policies match against. No sockets here.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signpost::core {

struct IpAddress {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // v4 uses the first 4

    static std::optional<IpAddress> parse(std::string_view text);  // "192.0.2.1", "2001:db8::1"
    std::string to_string() const;
    std::size_t size() const noexcept { return v6 ? 16 : 4; }
    bool operator==(const IpAddress&) const = default;
};

struct IpPrefix {
    IpAddress address;  // host bits zeroed
    uint8_t length = 0;

    // "192.0.2.0/24", "2001:db8::/32"; a bare address is a host prefix (/32, /128).
    static std::optional<IpPrefix> parse(std::string_view text);
    bool contains(const IpAddress& a) const noexcept;
    std::string to_string() const;
    bool operator==(const IpPrefix&) const = default;
};

}  // namespace signpost::core
