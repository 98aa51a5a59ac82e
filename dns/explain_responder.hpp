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
