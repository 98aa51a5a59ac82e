// The MaxMind DB reader against small files written by tests/support/make_mmdb.pl
// (tests/fixtures/geo/*.json -> *.mmdb).
#include <cstring>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "geo/database.hpp"

using namespace signpost;

namespace {
const std::string kDir = std::string(SIGNPOST_FIXTURES) + "/geo/";
core::IpAddress ip(const char* text) { return *core::IpAddress::parse(text); }
}  // namespace

TEST_CASE("geo database: a city file gives country, continent, subdivision, coordinates and the network") {
    std::string error;
    auto db = geo::Databases::open({kDir + "test-city.mmdb"}, error);
    REQUIRE_MESSAGE(db, error);
    CHECK(db->files().at(0)->type() == "GeoLite2-City");
    auto l = db->lookup(ip("192.0.2.77"));
    CHECK(l.found);
    CHECK(l.prefix_length == 24);
    CHECK(std::string(l.country) == "DE");
    CHECK(std::string(l.continent) == "EU");
    CHECK(std::string(l.subdivision) == "HE");
    CHECK(l.has_coordinates);
    CHECK(l.latitude == doctest::Approx(50.11));
    CHECK(l.longitude == doctest::Approx(8.68));
    CHECK(l.asn == 0);

    auto lo = db->lookup(ip("127.0.0.1"));
    CHECK(std::string(lo.country) == "FR");
    CHECK(lo.prefix_length == 8);

    auto v6 = db->lookup(ip("2001:db8:1::53"));
    CHECK(std::string(v6.country) == "AU");
    CHECK(v6.prefix_length == 48);
}

TEST_CASE("geo database: an address in no network is not found but still has a network length") {
    std::string error;
    auto db = geo::Databases::open({kDir + "test-city.mmdb"}, error);
    REQUIRE(db);
    auto l = db->lookup(ip("10.1.2.3"));
    CHECK_FALSE(l.found);
    CHECK(l.country[0] == 0);
    CHECK(l.prefix_length > 0);
    CHECK(l.prefix_length <= 32);
}

TEST_CASE("geo database: a city and an ASN file together, the longest network wins") {
    std::string error;
    auto db = geo::Databases::open({kDir + "test-city.mmdb", kDir + "test-asn.mmdb"}, error);
    REQUIRE_MESSAGE(db, error);
    auto l = db->lookup(ip("198.51.100.200"));
    CHECK(std::string(l.country) == "US");
    CHECK(l.asn == 64500);
    CHECK(l.prefix_length == 25);
    auto other = db->lookup(ip("198.51.100.1"));
    CHECK(other.asn == 0);
    CHECK(other.prefix_length == 25);  // the ASN file's empty half is a /25 too
}

TEST_CASE("geo database: a missing or corrupt file is an error naming the file") {
    std::string error;
    CHECK_FALSE(geo::Databases::open({kDir + "no-such.mmdb"}, error));
    CHECK(error == kDir + "no-such.mmdb: cannot open the GeoIP database: Error opening the specified MaxMind DB file: "
                          "No such file or directory; geoip_databases takes MaxMind DB files (GeoLite2/GeoIP2 "
                          "Country, City or ASN, DB-IP lite)");
    CHECK_FALSE(geo::Databases::open({kDir + "test-city.json"}, error));
    CHECK(error.rfind(kDir + "test-city.json: cannot open the GeoIP database: ", 0) == 0);
    CHECK(error.find("invalid") != std::string::npos);
}

TEST_CASE("geo database: a lookup reads only the fields asked for") {
    std::string error;
    auto db = geo::Databases::open({kDir + "test-city.mmdb"}, error);
    REQUIRE(db);
    auto l = db->lookup(ip("192.0.2.77"), geo::kCountry);
    CHECK(l.found);
    CHECK(l.prefix_length == 24);
    CHECK(std::string(l.country) == "DE");
    CHECK(l.continent[0] == 0);
    CHECK(l.subdivision[0] == 0);
    CHECK_FALSE(l.has_coordinates);
    auto c = db->lookup(ip("192.0.2.77"), geo::kCoordinates);
    CHECK(c.has_coordinates);
    CHECK(c.country[0] == 0);
}
