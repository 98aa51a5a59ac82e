// The geo policy's per-query choice: sorted code tables built once, binary
// searched per query; the nearest pool by great-circle distance over the pools.
// Pure: no I/O, no clocks, no allocation in match().
#include "policy/geo_choice.hpp"

#include <algorithm>
#include <cmath>

namespace signpost::policy {

namespace {

constexpr double kEarthRadiusKm = 6371.0088;
constexpr double kRad = 3.14159265358979323846 / 180.0;

template <class K>
int32_t find_rule(const std::vector<std::pair<K, uint32_t>>& table, K key) noexcept {
    auto it = std::lower_bound(table.begin(), table.end(), std::pair<K, uint32_t>{key, 0});
    return it != table.end() && it->first == key ? int32_t(it->second) : -1;
}

}  // namespace

uint64_t pack_code(const char* a, const char* b) noexcept {
    uint64_t v = 0;
    int n = 0;
    for (const char* p : {a, b}) {
        for (; *p && n < 8; ++p, ++n) v = (v << 8) | uint8_t(*p);
        if (p == a && *b && n < 8) {
            v = (v << 8) | uint8_t('-');
            ++n;
        }
    }
    return v;
}

double distance_km(double lat1, double lon1, double lat2, double lon2) noexcept {
    double p1 = lat1 * kRad, p2 = lat2 * kRad;
    double dp = p2 - p1, dl = (lon2 - lon1) * kRad;
    double a = std::sin(dp / 2) * std::sin(dp / 2) + std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
    if (a > 1) a = 1;
    return 2 * kEarthRadiusKm * std::asin(std::sqrt(a));
}

GeoMatcher::GeoMatcher(const zones::Zone& zone, const zones::Service& service) {
    for (std::size_t ri = 0; ri < service.geo_rules.size(); ++ri) {
        auto& r = service.geo_rules[ri];
        uint32_t i = uint32_t(ri);
        for (auto a : r.asns) asns_.push_back({a, i});
        for (auto& s : r.subdivisions)  // "US-CA": country and the part after '-'
            subdivisions_.push_back({pack_code(s.substr(0, 2).c_str(), s.substr(3).c_str()), i});
        for (auto& c : r.countries) countries_.push_back({uint32_t(pack_code(c.c_str())), i});
        for (auto& c : r.continents) continents_.push_back({uint32_t(pack_code(c.c_str())), i});
    }
    std::sort(asns_.begin(), asns_.end());
    std::sort(subdivisions_.begin(), subdivisions_.end());
    std::sort(countries_.begin(), countries_.end());
    std::sort(continents_.begin(), continents_.end());
    nearest_ = service.nearest;
    if (!continents_.empty()) fields_ |= geo::kContinent;
    if (!countries_.empty()) fields_ |= geo::kCountry;
    if (!subdivisions_.empty()) fields_ |= geo::kCountry | geo::kSubdivision;
    if (!asns_.empty()) fields_ |= geo::kAsn;
    if (nearest_) fields_ |= geo::kCoordinates;
    if (nearest_) {
        for (std::size_t pos = 0; pos < service.pools.size(); ++pos) {
            auto& pool = zone.pools[service.pools[pos]];
            if (!pool.location) continue;
            sites_.push_back({pool.location->latitude, pool.location->longitude, pool.bias_km, pool.max_km, uint32_t(pos)});
        }
    }
}

GeoMatch GeoMatcher::match(const geo::Location& where, std::span<const uint8_t> up) const noexcept {
    GeoMatch m;
    auto rule = [&](int32_t r, const char* what) {
        if (r < 0) return false;
        m.kind = GeoMatch::Kind::Rule;
        m.index = std::size_t(r);
        m.matched = what;
        return true;
    };
    if (where.found) {
        if (where.asn && !asns_.empty() && rule(find_rule(asns_, where.asn), "asn")) return m;
        if (where.subdivision[0] && where.country[0] && !subdivisions_.empty() &&
            rule(find_rule(subdivisions_, pack_code(where.country, where.subdivision)), "subdivision"))
            return m;
        if (where.country[0] && rule(find_rule(countries_, uint32_t(pack_code(where.country))), "country")) return m;
        if (where.continent[0] && rule(find_rule(continents_, uint32_t(pack_code(where.continent))), "continent"))
            return m;
    }
    if (nearest_ && where.has_coordinates) {
        double best = 0;
        bool any = false;
        for (auto& s : sites_) {
            if (s.pos >= up.size() || !up[s.pos]) continue;
            double d = distance_km(where.latitude, where.longitude, s.latitude, s.longitude);
            if (s.max_km > 0 && d > s.max_km) continue;
            double score = d + s.bias_km;
            if (!any || score < best) {
                any = true;
                best = score;
                m.kind = GeoMatch::Kind::Nearest;
                m.index = s.pos;
                m.distance_km = d;
            }
        }
    }
    return m;
}

}  // namespace signpost::policy
