// Key timing and rollovers (issue 15), pure rules: what each key does at a time (BIND's
// Publish/Activate/Inactive/Delete/SyncPublish/SyncDelete), when that next changes, the
// check that a zone is never left without a signing key, and the timing a rollover writes:
// ZSK pre-publish (RFC 7583 3.2) and KSK/CSK double-DS with CDS/CDNSKEY (RFC 7583 3.3.2,
// RFC 7344). No I/O: dnssec/keys.cpp reads and writes the files, tools/ runs the commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnssec/keys.hpp"
#include "zones/model.hpp"

namespace signpost::dnssec {

// What a key with `timing` does at `now`. `sep`: a KSK or CSK (flags 257).
//  - no Publish and no Activate (a key made by ldns-keygen, or by hand): published and
//    signing always (and its DS wanted, for a SEP key);
//  - published from Publish (or Activate when Publish is absent) until Delete;
//  - signing while published, from Activate (absent: not yet) until Inactive;
//  - DS wanted (CDS/CDNSKEY) for a published SEP key from SyncPublish (absent: from
//    Activate) until SyncDelete (absent: until Inactive).
KeyState key_state(const KeyTiming& timing, bool sep, int64_t now);

// "published+signing+ds", "published", "unpublished", ...: a state in words (status).
std::string state_text(const KeyState& state, bool sep);

// The first timing field after `now` (Created aside): when key_state() may change.
std::optional<int64_t> next_key_event(const KeyTiming& timing, int64_t now);

// nullopt when, at `now` and at every later key event, something signs the zone's data
// (CSK or ZSK) and something signs its DNSKEY set (CSK or KSK); else why not, naming
// the time and the keys' files.
std::optional<std::string> check_key_timeline(const ZoneKeys& keys, zones::KeyScheme scheme, int64_t now);

// The times a rollover waits for, in seconds.
struct RolloverTimes {
    int64_t dnskey_ttl = 3600;    // the DNSKEY set's TTL (the SOA's TTL)
    int64_t max_ttl = 3600;       // the largest TTL of any signed RRset of the zone
    int64_t propagation = 3600;   // [dnssec] propagation: to every secondary, plus a margin
    int64_t ds_ttl = 86400;       // [dnssec] ds_ttl: the parent's DS TTL
};
RolloverTimes rollover_times(const zones::Zone& zone);

enum class RollKind : uint8_t { Zsk, Ksk, Csk };

struct KeyChange {
    std::size_t key = 0;  // index in ZoneKeys::keys
    KeyTiming timing;     // its new timing
};
struct RolloverPlan {
    std::string error;                  // not empty: refused, nothing is written
    std::optional<uint16_t> new_flags;  // a key to make (256 or 257) with new_timing
    KeyTiming new_timing;
    std::vector<KeyChange> changes;     // timing of existing keys
};

// `signpost dnssec rollover ZONE --zsk|--ksk|--csk` at `now`, for the zone's keys
// (past-Delete keys already left out):
//  - Zsk (keys = "ksk+zsk" only): a new ZSK, Publish now, Activate now + DNSKEY TTL +
//    propagation; every signing ZSK gets Inactive = that Activate and Delete = Inactive
//    + the largest TTL + propagation. Refused while a ZSK rollover runs.
//  - Ksk / Csk (Ksk also names a CSK zone's CSK; Csk only in a CSK zone): a new SEP key,
//    Publish and SyncPublish now, no Activate: its DS goes to the parent beside the old
//    one's and it signs nothing until plan_ds_seen(). Refused while one waits for that
//    or an old one still signs until its Inactive.
RolloverPlan plan_rollover(const ZoneKeys& keys, zones::KeyScheme scheme, RollKind kind, int64_t now,
                           const RolloverTimes& times);

// `signpost dnssec ds-seen ZONE TAG`: the parent has the DS of the waiting SEP key `tag`.
// It signs from `now` (Activate); every other signing SEP key gets SyncDelete now (CDS
// and CDNSKEY name the new key only), Inactive = the latest of now + DS TTL + propagation
// (resolvers holding only the old DS) and the new key's Publish + DNSKEY TTL +
// propagation, Delete = Inactive + (CSK: the largest TTL, KSK: DNSKEY TTL) + propagation.
// Refused for a tag that is no key of the zone, not a SEP key, or already signing.
RolloverPlan plan_ds_seen(const ZoneKeys& keys, zones::KeyScheme scheme, uint16_t tag, int64_t now,
                          const RolloverTimes& times);

// "2026-12-04T18:00:00Z".
std::string iso_utc(int64_t unix_seconds);

}  // namespace signpost::dnssec
