// zones::RdataList: an RRset's records packed in one string.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "zones/model.hpp"
#include "zones/rdata_list.hpp"

using signpost::zones::RdataList;

namespace {

std::vector<std::string> all(const RdataList& l) {
    std::vector<std::string> out;
    for (auto rd : l) out.emplace_back(rd);
    return out;
}

// True when the list's bytes live inside the object itself (no heap block).
bool in_place(const RdataList& l) {
    auto* p = l.packed().data();
    auto* self = reinterpret_cast<const char*>(&l);
    return p >= self && p < self + sizeof l;
}

}  // namespace

TEST_CASE("RdataList: records in the order added, with their bytes exactly") {
    RdataList l;
    CHECK(l.empty());
    CHECK(l.size() == 0);
    CHECK(l.begin() == l.end());
    const std::string a("\xc0\x00\x02\x01", 4), empty, zeros(std::string(3, '\0'));
    l.push_back(a);
    l.push_back(empty);  // an empty rdata (a TXT of nothing, a NULL) is a record too
    l.push_back(zeros);
    CHECK_FALSE(l.empty());
    CHECK(l.size() == 3);
    CHECK(all(l) == std::vector<std::string>{a, empty, zeros});
    CHECK(l.front() == a);
    CHECK(l[1].empty());
    CHECK(l[2] == zeros);
    CHECK(l.at(2) == zeros);
    CHECK_THROWS_AS(l.at(3), std::out_of_range);
    CHECK(l.contains(zeros));
    for (int i = 0; i < 20; ++i) l.push_back(l.front());  // its own records, as std::vector allows
    CHECK(l.size() == 23);
    CHECK(l[22] == a);
    CHECK_FALSE(l.contains(std::string("\xc0\x00\x02\x02", 4)));
    l.clear();
    CHECK(l.empty());
}

TEST_CASE("RdataList: equality is by records and order, lists come from strings and from packed bytes") {
    const std::vector<std::string> v{"one", std::string(300, 'x'), "three"};
    RdataList from_vector = v;  // implicit: signing and comparing take lists
    RdataList from_init{"one", std::string(300, 'x'), "three"};
    CHECK(from_vector == from_init);
    CHECK(all(from_vector) == v);
    CHECK_FALSE(from_vector == RdataList{"three", std::string(300, 'x'), "one"});
    CHECK_FALSE(from_vector == RdataList{"one"});
    auto copy = RdataList::from_packed(from_vector.packed());
    CHECK(copy == from_vector);
    CHECK(copy.packed().data() != from_vector.packed().data());
}

TEST_CASE("RdataList: one A record needs no heap block, rdata over 65,535 bytes is refused") {
    RdataList a{std::string("\xc0\x00\x02\x01", 4)};
    CHECK(in_place(a));
    CHECK(in_place(RdataList::from_packed(a.packed())));
    RdataList aaaa{std::string(16, '\x20')};
    CHECK_FALSE(in_place(aaaa));  // 18 bytes: on the heap
    CHECK(aaaa.front() == std::string(16, '\x20'));

    RdataList big;
    big.push_back(std::string(RdataList::kMaxRdata, 'x'));  // the largest rdata there is
    CHECK(big.front().size() == RdataList::kMaxRdata);
    CHECK_THROWS_AS(big.push_back(std::string(RdataList::kMaxRdata + 1, 'x')), std::length_error);
    CHECK(big.size() == 1);  // unchanged by the refused record
}

TEST_CASE("RRset: 56 bytes, one 64-byte block in a node's vector") {
    CHECK(sizeof(signpost::zones::RRset) == 56);
}
