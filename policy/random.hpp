// A small deterministic generator (splitmix64) for policies that need
// randomness: every number is derived from the caller's seed, never a clock.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace signpost::policy {

class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) noexcept : state_(seed) {}

    uint64_t next() noexcept {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

    // Uniform in [0, n) for n > 0 (rejection sampling: no modulo bias).
    uint64_t below(uint64_t n) noexcept {
        uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % n);
        uint64_t x;
        do x = next();
        while (x >= limit);
        return x % n;
    }

    // Fisher-Yates shuffle.
    template <class T> void shuffle(std::vector<T>& v) noexcept {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }

private:
    uint64_t state_;
};

}  // namespace signpost::policy
