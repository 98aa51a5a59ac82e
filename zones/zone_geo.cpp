// The geo policy's keys: pools' location/bias_km/max_km and services' rules and
// nearest, with the ISO 3166 codes a rule may name. Load time only.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>

#include "zones/zone_parser.hpp"

namespace signpost::zones::detail {

namespace {

// ISO 3166-1 alpha-2 (the officially assigned codes) plus XK (Kosovo), which
// GeoIP2 and DB-IP use.
constexpr std::string_view kCountries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY "
    "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
    "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
    "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
    "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
    "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK";
constexpr std::string_view kContinents = "AF AN AS EU NA OC SA";

bool listed(std::string_view list, std::string_view code) {
    if (code.size() != 2) return false;
    for (std::size_t i = 0; i + 1 < list.size(); i += 3)
        if (list.substr(i, 2) == code) return true;
    return false;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::toupper((unsigned char)c));
    return out;
}

// A pool's location: [latitude, longitude] in degrees.
std::optional<GeoPoint> geo_point(TomlNode n, std::string& why) {
    why = "location must be [latitude, longitude] in degrees, e.g. [50.11, 8.68], got " + n.describe();
    if (!n.is_array() || n.size() != 2) return std::nullopt;
    auto e = n.elements();
    auto lat = e[0].as_number(), lon = e[1].as_number();
    if (!lat || !lon) return std::nullopt;
    if (!(*lat >= -90 && *lat <= 90)) {
        why = "location latitude must be -90..90, got " + e[0].describe().substr(e[0].describe().find(' ') + 1);
        return std::nullopt;
    }
    if (!(*lon >= -180 && *lon <= 180)) {
        why = "location longitude must be -180..180, got " + e[1].describe().substr(e[1].describe().find(' ') + 1);
        return std::nullopt;
    }
    return GeoPoint{*lat, *lon};
}

}  // namespace

std::optional<std::size_t> ZoneParser::pool_index(const std::string& p, const core::SourceLocation& w,
                                                  const std::string& ctx) {
    auto it = std::find_if(zone_.pools.begin(), zone_.pools.end(), [&](auto& x) { return x.name == p; });
    if (it != zone_.pools.end()) return std::size_t(it - zone_.pools.begin());
    std::vector<std::string> defined;
    for (auto& x : zone_.pools) defined.push_back(x.name);
    error(w, ctx,
          "unknown pool '" + p + "'" + suggestion(p, defined) +
              (defined.empty() ? "; this zone defines no [pools]" : "; defined pools: " + join(defined)));
    return std::nullopt;
}

void ZoneParser::parse_geo_pool(TomlNode t, const std::string& ctx, Pool& pool) {
    if (auto n = t.get("location")) {
        std::string why;
        if (auto p = geo_point(n, why)) pool.location = *p;
        else error(n.where(), ctx, why);
    }
    auto km = [&](const char* key, double lo, double hi, double& out) {
        auto n = t.get(key);
        if (!n) return;
        auto v = n.as_number();
        if (!v || !(*v >= lo && *v <= hi)) {
            error(n.where(), ctx,
                  std::string(key) + " must be a distance in km, " + std::to_string(int(lo)) + ".." +
                      std::to_string(int(hi)) + ", got " + n.describe());
            return;
        }
        out = *v;
        if (!pool.location) error(n.where(), ctx, std::string(key) + " needs the pool's location = [latitude, longitude]");
    };
    km("bias_km", -20000, 20000, pool.bias_km);
    km("max_km", 0, 20040, pool.max_km);
}

void ZoneParser::parse_geo_service(TomlNode t, const std::string& ctx, Service& s) {
    bool geo = s.policy == PolicyKind::Geo;
    if (auto n = t.get("nearest")) {
        if (auto v = r_.boolean(n, ctx, "nearest")) {
            if (!geo) warning(n.where(), ctx, "nearest is used only with policy = \"geo\"; ignored");
            else s.nearest = *v;
        }
        if (s.nearest) {
            bool any = std::any_of(s.pools.begin(), s.pools.end(), [&](auto i) { return zone_.pools[i].location.has_value(); });
            if (!any && !s.pools.empty())
                error(n.where(), ctx, "nearest = true needs a location = [latitude, longitude] on at least one of its pools");
        }
    }
    auto rules = t.get("rules");
    if (!rules) return;
    if (!geo) {
        warning(rules.where(), ctx, "rules are used only with policy = \"geo\"; ignored");
        return;
    }
    if (!rules.is_array()) {
        error(rules.where(), ctx,
              "rules must be an array of tables such as { countries = [\"DE\"], pools = [\"eu\", \"us\"] }, got " +
                  rules.describe());
        return;
    }
    static const std::vector<std::string> kRuleKeys = {"continents", "countries", "subdivisions", "asns", "pools"};
    // Each code belongs to one rule: "country DE is already in rule 1".
    std::map<std::string, std::size_t> owner;
    auto claim = [&](const std::string& what, const core::SourceLocation& w, std::size_t rule) {
        auto [it, fresh] = owner.emplace(what, rule);
        if (!fresh) error(w, ctx + " rule " + std::to_string(rule + 1), what + " is already in rule " + std::to_string(it->second + 1) + "; a client matches one rule");
        return fresh;
    };
    std::size_t index = 0;
    for (auto& r : rules.elements()) {
        std::size_t number = ++index;
        std::string rctx = ctx + " rule " + std::to_string(number);
        if (!r.is_table()) {
            error(r.where(), ctx, "a rule must be a table such as { countries = [\"DE\"], pools = [\"eu\"] }, got " + r.describe());
            continue;
        }
        r_.check_keys(r, rctx, kRuleKeys);
        GeoRule rule;
        rule.where = r.where();
        if (auto n = r.get("continents"))
            if (auto list = r_.strings(n, rctx, "continents"))
                for (auto& [text, w] : *list) {
                    std::string c = upper(text);
                    if (!listed(kContinents, c))
                        error(w, rctx, "unknown continent code " + dq(text) + "; allowed: AF, AN, AS, EU, NA, OC, SA");
                    else if (claim("continent " + c, w, number - 1))
                        rule.continents.push_back(c);
                }
        if (auto n = r.get("countries"))
            if (auto list = r_.strings(n, rctx, "countries"))
                for (auto& [text, w] : *list) {
                    std::string c = upper(text);
                    if (!listed(kCountries, c))
                        error(w, rctx, "unknown country code " + dq(text) + "; countries are ISO 3166-1 alpha-2 codes such as \"DE\", \"US\", \"JP\"");
                    else if (claim("country " + c, w, number - 1))
                        rule.countries.push_back(c);
                }
        if (auto n = r.get("subdivisions"))
            if (auto list = r_.strings(n, rctx, "subdivisions"))
                for (auto& [text, w] : *list) {
                    std::string c = upper(text);
                    auto dash = c.find('-');
                    bool ok = dash == 2 && listed(kCountries, c.substr(0, 2)) && c.size() >= 4 && c.size() <= 6 &&
                              std::all_of(c.begin() + 3, c.end(), [](unsigned char ch) { return std::isalnum(ch); });
                    if (!ok)
                        error(w, rctx, "subdivision must be an ISO 3166-2 code such as \"US-CA\" or \"DE-BY\", got " + dq(text));
                    else if (claim("subdivision " + c, w, number - 1))
                        rule.subdivisions.push_back(c);
                }
        if (auto n = r.get("asns")) {
            if (!n.is_array()) {
                error(n.where(), rctx, "asns must be an array of AS numbers such as [64500], got " + n.describe());
            } else {
                for (auto& e : n.elements()) {
                    auto v = e.as_integer();
                    if (!v || *v < 1 || *v > 4294967295LL)
                        error(e.where(), rctx, "an AS number must be 1..4294967295, got " + e.describe());
                    else if (claim("AS" + std::to_string(*v), e.where(), number - 1))
                        rule.asns.push_back(uint32_t(*v));
                }
            }
        }
        if (rule.continents.empty() && rule.countries.empty() && rule.subdivisions.empty() && rule.asns.empty() &&
            !r.get("continents") && !r.get("countries") && !r.get("subdivisions") && !r.get("asns"))
            error(r.where(), rctx, "a rule needs at least one of continents, countries, subdivisions or asns");
        if (auto n = r.get("pools")) {
            if (auto list = r_.strings(n, rctx, "pools")) {
                if (list->empty()) error(n.where(), rctx, "pools is empty; give at least one pool, in priority order");
                for (auto& [p, w] : *list) {
                    auto idx = pool_index(p, w, rctx);
                    if (!idx) continue;
                    if (std::find(s.pools.begin(), s.pools.end(), *idx) == s.pools.end()) {
                        std::vector<std::string> names;
                        for (auto i : s.pools) names.push_back(zone_.pools[i].name);
                        error(w, rctx, "pool '" + p + "' is not one of the service's pools (" + join(names) +
                                           "); a rule orders the service's pools");
                        continue;
                    }
                    if (std::find(rule.pools.begin(), rule.pools.end(), *idx) != rule.pools.end()) {
                        error(w, rctx, "pool '" + p + "' is listed twice");
                        continue;
                    }
                    rule.pools.push_back(*idx);
                }
            }
        } else {
            error(r.where(), rctx, "pools is required: the pools these clients get, in priority order");
        }
        s.geo_rules.push_back(std::move(rule));
    }
}

}  // namespace signpost::zones::detail
