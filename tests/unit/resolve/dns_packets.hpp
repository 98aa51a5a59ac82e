// Test helpers: DNS messages built byte by byte, independently of
// resolve/message.cpp, for the parser tests and the fake server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"

namespace signpost::resolve::test {

inline void put16(std::vector<uint8_t>& b, uint16_t v) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
}
inline void put32(std::vector<uint8_t>& b, uint32_t v) {
    put16(b, uint16_t(v >> 16));
    put16(b, uint16_t(v));
}
inline std::vector<uint8_t> encode_name(std::string_view name) {
    std::vector<uint8_t> b;
    while (!name.empty()) {
        auto dot = name.find('.');
        auto label = name.substr(0, dot);
        b.push_back(uint8_t(label.size()));
        b.insert(b.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    b.push_back(0);
    return b;
}

struct Rr {
    std::string owner;
    uint16_t type = 1;
    uint32_t ttl = 60;
    std::vector<uint8_t> rdata;
};
inline Rr a(std::string owner, std::string_view addr, uint32_t ttl = 60) {
    auto ip = *core::IpAddress::parse(addr);
    return {std::move(owner), uint16_t(ip.v6 ? 28 : 1), ttl, std::vector<uint8_t>(ip.bytes.begin(), ip.bytes.begin() + ip.size())};
}
inline Rr cname(std::string owner, std::string_view target, uint32_t ttl = 60) {
    return {std::move(owner), 5, ttl, encode_name(target)};
}
inline Rr soa(std::string owner, uint32_t ttl, uint32_t minimum) {
    std::vector<uint8_t> rd = encode_name("ns." + owner);
    auto rname = encode_name("hostmaster." + owner);
    rd.insert(rd.end(), rname.begin(), rname.end());
    for (uint32_t v : {1u, 3600u, 600u, 86400u}) put32(rd, v);
    put32(rd, minimum);
    return {std::move(owner), 6, ttl, rd};
}

struct Reply {
    uint16_t id = 0;
    std::string qname;
    uint16_t qtype = 1;
    uint8_t rcode = 0;
    bool tc = false;
    std::vector<Rr> answers, authority;
};
inline std::vector<uint8_t> encode(const Reply& r) {
    std::vector<uint8_t> b;
    put16(b, r.id);
    put16(b, uint16_t(0x8000 | 0x0100 | 0x0080 | (r.tc ? 0x0200 : 0) | r.rcode));  // QR RD RA
    put16(b, 1);
    put16(b, uint16_t(r.answers.size()));
    put16(b, uint16_t(r.authority.size()));
    put16(b, 0);
    auto q = encode_name(r.qname);
    b.insert(b.end(), q.begin(), q.end());
    put16(b, r.qtype);
    put16(b, 1);
    for (auto* section : {&r.answers, &r.authority})
        for (auto& rr : *section) {
            auto o = encode_name(rr.owner);
            b.insert(b.end(), o.begin(), o.end());
            put16(b, rr.type);
            put16(b, 1);
            put32(b, rr.ttl);
            put16(b, uint16_t(rr.rdata.size()));
            b.insert(b.end(), rr.rdata.begin(), rr.rdata.end());
        }
    return b;
}

// The id, name and type of a query (no compression in queries).
struct Question {
    uint16_t id = 0;
    std::string name;
    uint16_t type = 0;
};
inline bool decode_question(const uint8_t* p, std::size_t n, Question& q) {
    if (n < 17) return false;
    q.id = uint16_t(p[0] << 8 | p[1]);
    std::size_t pos = 12;
    q.name.clear();
    while (pos < n && p[pos] != 0) {
        std::size_t len = p[pos];
        if (len > 63 || pos + 1 + len >= n) return false;
        if (!q.name.empty()) q.name += '.';
        q.name.append(reinterpret_cast<const char*>(p + pos + 1), len);
        pos += 1 + len;
    }
    if (pos + 5 > n) return false;
    q.type = uint16_t(p[pos + 1] << 8 | p[pos + 2]);
    return true;
}

}  // namespace signpost::resolve::test
