// DNSSEC for the View (issue 15): the keys of the signed zones, and the signatures
// kept from one View to the next so that a health change switches between answers
// signed before, instead of signing again. Control loop only (build_view); the query
// path reads the signatures the View copied, never this cache.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/shared_bytes.hpp"
#include "dnssec/keys.hpp"
#include "zones/model.hpp"

namespace signpost::dns {

// The expiration of RRSIG rdata (RFC 4034 3.1.5, serial arithmetic) in Unix seconds near
// `now`; `now` for rdata too short to hold one.
int64_t rrsig_expiration(std::string_view rrsig, int64_t now) noexcept;
// Whether RRSIG rdata covers `type` with original TTL `ttl` and names `signer`'s key
// (its algorithm, key tag and signer name; RFC 4034 3.1).
bool rrsig_made_by(std::string_view rrsig, const dnssec::Signer& signer, uint16_t type, uint32_t ttl) noexcept;

// The keys of each signed zone (zones::Zone::dnssec.sign), by origin (canonical
// wire). A signed zone whose keys are missing here is not served signed: the caller
// (the daemon) refuses to start or reload without them.
using SigningKeys = std::map<std::string, dnssec::ZoneKeys, std::less<>>;

// RRSIG rdata by what they sign: owner, type, original TTL, key and the RRset in
// canonical form, found by a SHA-1 digest of that signed data (its first 16 bytes per
// entry instead of the data itself; a digest, not a signature: see dnssec/sha1.hpp). Each
// RRSIG is kept once, shared with the SignedZones and Views that serve it
// (core::SharedBytes). A signature is made again when less than the zone's `refresh`
// remains. Entries no View used for kKeepBuilds builds are dropped (looked for every
// kKeepBuilds / 8 builds), unless the cache is small.
// What a zone's SignedZone holds (its static RRsets, its denial chain, its presigned
// address sets: nearly every signature of a large zone) is not kept here (Keep::No): the
// View after a reload finds it in the View before by name (dns/view_signing.cpp), so the
// cache keeps only what changes with health (state TXT, answers no SignedZone presigned),
// the apex's own sets and what only a transfer signs.
class SignatureCache {
public:
    enum class Keep : bool { No, Yes };
    // The RRSIG rdata of `signer` over (owner, type, ttl, rdatas), valid at `now_unix`
    // for at least `settings.refresh`. May sign (OpenSSL); throws std::runtime_error
    // when OpenSSL fails. Keep::No: an entry already here is used, a signature made anew
    // is returned without an entry (signatures_made() counts it all the same).
    core::SharedBytes rrsig(const dnssec::Signer& signer, const zones::DnssecSettings& settings,
                            const core::Name& owner, uint16_t type, uint32_t ttl, const zones::RdataList& rdatas,
                            int64_t now_unix, Keep keep = Keep::Yes);

    // Around one View's build: entries unused for kKeepBuilds builds go at the end.
    void begin_build() noexcept {
        ++build_;
        noted_ = used_earliest_ = 0;
    }
    void end_build();
    // A signature the build serves without asking the cache (one kept from the View
    // before) expires at `unix`: earliest_expiration() counts it.
    void note_expiration(int64_t unix) noexcept {
        if (unix != 0 && (noted_ == 0 || unix < noted_)) noted_ = unix;
    }

    std::size_t size() const noexcept { return entries_.size(); }
    uint64_t signatures_made() const noexcept { return made_; }
    // The earliest expiration (Unix seconds, serial arithmetic unwrapped at now) among
    // the signatures the last build used; 0 when none.
    int64_t earliest_expiration() const noexcept { return earliest_; }

    static constexpr uint64_t kKeepBuilds = 256;

private:
    struct Key {  // the first 128 bits of the digest
        uint64_t a = 0, b = 0;
        bool operator==(const Key&) const noexcept = default;
    };
    struct Entry {  // its expiration is the RRSIG's own (rrsig_expiration); 32 bytes
        Key key;
        core::SharedBytes rrsig;
        uint32_t used = 0;  // the last build that used it (modulo 2^32)
    };
    // Open addressing over 4-byte slots (entries_ index + 1; 0: empty), at most half
    // full, into a dense entry list: ~40 bytes an entry where a node-based map took ~108.
    // The key is already a digest: its first word picks the slot.
    Entry* find(const Key& key) noexcept;
    Entry& find_or_add(const Key& key, bool& fresh);
    void index_all(std::size_t slots);
    std::vector<Entry> entries_;
    std::vector<uint32_t> slots_;
    std::size_t mask_ = 0;
    uint64_t build_ = 0, made_ = 0;
    int64_t earliest_ = 0, noted_ = 0, used_earliest_ = 0;
};

}  // namespace signpost::dns
