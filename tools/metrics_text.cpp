#include "tools/metrics_text.hpp"

#include <fmt/format.h>

namespace signpost::tools {

std::string escape_label(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::string dns_metrics(const dns::ServerStats& st, std::span<const std::string> zone_names) {
    static const char* rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
                                   "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11",
                                   "RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS"};
    std::string m;
    m += "# HELP signpost_dns_queries_total Queries received, by transport.\n# TYPE signpost_dns_queries_total counter\n";
    m += "signpost_dns_queries_total{transport=\"udp\"} " + std::to_string(st.udp_queries) + "\n";
    m += "signpost_dns_queries_total{transport=\"tcp\"} " + std::to_string(st.tcp_queries) + "\n";
    m += "# HELP signpost_dns_responses_total Responses sent, by rcode.\n# TYPE signpost_dns_responses_total counter\n";
    for (auto& [rc, n] : st.by_rcode)
        m += "signpost_dns_responses_total{rcode=\"" + std::string(rcodes[rc]) + "\"} " + std::to_string(n) + "\n";
    m += "# HELP signpost_dns_responses_by_type_total Responses sent, by query type.\n# TYPE signpost_dns_responses_by_type_total counter\n";
    for (auto& [t, n] : st.by_qtype)
        m += "signpost_dns_responses_by_type_total{type=\"" + t + "\"} " + std::to_string(n) + "\n";
    m += "# HELP signpost_dns_responses_by_zone_total Responses sent, by zone (\"\" = no served zone).\n# TYPE signpost_dns_responses_by_zone_total counter\n";
    for (auto& [id, n] : st.by_zone) {
        std::string zone = id < 0 ? std::string() : (std::size_t(id) < zone_names.size() ? zone_names[id] : "other");
        m += "signpost_dns_responses_by_zone_total{zone=\"" + escape_label(zone) + "\"} " + std::to_string(n) + "\n";
    }
    m += "# HELP signpost_dns_truncated_total UDP responses truncated (TC=1).\n# TYPE signpost_dns_truncated_total counter\n";
    m += "signpost_dns_truncated_total " + std::to_string(st.truncated) + "\n";
    m += "# HELP signpost_dns_dropped_total Packets not answered (QR=1, garbage, source port 0).\n# TYPE signpost_dns_dropped_total counter\n";
    m += "signpost_dns_dropped_total " + std::to_string(st.dropped) + "\n";
    m += "# HELP signpost_dns_tcp_connections_total TCP connections accepted and rejected over the cap.\n# TYPE signpost_dns_tcp_connections_total counter\n";
    m += "signpost_dns_tcp_connections_total{result=\"accepted\"} " + std::to_string(st.tcp_connections) + "\n";
    m += "signpost_dns_tcp_connections_total{result=\"rejected\"} " + std::to_string(st.tcp_rejected) + "\n";
    m += "# HELP signpost_dns_tcp_client_limit_total Connections refused or evicted by the per-client TCP cap.\n# TYPE signpost_dns_tcp_client_limit_total counter\n";
    m += "signpost_dns_tcp_client_limit_total{action=\"rejected\"} " + std::to_string(st.tcp_client_rejected) + "\n";
    m += "signpost_dns_tcp_client_limit_total{action=\"evicted\"} " + std::to_string(st.tcp_client_evicted) + "\n";
    m += "# HELP signpost_dns_tcp_timeouts_total TCP connections closed by the idle or the query timeout.\n# TYPE signpost_dns_tcp_timeouts_total counter\n";
    m += "signpost_dns_tcp_timeouts_total " + std::to_string(st.tcp_timeouts) + "\n";
    m += "# HELP signpost_dns_rrl_total UDP answers limited by response rate limiting: dropped or slipped (sent truncated).\n# TYPE signpost_dns_rrl_total counter\n";
    m += "signpost_dns_rrl_total{action=\"dropped\"} " + std::to_string(st.rrl_dropped) + "\n";
    m += "signpost_dns_rrl_total{action=\"slipped\"} " + std::to_string(st.rrl_slipped) + "\n";
    m += "# HELP signpost_dns_answer_seconds Time to build answers (UDP: per receive batch).\n# TYPE signpost_dns_answer_seconds histogram\n";
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < dns::ServerStats::kLatencyBuckets; ++i) {
        cumulative += st.latency_buckets[i];
        std::string le = i + 1 < dns::ServerStats::kLatencyBuckets
                             ? fmt::format("{:g}", dns::ServerStats::kLatencyBoundsUs[i] / 1e6)
                             : std::string("+Inf");
        m += "signpost_dns_answer_seconds_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    m += "signpost_dns_answer_seconds_sum " + fmt::format("{:.9f}", st.latency_sum_us / 1e6) + "\n";
    m += "signpost_dns_answer_seconds_count " + std::to_string(cumulative) + "\n";
    return m;
}

}  // namespace signpost::tools

namespace signpost::tools {

namespace {
void family(std::string& m, const char* name, const char* help, const char* type) {
    m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}
}  // namespace

std::string control_metrics(const control::Controller& core, std::span<const core::EndpointHealth> health,
                            std::span<const probes::EndpointStatus> probes) {
    std::string m;
    auto& cat = core.catalog();
    auto& rs = core.reload_status();
    family(m, "signpost_view_generation", "Answers published to the DNS workers so far.", "counter");
    m += "signpost_view_generation " + std::to_string(core.view_generation()) + "\n";
    family(m, "signpost_reloads_total", "Reloads attempted.", "counter");
    m += "signpost_reloads_total " + std::to_string(rs.count) + "\n";
    family(m, "signpost_reload_failures_total", "Reloads rejected because the new configuration had errors.", "counter");
    m += "signpost_reload_failures_total " + std::to_string(rs.failures) + "\n";
    family(m, "signpost_last_reload_ok", "1 when the last reload succeeded.", "gauge");
    m += std::string("signpost_last_reload_ok ") + (rs.ok ? "1" : "0") + "\n";
    family(m, "signpost_events_total", "Events emitted (the last event's seq).", "counter");
    m += "signpost_events_total " + std::to_string(core.last_seq()) + "\n";
    family(m, "signpost_endpoint_up", "1 when the endpoint is up (after overrides and drains).", "gauge");
    for (std::size_t i = 0; i < cat.endpoints.size() && i < health.size(); ++i)
        m += "signpost_endpoint_up{endpoint=\"" + escape_label(cat.endpoints[i].key) + "\"} " +
             (health[i].up() ? "1" : "0") + "\n";
    family(m, "signpost_probe_checks_total", "Probe results received per endpoint.", "counter");
    for (auto& s : probes)
        m += "signpost_probe_checks_total{endpoint=\"" + escape_label(s.key) + "\"} " + std::to_string(s.checks_run) + "\n";
    family(m, "signpost_probe_latency_ms", "Latency of the last probe per endpoint and check.", "gauge");
    for (auto& s : probes)
        for (auto& c : s.checks)
            m += "signpost_probe_latency_ms{endpoint=\"" + escape_label(s.key) + "\",check=\"" + escape_label(c.name) +
                 "\"} " + fmt::format("{:.3f}", c.last_latency_ms) + "\n";
    family(m, "signpost_endpoint_transitions_total", "Endpoint state changes (up/down).", "counter");
    for (auto& [k, n] : core.transitions())
        m += "signpost_endpoint_transitions_total{endpoint=\"" + escape_label(k) + "\"} " + std::to_string(n) + "\n";
    auto evs = core.evaluations();
    family(m, "signpost_service_pool", "1 for the label a service answers with now.", "gauge");
    std::size_t all_down = 0;
    for (std::size_t i = 0; i < evs.size() && i < cat.services.size(); ++i) {
        m += "signpost_service_pool{service=\"" + escape_label(cat.services[i].key) + "\",label=\"" +
             escape_label(evs[i].decision.label) + "\"} 1\n";
        all_down += evs[i].decision.all_down;
    }
    family(m, "signpost_service_all_down", "1 when every pool of the service is down (alarm).", "gauge");
    for (std::size_t i = 0; i < evs.size() && i < cat.services.size(); ++i)
        m += "signpost_service_all_down{service=\"" + escape_label(cat.services[i].key) + "\"} " +
             (evs[i].decision.all_down ? "1" : "0") + "\n";
    family(m, "signpost_services_all_down", "Services with every pool down (alarm when above 0).", "gauge");
    m += "signpost_services_all_down " + std::to_string(all_down) + "\n";
    family(m, "signpost_service_changes_total", "Service answer changes (pool moves).", "counter");
    for (auto& [k, n] : core.service_changes())
        m += "signpost_service_changes_total{service=\"" + escape_label(k) + "\"} " + std::to_string(n) + "\n";
    // Endpoint hostnames (none without hostname endpoints).
    auto names = core.hostnames();
    if (names.empty()) return m;
    auto each = [&](const char* name, const char* help, const char* type, auto value) {
        family(m, name, help, type);
        for (auto& h : names) {
            auto* r = core.resolution(h);
            m += std::string(name) + "{hostname=\"" + escape_label(h) + "\"} " + std::to_string(r ? value(*r) : 0) + "\n";
        }
    };
    each("signpost_hostname_resolved", "1 when the endpoint hostname's last resolution answered addresses.", "gauge",
         [](const core::Resolution& r) { return r.state == core::ResolveState::Ok ? 1 : 0; });
    each("signpost_hostname_addresses", "Addresses the endpoint hostname has now (last good ones while failing).",
         "gauge", [](const core::Resolution& r) { return r.addresses.size(); });
    each("signpost_hostname_ttl_seconds", "Record TTL of the hostname's last answer.", "gauge",
         [](const core::Resolution& r) { return r.ttl; });
    each("signpost_hostname_answers_total", "Resolutions of the hostname that answered (addresses or a negative answer).",
         "counter", [](const core::Resolution& r) { return r.answers; });
    each("signpost_hostname_failures_total", "Resolutions of the hostname that failed (timeout, SERVFAIL, ...).",
         "counter", [](const core::Resolution& r) { return r.failures; });
    return m;
}

}  // namespace signpost::tools

namespace signpost::tools {

std::string cluster_metrics(const nlohmann::json& st) {
    std::string m;
    family(m, "signpost_cluster_peer_up", "1 while the peer answers: its verdicts count in the quorum.", "gauge");
    for (auto& p : st["peers"])
        m += "signpost_cluster_peer_up{peer=\"" + escape_label(p["id"].get<std::string>()) + "\"} " +
             (p["live"].get<bool>() ? "1" : "0") + "\n";
    family(m, "signpost_cluster_probed_here", "Endpoints this instance probes itself.", "gauge");
    m += "signpost_cluster_probed_here " + std::to_string(st["probed_here"].size()) + "\n";
    return m;
}

}  // namespace signpost::tools
