// A transferred zone, signed (issue 15): what a secondary of a signed zone receives
// in AXFR and IXFR. The secondary serves the records as they are, so they carry
// everything a validator needs: DNSKEY, CDS and CDNSKEY at the apex, an NSEC (or
// NSEC3) chain over the authoritative names, and an RRSIG per key over every authoritative RRset.
// Pure: signatures come from the caller (the control core: dns::transfer_signature, the
// View's own or the SignatureCache's), so a health change signs only the RRsets that
// changed.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dnssec/denial.hpp"
#include "dnssec/keys.hpp"
#include "xfr/zone_content.hpp"

namespace signpost::xfr {

// The RRSIG rdata of `signer` over (owner, type, original TTL, rdatas).
using RrsigFn = std::function<std::string(const dnssec::Signer& signer, const core::Name& owner, uint16_t type,
                                          uint32_t ttl, const zones::RdataList& rdatas)>;

// Signs `content` in place (every record but the SOA, whose signature depends on the
// serial: soa_signatures). DNSKEY/CDS/CDNSKEY at the apex become the keys' (any in the
// content are replaced). NS at a delegation and names below one (glue) are not
// authoritative: neither signed nor in the chain; a DS there is signed. The NSEC TTL
// is `nsec_ttl` (the SOA's negative TTL, RFC 9077); an RRSIG's TTL is its RRset's.
// DNSKEY, CDS and CDNSKEY are signed by the SEP keys (CSK or KSK), the rest by the
// zone signing keys (CSK or ZSK).
// With `nsec3` the denial is NSEC3 (RFC 5155) instead: NSEC3PARAM at the apex (TTL
// `nsec_ttl`, signed) and dnssec::Nsec3Chain's records, signed, with that TTL.
void sign_content(ZoneContent& content, const dnssec::ZoneKeys& keys, uint32_t nsec_ttl, const RrsigFn& rrsig,
                  const std::optional<dnssec::Nsec3Params>& nsec3 = std::nullopt);

// The RRSIG records of `soa` (its final serial), sorted: one per zone signing key.
std::vector<Record> soa_signatures(const Record& soa, const dnssec::ZoneKeys& keys, const RrsigFn& rrsig);

}  // namespace signpost::xfr
