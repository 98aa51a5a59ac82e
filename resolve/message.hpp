// The resolver's few DNS messages, hand-rolled: a query for (name, A or AAAA)
// and the parts of a reply it reads (header, question, answer and authority
// records). Pure: no sockets. Malformed input is an error, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"

namespace signpost::resolve::wire {

constexpr uint16_t kTypeA = 1, kTypeCname = 5, kTypeSoa = 6, kTypeAaaa = 28, kTypeOpt = 41;
constexpr uint16_t kClassIn = 1;
constexpr uint8_t kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4, kRefused = 5;
// The EDNS0 UDP payload size we offer (the DNS flag day 2020 value).
constexpr uint16_t kUdpPayload = 1232;

// "SERVFAIL", "REFUSED", ... ; "RCODE 11" for the others.
std::string rcode_name(unsigned rcode);

// A recursive query (RD) for `name` (lower case, no final dot, or with one)
// type `qtype` class IN, with an EDNS0 OPT record. Empty when `name` is not a
// valid DNS name (an empty label, a label over 63 bytes, over 255 in all).
std::vector<uint8_t> build_query(uint16_t id, std::string_view name, uint16_t qtype);

struct Record {
    std::string owner;        // lower case, no final dot ("" for the root)
    uint16_t type = 0, cls = 0;
    uint32_t ttl = 0;         // a TTL with the top bit set reads as 0 (RFC 2181 8)
    core::IpAddress address;  // A, AAAA
    std::string target;       // CNAME: lower case, no final dot
    uint32_t soa_minimum = 0; // SOA
};

struct Message {
    uint16_t id = 0;
    bool qr = false, tc = false;
    uint8_t rcode = 0;
    uint16_t qdcount = 0;
    std::string qname;  // lower case, no final dot
    uint16_t qtype = 0, qclass = 0;
    std::vector<Record> answers, authority;  // not read when tc is set
    // Non-empty when the header and question parsed but a record did not.
    std::string error;
};

// The header and question of `bytes` (nullopt when even those are malformed,
// with the reason in *why), then its answer and authority records.
std::optional<Message> parse(std::span<const uint8_t> bytes, std::string* why = nullptr);

// True when `m` is a response (QR) to the query (id, qname, qtype, IN): one
// question, the name compared case-insensitively.
bool answers_query(const Message& m, uint16_t id, std::string_view qname, uint16_t qtype);

// Where the answer section leads from `qname` for `qtype`: the CNAME chain
// followed, the addresses at its end, and the lowest TTL of what was used.
struct Chain {
    std::vector<core::IpAddress> addresses;  // the `qtype` records at the end of the chain
    std::string end;                         // the last name reached (qname when no CNAME)
    uint32_t cname_ttl = UINT32_MAX;         // lowest TTL of the CNAMEs followed
    uint32_t ttl = UINT32_MAX;               // lowest TTL of the CNAMEs and the address set
    unsigned cnames = 0;                     // CNAMEs followed
    std::string error;                       // "CNAME loop at x.test", "CNAME chain longer than 16"
};
Chain follow(const Message& m, std::string_view qname, uint16_t qtype);

// The negative TTL of a NXDOMAIN or NODATA reply: min(SOA TTL, SOA minimum) of
// the SOA in the authority section (RFC 2308); 0 when there is none.
uint32_t negative_ttl(const Message& m);

// `name` in lower case without a final dot.
std::string normalize_name(std::string_view name);

}  // namespace signpost::resolve::wire
