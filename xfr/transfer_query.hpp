// Reading a query that may be a transfer, in two steps so that the address ACL
// sits between them: the header and question for any client, the answer and
// authority sections (the IXFR's SOA) only for a client the ACL lets through.
// Pure: bytes in, a struct out; no allocation, no ldns, no logging. The one
// implementation behind TransferServer::handle and tests/fuzz/fuzz_transfer_query.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace signpost::xfr {

// The header and question of a query: all that is read before the ACL.
struct TransferQuestion {
    uint16_t id = 0;
    uint8_t flags1 = 0;  // QR|Opcode|AA|TC|RD, as sent
    uint16_t qtype = 0, qclass = 0;
    uint16_t ancount = 0, nscount = 0, arcount = 0;
    std::size_t question_end = 0;  // offset just after QCLASS
    std::array<uint8_t, 255> qname{};  // canonical (lower case) uncompressed wire
    std::size_t qname_len = 0;

    std::string_view qname_wire() const noexcept {
        return {reinterpret_cast<const char*>(qname.data()), qname_len};
    }
};

// Reads the header and the question of `wire`: a QUERY (QR=0, opcode 0) with
// QDCOUNT 1 whose name is uncompressed and at most 255 octets. Reads nothing
// past QCLASS. False: not a transfer query (the normal answer path answers it).
bool parse_transfer_question(std::span<const uint8_t> wire, TransferQuestion& q) noexcept;

// What the rest of a transfer request says.
struct TransferRequest {
    bool has_ixfr_soa = false;  // an SOA in the authority section (RFC 1995 §3)
    uint32_t ixfr_serial = 0;   // its serial
};

// Reads the answer and authority sections after `q` (from parse_transfer_question
// on the same `wire`): every record must fit; the last SOA of the authority
// section gives the IXFR serial. The additional section (OPT, TSIG) is left to
// tsig_verify. Call only for a client the address ACL allows. False: malformed.
bool parse_transfer_request(std::span<const uint8_t> wire, const TransferQuestion& q, TransferRequest& r) noexcept;

}  // namespace signpost::xfr
