// dns::detail::NameIndex: every key found at its index, absent names not found, and
// the table's size rule (at most half full; up to 16 slots, three quarters).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/view_impl.hpp"

using signpost::dns::detail::NameIndex;

namespace {

std::string key(std::size_t i) {
    std::string label = "h" + std::to_string(i);
    std::string wire(1, char(label.size()));
    wire += label;
    wire += std::string("\7example\0", 9);
    return wire;
}

// Names h0 .. h<n-1> in `keys`, indexed.
NameIndex index_of(std::size_t n, std::vector<std::string>& keys) {
    keys.clear();
    for (std::size_t i = 0; i < n; ++i) keys.push_back(key(i));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    NameIndex index;
    index.build(views);
    return index;
}

int32_t find(const NameIndex& index, const std::vector<std::string>& keys, std::string_view name) {
    return index.find(reinterpret_cast<const uint8_t*>(name.data()), name.size(),
                      [&](int32_t k) { return std::string_view(keys[std::size_t(k)]); });
}

}  // namespace

TEST_CASE("name index: every name found at its index and no other, tables of 0 to 300 names") {
    for (std::size_t n = 0; n <= 300; ++n) {
        CAPTURE(n);
        std::vector<std::string> keys;
        NameIndex index = index_of(n, keys);
        for (std::size_t i = 0; i < n; ++i) REQUIRE(find(index, keys, keys[i]) == int32_t(i));
        for (std::size_t i = n; i < n + 50; ++i) REQUIRE(find(index, keys, key(i)) == -1);
        // Always a free slot, so a miss ends; small tables up to 3/4 full, larger at most 1/2.
        std::size_t slots = index.slots();
        CHECK(slots >= 8);
        CHECK((slots & (slots - 1)) == 0);
        CHECK(n < slots);
        if (slots <= 16) {
            CHECK(n * 4 + 4 <= slots * 3);
        } else {
            CHECK(n * 2 + 2 <= slots);
            CHECK((slots == 32 || n * 2 + 2 > slots / 2));  // the smallest such power of two
        }
    }
}

TEST_CASE("name index: a zone of 10 names takes 16 slots, one of 12 takes 32") {
    for (auto [n, want] : {std::pair<std::size_t, std::size_t>{0, 8}, {5, 8}, {6, 16}, {11, 16}, {12, 32},
                           {15, 32}, {16, 64}, {100, 256}}) {
        CAPTURE(n);
        std::vector<std::string> keys;
        CHECK(index_of(n, keys).slots() == want);
    }
}
