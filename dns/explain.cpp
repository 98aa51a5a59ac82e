// Explain: asks the View the query (as a worker would answer it over TCP) and
// walks the catalog to say why. Shared by the HTTP API and CH TXT explain queries.
#include "dns/explain.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "dns/describe.hpp"
#include "dns/view_impl.hpp"
#include "geo/database.hpp"
#include "policy/geo_choice.hpp"

namespace signpost::dns {

namespace {

std::string origin_text(const core::Name& n) { return n.to_key(); }

// "signed: NSEC, signing keys 12345 (CSK); answered as to a DO=1 query, with its RRSIGs".
std::string signing_line(const View& view, const detail::ZoneData& z) {
    std::string line = std::string("signed: ") + (z.denial().nsec3 ? "NSEC3" : "NSEC");
    if (view.options_.signing) {
        auto it = view.options_.signing->find(z.origin);
        if (it != view.options_.signing->end()) {
            auto zsk = it->second.signers(false), ksk = it->second.signers(true);
            std::string keys;
            for (auto& k : it->second.keys) {
                if (std::find(zsk.begin(), zsk.end(), &k.signer) == zsk.end() &&
                    std::find(ksk.begin(), ksk.end(), &k.signer) == ksk.end())
                    continue;  // published, not signing (ZoneKeys::at)
                if (!keys.empty()) keys += ", ";
                keys += std::to_string(k.signer.key_tag()) + " (" + dnssec::to_string(k.role) + ")";
            }
            line += ", signing keys " + (keys.empty() ? std::string("none") : keys);
        }
    }
    return line + "; answered as to a DO=1 query, with its RRSIGs";
}

// The service answering `name` in `zone`: an exact owner, else a wildcard owner
// at the closest encloser (RFC 4592) when the name does not exist.
const zones::Service* owning_service(const zones::Zone& zone, const core::Name& name) {
    for (auto& s : zone.services)
        for (auto& o : s.owners)
            if (o == name) return &s;
    if (zone.find_node(name)) return nullptr;
    for (core::Name n = name; n != zone.origin && !n.is_root();) {
        n = n.parent();
        auto wild = n.wildcard_child();
        for (auto& s : zone.services)
            for (auto& o : s.owners)
                if (o == wild) return &s;
        if (zone.find_node(n)) break;
    }
    return nullptr;
}

// The variant the View's answer came from: the only one, else the one whose CNAME
// or addresses the answer shows; null when the answer shows none of them.
const policy::Variant* answered_variant(const policy::Decision& d, const std::vector<std::string>& answer) {
    if (d.variants.size() <= 1) return d.variants.empty() ? nullptr : &d.variants.front();
    auto shows = [&](const std::string& type, const std::string& data) {
        std::string tail = " IN " + type + " " + data;
        for (auto& l : answer)
            if (l.size() >= tail.size() && l.compare(l.size() - tail.size(), tail.size(), tail) == 0) return true;
        return false;
    };
    for (auto& v : d.variants) {
        if (v.cname && shows("CNAME", v.cname->to_text())) return &v;
        for (auto& a : v.v4)
            if (shows("A", a.to_string())) return &v;
        for (auto& a : v.v6)
            if (shows("AAAA", a.to_string())) return &v;
    }
    return nullptr;
}

// The hostname endpoints of `v` in the service's pools, as (hostname, pool name).
std::vector<std::pair<std::string, std::string>> hostnames_of(const zones::Zone& zone, const zones::Service& svc,
                                                              const policy::Variant& v) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto p : svc.pools) {
        auto& pool = zone.pools[p];
        for (auto& e : pool.endpoints) {
            if (!e.hostname) continue;
            bool carried = std::find(v.endpoints.begin(), v.endpoints.end(), e.index) != v.endpoints.end() ||
                           (v.endpoints.empty() && v.cname && *v.cname == *e.hostname);
            if (carried) out.emplace_back(e.hostname->to_text(), pool.name);
        }
    }
    if (out.empty() && v.cname) out.emplace_back(v.cname->to_text(), "");
    return out;
}

// What a hostname variant answered: "CNAME eu.lb.test. (hostname endpoint of pool
// primary)", or its flattened addresses with their TTL. Address variants: nothing.
void explain_hostnames(const zones::Zone& zone, const zones::Service& svc, const policy::Decision& d,
                       const policy::Variant& v, bool apex, Explanation& out) {
    auto hosts = hostnames_of(zone, svc, v);
    if (hosts.empty() && v.ttl_cap == UINT32_MAX) return;
    if (v.cname && !apex && !svc.flatten) {
        out.cname = v.cname->to_text();
        std::string pool;
        for (auto& [h, p] : hosts)
            if (h == out.cname) pool = p;
        out.path.push_back("CNAME " + out.cname + " (hostname endpoint" + (pool.empty() ? "" : " of pool " + pool) +
                           ")");
        return;
    }
    std::string names, addrs;
    for (auto& [h, p] : hosts) {
        names += (names.empty() ? "" : ", ") + h;
        out.flattened.push_back(h);
    }
    for (auto* list : {&v.v4, &v.v6})
        for (auto& a : *list) addrs += (addrs.empty() ? "" : ", ") + a.to_string();
    std::string why = !v.cname ? "several endpoints: no CNAME" : apex ? "the apex holds no CNAME" : "flatten = true";
    uint32_t ttl = policy::address_ttl(d.ttl, v);
    out.path.push_back("flattened " + names + " (" + why + "): " + (addrs.empty() ? "no addresses yet" : addrs) +
                       " (TTL " + std::to_string(ttl) +
                       (v.ttl_cap < d.ttl ? ", capped by the record's TTL left)" : ", the service's)"));
}

std::string join_names(const std::vector<std::string>& v) {
    std::string out;
    for (auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out;
}

// A geo service: where the client is (the database network, country, continent,
// coordinates) and the rule, nearest pool or default the answer path takes
// (policy::GeoMatcher, as dns/answer.cpp's geo_decision).
const policy::Decision& explain_geo(const zones::Zone& zone, const zones::Service& svc, const policy::Evaluation& ev,
                                    const geo::Databases* geo, const ExplainQuery& q, Explanation& out) {
    std::string who = "client " + (q.subnet ? q.subnet->to_string() : q.client.to_string());
    if (!geo) {
        out.path.push_back(who + ": no GeoIP database loaded (geoip_databases): default order");
        return ev.decision;
    }
    geo::Location where = geo->lookup(q.client);  // every field: explain shows them all
    uint8_t scope = where.prefix_length;
    if (q.subnet && scope > q.subnet->length) scope = q.subnet->length;
    core::IpPrefix net;
    net.address = q.client;
    net.length = where.prefix_length;
    for (unsigned bit = net.length; bit < (q.client.v6 ? 128u : 32u); ++bit)
        net.address.bytes[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
    std::string line = who + " located in " + net.to_string() + ":";
    if (!where.found) line += " not in the database";
    if (where.country[0]) line += std::string(" country ") + where.country;
    if (where.subdivision[0]) line += std::string(", subdivision ") + where.country + "-" + where.subdivision;
    if (where.continent[0]) line += std::string(", continent ") + where.continent;
    if (where.asn) line += ", AS" + std::to_string(where.asn);
    if (where.has_coordinates) {
        char buf[64];
        std::snprintf(buf, sizeof buf, ", coordinates %.4f, %.4f", where.latitude, where.longitude);
        line += buf;
    }
    if (q.subnet) line += "; ECS scope /" + std::to_string(scope);
    out.path.push_back(line);
    std::vector<uint8_t> up;
    for (auto& d : ev.geo_pools) up.push_back(!d.label.empty());
    policy::GeoMatcher matcher(zone, svc);
    policy::GeoMatch m = matcher.match(where, up);
    if (m.kind == policy::GeoMatch::Kind::Rule && m.index < ev.geo_rules.size() && m.index < svc.geo_rules.size()) {
        auto& r = svc.geo_rules[m.index];
        std::vector<std::string> pools;
        for (auto p : r.pools) pools.push_back(zone.pools[p].name);
        std::string key = std::string(m.matched) == "asn"           ? "AS" + std::to_string(where.asn)
                          : std::string(m.matched) == "subdivision" ? std::string(where.country) + "-" + where.subdivision
                          : std::string(m.matched) == "country"     ? std::string(where.country)
                                                                    : std::string(where.continent);
        out.path.push_back("geo rule " + std::to_string(m.index + 1) + " (line " + std::to_string(r.where.line) + ", pools " +
                           join_names(pools) + ") matches " + m.matched + " " + key + ": " +
                           ev.geo_rules[m.index].label);
        return ev.geo_rules[m.index];
    }
    if (m.kind == policy::GeoMatch::Kind::Nearest && m.index < ev.geo_pools.size()) {
        char km[32];
        std::snprintf(km, sizeof km, "%.0f km", m.distance_km);
        out.path.push_back("no geo rule matches; nearest pool up: " + zone.pools[svc.pools[m.index]].name + " (" + km +
                           " away): " + ev.geo_pools[m.index].label);
        return ev.geo_pools[m.index];
    }
    out.path.push_back(std::string("no geo rule matches") +
                       (svc.nearest ? (where.has_coordinates ? "; no pool with a location is up within reach"
                                                             : "; no coordinates for the nearest pool")
                                    : "") +
                       ": default order");
    return ev.decision;
}

void explain_service(const zones::Catalog& catalog, const zones::Zone& zone, const zones::Service& svc,
                     std::span<const policy::Evaluation> evaluations, std::span<const core::EndpointHealth> health,
                     const geo::Databases* geo, const ExplainQuery& q, Explanation& out) {
    out.service = svc.index < catalog.services.size() ? catalog.services[svc.index].key : svc.name;
    out.policy = zones::to_string(svc.policy);
    out.path.push_back("service " + svc.name + " (" + out.policy + ") owns " + q.name.to_text());
    if (svc.index >= evaluations.size()) {
        // A View built before the service was evaluated answers NODATA for it.
        out.path.push_back("service not evaluated yet: NODATA");
        return;
    }
    auto& ev = evaluations[svc.index];
    // The rule the answer path takes for this client (policy::match_subnet).
    std::size_t rule = policy::subnet_rule_for(ev, q.client);
    const policy::Decision& d = svc.policy == zones::PolicyKind::Geo ? explain_geo(zone, svc, ev, geo, q, out)
                                : rule < ev.subnets.size()           ? ev.subnets[rule].decision
                                                                     : ev.decision;
    out.label = d.label;
    out.ttl = d.ttl;
    if (rule < ev.subnets.size())
        out.path.push_back("client " + q.client.to_string() + " is in " + ev.subnets[rule].prefix.to_string() + ": " +
                           d.label);
    else if (!ev.subnets.empty())
        out.path.push_back("client " + q.client.to_string() + " matches no subnet: default order");
    for (auto p : svc.pools) {
        auto& pool = zone.pools[p];
        std::size_t healthy = 0;
        std::string eps;
        for (auto& e : pool.endpoints) {
            if (e.index >= health.size()) continue;
            auto& h = health[e.index];
            healthy += h.up();
            eps += (eps.empty() ? "" : "; ") + std::string("endpoint ") + e.name + " " + core::to_string(h.state) +
                   (h.drained ? " (out of every answer)" : "") + (h.suspect ? " (suspect)" : "") +
                   (h.reason.empty() ? "" : ": " + h.reason);
        }
        bool up = healthy > 0 && healthy >= pool.min_healthy;
        out.path.push_back("pool " + pool.name + ": " + (up ? "up" : "down") + " (" + std::to_string(healthy) + "/" +
                           std::to_string(pool.endpoints.size()) + " healthy, needs " +
                           std::to_string(std::max<uint32_t>(1, pool.min_healthy)) + "): " + eps);
    }
    out.path.push_back("decision " + d.label + " (" + d.reason + "), ttl " + std::to_string(d.ttl) +
                       (d.unstable ? " (short: the answer is unstable)" : ""));
    // Hostname endpoints: CNAME where the owner may hold one, else flattened.
    bool apex = q.name == zone.origin;
    if (auto* v = answered_variant(d, out.answer)) {
        explain_hostnames(zone, svc, d, *v, apex, out);
    } else {
        for (auto& variant : d.variants) explain_hostnames(zone, svc, d, variant, apex, out);
    }
}

}  // namespace

Explanation explain(const zones::Catalog& catalog, std::span<const policy::Evaluation> evaluations,
                    std::span<const core::EndpointHealth> health, const View& view, const ExplainQuery& q) {
    Explanation out;
    out.name = q.name.to_text();
    out.type = q.type_text;
    // A signed zone is explained as validating resolvers ask it: with DO, so that the
    // answer shows its RRSIGs and denials their NSEC or NSEC3 records.
    const zones::Zone* zone = catalog.find_zone(q.name);
    const detail::ZoneData* served = nullptr;
    if (zone) {
        std::string_view origin = zone->origin.wire();
        int32_t k = view.find_zone(reinterpret_cast<const uint8_t*>(origin.data()), origin.size());
        if (k >= 0) served = &view.zones_[std::size_t(k)];
    }
    const bool dnssec = served && served->signed_zone;
    // Over TCP, so the whole answer is shown (no truncation).
    auto query = make_query(q.name, q.qtype, q.subnet, dnssec);
    std::vector<uint8_t> buf(65535);
    ClientInfo ci;
    ci.address = q.client;
    ci.tcp = true;
    buf.resize(answer_query(view, query, ci, buf));
    if (auto described = describe_response(buf)) {
        out.answered = true;
        out.rcode = described->rcode;
        out.answer = std::move(described->answer);
        out.authority = std::move(described->authority);
        out.additional = std::move(described->additional);
    }
    if (!zone) {
        out.path.push_back("no served zone contains " + q.name.to_text() + ": REFUSED");
        return out;
    }
    out.zone = origin_text(zone->origin);
    out.path.push_back("zone " + out.zone);
    if (dnssec) out.path.push_back(signing_line(view, *served));
    if (auto* svc = owning_service(*zone, q.name))
        explain_service(catalog, *zone, *svc, evaluations, health, view.options_.geo.get(), q, out);
    else
        out.path.push_back("no service owns " + q.name.to_text() + ": static data of the zone");
    return out;
}

std::vector<std::string> explanation_lines(const Explanation& e, const ExplainQuery& q) {
    std::vector<std::string> lines;
    std::string who = q.subnet ? "subnet " + q.subnet->to_string() : q.client.to_string();
    lines.push_back("query " + e.name + " " + e.type + " for " + who + ": " +
                    (e.answered ? e.rcode : std::string("no answer")));
    for (auto& l : e.answer) lines.push_back("answer " + l);
    for (auto& l : e.authority) lines.push_back("authority " + l);
    for (auto& l : e.additional) lines.push_back("additional " + l);
    for (auto& l : e.path) lines.push_back("path " + l);
    return lines;
}

std::optional<ExplainName> parse_explain_name(const core::Name& qname) {
    static const core::Name suffix = *core::Name::from_text(kExplainSuffix, core::Name());
    if (!qname.is_subdomain_of(suffix)) return std::nullopt;
    static const std::string usage =
        "use dig CH TXT NAME.explain.signpost (type A) or _TYPE.NAME.explain.signpost, e.g. "
        "_aaaa.www.example.com.explain.signpost";
    ExplainName out;
    // The labels in front of the suffix, as a name of their own.
    std::string_view wire = qname.wire();
    std::string prefix(wire.substr(0, wire.size() - suffix.wire().size()));
    prefix.push_back('\0');
    if (prefix.size() > 1 && prefix[1] == '_') {
        std::size_t len = std::size_t(uint8_t(prefix[0]));
        std::string label = prefix.substr(2, len - 1);
        auto type = label.empty() ? std::nullopt : rr_type_from_text(label);
        if (!type) {
            out.error = "'_" + label + "' is not a DNS type (a first label starting with _ names the type); " + usage;
            return out;
        }
        out.qtype = *type;
        out.type_text = label;
        std::transform(out.type_text.begin(), out.type_text.end(), out.type_text.begin(),
                       [](unsigned char c) { return char(std::toupper(c)); });
        prefix.erase(0, 1 + len);
    }
    auto name = core::Name::from_wire(prefix);
    if (!name || name->is_root()) {
        out.error = "no name to explain; " + usage;
        return out;
    }
    out.name = *name;
    return out;
}

}  // namespace signpost::dns
