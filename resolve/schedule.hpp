// The resolver's rules, pure: which server to ask, when to ask again, what an
// answer or a failure does to a name's Resolution, and resolv.conf parsing.
// No sockets, no clocks: time comes in as arguments (doctest reaches all of it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "core/resolution.hpp"

namespace signpost::resolve {

struct Server {
    core::IpAddress address;
    uint16_t port = 53;
    std::string to_string() const;  // "127.0.0.53:53", "[::1]:5353"
    bool operator==(const Server&) const = default;
};

// "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT" (a bare IPv6 address also parses).
std::optional<Server> parse_server(std::string_view text);

// The `nameserver` lines of a resolv.conf text, in order (invalid lines skipped).
std::vector<Server> parse_resolv_conf(std::string_view text);

struct Bounds {
    core::Millis min_ttl{5000};       // never re-resolve sooner than this after an answer
    core::Millis max_ttl{3600000};    // nor later
    core::Millis timeout{2000};       // per query, per server tried
    bool operator==(const Bounds&) const = default;
};

// What one attempt (A and AAAA, following CNAMEs) came back with.
struct Outcome {
    enum Kind { Answer, NxDomain, NoData, Failure } kind = Failure;
    std::vector<core::IpAddress> addresses;  // Answer: any order, duplicates allowed
    uint32_t ttl = 0;                        // Answer: lowest TTL of the chain and the address sets
                                             // NxDomain/NoData: the negative TTL (SOA minimum), 0 if none
    std::string error;                       // Failure: "timeout after 2 s", "SERVFAIL", "REFUSED", ...
    std::string server;                      // who answered or failed: apply() writes "<error> from <server>"
    // One family's outcome (A or AAAA) before combine(): the lowest TTL of the
    // CNAMEs it followed, UINT32_MAX when none (an Answer's `ttl` includes it).
    uint32_t chain_ttl = UINT32_MAX;
    // Failure: attempts failed in a row, this one included (the resolver counts;
    // retry_after() backs off with it).
    uint64_t failed_in_a_row = 1;
};

// The outcome of one attempt from its A and AAAA outcomes: a failure of either
// fails the attempt (the last good addresses stay); else addresses from either
// make an Answer; else NXDOMAIN on either makes NxDomain; else NoData.
Outcome combine(const Outcome& a, const Outcome& aaaa);

// Applies an attempt's outcome to `r` at `now`: Answer sets addresses (sorted,
// IPv4 first, unique), ttl, resolved_at and refreshes after refresh_after(ttl);
// NxDomain/NoData empty the addresses ("NXDOMAIN for <name>", "no A or AAAA
// records for <name>") and ask again after the negative TTL within the bounds;
// Failure keeps the last good addresses, ttl and resolved_at (state Failing,
// error "<error> from <server>") and retries after retry_after(failed_in_a_row).
// Always sets next_refresh and server.
void apply(core::Resolution& r, const Outcome& outcome, core::TimePoint now, const Bounds& bounds);

// When to re-resolve after an answer with record TTL `ttl`: at half the TTL
// (so a fresh answer is in before the record expires), within the bounds.
core::Millis refresh_after(uint32_t ttl, const Bounds& bounds);

// After `failures` consecutive failures: 1 s, 2 s, 4 s ... up to min_ttl (at least 1 s).
core::Millis retry_after(uint64_t failures, const Bounds& bounds);

// The TTL a flattened answer may carry: the record's TTL left when the next
// refresh is due (an answer cached until then expires with the record), at
// least 1 s. UINT32_MAX when `r` has no addresses.
uint32_t flattened_ttl_cap(const core::Resolution& r);

}  // namespace signpost::resolve
