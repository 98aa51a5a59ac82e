#include <doctest/doctest.h>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "core/name.hpp"

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
