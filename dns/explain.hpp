// Explain: the answer signpost gives now for (name, type, client) and the rule
// path that produced it. Pure: reads only the state it is handed; no I/O, no clocks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/health.hpp"
#include "core/name.hpp"
#include "dns/view.hpp"
#include "policy/policy.hpp"
#include "zones/model.hpp"

namespace signpost::dns {

struct ExplainQuery {
    core::Name name;
    uint16_t qtype = 1;
    std::string type_text = "A";           // the type as the operator named it, echoed in the result
    core::IpAddress client;                // whose answer: the querier, or the subnet's address
    std::optional<core::IpPrefix> subnet;  // sent as EDNS Client Subnet when set
};

struct Explanation {
    std::string name;  // "www.example.com."
    std::string type;  // "A"
    std::string zone;  // "example.com"; empty: no served zone contains the name
    // The service owning the name; `service` empty: static data (the rest is unset too).
    std::string service, policy, label;
    uint32_t ttl = 0;
    // The response the View gives, in presentation format; `answered` false when
    // the View produced no parsable response (then rcode and sections are empty).
    bool answered = false;
    std::string rcode;
    std::vector<std::string> answer, authority, additional;
    // The rule path: zone, service, subnet rule, each pool with its endpoints,
    // decision, and for hostname endpoints what was answered ("CNAME eu.lb.test. ...",
    // "flattened eu.lb.test. ...").
    std::vector<std::string> path;
    // Hostname endpoints: the target when the service answers CNAME <hostname>
    // ("eu.lb.test."), else empty; the hostnames whose addresses were answered instead.
    std::string cname;
    std::vector<std::string> flattened;
};

// Explains `query` against one consistent state: the catalog the View was built
// from, the services' evaluations (indexed by zones::Service::index) and the
// effective endpoint health (overrides and drains applied; indexed by
// core::EndpointIndex). Any thread; allocates, so never on the query fast path.
Explanation explain(const zones::Catalog& catalog, std::span<const policy::Evaluation> evaluations,
                    std::span<const core::EndpointHealth> health, const View& view, const ExplainQuery& query);

// The same explanation as text lines, in order: a summary, the answer, authority
// and additional records, then the rule path ("path zone example.com").
std::vector<std::string> explanation_lines(const Explanation& e, const ExplainQuery& query);

// What the DNS workers explain from: everything explain() reads, published as
// one immutable snapshot by the control loop with each View (and when only
// health changed).
struct ExplainState {
    std::shared_ptr<const zones::Catalog> catalog;
    std::shared_ptr<const View> view;
    std::shared_ptr<const std::vector<policy::Evaluation>> evaluations;
    std::vector<core::EndpointHealth> health;
};

// The DNS form of an explain question: CH TXT "[_TYPE.]NAME.explain.signpost.".
// A first label starting with '_' always names the type ("_aaaa", "_TYPE65"),
// so a name that itself starts with '_' needs the type: "_srv._sip._tcp.example.com".
struct ExplainName {
    core::Name name;           // the name to explain
    uint16_t qtype = 1;        // A when no type label is given
    std::string type_text = "A";
    std::string error;         // non-empty: malformed, in words for the operator
};
inline constexpr const char* kExplainSuffix = "explain.signpost.";
// nullopt when `qname` is not below explain.signpost. (case-insensitive: Names are canonical).
std::optional<ExplainName> parse_explain_name(const core::Name& qname);

}  // namespace signpost::dns
