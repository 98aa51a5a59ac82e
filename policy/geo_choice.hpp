// The geo policy's per-query choice, in one place for the answer path, explain and
// the tests: which rule a client's location falls in, else which pool is nearest.
// Built once per View (allocates); match() runs per query: no allocation, no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "geo/location.hpp"
#include "zones/model.hpp"

namespace signpost::policy {

// Great-circle distance in km between two points given in degrees (haversine,
// mean Earth radius 6371.0088 km).
double distance_km(double lat1, double lon1, double lat2, double lon2) noexcept;

struct GeoMatch {
    enum class Kind : uint8_t { Default, Rule, Nearest };
    Kind kind = Kind::Default;
    // Rule: index into zones::Service::geo_rules. Nearest: position in Service::pools.
    std::size_t index = 0;
    // Rule: what matched ("country", "continent", "subdivision", "asn"); else "".
    const char* matched = "";
    double distance_km = 0;  // Nearest: the client's distance to that pool (bias not counted)
};

class GeoMatcher {
public:
    GeoMatcher() = default;
    // The rules and pool locations of `service` (a geo service of `zone`).
    GeoMatcher(const zones::Zone& zone, const zones::Service& service);

    // Most specific first: the rule naming the client's ASN, else its subdivision,
    // else its country, else its continent. Then, with `nearest` and coordinates,
    // the closest pool whose up[pos] is set (distance + bias_km, within max_km),
    // else Default. `up` is indexed by position in Service::pools.
    // Runs per query: no allocation, no locks.
    GeoMatch match(const geo::Location& where, std::span<const uint8_t> up) const noexcept;

    bool nearest() const noexcept { return nearest_; }
    // The geo::Field bits match() reads: what the rules and `nearest` use.
    unsigned fields() const noexcept { return fields_; }

private:
    std::vector<std::pair<uint32_t, uint32_t>> asns_;          // (asn, rule), sorted
    std::vector<std::pair<uint64_t, uint32_t>> subdivisions_;  // ("US-CA" packed, rule), sorted
    std::vector<std::pair<uint32_t, uint32_t>> countries_;     // ("DE" packed, rule), sorted
    std::vector<std::pair<uint32_t, uint32_t>> continents_;    // ("EU" packed, rule), sorted
    struct Site {
        double latitude, longitude, bias_km, max_km;  // max_km 0: no limit
        uint32_t pos;                                 // in Service::pools
    };
    std::vector<Site> sites_;
    bool nearest_ = false;
    unsigned fields_ = 0;
};

// "US" + "CA" packed as the geo matcher keys them (exposed for tests).
uint64_t pack_code(const char* a, const char* b = "") noexcept;

}  // namespace signpost::policy
