#include <doctest/doctest.h>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "core/name.hpp"

#include <string>
#include <vector>

using signpost::core::Name;

TEST_CASE("name: relative names are completed with the origin and lowercased") {
    auto origin = *Name::from_text("Example.COM.", Name());
    auto www = Name::from_text("WWW", origin);
    REQUIRE(www);
    CHECK(www->to_text() == "www.example.com.");
    CHECK(www->is_subdomain_of(origin));
    CHECK(www->label_count() == 3);
    CHECK(www->to_relative_text(origin) == "www");
    CHECK(Name::from_text("@", origin)->to_text() == "example.com.");
    CHECK(www->parent() == origin);
}

TEST_CASE("name: malformed names are rejected with a reason") {
    std::string err;
    CHECK_FALSE(Name::from_text("a..b", Name(), &err));
    CHECK(err == "empty label in name");
    CHECK_FALSE(Name::from_text(std::string(64, 'a'), Name(), &err));
    CHECK(err == "label longer than 63 octets");
    CHECK_FALSE(Name::from_text("a\\2", Name(), &err));
    CHECK(err == "\\DDD escape needs three digits");
}

TEST_CASE("name: a suffix only counts on a label boundary") {
    auto a = *Name::from_text("xexample.com.", Name());
    auto b = *Name::from_text("example.com.", Name());
    CHECK_FALSE(a.is_subdomain_of(b));
    CHECK(b.is_subdomain_of(Name()));
}

// Names of up to Name::kInline wire bytes live in the object, longer ones in a heap
// block: every operation must give the same results on both sides of that line.
TEST_CASE("name: names held in place and on the heap copy, move and compare alike") {
    // Wire lengths: "a." 3 ... a label of n characters makes n + 2 bytes.
    auto label_name = [](std::size_t chars) { return *Name::from_text(std::string(chars, 'x') + ".", Name()); };
    const std::size_t in_place = Name::kInline - 2, one_more = Name::kInline - 1;
    Name small = label_name(in_place), large = label_name(one_more);
    CHECK(small.wire_length() == Name::kInline);
    CHECK(large.wire_length() == Name::kInline + 1);
    // The bytes live inside the object exactly when they fit.
    auto inside = [](const Name& n) {
        auto* p = reinterpret_cast<const char*>(&n);
        return n.wire().data() >= p && n.wire().data() < p + sizeof(Name);
    };
    CHECK(inside(small));
    CHECK_FALSE(inside(large));
    CHECK(inside(Name()));

    for (const Name* original : {&small, &large}) {
        CAPTURE(original->wire_length());
        Name copy(*original);
        CHECK(copy == *original);
        CHECK(copy.wire().data() != original->wire().data());  // its own bytes
        Name moved(std::move(copy));
        CHECK(moved == *original);
        CHECK(copy.is_root());  // a moved-from name is the root
        Name assigned;
        assigned = *original;
        CHECK(assigned == *original);
        assigned = assigned;  // self-assignment keeps it
        CHECK(assigned == *original);
        Name other = *Name::from_text("y.", Name());
        other = std::move(assigned);
        CHECK(other == *original);
        CHECK(other.to_text() == original->to_text());
    }
    // Swapping a name in place with one on the heap, and ordering across the two.
    Name a = small, b = large;
    a.swap(b);
    CHECK(a == large);
    CHECK(b == small);
    CHECK((small < large) == (small.wire() < large.wire()));
    CHECK(signpost::core::NameHash{}(small) == std::hash<std::string_view>{}(small.wire()));

    // The longest name (255 bytes: four labels) and its parent and wildcard.
    std::string text = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                       std::string(61, 'd') + ".";
    auto longest = Name::from_text(text, Name());
    REQUIRE(longest);
    CHECK(longest->wire_length() == 255);
    CHECK(longest->to_text() == text);
    CHECK(longest->parent().wire_length() == 255 - 64);
    CHECK(longest->label_count() == 4);
    std::string err;
    CHECK_FALSE(Name::from_text("e." + text, Name(), &err));
    CHECK(err == "name longer than 255 octets");
    // A vector of both kinds survives growing (elements move).
    std::vector<Name> names;
    for (int i = 0; i < 100; ++i) names.push_back(i % 2 ? large : small);
    for (int i = 0; i < 100; ++i) CHECK(names[i] == (i % 2 ? large : small));
}

TEST_CASE("address: prefixes contain addresses by their leading bits") {
    auto p = signpost::core::IpPrefix::parse("198.51.100.77/24");
    REQUIRE(p);
    CHECK(p->to_string() == "198.51.100.0/24");
    CHECK(p->contains(*signpost::core::IpAddress::parse("198.51.100.1")));
    CHECK_FALSE(p->contains(*signpost::core::IpAddress::parse("198.51.101.1")));
    CHECK_FALSE(signpost::core::IpPrefix::parse("2001:db8::/129"));
    CHECK(signpost::core::IpPrefix::parse("2001:db8::/32")->contains(*signpost::core::IpAddress::parse("2001:db8:1::5")));
}

TEST_CASE("duration: people's units parse to milliseconds") {
    using signpost::core::parse_duration;
    CHECK(parse_duration("200ms")->count() == 200);
    CHECK(parse_duration("1s")->count() == 1000);
    CHECK(parse_duration("1.5s")->count() == 1500);
    CHECK(parse_duration("1h30m")->count() == 5400000);
    CHECK(parse_duration("5")->count() == 5000);
    CHECK_FALSE(parse_duration("-1s"));
    CHECK_FALSE(parse_duration("1x"));
    CHECK(signpost::core::format_duration(signpost::core::Millis(90000)) == "1m30s");
}
