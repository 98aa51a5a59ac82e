// Authenticated denial of existence: NSEC (RFC 4034 4, RFC 4035 3.1.3) and NSEC3
// (RFC 5155, RFC 9276) chains over a zone's owner names, and which of their records
// prove an NXDOMAIN, a NODATA or a wildcard answer. Built with the View, off the query
// path; the proofs are looked up when answers are pre-rendered. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/name.hpp"

namespace signpost::dnssec {

// RFC 4034 4.1.2: the type bit maps field for a set of types (any order, duplicates ignored).
std::string type_bitmap(std::span<const uint16_t> types);
// The types in a bit maps field, ascending; nullopt when it is malformed (windows out of
// order, a length of 0 or above 32, trailing bytes).
std::optional<std::vector<uint16_t>> bitmap_types(std::string_view bitmap);

// One authoritative owner name of the zone and the types of its RRsets, as served
// (DNSKEY, CDS, ... included). Names below a delegation (glue) are not passed in; a
// delegation point passes NS (and DS when the zone has one) with `delegation` set.
struct OwnerTypes {
    core::Name name;
    std::vector<uint16_t> types;
    bool delegation = false;
};

// A denial record: its owner and rdata (type NSEC or NSEC3 per the chain).
struct DenialRecord {
    core::Name owner;
    std::string rdata;
};

// Which records of a chain an answer carries: indices into records(), each once.
using Proof = std::vector<std::size_t>;

// The NSEC chain of a zone: one NSEC per owner name in canonical order, the last pointing
// back to the apex; each bit map adds NSEC and RRSIG to the owner's types (RFC 4034 4.1.2).
class NsecChain {
public:
    // `apex` must be among `owners`; names outside the zone are ignored.
    NsecChain(const core::Name& apex, std::vector<OwnerTypes> owners);

    const std::vector<DenialRecord>& records() const noexcept { return records_; }

    // qname does not exist: the NSEC covering it and the one covering the wildcard at its
    // closest encloser (RFC 4035 3.1.3.2).
    Proof nxdomain(const core::Name& qname) const;
    // qname exists without the type: its own NSEC; for an empty non-terminal, the NSEC
    // covering it (RFC 4035 3.1.3.1).
    Proof nodata(const core::Name& qname) const;
    // An answer synthesised from `wildcard`: the NSEC covering qname (RFC 4035 3.1.3.3).
    Proof wildcard_answer(const core::Name& qname) const;
    // No such type at `wildcard`, which matched qname: the wildcard's NSEC and the NSEC
    // covering qname (RFC 4035 3.1.3.4).
    Proof wildcard_nodata(const core::Name& qname, const core::Name& wildcard) const;

    // The longest ancestor of qname (or qname) that exists, empty non-terminals included.
    core::Name closest_encloser(const core::Name& qname) const;

private:
    std::optional<std::size_t> match(const core::Name& n) const;
    std::size_t cover(const core::Name& n) const;  // the record whose owner < n < next
    bool exists(const core::Name& n) const;
    core::Name apex_;
    std::vector<core::Name> names_;  // canonical order
    std::vector<DenialRecord> records_;
};

// RFC 5155 5: IH(salt, x, 0) = H(x | salt); IH(salt, x, k) = H(IH(salt, x, k-1) | salt),
// H = SHA-1, x the lowercased wire name. 20 bytes.
std::string nsec3_hash(const core::Name& name, std::string_view salt, uint16_t iterations);

struct Nsec3Params {
    std::string salt;         // raw bytes
    uint16_t iterations = 0;  // RFC 9276: 0
};
// NSEC3PARAM rdata: algorithm 1 (SHA-1), flags 0, iterations, salt (RFC 5155 4).
std::string nsec3param_rdata(const Nsec3Params& p);

// The NSEC3 chain of a zone: one NSEC3 per owner name and per empty non-terminal, ordered
// by hash; owner <base32hex(hash)>.<apex>. Bit maps add RRSIG where the name has signed
// data (not at an unsigned delegation) and NSEC3PARAM at the apex; empty non-terminals
// have an empty bit map. Opt-out is never set.
class Nsec3Chain {
public:
    Nsec3Chain(const core::Name& apex, std::vector<OwnerTypes> owners, Nsec3Params params);

    const std::vector<DenialRecord>& records() const noexcept { return records_; }
    const Nsec3Params& params() const noexcept { return params_; }

    // RFC 5155 7.2.2: the closest encloser's NSEC3, the one covering the next closer name
    // and the one covering the wildcard at the closest encloser.
    Proof nxdomain(const core::Name& qname) const;
    // RFC 5155 7.2.3: qname's own NSEC3 (empty non-terminals have one).
    Proof nodata(const core::Name& qname) const;
    // RFC 5155 7.2.6: the NSEC3 covering the next closer name of qname below the
    // wildcard's parent (the closest encloser).
    Proof wildcard_answer(const core::Name& qname, const core::Name& wildcard) const;
    // RFC 5155 7.2.5: the closest encloser's NSEC3, the one covering the next closer name
    // and the wildcard's own NSEC3.
    Proof wildcard_nodata(const core::Name& qname, const core::Name& wildcard) const;

    core::Name closest_encloser(const core::Name& qname) const;

    // The sorted raw hashes, one per record (records()[i] has hashes()[i]).
    const std::vector<std::string>& hashes() const noexcept { return hashes_; }
    // The record whose hash is `n`'s, or nullopt.
    std::optional<std::size_t> find(const core::Name& n) const { return match(n); }
    // The record covering `n` (hash below n's, next hash above it, wrapping at the end).
    std::size_t covering(const core::Name& n) const { return cover(n); }
    // Record i's rdata (same hash, same next hash) with the types of another answer
    // shape at its owner: a View's service owner has one NSEC3 per shape (the types
    // depend on the current answer). The bit map follows the chain's rule (RRSIG when
    // signed data, NSEC3PARAM at the apex).
    std::string rdata_with(std::size_t i, std::vector<uint16_t> types, bool delegation) const;

private:
    std::optional<std::size_t> match(const core::Name& n) const;
    std::size_t cover(const core::Name& n) const;
    core::Name next_closer(const core::Name& qname, const core::Name& encloser) const;
    core::Name apex_;
    Nsec3Params params_;
    std::vector<std::string> hashes_;  // sorted raw hashes, one per record
    std::vector<DenialRecord> records_;
    std::string apex_hash_;
};

// The TTL of NSEC/NSEC3 records and of a negative answer's SOA: the smaller of the SOA's
// MINIMUM field and its own TTL (RFC 9077).
uint32_t negative_ttl(uint32_t soa_minimum, uint32_t soa_ttl) noexcept;

}  // namespace signpost::dnssec
