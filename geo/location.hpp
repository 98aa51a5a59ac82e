// Where a client address is, as a MaxMind DB (GeoLite2/GeoIP2, DB-IP lite) says:
// plain fixed-size data, filled per query without allocation. No libmaxminddb here.
#pragma once

#include <cstdint>

namespace signpost::geo {

// Which fields a lookup reads (each costs a walk of the record): a caller asks
// only for what its rules use.
enum Field : unsigned {
    kContinent = 1,
    kCountry = 2,
    kSubdivision = 4,
    kAsn = 8,
    kCoordinates = 16,
    kAllFields = 31,
};

struct Location {
    bool found = false;          // some database has a record for the address
    // The database network's prefix length in the address's own family (24 for
    // 192.0.2.0/24, also when read from an IPv6 database): every address sharing
    // these bits gets the same record. Set when nothing was found too (the empty
    // network's length); 0 when no database was asked.
    uint8_t prefix_length = 0;
    char continent[3] = {};      // "EU"; "" when unknown
    char country[3] = {};        // ISO 3166-1 alpha-2, "DE"; "" when unknown
    char subdivision[4] = {};    // the ISO 3166-2 part after "DE-": "BY", "CA"; "" when none
    uint32_t asn = 0;            // 0: no ASN database or no record
    bool has_coordinates = false;
    double latitude = 0, longitude = 0;  // degrees, when has_coordinates
};

}  // namespace signpost::geo
