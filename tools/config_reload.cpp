#include "tools/config_reload.hpp"

#include <functional>

namespace signpost::tools {

namespace {

struct KeyRule {
    ConfigKey key;
    std::function<bool(const ServerConfig&, const ServerConfig&)> same;
    std::function<void(const ServerConfig& from, ServerConfig& to)> carry;  // restart keys: keep the running value
};

// One row per key: how to compare it, and (restart keys) how to keep it.
#define SIGNPOST_FIELD(name, live, field)                                                           \
    KeyRule{{name, live},                                                                           \
            [](const ServerConfig& a, const ServerConfig& b) { return a.field == b.field; },        \
            [](const ServerConfig& from, ServerConfig& to) { to.field = from.field; }}

bool same_identity(const ServerConfig& a, const ServerConfig& b) {
    return a.dns.identity.identity() == b.dns.identity.identity();
}
bool same_version(const ServerConfig& a, const ServerConfig& b) {
    return a.dns.identity.version() == b.dns.identity.version();
}
bool same_peers(const cluster::ClusterOptions& a, const cluster::ClusterOptions& b) {
    if (a.peers.size() != b.peers.size()) return false;
    for (std::size_t i = 0; i < a.peers.size(); ++i)
        if (a.peers[i].id != b.peers[i].id || a.peers[i].url != b.peers[i].url) return false;
    return a.id == b.id && a.token == b.token && a.quorum == b.quorum && a.probers == b.probers &&
           a.poll_interval == b.poll_interval && a.peer_timeout == b.peer_timeout;
}

const std::vector<KeyRule>& rules() {
    static const std::vector<KeyRule> r = {
        // What the DNS sockets and threads were made with.
        SIGNPOST_FIELD("zones", false, zones_dir),
        SIGNPOST_FIELD("listen", false, dns.listen),
        SIGNPOST_FIELD("workers", false, dns.workers),
        SIGNPOST_FIELD("udp_payload_size", false, dns.udp_payload_size),
        SIGNPOST_FIELD("tcp_max_connections", false, dns.tcp_max_connections),
        SIGNPOST_FIELD("tcp_max_connections_per_client", false, dns.tcp_max_connections_per_client),
        SIGNPOST_FIELD("tcp_idle_timeout", false, dns.tcp_idle_timeout),
        SIGNPOST_FIELD("tcp_query_timeout", false, dns.tcp_query_timeout),
        SIGNPOST_FIELD("user", false, privileges.user),
        SIGNPOST_FIELD("group", false, privileges.group),
        SIGNPOST_FIELD("state_file", false, state_file),
        SIGNPOST_FIELD("dnssec_key_dir", false, dnssec_key_dir),
        SIGNPOST_FIELD("watch_zones", false, watch_zones),
        SIGNPOST_FIELD("api.enabled", false, api_enabled),
        SIGNPOST_FIELD("api.listen", false, api.host),
        SIGNPOST_FIELD("api.listen", false, api.port),
        SIGNPOST_FIELD("probes.source", false, probes.source_v4),
        SIGNPOST_FIELD("probes.source", false, probes.source_v6),
        SIGNPOST_FIELD("xfr.notify_source", false, xfr.notify_source_v4),
        SIGNPOST_FIELD("xfr.notify_source", false, xfr.notify_source_v6),
        KeyRule{{"cluster", false},
                [](const ServerConfig& a, const ServerConfig& b) { return same_peers(a.cluster, b.cluster); },
                [](const ServerConfig& from, ServerConfig& to) { to.cluster = from.cluster; }},
        // What a reload applies.
        SIGNPOST_FIELD("log_level", true, log_level),
        SIGNPOST_FIELD("log_format", true, log_format),
        SIGNPOST_FIELD("query_log", true, dns.query_log),
        KeyRule{{"identity", true}, same_identity, nullptr},
        KeyRule{{"version", true}, same_version, nullptr},
        SIGNPOST_FIELD("rrl", true, dns.rrl),
        SIGNPOST_FIELD("explain_allow", true, explain_allow),
        SIGNPOST_FIELD("geoip_databases", true, geoip_databases),
        SIGNPOST_FIELD("api.token", true, api.token),
        SIGNPOST_FIELD("api.read_allow", true, api.read_allow),
        SIGNPOST_FIELD("tsig_keys", true, xfr.keys),
        SIGNPOST_FIELD("secondaries", true, xfr.secondaries),
        SIGNPOST_FIELD("xfr.history", true, xfr.history),
        SIGNPOST_FIELD("xfr.notify_tries", true, xfr.notify_tries),
        SIGNPOST_FIELD("xfr.message_size", true, xfr.message_size),
        SIGNPOST_FIELD("limits", true, limits),
        SIGNPOST_FIELD("state_max_age", true, state_max_age),
        SIGNPOST_FIELD("resolvers", true, resolver.servers),
        SIGNPOST_FIELD("resolve_min_ttl", true, resolver.bounds.min_ttl),
        SIGNPOST_FIELD("resolve_max_ttl", true, resolver.bounds.max_ttl),
        SIGNPOST_FIELD("resolve_timeout", true, resolver.bounds.timeout),
        SIGNPOST_FIELD("geoip_databases", true, geoip_databases),
    };
    return r;
}

#undef SIGNPOST_FIELD

void add_once(std::vector<std::string>& names, const char* name) {
    for (auto& n : names)
        if (n == name) return;
    names.emplace_back(name);
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
    static const std::vector<ConfigKey> keys = [] {
        std::vector<ConfigKey> k;
        for (auto& r : rules()) {
            bool seen = false;
            for (auto& e : k) seen = seen || std::string_view(e.name) == r.key.name;
            if (!seen) k.push_back(r.key);
        }
        return k;
    }();
    return keys;
}

ConfigChanges config_changes(const ServerConfig& running, const ServerConfig& read) {
    ConfigChanges c;
    for (auto& r : rules())
        if (!r.same(running, read)) add_once(r.key.live ? c.live : c.restart, r.key.name);
    return c;
}

ServerConfig config_to_apply(const ServerConfig& running, const ServerConfig& read) {
    ServerConfig out = read;
    for (auto& r : rules())
        if (!r.key.live && r.carry) r.carry(running, out);
    // The query hooks are installed from the applied config; never carried over.
    out.dns.transfer_handler = nullptr;
    out.dns.explain_handler = nullptr;
    return out;
}

}  // namespace signpost::tools
