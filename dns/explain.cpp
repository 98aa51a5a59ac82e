// Explain: asks the View the query (as a worker would answer it over TCP) and
// walks the catalog to say why. Shared by the HTTP API and CH TXT explain queries.
#include "dns/explain.hpp"

#include <algorithm>
#include <cctype>

#include "dns/describe.hpp"

namespace signpost::dns {

namespace {

std::string origin_text(const core::Name& n) { return n.to_key(); }

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

void explain_service(const zones::Catalog& catalog, const zones::Zone& zone, const zones::Service& svc,
                     std::span<const policy::Evaluation> evaluations, std::span<const core::EndpointHealth> health,
                     const ExplainQuery& q, Explanation& out) {
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
    const policy::Decision& d = rule < ev.subnets.size() ? ev.subnets[rule].decision : ev.decision;
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
}

}  // namespace

Explanation explain(const zones::Catalog& catalog, std::span<const policy::Evaluation> evaluations,
                    std::span<const core::EndpointHealth> health, const View& view, const ExplainQuery& q) {
    Explanation out;
    out.name = q.name.to_text();
    out.type = q.type_text;
    // Over TCP, so the whole answer is shown (no truncation).
    auto query = make_query(q.name, q.qtype, q.subnet);
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
    const zones::Zone* zone = catalog.find_zone(q.name);
    if (!zone) {
        out.path.push_back("no served zone contains " + q.name.to_text() + ": REFUSED");
        return out;
    }
    out.zone = origin_text(zone->origin);
    out.path.push_back("zone " + out.zone);
    if (auto* svc = owning_service(*zone, q.name))
        explain_service(catalog, *zone, *svc, evaluations, health, q, out);
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
    const std::string& wire = qname.wire();
    std::string prefix = wire.substr(0, wire.size() - suffix.wire().size()) + '\0';
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
