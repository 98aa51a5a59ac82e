// Explain over DNS: answers CH TXT "[_TYPE.]NAME.explain.signpost." from allowed
// clients with one TXT record per explain line. Installed as the DNS server's
// ServerOptions::explain_handler; reads nothing but the ExplainState it is handed
// (the published dns::Snapshot's `explain`).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "dns/explain.hpp"
#include "dns/view.hpp"

namespace signpost::dns {

// Reading an explain query, in two steps so that `allow` sits between them: the
// header and question for any client, the additional section (OPT, ECS) only for
// an allowed one. Pure, no allocation: the one parser behind
// ExplainResponder::handle and tests/fuzz/fuzz_explain_query.

// The header and question: all that is read before the allow check.
struct ExplainQuestion {
    std::size_t question_end = 0;  // offset just after QCLASS
    std::size_t qname_len = 0;     // the name's wire octets at offset 12 (case kept)
    uint16_t arcount = 0;
};
// A QUERY (QR=0, opcode 0) with one question, no answer or authority records,
// class CH, type TXT, the name uncompressed and at most 255 octets. Reads
// nothing past QCLASS. False: the normal answer path answers (REFUSED, FORMERR).
bool parse_explain_question(std::span<const uint8_t> wire, ExplainQuestion& q) noexcept;

// What the additional section says.
struct ExplainRequest {
    bool has_opt = false;
    uint16_t udp_size = 512;
    bool has_ecs = false;
    uint16_t ecs_family = 0;
    uint8_t ecs_source = 0;
    uint8_t ecs_address[16] = {};  // (source + 7) / 8 bytes as sent
    uint8_t ecs_address_len = 0;
};
// The additional section after `q` (parse_explain_question on the same `wire`):
// at most one OPT (version 0, root owner), at most one well-formed ECS option,
// nothing else, nothing after it. False: the normal path answers instead.
bool parse_explain_request(std::span<const uint8_t> wire, const ExplainQuestion& q, ExplainRequest& r) noexcept;

class ExplainResponder {
public:
    // `allow`: who may ask (anyone else gets the normal path's REFUSED);
    // `udp_payload_size`: the EDNS size advertised in the responses' OPT.
    ExplainResponder(std::vector<core::IpPrefix> allow, uint16_t udp_payload_size);

    // On a DNS worker, any number at once, from `state` (the snapshot the query is
    // answered from; null: explain is off or nothing was published, return false).
    // True when it answered: for TCP (client.tcp) one framed
    // message (2-byte length) is appended to `out`; for UDP `out` holds one
    // message of at most `udp_max` bytes (TC=1 and no records when the lines do
    // not fit). False when the query is not an explain question from an allowed
    // client, or is malformed: the normal answer path answers it (REFUSED, FORMERR).
    // Order of work: the header and question, then `allow`, then (allowed
    // clients only) the additional section.
    bool handle(const ExplainState* state, std::span<const uint8_t> query, const ClientInfo& client,
                std::size_t udp_max, std::string& out) const;

    // Lines longer than this are cut (a pool with thousands of endpoints must not
    // make one record the size of a message).
    static constexpr std::size_t kMaxLineBytes = 4096;

private:
    std::vector<core::IpPrefix> allow_;
    uint16_t udp_payload_size_;
};

}  // namespace signpost::dns
