// Reads the server config (`serve --config FILE`) with zones' typed TOML reader, so its
// errors have the zone files' form and rules: file:line:col, unknown keys with what is
// allowed, exact types and ranges, every error reported. Start-up and reload only.
#include "tools/server_config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include "core/log.hpp"
#include "zones/toml_reader.hpp"

namespace signpost::tools {

namespace {

using zones::TomlNode;
using zones::TomlReader;

// Server config messages name a key with its section, in quotes ('api.listen'), and
// carry no context before it.
constexpr std::string_view kNoCtx;
std::string q(std::string_view key) { return "'" + std::string(key) + "'"; }

const std::vector<std::string> kTopKeys = {
    "zones",       "listen",      "workers",   "udp_payload_size", "tcp_max_connections", "tcp_idle_timeout",
    "log_level",   "state_file",  "watch_zones", "api",            "tsig_keys",           "secondaries",
    "xfr",         "tcp_max_connections_per_client", "tcp_query_timeout", "user", "group", "rrl",
    "limits",      "query_log",   "explain_allow", "probes",       "cluster",  "state_max_age",
    "resolvers",   "resolve_min_ttl", "resolve_max_ttl", "resolve_timeout", "identity", "version",
    "log_format",  "geoip_databases", "dnssec_key_dir"};
const std::vector<std::string> kApiKeys = {"enabled", "listen", "token", "token_file", "read_allow"};
const std::vector<std::string> kProbesKeys = {"source"};
const std::vector<std::string> kClusterKeys = {"id",      "token",         "token_file",   "quorum",
                                               "probers", "poll_interval", "peer_timeout", "peers"};
const std::vector<std::string> kPeerKeys = {"id", "url"};
const std::vector<std::string> kXfrKeys = {"history", "notify_tries", "message_size", "notify_source"};
const std::vector<std::string> kTsigKeys = {"name", "algorithm", "secret"};
const std::vector<std::string> kSecondaryKeys = {"zones", "address", "allow_transfer_from", "key"};
const std::vector<std::string> kRrlKeys = {"enabled",     "rate",        "slip",  "window",
                                           "ipv4_prefix", "ipv6_prefix", "allow", "table_size"};
const std::vector<std::string> kLimitsKeys = {"max_zones", "max_records_per_zone", "max_endpoints", "max_file_bytes"};

constexpr core::Millis kForever = core::Millis::max();

// `section` when it is a table; else "'<name>' must be <want>, got ..." and absent.
TomlNode section(TomlReader& r, TomlNode n, std::string_view name, std::string_view want,
                 const std::vector<std::string>& allowed) {
    if (!n.is_table()) {
        r.must_be(n, kNoCtx, q(name), want);
        return {};
    }
    r.check_keys(n, kNoCtx, allowed, std::string(name) + ".");
    return n;
}

template <class T>
void integer(TomlReader& r, TomlNode n, std::string_view key, int64_t lo, int64_t hi, std::string_view want, T& out) {
    if (!n) return;
    if (auto v = r.integer(n, kNoCtx, q(key), lo, hi, want)) out = static_cast<T>(*v);
}

void boolean(TomlReader& r, TomlNode n, std::string_view key, bool& out) {
    if (!n) return;
    if (auto v = r.boolean(n, kNoCtx, q(key))) out = *v;
}

std::optional<dns::ListenAddress> listen_address(const std::optional<std::string>& s, std::string* err) {
    return s ? dns::ListenAddress::parse(*s, err) : std::nullopt;
}

// "source = [ADDR, ...]": at most one IPv4 and one IPv6 address to send from.
void read_sources(TomlReader& r, TomlNode n, std::string_view key, std::string& v4, std::string& v6) {
    if (!n) return;
    if (!n.is_array()) {
        r.must_be(n, kNoCtx, q(key), "an array of addresses, at most one IPv4 and one IPv6");
        return;
    }
    for (auto& item : n.elements()) {
        auto addr = r.address(item, kNoCtx, q(key));
        if (!addr) continue;
        std::string& slot = addr->v6 ? v6 : v4;
        if (!slot.empty())
            r.error(item.where(), kNoCtx,
                    q(key) + ": a second " + (addr->v6 ? "IPv6" : "IPv4") + " address; give at most one per family");
        else
            slot = addr->to_string();
    }
}

// The first line of a file, when it has at least `min` characters.
std::optional<std::string> token_from(const std::string& file, std::size_t min) {
    std::ifstream in(file);
    std::string tok;
    if (!in || !std::getline(in, tok) || tok.size() < min) return std::nullopt;
    return tok;
}

// ---- top-level keys: listening, TCP, logging, state ----

void read_top(TomlReader& r, TomlNode root, ServerConfig& cfg) {
    if (auto n = root.get("zones"))
        if (auto v = r.string(n, kNoCtx, q("zones"), "a string (a directory of zone files)")) cfg.zones_dir = *v;
    if (auto n = root.get("listen")) {
        if (!n.is_array()) r.must_be(n, kNoCtx, q("listen"), "an array of \"ADDR:PORT\" strings");
        for (auto& item : n.elements()) {
            auto s = item.as_string();
            std::string err;
            auto la = listen_address(s, &err);
            if (!la)
                r.error(item.where(), kNoCtx, "listen: " + (s ? err : "expected a string, got " + item.describe()));
            else
                cfg.dns.listen.push_back(*la);
        }
    }
    integer(r, root.get("workers"), "workers", 0, 256, "an integer 0..256 (0: one per core)", cfg.dns.workers);
    integer(r, root.get("udp_payload_size"), "udp_payload_size", 512, 65535, "an integer 512..65535",
            cfg.dns.udp_payload_size);
    integer(r, root.get("tcp_max_connections"), "tcp_max_connections", 1, 1000000, "an integer 1..1000000",
            cfg.dns.tcp_max_connections);
    integer(r, root.get("tcp_max_connections_per_client"), "tcp_max_connections_per_client", 0, 1000000,
            "an integer 0..1000000 (0: no limit)", cfg.dns.tcp_max_connections_per_client);
    if (auto n = root.get("tcp_idle_timeout"))
        if (auto d = r.duration(n, kNoCtx, q("tcp_idle_timeout"), core::Millis(1), kForever, "a duration such as \"10s\""))
            cfg.dns.tcp_idle_timeout = *d;
    if (auto n = root.get("tcp_query_timeout"))
        if (auto d = r.duration(n, kNoCtx, q("tcp_query_timeout"), core::Millis(1), kForever, "a duration such as \"5s\""))
            cfg.dns.tcp_query_timeout = *d;
    for (const char* key : {"user", "group"}) {
        auto n = root.get(key);
        if (!n) continue;
        auto v = n.as_string();
        if (!v || v->empty()) r.must_be(n, kNoCtx, q(key), "a user (group) name or number, e.g. \"signpost\"");
        else (std::string_view(key) == "user" ? cfg.privileges.user : cfg.privileges.group) = *v;
    }
    boolean(r, root.get("query_log"), "query_log", cfg.dns.query_log);
    boolean(r, root.get("watch_zones"), "watch_zones", cfg.watch_zones);
    if (auto n = root.get("explain_allow"))
        if (auto v = r.prefixes(n, kNoCtx, q("explain_allow"),
                                "an array of prefixes such as [\"127.0.0.0/8\", \"::1/128\"] ([] turns explain over DNS off)"))
            cfg.explain_allow = *v;
    if (auto n = root.get("state_file"))
        if (auto v = r.string(n, kNoCtx, q("state_file"), "a string (a file path)")) cfg.state_file = *v;
    if (auto n = root.get("dnssec_key_dir")) {
        auto v = n.as_string();
        if (!v || v->empty()) r.must_be(n, kNoCtx, q("dnssec_key_dir"), "a directory path such as \"/var/lib/signpost/keys\"");
        else cfg.dnssec_key_dir = *v;
    }
    if (auto n = root.get("geoip_databases")) {
        if (auto list = r.strings(n, kNoCtx, q("geoip_databases"))) {
            for (auto& [path, w] : *list) {
                if (path.empty()) r.error(w, kNoCtx, "'geoip_databases': a path is empty; give MaxMind DB files such as \"/var/lib/GeoIP/GeoLite2-City.mmdb\"");
                else if (std::find(cfg.geoip_databases.begin(), cfg.geoip_databases.end(), path) != cfg.geoip_databases.end())
                    r.error(w, kNoCtx, "'geoip_databases': \"" + path + "\" is listed twice");
                else cfg.geoip_databases.push_back(path);
            }
        }
    }
    if (auto n = root.get("state_max_age"))
        if (auto d = r.duration(n, kNoCtx, q("state_max_age"), core::Millis(0), core::Millis(86400000),
                                "a duration from 0s to 24h, e.g. \"30s\""))
            cfg.state_max_age = *d;
    // identity, version: CH TXT id.server/hostname.bind, version.bind/version.server, NSID.
    std::string identity(cfg.dns.identity.identity()), version(cfg.dns.identity.version());
    for (auto [key, out] : {std::pair{"identity", &identity}, std::pair{"version", &version}}) {
        auto n = root.get(key);
        if (!n) continue;
        auto v = r.string(n, kNoCtx, q(key), "a string of at most 255 bytes (\"\": not answered)");
        if (!v) continue;
        if (v->size() > 255)
            r.error(n.where(), kNoCtx,
                    q(key) + ": at most 255 bytes (one TXT string" +
                        (std::string_view(key) == "identity" ? ", and the NSID" : "") + "), got " +
                        std::to_string(v->size()));
        else
            *out = *v;
    }
    cfg.dns.identity = dns::ServerIdentity(identity, version);
    if (auto n = root.get("log_level")) {
        core::LogLevel level;
        auto s = n.as_string();
        if (!s || !core::parse_log_level(*s, level)) r.must_be(n, kNoCtx, q("log_level"), "one of debug, info, warning, error");
        else cfg.log_level = *s;
    }
    if (auto n = root.get("log_format")) {
        core::LogStyle style;
        auto s = n.as_string();
        if (!s || !core::parse_log_format(*s, style)) r.must_be(n, kNoCtx, q("log_format"), "\"text\" or \"json\"");
        else cfg.log_format = *s;
    }
}

// ---- endpoint hostnames: resolvers and re-resolution bounds (resolve::ResolverOptions) ----

void read_resolver(TomlReader& r, TomlNode root, resolve::ResolverOptions& out) {
    if (auto n = root.get("resolvers")) {
        if (!n.is_array())
            r.must_be(n, kNoCtx, q("resolvers"), "an array of \"ADDR[:PORT]\" strings, e.g. [\"127.0.0.53\", \"[::1]:5353\"]");
        for (auto& item : n.elements()) {
            auto s = item.as_string();
            auto server = s ? resolve::parse_server(*s) : std::nullopt;
            if (!server)
                r.error(item.where(), kNoCtx,
                        "'resolvers': " + (s ? "\"" + *s + "\"" : item.describe()) + " is not \"ADDR[:PORT]\" (e.g. \"192.0.2.53\", "
                        "\"192.0.2.53:5353\", \"[2001:db8::53]:53\")");
            else if (std::find(out.servers.begin(), out.servers.end(), *server) != out.servers.end())
                r.error(item.where(), kNoCtx, "'resolvers': " + server->to_string() + " is listed twice");
            else
                out.servers.push_back(*server);
        }
    }
    auto& b = out.bounds;
    TomlNode min_node = root.get("resolve_min_ttl"), max_node = root.get("resolve_max_ttl");
    if (min_node)
        if (auto d = r.duration(min_node, kNoCtx, q("resolve_min_ttl"), core::Millis(1000), core::Millis(3600000),
                                "a duration from 1s to 1h, e.g. \"5s\""))
            b.min_ttl = *d;
    if (max_node)
        if (auto d = r.duration(max_node, kNoCtx, q("resolve_max_ttl"), core::Millis(1000), core::Millis(86400000),
                                "a duration from 1s to 24h, e.g. \"1h\""))
            b.max_ttl = *d;
    if (auto n = root.get("resolve_timeout"))
        if (auto d = r.duration(n, kNoCtx, q("resolve_timeout"), core::Millis(100), core::Millis(30000),
                                "a duration from 100ms to 30s, e.g. \"2s\""))
            b.timeout = *d;
    if (b.max_ttl < b.min_ttl)
        r.error((max_node ? max_node : min_node).where(), kNoCtx,
                "'resolve_max_ttl' (" + core::format_duration(b.max_ttl) + ") must not be below 'resolve_min_ttl' (" +
                    core::format_duration(b.min_ttl) + ")");
}

// ---- [api] ----

void read_api(TomlReader& r, TomlNode node, ServerConfig& cfg) {
    auto t = section(r, node, "api", "a table: [api] listen, token, token_file, read_allow, enabled", kApiKeys);
    if (!t) return;
    boolean(r, t.get("enabled"), "api.enabled", cfg.api_enabled);
    if (auto n = t.get("listen")) {
        std::string err;
        if (auto la = listen_address(n.as_string(), &err)) {
            cfg.api.host = la->host;
            cfg.api.port = la->port;
        } else {
            r.must_be(n, kNoCtx, q("api.listen"), "\"ADDR:PORT\", e.g. \"127.0.0.1:8054\"");
        }
    }
    if (auto n = t.get("token")) {  // a secret: the message does not repeat it
        if (auto v = n.as_string()) cfg.api.token = *v;
        else r.error(n.where(), kNoCtx, "'api.token' must be a string");
    }
    if (auto n = t.get("token_file")) {
        if (auto v = r.string(n, kNoCtx, q("api.token_file"), "a string (a file path)")) {
            if (auto tok = token_from(*v, 1)) cfg.api.token = *tok;
            else r.error(n.where(), kNoCtx, "'api.token_file': cannot read a token from " + *v);
        }
    }
    if (auto n = t.get("read_allow"))
        if (auto v = r.prefixes(n, kNoCtx, q("api.read_allow"), "an array of prefixes such as \"192.0.2.0/24\""))
            cfg.api.read_allow.insert(cfg.api.read_allow.end(), v->begin(), v->end());
}

// ---- [probes] and [cluster] (see docs/cluster.md) ----

void read_probes(TomlReader& r, TomlNode node, probes::MonitorOptions& out) {
    auto t = section(r, node, "probes", "a table: [probes] source = [\"192.0.2.1\", \"2001:db8::1\"]", kProbesKeys);
    if (t) read_sources(r, t.get("source"), "probes.source", out.source_v4, out.source_v6);
}

void read_peers(TomlReader& r, TomlNode n, cluster::ClusterOptions& out) {
    if (!n.is_array()) {
        r.must_be(n, kNoCtx, q("cluster.peers"),
                  "an array of tables: [[cluster.peers]] id = \"ns2\", url = \"http://192.0.2.2:8054\"");
        return;
    }
    for (auto& item : n.elements()) {
        if (!item.is_table()) {
            r.error(item.where(), kNoCtx, "'cluster.peers': each peer is a table with id and url");
            continue;
        }
        r.check_keys(item, kNoCtx, kPeerKeys, "cluster.peers.");
        cluster::PeerConfig peer;
        if (auto id = item.get("id")) {
            auto v = id.as_string();
            if (v && !v->empty()) peer.id = *v;
            else r.must_be(id, kNoCtx, q("cluster.peers.id"), "the peer's cluster.id");
        }
        if (auto url = item.get("url")) {
            auto v = url.as_string();
            if (v && (v->starts_with("http://") || v->starts_with("https://"))) peer.url = *v;
            else r.must_be(url, kNoCtx, q("cluster.peers.url"), "its API URL, e.g. \"http://192.0.2.2:8054\"");
        }
        if (peer.id.empty() || peer.url.empty()) {
            r.error(item.where(), kNoCtx, "'cluster.peers': a peer needs both id and url");
            continue;
        }
        for (auto& other : out.peers)
            if (other.id == peer.id) r.error(item.where(), kNoCtx, "'cluster.peers': peer '" + peer.id + "' is listed twice");
        out.peers.push_back(peer);
    }
}

void read_cluster(TomlReader& r, TomlNode node, cluster::ClusterOptions& out) {
    auto t = section(r, node, "cluster", "a table: [cluster] id, token, quorum, probers, ... and [[cluster.peers]]",
                     kClusterKeys);
    if (!t) return;
    if (auto n = t.get("id")) {
        auto v = n.as_string();
        if (!v || v->empty() || v->size() > 63)
            r.must_be(n, kNoCtx, q("cluster.id"), "a non-empty name of at most 63 characters, unique in the cluster");
        else
            out.id = *v;
    }
    // Tokens are secrets: their messages never repeat what was written.
    if (auto n = t.get("token")) {
        auto v = n.as_string();
        if (!v || v->size() < 16)
            r.error(n.where(), kNoCtx, "'cluster.token' must be a string of at least 16 characters, the same on every instance");
        else
            out.token = *v;
    }
    if (auto n = t.get("token_file")) {
        auto v = n.as_string();
        auto tok = v ? token_from(*v, 16) : std::nullopt;
        if (!tok)
            r.error(n.where(), kNoCtx, "'cluster.token_file': cannot read a token of at least 16 characters from " +
                                           (v ? *v : std::string("(not a string)")));
        else
            out.token = *tok;
    }
    integer(r, t.get("quorum"), "cluster.quorum", 0, 64, "an integer 0..64 (0: a majority)", out.quorum);
    integer(r, t.get("probers"), "cluster.probers", 0, 64, "an integer 0..64 (0: every instance)", out.probers);
    for (auto [key, field] : {std::pair{"poll_interval", &out.poll_interval}, std::pair{"peer_timeout", &out.peer_timeout}})
        if (auto n = t.get(key))
            if (auto d = r.duration(n, kNoCtx, q(std::string("cluster.") + key), core::Millis(50), core::Millis(600000),
                                    "a duration from 50ms to 10m, e.g. \"500ms\""))
                *field = *d;
    if (auto n = t.get("peers")) read_peers(r, n, out);

    const auto at = node.where();
    if (out.id.empty()) r.error(at, kNoCtx, "[cluster] needs 'id', this instance's name");
    if (out.token.empty()) r.error(at, kNoCtx, "[cluster] needs 'token' (or token_file): peers must authenticate");
    if (out.peers.empty()) r.error(at, kNoCtx, "[cluster] needs at least one [[cluster.peers]]");
    for (auto& p : out.peers)
        if (p.id == out.id) r.error(at, kNoCtx, "[cluster] lists itself ('" + p.id + "') among its peers");
    const std::size_t instances = out.peers.size() + 1;
    if (out.quorum > instances)
        r.error(at, kNoCtx, "[cluster] quorum " + std::to_string(out.quorum) + " is more than the " +
                                std::to_string(instances) + " instances: nothing could ever go down");
    if (out.probers && out.quorum > out.probers)
        r.error(at, kNoCtx, "[cluster] quorum " + std::to_string(out.quorum) + " needs at least as many probers (" +
                                std::to_string(out.probers) + "): each endpoint would have too few votes");
    if (out.peer_timeout < out.poll_interval * 2)
        r.error(at, kNoCtx, "[cluster] peer_timeout must be at least twice poll_interval, or one slow poll marks a peer dead");
}

// ---- zone transfers: [[tsig_keys]], [[secondaries]], [xfr] (see docs/secondaries.md) ----

bool is_base64(const std::string& s) {
    if (s.empty() || s.size() % 4 != 0) return false;
    std::size_t pad = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '=') {
            if (i + 2 < s.size()) return false;
            ++pad;
        } else if (pad || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) {
            return false;
        }
    }
    return true;
}

void read_xfr(TomlReader& r, TomlNode node, xfr::XfrOptions& x) {
    auto t = section(r, node, "xfr", "a table: [xfr] history, notify_tries, message_size, notify_source", kXfrKeys);
    if (!t) return;
    integer(r, t.get("history"), "xfr.history", 1, 1000, "an integer 1..1000 (versions kept per zone for IXFR)", x.history);
    integer(r, t.get("notify_tries"), "xfr.notify_tries", 1, 20, "an integer 1..20", x.notify_tries);
    integer(r, t.get("message_size"), "xfr.message_size", 512, 65535, "an integer 512..65535 (bytes per transfer message)",
            x.message_size);
    read_sources(r, t.get("notify_source"), "xfr.notify_source", x.notify_source_v4, x.notify_source_v6);
}

// The tables of an array of tables ([[name]]); anything else is reported.
std::vector<TomlNode> tables_of(TomlReader& r, TomlNode node, const std::string& name) {
    std::string want = "an array of tables ([[" + name + "]])";
    if (!node.is_array()) {
        r.must_be(node, kNoCtx, q(name), want);
        return {};
    }
    std::vector<TomlNode> out;
    for (auto& item : node.elements()) {
        if (item.is_table()) out.push_back(item);
        else r.must_be(item, kNoCtx, q(name), want);
    }
    return out;
}

void read_tsig_keys(TomlReader& r, TomlNode node, xfr::XfrOptions& x) {
    for (auto& t : tables_of(r, node, "tsig_keys")) {
        r.check_keys(t, kNoCtx, kTsigKeys, "tsig_keys.");
        auto str = [&](const char* key) -> std::optional<std::string> {
            auto n = t.get(key);
            return n ? r.string(n, kNoCtx, q(std::string("tsig_keys.") + key)) : std::nullopt;
        };
        auto name = str("name");
        auto alg = str("algorithm");
        auto secret = t.get("secret").as_string();
        if (t.get("secret") && !secret) r.error(t.get("secret").where(), kNoCtx, "'tsig_keys.secret' must be a string");
        if (!name || name->empty()) {
            r.error(t.where(), kNoCtx, "'tsig_keys': every key needs a 'name', e.g. name = \"transfer-key\"");
            continue;
        }
        xfr::TsigKey key;
        key.name = xfr::canonical_key_name(*name);
        auto canon = xfr::canonical_algorithm(alg ? *alg : "hmac-sha256");
        if (!canon) {
            r.error((t.get("algorithm") ? t.get("algorithm") : t).where(), kNoCtx,
                    "'tsig_keys." + *name + "': algorithm must be one of hmac-sha256, hmac-sha384, hmac-sha512, "
                    "hmac-sha224, hmac-sha1, hmac-md5; got '" + (alg ? *alg : "") + "'");
            continue;
        }
        key.algorithm = *canon;
        if (!secret || !is_base64(*secret)) {
            r.error((t.get("secret") ? t.get("secret") : t).where(), kNoCtx,
                    "'tsig_keys." + *name + "': secret must be base64 (e.g. from `tsig-keygen` or "
                    "`openssl rand -base64 32`)");
            continue;
        }
        key.secret = *secret;
        if (x.find_key(key.name)) r.error(t.where(), kNoCtx, "'tsig_keys': key '" + *name + "' is defined twice");
        x.keys.push_back(key);
    }
}

void read_secondaries(TomlReader& r, TomlNode node, xfr::XfrOptions& x) {
    for (auto& t : tables_of(r, node, "secondaries")) {
        r.check_keys(t, kNoCtx, kSecondaryKeys, "secondaries.");
        xfr::Secondary sec;
        if (auto n = t.get("zones")) {
            if (auto v = n.as_string()) {
                sec.zones.push_back(*v);
            } else if (n.is_array()) {
                for (auto& z : n.elements()) {
                    if (auto zv = z.as_string()) sec.zones.push_back(*zv);
                    else r.must_be(z, kNoCtx, q("secondaries.zones"), "zone names or \"*\"");
                }
            } else {
                r.must_be(n, kNoCtx, q("secondaries.zones"), "an array of zone names, or \"*\"");
            }
        }
        if (auto n = t.get("address")) {
            std::string err;
            if (auto la = listen_address(n.as_string(), &err)) {
                sec.notify_address = core::IpAddress::parse(la->host);
                sec.notify_port = la->port;
            } else {
                r.error(n.where(), kNoCtx,
                        "'secondaries.address' (the NOTIFY target) must be \"ADDR:PORT\" or \"ADDR\", e.g. "
                        "\"192.0.2.53:53\"" + (err.empty() ? ", got " + n.describe() : ": " + err));
            }
        }
        if (auto n = t.get("allow_transfer_from")) {
            if (!n.is_array()) r.must_be(n, kNoCtx, q("secondaries.allow_transfer_from"), "an array of prefixes");
            for (auto& p : n.elements()) {
                auto v = p.as_string();
                auto pfx = v ? core::IpPrefix::parse(*v) : std::nullopt;
                if (pfx) sec.allow_transfer_from.push_back(*pfx);
                else r.error(p.where(), kNoCtx,
                             "'secondaries.allow_transfer_from': not a prefix: expected \"192.0.2.0/24\", "
                             "\"2001:db8::/32\" or an address, got " + p.describe());
            }
        }
        if (auto n = t.get("key")) {
            if (auto v = n.as_string()) sec.key = xfr::canonical_key_name(*v);
            else r.must_be(n, kNoCtx, q("secondaries.key"), "the name of a [[tsig_keys]] entry");
        }
        if (sec.zones.empty())
            r.error(t.where(), kNoCtx, "'secondaries': 'zones' is required (zone names, or [\"*\"] for all)");
        x.secondaries.push_back(std::move(sec));
    }
}

// Every secondary's key must be a [[tsig_keys]] entry (any order in the file).
void check_xfr_keys(TomlReader& r, TomlNode root, const std::string& path, const xfr::XfrOptions& x) {
    auto tables = root.get("secondaries").elements();
    for (std::size_t i = 0; i < x.secondaries.size(); ++i) {
        auto& s = x.secondaries[i];
        if (s.key.empty() || x.find_key(s.key)) continue;
        TomlNode at = i < tables.size() ? tables[i] : TomlNode();
        if (at.get("key")) at = at.get("key");
        r.error(at ? at.where() : core::SourceLocation{path, 1, 1}, kNoCtx,
                "'secondaries.key': no [[tsig_keys]] entry named '" + s.key + "'");
    }
}

// ---- hardening: [rrl] and [limits] (see docs/hardening.md) ----

// [rrl]: response rate limiting (dns::RrlOptions).
void read_rrl(TomlReader& r, TomlNode node, dns::RrlOptions& rrl) {
    auto t = section(r, node, "rrl",
                     "a table: [rrl] enabled, rate, slip, window, ipv4_prefix, ipv6_prefix, allow, table_size", kRrlKeys);
    if (!t) return;
    auto range = [](int64_t lo, int64_t hi) { return "an integer " + std::to_string(lo) + ".." + std::to_string(hi); };
    boolean(r, t.get("enabled"), "rrl.enabled", rrl.enabled);
    integer(r, t.get("rate"), "rrl.rate", 1, 1000000, range(1, 1000000), rrl.rate);
    integer(r, t.get("slip"), "rrl.slip", 0, 10, range(0, 10), rrl.slip);
    integer(r, t.get("window"), "rrl.window", 1, 3600, range(1, 3600), rrl.window);
    integer(r, t.get("ipv4_prefix"), "rrl.ipv4_prefix", 8, 32, range(8, 32), rrl.ipv4_prefix);
    integer(r, t.get("ipv6_prefix"), "rrl.ipv6_prefix", 16, 128, range(16, 128), rrl.ipv6_prefix);
    integer(r, t.get("table_size"), "rrl.table_size", 64, 16777216, range(64, 16777216), rrl.table_size);
    if (auto n = t.get("allow"))
        if (auto v = r.prefixes(n, kNoCtx, q("rrl.allow"), "an array of prefixes such as \"192.0.2.0/24\"")) rrl.allow = *v;
}

// [limits]: caps on the zones directory (zones::Limits).
void read_limits(TomlReader& r, TomlNode node, zones::Limits& lim) {
    auto t = section(r, node, "limits",
                     "a table: [limits] max_zones, max_records_per_zone, max_endpoints, max_file_bytes", kLimitsKeys);
    if (!t) return;
    for (auto [key, field] : {std::pair{"max_zones", &lim.max_zones},
                              std::pair{"max_records_per_zone", &lim.max_records_per_zone},
                              std::pair{"max_endpoints", &lim.max_endpoints},
                              std::pair{"max_file_bytes", &lim.max_file_bytes}})
        integer(r, t.get(key), std::string("limits.") + key, 0, std::numeric_limits<int64_t>::max(),
                "an integer >= 0 (0: no limit)", *field);
}

std::optional<ServerConfig> parse_server_config(std::string_view text, const std::string& path,
                                                core::Diagnostics& diags) {
    zones::TomlDocument doc(text, path, diags);
    if (!doc.ok()) return std::nullopt;
    TomlReader r(diags);
    const std::size_t errors_before = diags.error_count();
    TomlNode root = doc.root();
    ServerConfig cfg;
    r.check_keys(root, kNoCtx, kTopKeys);
    read_top(r, root, cfg);
    read_resolver(r, root, cfg.resolver);
    if (auto n = root.get("api")) read_api(r, n, cfg);
    if (auto n = root.get("probes")) read_probes(r, n, cfg.probes);
    if (auto n = root.get("cluster")) read_cluster(r, n, cfg.cluster);
    if (auto n = root.get("tsig_keys")) read_tsig_keys(r, n, cfg.xfr);
    if (auto n = root.get("secondaries")) read_secondaries(r, n, cfg.xfr);
    if (auto n = root.get("xfr")) read_xfr(r, n, cfg.xfr);
    if (auto n = root.get("rrl")) read_rrl(r, n, cfg.dns.rrl);
    if (auto n = root.get("limits")) read_limits(r, n, cfg.limits);
    check_xfr_keys(r, root, path, cfg.xfr);
    cfg.api.peer_token = cfg.cluster.token;  // peers read /v1/cluster/verdicts with it
    if (diags.error_count() > errors_before) return std::nullopt;
    return cfg;
}

std::optional<std::string> read_text(const std::string& path, core::Diagnostics& diags) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.error({path, 0, 0}, "cannot read the server config: " + std::string(std::strerror(errno)));
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

dns::ServerOptions default_dns_options() {
    dns::ServerOptions o;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::string version = "signpost " + std::string(kSignpostVersion);
    o.identity = dns::ServerIdentity(host, version);
    return o;
}

std::optional<ServerConfig> load_server_config(const std::string& path, core::Diagnostics& diags) {
    auto text = read_text(path, diags);
    if (!text) return std::nullopt;
    return parse_server_config(*text, path, diags);
}

std::vector<std::string> server_config_keys() {
    std::vector<std::string> keys = kTopKeys;
    for (auto& [section, list] : {std::pair{"api", &kApiKeys}, std::pair{"probes", &kProbesKeys},
                                  std::pair{"cluster", &kClusterKeys}, std::pair{"cluster.peers", &kPeerKeys},
                                  std::pair{"xfr", &kXfrKeys}, std::pair{"tsig_keys", &kTsigKeys},
                                  std::pair{"secondaries", &kSecondaryKeys}, std::pair{"rrl", &kRrlKeys},
                                  std::pair{"limits", &kLimitsKeys}})
        for (auto& k : *list) keys.push_back(std::string(section) + "." + k);
    return keys;
}

}  // namespace signpost::tools
