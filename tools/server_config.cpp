#include "tools/server_config.hpp"

#include <toml++/toml.h>

#include "core/log.hpp"

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
                                                  "tcp_idle_timeout", "log_level"};
    for (auto& [key, node] : root) {
        std::string k(key.str());
        if (!allowed.count(k)) {
            diags.error(where(path, node), "unknown key '" + k +
                                               "'; allowed: zones, listen, workers, udp_payload_size, "
                                               "tcp_max_connections, tcp_idle_timeout, log_level");
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
