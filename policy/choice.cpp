// The per-query choice (subnet rule, weighted variant): the one implementation
// the answer path, explain and the tests call. Pure: no I/O, no clocks, no RNG.
#include "policy/choice.hpp"

#include <algorithm>

#include "policy/policy.hpp"

namespace signpost::policy {

unsigned common_bits(const core::IpAddress& a, const core::IpAddress& b, unsigned max) noexcept {
    unsigned bits = 0;
    for (unsigned i = 0; i < 16 && bits < max; ++i) {
        uint8_t x = a.bytes[i] ^ b.bytes[i];
        if (x == 0) {
            bits += 8;
            continue;
        }
        while (!(x & 0x80)) {
            ++bits;
            x = uint8_t(x << 1);
        }
        break;
    }
    return std::min(bits, max);
}

SubnetMatch match_subnet(std::span<const core::IpPrefix> prefixes, const core::IpAddress& client) noexcept {
    return match_subnet(prefixes, [](const core::IpPrefix& p) -> const core::IpPrefix& { return p; }, client);
}

std::size_t pick_variant(std::span<const uint64_t> cumulative, uint64_t r) noexcept {
    const std::size_t n = cumulative.size();
    if (n <= 1) return 0;  // 0 == size() when empty
    const uint64_t total = cumulative[n - 1];
    if (total == 0) return std::size_t(r % n);
    const uint64_t x = r % total;
    // The first running total above x; a weight-0 variant's total equals its
    // predecessor's, so it is never the first.
    return std::size_t(std::upper_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin());
}

std::vector<uint64_t> cumulative_weights(const Decision& decision) {
    std::vector<uint64_t> out;
    out.reserve(decision.variants.size());
    uint64_t total = 0;
    for (auto& v : decision.variants) out.push_back(total += v.weight);
    return out;
}

}  // namespace signpost::policy
