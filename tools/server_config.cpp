#include "tools/server_config.hpp"

#include <toml++/toml.h>

#include "core/log.hpp"

#include <fstream>
#include <set>

namespace signpost::tools {

namespace {
core::SourceLocation where(const std::string& file, const toml::node& n) {
    return {file, n.source().begin.line, n.source().begin.column};
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
                                                  "watch_zones", "api"};
    for (auto& [key, node] : root) {
        std::string k(key.str());
        if (!allowed.count(k)) {
            diags.error(where(path, node), "unknown key '" + k +
                                               "'; allowed: zones, listen, workers, udp_payload_size, "
                                               "tcp_max_connections, tcp_idle_timeout, log_level, "
                                               "state_file, watch_zones, api");
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
        } else if (k == "tcp_idle_timeout") {
            std::optional<core::Millis> d;
            if (auto s = node.value<std::string>()) d = core::parse_duration(*s);
            else if (auto i = node.value<int64_t>(); i && *i >= 0) d = core::Millis(*i * 1000);
            if (!d || d->count() == 0) bad_type("a duration such as \"10s\"");
            else cfg.dns.tcp_idle_timeout = *d;
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
        } else if (k == "log_level") {
            core::LogLevel l;
            auto s = node.value<std::string>();
            if (!s || !core::parse_log_level(*s, l)) bad_type("one of debug, info, warning, error");
            else cfg.log_level = *s;
        }
    }
    if (diags.has_errors()) return std::nullopt;
    return cfg;
}

}  // namespace signpost::tools
