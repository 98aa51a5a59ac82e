// The per-query choice, in one place for the answer path, explain and the tests:
// which subnet rule a client falls in, and which variant a random number picks.
// Pure and allocation-free: no RNG of its own (the caller passes the number).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

#include "core/address.hpp"

namespace signpost::policy {

struct Decision;

// The number of leading bits `a` and `b` share (same family), at most `max`.
unsigned common_bits(const core::IpAddress& a, const core::IpAddress& b, unsigned max) noexcept;

struct SubnetMatch {
    std::size_t rule = 0;  // the first rule containing the client; == the rule count: none does
    // How many leading bits of the client's address decide the outcome: every
    // address sharing them gets the same rule (the ECS SCOPE PREFIX-LENGTH).
    uint8_t scope = 0;
};

// Matches `client` against subnet rules ordered most specific first (as
// Evaluation::subnets and the View keep them); `prefix_of(rules[i])` is a
// rule's prefix. The first rule containing the client wins.
// Runs per query: no allocation, no locks.
template <class Rules, class PrefixOf>
SubnetMatch match_subnet(const Rules& rules, PrefixOf prefix_of, const core::IpAddress& client) noexcept {
    const std::size_t n = std::size(rules);
    SubnetMatch m{n, 0};
    const unsigned max_bits = client.v6 ? 128 : 32;
    unsigned scope = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const core::IpPrefix& p = prefix_of(rules[i]);
        if (p.address.v6 != client.v6) continue;  // another family never matches nor needs excluding
        if (p.contains(client)) {
            if (m.rule == n) {
                m.rule = i;
                if (p.length > scope) scope = p.length;
            }
        } else {
            // The answer must not be reused for clients that this rule matches:
            // the scope must be long enough to exclude it.
            unsigned c = common_bits(client, p.address, max_bits) + 1;
            if (c > max_bits) c = max_bits;
            if (c > scope) scope = c;
        }
    }
    m.scope = uint8_t(scope);
    return m;
}

// The same over a plain list of prefixes (the View's compact form).
SubnetMatch match_subnet(std::span<const core::IpPrefix> prefixes, const core::IpAddress& client) noexcept;

// Picks a variant from a uniformly random `r`, given the running totals of the
// variants' weights (cumulative[i] = weight[0] + ... + weight[i]): variant i with
// probability weight[i] / total, uniformly when every weight is 0. Returns its
// index; 0 (== size) when there is none (NODATA). Runs per query: no allocation.
std::size_t pick_variant(std::span<const uint64_t> cumulative, uint64_t r) noexcept;

// The running totals pick_variant() reads, for `decision`'s variants. Built once
// per decision (View build, tests), never per query.
std::vector<uint64_t> cumulative_weights(const Decision& decision);

}  // namespace signpost::policy
