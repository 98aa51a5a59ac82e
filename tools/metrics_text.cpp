#include "tools/metrics_text.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <unordered_map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/version.hpp"

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

std::string label(const char* name, const std::string& value) {
    return std::string(name) + "=\"" + escape_label(value) + "\"";
}

uint64_t count_of(const std::unordered_map<std::string, uint64_t>& counts, const std::string& key) {
    auto it = counts.find(key);
    return it == counts.end() ? 0 : it->second;
}

// The pools (indices into Zone::pools) whose endpoints a service answers now:
// the default decision's variants and every subnet or geo rule's (and nearest pool's).
std::set<std::size_t> pools_answering(const zones::Catalog& cat, const zones::ServiceRef& ref,
                                      const policy::Evaluation& ev) {
    std::set<std::size_t> out;
    auto add = [&](const policy::Decision& d) {
        for (auto& v : d.variants)
            for (auto e : v.endpoints)
                if (e < cat.endpoints.size() && cat.endpoints[e].zone == ref.zone) out.insert(cat.endpoints[e].pool);
    };
    add(ev.decision);
    for (auto& r : ev.subnets) add(r.decision);
    for (auto& d : ev.geo_rules) add(d);
    for (auto& d : ev.geo_pools) add(d);
    return out;
}
}  // namespace

std::string control_metrics(const control::Controller& core, std::span<const core::EndpointHealth> health,
                            std::span<const probes::EndpointStatus> probes) {
    std::string m;
    auto& cat = core.catalog();
    auto& rs = core.reload_status();
    family(m, "signpost_views_published_total", "Answer views published to the DNS workers (the status's generation).",
           "counter");
    m += "signpost_views_published_total " + std::to_string(core.view_generation()) + "\n";
    family(m, "signpost_view_build_seconds",
           "How long the last answer view took to build (indexes, DNSSEC signing, pre-rendering): what a "
           "health change waits for before its answers are served.",
           "gauge");
    m += "signpost_view_build_seconds " + fmt::format("{:.6f}", core.last_view_build_seconds()) + "\n";
    family(m, "signpost_dnssec_state_txt_pending",
           "State TXT records served with their previous, still signed text while their new text is signed "
           "(a flip of more services than a view signs at once).",
           "gauge");
    m += "signpost_dnssec_state_txt_pending " + std::to_string(core.pending_state_signatures()) + "\n";
    family(m, "signpost_reloads_total", "Reloads attempted.", "counter");
    m += "signpost_reloads_total " + std::to_string(rs.count) + "\n";
    family(m, "signpost_reload_failures_total", "Reloads rejected because the new configuration had errors.", "counter");
    m += "signpost_reload_failures_total " + std::to_string(rs.failures) + "\n";
    family(m, "signpost_last_reload_ok", "1 when the last reload succeeded.", "gauge");
    m += std::string("signpost_last_reload_ok ") + (rs.ok ? "1" : "0") + "\n";
    family(m, "signpost_events_total", "Events emitted (the last event's seq).", "counter");
    m += "signpost_events_total " + std::to_string(core.last_seq()) + "\n";

    const std::size_t endpoints = std::min(cat.endpoints.size(), health.size());
    family(m, "signpost_endpoint_up", "1 when the endpoint is up (after overrides and drains).", "gauge");
    for (std::size_t i = 0; i < endpoints; ++i)
        m += "signpost_endpoint_up{" + label("endpoint", cat.endpoints[i].key) + "} " + (health[i].up() ? "1" : "0") +
             "\n";
    family(m, "signpost_endpoint_failing",
           "1 when the endpoint is up but failing: a probe failed and fall is not reached yet.", "gauge");
    for (std::size_t i = 0; i < endpoints; ++i)
        m += "signpost_endpoint_failing{" + label("endpoint", cat.endpoints[i].key) + "} " +
             (health[i].up() && health[i].suspect ? "1" : "0") + "\n";
    family(m, "signpost_endpoint_degraded",
           "1 when the endpoint is up but browning out: far slower than its baseline, or failing a share of probes.",
           "gauge");
    for (std::size_t i = 0; i < endpoints; ++i)
        m += "signpost_endpoint_degraded{" + label("endpoint", cat.endpoints[i].key) + "} " +
             (health[i].up() && health[i].degraded ? "1" : "0") + "\n";
    family(m, "signpost_endpoint_transitions_total", "Endpoint state changes (up/down).", "counter");
    for (std::size_t i = 0; i < endpoints; ++i)
        m += "signpost_endpoint_transitions_total{" + label("endpoint", cat.endpoints[i].key) + "} " +
             std::to_string(count_of(core.transitions(), cat.endpoints[i].key)) + "\n";
    family(m, "signpost_probe_checks_total", "Probe results received per endpoint.", "counter");
    for (auto& s : probes)
        m += "signpost_probe_checks_total{" + label("endpoint", s.key) + "} " + std::to_string(s.checks_run) + "\n";
    family(m, "signpost_probe_latency_seconds", "Latency of the last probe per endpoint and check (0 before the first).",
           "gauge");
    for (auto& s : probes)
        for (auto& c : s.checks)
            m += "signpost_probe_latency_seconds{" + label("endpoint", s.key) + "," + label("check", c.name) + "} " +
                 fmt::format("{:.6f}", c.last_latency_ms / 1e3) + "\n";

    auto evs = core.evaluations();
    const std::size_t services = std::min(evs.size(), cat.services.size());
    family(m, "signpost_service_pool", "1 for each pool whose endpoints the service answers with now, else 0.", "gauge");
    for (std::size_t i = 0; i < services; ++i) {
        auto& ref = cat.services[i];
        auto& zone = cat.zones[ref.zone];
        auto answering = pools_answering(cat, ref, evs[i]);
        for (auto p : zone.services[ref.service].pools)
            m += "signpost_service_pool{" + label("service", ref.key) + "," + label("pool", zone.pools[p].name) + "} " +
                 (answering.count(p) ? "1" : "0") + "\n";
    }
    family(m, "signpost_service_info", "The service's policy and the label of its answer now (as in signpost status).",
           "gauge");
    for (std::size_t i = 0; i < services; ++i) {
        auto& ref = cat.services[i];
        auto& svc = cat.zones[ref.zone].services[ref.service];
        m += "signpost_service_info{" + label("service", ref.key) + "," + label("policy", zones::to_string(svc.policy)) +
             "," + label("label", evs[i].decision.label) + "} 1\n";
    }
    std::size_t all_down = 0;
    family(m, "signpost_service_all_down", "1 when every pool of the service is down (alarm).", "gauge");
    for (std::size_t i = 0; i < services; ++i) {
        m += "signpost_service_all_down{" + label("service", cat.services[i].key) + "} " +
             (evs[i].decision.all_down ? "1" : "0") + "\n";
        all_down += evs[i].decision.all_down;
    }
    family(m, "signpost_service_early_warning",
           "1 while the answered pool has an endpoint up but failing or degraded (the early warning).", "gauge");
    for (std::size_t i = 0; i < services; ++i)
        m += "signpost_service_early_warning{" + label("service", cat.services[i].key) + "} " +
             (evs[i].early_warning ? "1" : "0") + "\n";
    family(m, "signpost_services_all_down", "Services with every pool down (alarm when above 0).", "gauge");
    m += "signpost_services_all_down " + std::to_string(all_down) + "\n";
    family(m, "signpost_service_changes_total", "Service answer changes (pool moves).", "counter");
    for (std::size_t i = 0; i < services; ++i)
        m += "signpost_service_changes_total{" + label("service", cat.services[i].key) + "} " +
             std::to_string(count_of(core.service_changes(), cat.services[i].key)) + "\n";

    // Geo services: answers per rule (none without geo services).
    if (auto view = core.view()) {
        auto geo = dns::geo_answer_counts(*view);
        if (!geo.empty()) {
            family(m, "signpost_geo_answers_total",
                   "Answers of geo services by the rule taken: its number, nearest:<pool> or default.", "counter");
            for (auto& g : geo)
                m += "signpost_geo_answers_total{" + label("service", g.service) + "," + label("rule", g.rule) + "} " +
                     std::to_string(g.answers) + "\n";
        }
    }

    // Endpoint hostnames (none without hostname endpoints).
    auto names = core.hostnames();
    if (names.empty()) return m;
    auto each = [&](const char* name, const char* help, const char* type, auto value) {
        family(m, name, help, type);
        for (auto& h : names) {
            auto* r = core.resolution(h);
            m += std::string(name) + "{" + label("hostname", h) + "} " + std::to_string(r ? value(*r) : 0) + "\n";
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

BuildInfo build_info() {
    // Keep in step with `signpost --version` (tools/main.cpp).
    BuildInfo b{std::string(core::kVersion), ""};
#if defined(__clang__)
    b.compiler = fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
    b.compiler = fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
    b.compiler = "unknown";
#endif
    return b;
}

std::string build_info_metrics(const BuildInfo& b) {
    std::string m;
    family(m, "signpost_build_info", "Always 1; the labels say which build is running.", "gauge");
    m += "signpost_build_info{" + label("version", b.version) + "," + label("compiler", b.compiler) + "} 1\n";
    return m;
}

namespace {
// Unix time the process started: /proc/self/stat's starttime (clock ticks after
// boot) plus /proc/stat's btime. It does not change, so it is read once.
std::optional<double> read_start_time() {
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto paren = text.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(paren + 1));
    std::string field;
    // Field 3 (state) is the first after the name; starttime is field 22.
    for (int i = 3; i <= 22; ++i)
        if (!(fields >> field)) return std::nullopt;
    double ticks = std::strtod(field.c_str(), nullptr);
    std::ifstream proc_stat("/proc/stat");
    std::string line;
    while (std::getline(proc_stat, line))
        if (line.rfind("btime ", 0) == 0) {
            long hz = ::sysconf(_SC_CLK_TCK);
            if (hz <= 0) return std::nullopt;
            return std::strtod(line.c_str() + 6, nullptr) + ticks / double(hz);
        }
    return std::nullopt;
}
}  // namespace

ProcessStats read_process_stats() {
    ProcessStats st;
    rusage ru{};
    if (::getrusage(RUSAGE_SELF, &ru) == 0)
        st.cpu_seconds = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    if (statm >> size >> resident) {
        auto page = uint64_t(::sysconf(_SC_PAGESIZE));
        st.virtual_bytes = size * page;
        st.resident_bytes = resident * page;
    }
    std::error_code ec;
    uint64_t fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
    if (!ec) st.open_fds = fds;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) st.max_fds = uint64_t(rl.rlim_cur);
    static const std::optional<double> start = read_start_time();
    st.start_time_seconds = start;
    return st;
}

std::string process_metrics(const ProcessStats& st) {
    std::string m;
    if (st.cpu_seconds) {
        family(m, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
        m += "process_cpu_seconds_total " + fmt::format("{:.6f}", *st.cpu_seconds) + "\n";
    }
    if (st.resident_bytes) {
        family(m, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
        m += "process_resident_memory_bytes " + std::to_string(*st.resident_bytes) + "\n";
    }
    if (st.virtual_bytes) {
        family(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
        m += "process_virtual_memory_bytes " + std::to_string(*st.virtual_bytes) + "\n";
    }
    if (st.open_fds) {
        family(m, "process_open_fds", "Number of open file descriptors.", "gauge");
        m += "process_open_fds " + std::to_string(*st.open_fds) + "\n";
    }
    if (st.max_fds) {
        family(m, "process_max_fds", "Maximum number of open file descriptors.", "gauge");
        m += "process_max_fds " + std::to_string(*st.max_fds) + "\n";
    }
    if (st.start_time_seconds) {
        family(m, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge");
        m += "process_start_time_seconds " + fmt::format("{:.2f}", *st.start_time_seconds) + "\n";
    }
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
