// Builds a query and reads a response in presentation format: how the control
// plane (explain) and tools look at what the DNS path answers. Not on the query path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/name.hpp"

namespace signpost::dns {

// A wire query for (qname, qtype, IN) with RD clear and EDNS(0); with
// `client_subnet`, an EDNS Client Subnet option carrying it; `dnssec`: the DO bit.
std::vector<uint8_t> make_query(const core::Name& qname, uint16_t qtype,
                                const std::optional<core::IpPrefix>& client_subnet = std::nullopt,
                                bool dnssec = false);

struct DescribedResponse {
    std::string rcode;  // "NOERROR", "NXDOMAIN", ...
    bool authoritative = false;
    bool truncated = false;
    std::vector<std::string> answer, authority, additional;  // "www.example.com. 30 IN A 192.0.2.1"
};

// Parses a response (ldns); nullopt when it is not a valid DNS message.
std::optional<DescribedResponse> describe_response(const std::vector<uint8_t>& wire);

// RR type number from its mnemonic ("A", "aaaa", "TYPE65534"); nullopt when unknown.
std::optional<uint16_t> rr_type_from_text(const std::string& text);

}  // namespace signpost::dns
