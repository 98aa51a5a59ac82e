#include "tools/server_config.hpp"

#include <toml++/toml.h>

#include "core/log.hpp"

#include <cctype>
#include <fstream>
#include <set>
#include <type_traits>

namespace signpost::tools {

namespace {
core::SourceLocation where(const std::string& file, const toml::node& n) {
    return {file, n.source().begin.line, n.source().begin.column};
}

// "source = [ADDR, ...]": at most one IPv4 and one IPv6 address to send from.
void load_sources(const std::string& path, const std::string& key, const toml::node& node, std::string& v4,
                  std::string& v6, core::Diagnostics& diags) {
    auto* arr = node.as_array();
    if (!arr) {
        diags.error(where(path, node), "'" + key + "' must be an array of addresses, at most one IPv4 and one IPv6");
        return;
    }
    for (auto& item : *arr) {
        auto v = item.value<std::string>();
        auto addr = v ? core::IpAddress::parse(*v) : std::nullopt;
        if (!addr) {
            diags.error(where(path, item), "'" + key + "': not an address: expected \"192.0.2.1\" or \"2001:db8::1\"");
            continue;
        }
        std::string& slot = addr->v6 ? v6 : v4;
        if (!slot.empty())
            diags.error(where(path, item), "'" + key + "': a second " + (addr->v6 ? "IPv6" : "IPv4") +
                                               " address; give at most one per family");
        else slot = addr->to_string();
    }
}

// ---- [probes] and [cluster] (see docs/cluster.md) ----

std::optional<core::Millis> duration_value(const toml::node& n) {
    if (auto s = n.value<std::string>()) return core::parse_duration(*s);
    if (auto i = n.value<int64_t>(); i && *i >= 0) return core::Millis(*i * 1000);
    return std::nullopt;
}

void load_probes(const std::string& path, const toml::node& node, probes::MonitorOptions& out,
                 core::Diagnostics& diags) {
    auto* t = node.as_table();
    if (!t) {
        diags.error(where(path, node), "'probes' must be a table: [probes] source = [\"192.0.2.1\", \"2001:db8::1\"]");
        return;
    }
    for (auto& [pk, pn] : *t) {
        std::string a(pk.str());
        if (a != "source") {
            diags.error(where(path, pn), "unknown key 'probes." + a + "'; allowed: source");
            continue;
        }
        load_sources(path, "probes.source", pn, out.source_v4, out.source_v6, diags);
    }
}

void load_cluster(const std::string& path, const toml::node& node, cluster::ClusterOptions& out,
                  core::Diagnostics& diags) {
    auto* t = node.as_table();
    if (!t) {
        diags.error(where(path, node), "'cluster' must be a table: [cluster] id, token, quorum, probers, ... and [[cluster.peers]]");
        return;
    }
    static const char* allowed = "id, token, token_file, quorum, probers, poll_interval, peer_timeout, peers";
    for (auto& [ck, cn] : *t) {
        std::string a(ck.str());
        auto bad = [&](const std::string& want) { diags.error(where(path, cn), "'cluster." + a + "' must be " + want); };
        if (a == "id") {
            auto v = cn.value<std::string>();
            if (!v || v->empty() || v->size() > 63) bad("a non-empty name of at most 63 characters, unique in the cluster");
            else out.id = *v;
        } else if (a == "token") {
            auto v = cn.value<std::string>();
            if (!v || v->size() < 16) bad("a string of at least 16 characters, the same on every instance");
            else out.token = *v;
        } else if (a == "token_file") {
            auto v = cn.value<std::string>();
            std::ifstream in(v ? *v : std::string());
            std::string tok;
            if (!v || !in || !std::getline(in, tok) || tok.size() < 16)
                diags.error(where(path, cn), "'cluster.token_file': cannot read a token of at least 16 characters from " +
                                                 (v ? *v : std::string("(not a string)")));
            else out.token = tok;
        } else if (a == "quorum" || a == "probers") {
            auto v = cn.value<int64_t>();
            if (!v || *v < 0 || *v > 64) bad("an integer 0..64 (0: " + std::string(a == "quorum" ? "a majority" : "every instance") + ")");
            else (a == "quorum" ? out.quorum : out.probers) = unsigned(*v);
        } else if (a == "poll_interval" || a == "peer_timeout") {
            auto d = duration_value(cn);
            if (!d || d->count() < 50 || d->count() > 600000) bad("a duration from 50ms to 10m, e.g. \"500ms\"");
            else (a == "poll_interval" ? out.poll_interval : out.peer_timeout) = *d;
        } else if (a == "peers") {
            auto* arr = cn.as_array();
            if (!arr) {
                bad("an array of tables: [[cluster.peers]] id = \"ns2\", url = \"http://192.0.2.2:8054\"");
                continue;
            }
            for (auto& item : *arr) {
                auto* pt = item.as_table();
                if (!pt) {
                    diags.error(where(path, item), "'cluster.peers': each peer is a table with id and url");
                    continue;
                }
                cluster::PeerConfig peer;
                for (auto& [pk, pn] : *pt) {
                    std::string b(pk.str());
                    auto v = pn.value<std::string>();
                    if (b == "id" && v && !v->empty()) peer.id = *v;
                    else if (b == "url" && v && (v->starts_with("http://") || v->starts_with("https://"))) peer.url = *v;
                    else if (b == "id" || b == "url")
                        diags.error(where(path, pn), "'cluster.peers." + b + "' must be " +
                                                         (b == "id" ? "the peer's cluster.id" : "its API URL, e.g. \"http://192.0.2.2:8054\""));
                    else diags.error(where(path, pn), "unknown key 'cluster.peers." + b + "'; allowed: id, url");
                }
                if (peer.id.empty() || peer.url.empty()) {
                    diags.error(where(path, item), "'cluster.peers': a peer needs both id and url");
                    continue;
                }
                for (auto& other : out.peers)
                    if (other.id == peer.id) diags.error(where(path, item), "'cluster.peers': peer '" + peer.id + "' is listed twice");
                out.peers.push_back(peer);
            }
        } else {
            diags.error(where(path, cn), "unknown key 'cluster." + a + "'; allowed: " + allowed);
        }
    }
    const auto at = where(path, node);
    if (out.id.empty()) diags.error(at, "[cluster] needs 'id', this instance's name");
    if (out.token.empty()) diags.error(at, "[cluster] needs 'token' (or token_file): peers must authenticate");
    if (out.peers.empty()) diags.error(at, "[cluster] needs at least one [[cluster.peers]]");
    for (auto& p : out.peers)
        if (p.id == out.id) diags.error(at, "[cluster] lists itself ('" + p.id + "') among its peers");
    const std::size_t instances = out.peers.size() + 1;
    if (out.quorum > instances)
        diags.error(at, "[cluster] quorum " + std::to_string(out.quorum) + " is more than the " +
                            std::to_string(instances) + " instances: nothing could ever go down");
    if (out.probers && out.quorum > out.probers)
        diags.error(at, "[cluster] quorum " + std::to_string(out.quorum) + " needs at least as many probers (" +
                            std::to_string(out.probers) + "): each endpoint would have too few votes");
    if (out.peer_timeout < out.poll_interval * 2)
        diags.error(at, "[cluster] peer_timeout must be at least twice poll_interval, or one slow poll marks a peer dead");
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

void parse_xfr_key(const std::string& path, const std::string& k, const toml::node& node, ServerConfig& cfg,
                   core::Diagnostics& diags) {
    if (k == "xfr") {
        auto* t = node.as_table();
        if (!t) {
            diags.error(where(path, node), "'xfr' must be a table: [xfr] history, notify_tries, message_size, notify_source");
            return;
        }
        for (auto& [xk, xn] : *t) {
            std::string a(xk.str());
            auto v = xn.value<int64_t>();
            auto bad = [&](const char* want) { diags.error(where(path, xn), "'xfr." + a + "' must be " + want); };
            if (a == "history") {
                if (!v || *v < 1 || *v > 1000) bad("an integer 1..1000 (versions kept per zone for IXFR)");
                else cfg.xfr.history = std::size_t(*v);
            } else if (a == "notify_tries") {
                if (!v || *v < 1 || *v > 20) bad("an integer 1..20");
                else cfg.xfr.notify_tries = unsigned(*v);
            } else if (a == "notify_source") {
                load_sources(path, "xfr.notify_source", xn, cfg.xfr.notify_source_v4, cfg.xfr.notify_source_v6, diags);
            } else if (a == "message_size") {
                if (!v || *v < 512 || *v > 65535) bad("an integer 512..65535 (bytes per transfer message)");
                else cfg.xfr.message_size = std::size_t(*v);
            } else {
                diags.error(where(path, xn), "unknown key 'xfr." + a + "'; allowed: history, notify_tries, message_size, notify_source");
            }
        }
        return;
    }
    auto* arr = node.as_array();
    if (!arr) {
        diags.error(where(path, node), "'" + k + "' must be an array of tables ([[" + k + "]])");
        return;
    }
    for (auto& item : *arr) {
        auto* t = item.as_table();
        if (!t) {
            diags.error(where(path, item), "'" + k + "' must be an array of tables ([[" + k + "]])");
            continue;
        }
        auto str = [&](const char* key) -> std::optional<std::string> {
            auto* n = t->get(key);
            if (!n) return std::nullopt;
            auto v = n->value<std::string>();
            if (!v) diags.error(where(path, *n), "'" + k + "." + key + "' must be a string");
            return v;
        };
        if (k == "tsig_keys") {
            xfr::TsigKey key;
            for (auto& [kk, kn] : *t) {
                std::string a(kk.str());
                if (a != "name" && a != "algorithm" && a != "secret")
                    diags.error(where(path, kn), "unknown key 'tsig_keys." + a + "'; allowed: name, algorithm, secret");
            }
            auto name = str("name");
            auto alg = str("algorithm");
            auto secret = str("secret");
            if (!name || name->empty()) {
                diags.error(where(path, item), "'tsig_keys': every key needs a 'name', e.g. name = \"transfer-key\"");
                continue;
            }
            key.name = xfr::canonical_key_name(*name);
            auto canon = xfr::canonical_algorithm(alg ? *alg : "hmac-sha256");
            if (!canon) {
                diags.error(where(path, t->get("algorithm") ? *t->get("algorithm") : item),
                            "'tsig_keys." + *name + "': algorithm must be one of hmac-sha256, hmac-sha384, "
                            "hmac-sha512, hmac-sha224, hmac-sha1, hmac-md5; got '" + (alg ? *alg : "") + "'");
                continue;
            }
            key.algorithm = *canon;
            if (!secret || !is_base64(*secret)) {
                diags.error(where(path, t->get("secret") ? *t->get("secret") : item),
                            "'tsig_keys." + *name + "': secret must be base64 (e.g. from `tsig-keygen` or "
                            "`openssl rand -base64 32`)");
                continue;
            }
            key.secret = *secret;
            if (cfg.xfr.find_key(key.name))
                diags.error(where(path, item), "'tsig_keys': key '" + *name + "' is defined twice");
            cfg.xfr.keys.push_back(key);
            continue;
        }
        // [[secondaries]]
        xfr::Secondary sec;
        for (auto& [sk, sn] : *t) {
            std::string a(sk.str());
            if (a == "zones") {
                if (auto v = sn.value<std::string>()) {
                    sec.zones.push_back(*v);
                } else if (auto* za = sn.as_array()) {
                    for (auto& z : *za) {
                        auto zv = z.value<std::string>();
                        if (!zv) diags.error(where(path, z), "'secondaries.zones' must list zone names or \"*\"");
                        else sec.zones.push_back(*zv);
                    }
                } else {
                    diags.error(where(path, sn), "'secondaries.zones' must be an array of zone names, or \"*\"");
                }
            } else if (a == "address") {
                auto v = sn.value<std::string>();
                std::string err;
                std::optional<dns::ListenAddress> la;
                if (v) la = dns::ListenAddress::parse(*v, &err);
                if (!la) {
                    diags.error(where(path, sn), "'secondaries.address' (the NOTIFY target) must be \"ADDR:PORT\" or "
                                                 "\"ADDR\", e.g. \"192.0.2.53:53\"" + (err.empty() ? "" : ": " + err));
                } else {
                    sec.notify_address = core::IpAddress::parse(la->host);
                    sec.notify_port = la->port;
                }
            } else if (a == "allow_transfer_from") {
                auto* pa = sn.as_array();
                if (!pa) {
                    diags.error(where(path, sn), "'secondaries.allow_transfer_from' must be an array of prefixes");
                    continue;
                }
                for (auto& p : *pa) {
                    auto v = p.value<std::string>();
                    auto pfx = v ? core::IpPrefix::parse(*v) : std::nullopt;
                    if (!pfx)
                        diags.error(where(path, p), "'secondaries.allow_transfer_from': not a prefix: expected "
                                                    "\"192.0.2.0/24\", \"2001:db8::/32\" or an address");
                    else sec.allow_transfer_from.push_back(*pfx);
                }
            } else if (a == "key") {
                if (auto v = sn.value<std::string>()) sec.key = xfr::canonical_key_name(*v);
                else diags.error(where(path, sn), "'secondaries.key' must be the name of a [[tsig_keys]] entry");
            } else {
                diags.error(where(path, sn), "unknown key 'secondaries." + a +
                                                 "'; allowed: zones, address, allow_transfer_from, key");
            }
        }
        if (sec.zones.empty())
            diags.error(where(path, item), "'secondaries': 'zones' is required (zone names, or [\"*\"] for all)");
        cfg.xfr.secondaries.push_back(std::move(sec));
    }
}

// Every secondary's key must be a [[tsig_keys]] entry (any order in the file).
void check_xfr_keys(const std::string& path, const toml::table& root, ServerConfig& cfg, core::Diagnostics& diags) {
    auto* arr = root["secondaries"].as_array();
    for (std::size_t i = 0; i < cfg.xfr.secondaries.size(); ++i) {
        auto& s = cfg.xfr.secondaries[i];
        if (s.key.empty() || cfg.xfr.find_key(s.key)) continue;
        const toml::node* at = arr && i < arr->size() ? arr->get(i) : nullptr;
        if (auto* t = at ? at->as_table() : nullptr; t && t->get("key")) at = t->get("key");
        core::SourceLocation loc = at ? where(path, *at) : core::SourceLocation{path, 1, 1};
        diags.error(loc, "'secondaries.key': no [[tsig_keys]] entry named '" + s.key + "'");
    }
}

// ---- hardening: [rrl] and [limits] (see docs/hardening.md) ----

// [rrl]: response rate limiting (dns::RrlOptions).
void load_rrl(const std::string& path, const toml::node& node, dns::RrlOptions& rrl, core::Diagnostics& diags) {
    auto* t = node.as_table();
    if (!t) {
        diags.error(where(path, node), "'rrl' must be a table: [rrl] enabled, rate, slip, window, ipv4_prefix, "
                                       "ipv6_prefix, allow, table_size");
        return;
    }
    for (auto& [rk, rn] : *t) {
        std::string r(rk.str());
        auto bad = [&](const std::string& want) { diags.error(where(path, rn), "'rrl." + r + "' must be " + want); };
        auto integer = [&](int64_t lo, int64_t hi, auto& out) {
            auto v = rn.value<int64_t>();
            if (!v || *v < lo || *v > hi) bad("an integer " + std::to_string(lo) + ".." + std::to_string(hi));
            else out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
        };
        if (r == "enabled") {
            if (auto v = rn.value<bool>()) rrl.enabled = *v;
            else bad("true or false");
        } else if (r == "rate") {
            integer(1, 1000000, rrl.rate);
        } else if (r == "slip") {
            integer(0, 10, rrl.slip);
        } else if (r == "window") {
            integer(1, 3600, rrl.window);
        } else if (r == "ipv4_prefix") {
            integer(8, 32, rrl.ipv4_prefix);
        } else if (r == "ipv6_prefix") {
            integer(16, 128, rrl.ipv6_prefix);
        } else if (r == "table_size") {
            integer(64, 16777216, rrl.table_size);
        } else if (r == "allow") {
            auto* arr = rn.as_array();
            if (!arr) {
                bad("an array of prefixes such as \"192.0.2.0/24\"");
                continue;
            }
            rrl.allow.clear();
            for (auto& item : *arr) {
                auto v = item.value<std::string>();
                auto pfx = v ? core::IpPrefix::parse(*v) : std::nullopt;
                if (!pfx)
                    diags.error(where(path, item), "'rrl.allow': not a prefix: expected \"192.0.2.0/24\" or \"2001:db8::/32\"");
                else rrl.allow.push_back(*pfx);
            }
        } else {
            diags.error(where(path, rn), "unknown key 'rrl." + r +
                                             "'; allowed: enabled, rate, slip, window, ipv4_prefix, ipv6_prefix, "
                                             "allow, table_size");
        }
    }
}

// [limits]: caps on the zones directory (zones::Limits).
void load_limits(const std::string& path, const toml::node& node, zones::Limits& lim, core::Diagnostics& diags) {
    auto* t = node.as_table();
    if (!t) {
        diags.error(where(path, node), "'limits' must be a table: [limits] max_zones, max_records_per_zone, "
                                       "max_endpoints, max_file_bytes");
        return;
    }
    for (auto& [lk, ln] : *t) {
        std::string l(lk.str());
        std::size_t* out = l == "max_zones"              ? &lim.max_zones
                           : l == "max_records_per_zone" ? &lim.max_records_per_zone
                           : l == "max_endpoints"        ? &lim.max_endpoints
                           : l == "max_file_bytes"       ? &lim.max_file_bytes
                                                         : nullptr;
        if (!out) {
            diags.error(where(path, ln), "unknown key 'limits." + l +
                                             "'; allowed: max_zones, max_records_per_zone, max_endpoints, "
                                             "max_file_bytes");
            continue;
        }
        auto v = ln.value<int64_t>();
        if (!v || *v < 0) diags.error(where(path, ln), "'limits." + l + "' must be an integer >= 0 (0: no limit)");
        else *out = std::size_t(*v);
    }
}

}  // namespace

std::optional<ServerConfig> load_server_config(const std::string& path, core::Diagnostics& diags) {
    toml::table root;
    try {
        root = toml::parse_file(std::string_view(path));
    } catch (const toml::parse_error& e) {
        diags.error({path, e.source().begin.line, e.source().begin.column}, std::string(e.description()));
        return std::nullopt;
    }
    ServerConfig cfg;
    static const std::set<std::string> allowed = {"zones",   "listen",         "workers",
                                                  "udp_payload_size", "tcp_max_connections",
                                                  "tcp_idle_timeout", "log_level", "state_file",
                                                  "watch_zones", "api", "tsig_keys", "secondaries", "xfr",
                                                  "tcp_max_connections_per_client", "tcp_query_timeout",
                                                  "user", "group", "rrl", "limits", "query_log",
                                                  "explain_allow", "probes", "cluster"};
    for (auto& [key, node] : root) {
        std::string k(key.str());
        if (!allowed.count(k)) {
            diags.error(where(path, node), "unknown key '" + k +
                                               "'; allowed: zones, listen, workers, udp_payload_size, "
                                               "tcp_max_connections, tcp_idle_timeout, log_level, "
                                               "state_file, watch_zones, api, tsig_keys, secondaries, xfr, "
                                               "tcp_max_connections_per_client, tcp_query_timeout, user, group, "
                                               "rrl, limits, query_log, explain_allow, probes, cluster");
            continue;
        }
        auto bad_type = [&](const char* want) {
            diags.error(where(path, node), "'" + k + "' must be " + want);
        };
        if (k == "zones") {
            if (auto s = node.value<std::string>()) cfg.zones_dir = *s;
            else bad_type("a string (a directory of zone files)");
        } else if (k == "listen") {
            auto* arr = node.as_array();
            if (!arr) {
                bad_type("an array of \"ADDR:PORT\" strings");
                continue;
            }
            for (auto& item : *arr) {
                auto s = item.value<std::string>();
                std::string err;
                std::optional<dns::ListenAddress> la;
                if (s) la = dns::ListenAddress::parse(*s, &err);
                if (!la) diags.error(where(path, item), "listen: " + (s ? err : std::string("expected a string")));
                else cfg.dns.listen.push_back(*la);
            }
        } else if (k == "workers") {
            auto v = node.value<int64_t>();
            if (!v || *v < 0 || *v > 256) bad_type("an integer 0..256 (0: one per core)");
            else cfg.dns.workers = unsigned(*v);
        } else if (k == "udp_payload_size") {
            auto v = node.value<int64_t>();
            if (!v || *v < 512 || *v > 65535) bad_type("an integer 512..65535");
            else cfg.dns.udp_payload_size = uint16_t(*v);
        } else if (k == "tcp_max_connections") {
            auto v = node.value<int64_t>();
            if (!v || *v < 1 || *v > 1000000) bad_type("an integer 1..1000000");
            else cfg.dns.tcp_max_connections = unsigned(*v);
        } else if (k == "tcp_idle_timeout" || k == "tcp_query_timeout") {
            std::optional<core::Millis> d;
            if (auto s = node.value<std::string>()) d = core::parse_duration(*s);
            else if (auto i = node.value<int64_t>(); i && *i >= 0) d = core::Millis(*i * 1000);
            if (!d || d->count() == 0) bad_type(k == "tcp_idle_timeout" ? "a duration such as \"10s\"" : "a duration such as \"5s\"");
            else (k == "tcp_idle_timeout" ? cfg.dns.tcp_idle_timeout : cfg.dns.tcp_query_timeout) = *d;
        } else if (k == "tcp_max_connections_per_client") {
            auto v = node.value<int64_t>();
            if (!v || *v < 0 || *v > 1000000) bad_type("an integer 0..1000000 (0: no limit)");
            else cfg.dns.tcp_max_connections_per_client = unsigned(*v);
        } else if (k == "user" || k == "group") {
            auto v = node.value<std::string>();
            if (!v || v->empty()) bad_type("a user (group) name or number, e.g. \"signpost\"");
            else (k == "user" ? cfg.privileges.user : cfg.privileges.group) = *v;
        } else if (k == "rrl") {
            load_rrl(path, node, cfg.dns.rrl, diags);
        } else if (k == "limits") {
            load_limits(path, node, cfg.limits, diags);
        } else if (k == "query_log") {
            if (auto v = node.value<bool>()) cfg.dns.query_log = *v;
            else bad_type("true or false");
        } else if (k == "explain_allow") {
            auto* arr = node.as_array();
            if (!arr) {
                bad_type("an array of prefixes such as [\"127.0.0.0/8\", \"::1/128\"] ([] turns explain over DNS off)");
                continue;
            }
            cfg.explain_allow.clear();
            for (auto& item : *arr) {
                auto v = item.value<std::string>();
                auto pfx = v ? core::IpPrefix::parse(*v) : std::nullopt;
                if (!pfx)
                    diags.error(where(path, item), "'explain_allow': not a prefix: expected \"192.0.2.0/24\" or "
                                                   "\"2001:db8::/32\"");
                else cfg.explain_allow.push_back(*pfx);
            }
        } else if (k == "state_file") {
            if (auto v = node.value<std::string>()) cfg.state_file = *v;
            else bad_type("a string (a file path)");
        } else if (k == "watch_zones") {
            if (auto v = node.value<bool>()) cfg.watch_zones = *v;
            else bad_type("true or false");
        } else if (k == "api") {
            auto* t = node.as_table();
            if (!t) {
                bad_type("a table: [api] listen, token, token_file, read_allow, enabled");
                continue;
            }
            for (auto& [ak, an] : *t) {
                std::string a(ak.str());
                auto bad = [&](const char* want) { diags.error(where(path, an), "'api." + a + "' must be " + want); };
                if (a == "enabled") {
                    if (auto v = an.value<bool>()) cfg.api_enabled = *v;
                    else bad("true or false");
                } else if (a == "listen") {
                    auto v = an.value<std::string>();
                    std::string err;
                    std::optional<dns::ListenAddress> la;
                    if (v) la = dns::ListenAddress::parse(*v, &err);
                    if (!la) bad("\"ADDR:PORT\", e.g. \"127.0.0.1:8054\"");
                    else {
                        cfg.api.host = la->host;
                        cfg.api.port = la->port;
                    }
                } else if (a == "token") {
                    if (auto v = an.value<std::string>()) cfg.api.token = *v;
                    else bad("a string");
                } else if (a == "token_file") {
                    auto v = an.value<std::string>();
                    if (!v) {
                        bad("a string (a file path)");
                        continue;
                    }
                    std::ifstream in(*v);
                    std::string tok;
                    if (!in || !std::getline(in, tok) || tok.empty())
                        diags.error(where(path, an), "'api.token_file': cannot read a token from " + *v);
                    else cfg.api.token = tok;
                } else if (a == "read_allow") {
                    auto* arr = an.as_array();
                    if (!arr) {
                        bad("an array of prefixes such as \"192.0.2.0/24\"");
                        continue;
                    }
                    for (auto& item : *arr) {
                        auto v = item.value<std::string>();
                        auto pfx = v ? core::IpPrefix::parse(*v) : std::nullopt;
                        if (!pfx) diags.error(where(path, item), "'api.read_allow': not a prefix: expected \"192.0.2.0/24\" or \"2001:db8::/32\"");
                        else cfg.api.read_allow.push_back(*pfx);
                    }
                } else {
                    diags.error(where(path, an), "unknown key 'api." + a + "'; allowed: enabled, listen, token, token_file, read_allow");
                }
            }
        } else if (k == "probes") {
            load_probes(path, node, cfg.probes, diags);
        } else if (k == "cluster") {
            load_cluster(path, node, cfg.cluster, diags);
        } else if (k == "tsig_keys" || k == "secondaries" || k == "xfr") {
            parse_xfr_key(path, k, node, cfg, diags);
        } else if (k == "log_level") {
            core::LogLevel l;
            auto s = node.value<std::string>();
            if (!s || !core::parse_log_level(*s, l)) bad_type("one of debug, info, warning, error");
            else cfg.log_level = *s;
        }
    }
    check_xfr_keys(path, root, cfg, diags);
    cfg.api.peer_token = cfg.cluster.token;  // peers read /v1/cluster/verdicts with it
    if (diags.has_errors()) return std::nullopt;
    return cfg;
}

}  // namespace signpost::tools
