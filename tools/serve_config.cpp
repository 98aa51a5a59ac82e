#include "tools/serve_config.hpp"

#include "core/log.hpp"

namespace signpost::tools {

std::optional<ServerConfig> compose_server_config(const ServeFlags& f, std::vector<std::string>& errors,
                                                  std::vector<std::string>& warnings) {
    ServerConfig cfg;
    if (!f.config_file.empty()) {
        core::Diagnostics diags;
        auto loaded = load_server_config(f.config_file, diags);
        for (auto& d : diags.items())
            (d.severity == core::Severity::Error ? errors : warnings).push_back(d.to_string());
        if (!loaded) {
            if (errors.empty()) errors.push_back(f.config_file + ": cannot be read");
            return std::nullopt;
        }
        cfg = std::move(*loaded);
    }
    if (!f.zones_dir.empty()) cfg.zones_dir = f.zones_dir;
    if (!f.listen.empty()) {
        cfg.dns.listen.clear();
        for (auto& l : f.listen) {
            std::string err;
            auto la = dns::ListenAddress::parse(l, &err);
            if (!la) {
                errors.push_back(std::string("signpost serve: ") + "--listen " + l + ": " + err);
                return std::nullopt;
            }
            cfg.dns.listen.push_back(*la);
        }
    }
    if (f.workers >= 0) cfg.dns.workers = unsigned(f.workers);
    if (!f.log_level.empty()) cfg.log_level = f.log_level;
    if (!f.state_file.empty()) cfg.state_file = f.state_file;
    if (f.no_api) cfg.api_enabled = false;
    if (f.query_log) cfg.dns.query_log = true;
    if (!f.user.empty()) cfg.privileges.user = f.user;
    if (!f.group.empty()) cfg.privileges.group = f.group;
    if (!f.api_listen.empty()) {
        std::string err;
        auto la = dns::ListenAddress::parse(f.api_listen, &err);
        if (!la) {
            errors.push_back(std::string("signpost serve: ") + "--api " + f.api_listen + ": " + err);
            return std::nullopt;
        }
        cfg.api_enabled = true;
        cfg.api.host = la->host;
        cfg.api.port = la->port;
    }
    if (cfg.zones_dir.empty()) {
        errors.push_back(std::string("signpost serve: ") + "no zones: give --zones DIR (or 'zones' in --config)");
        return std::nullopt;
    }
    if (cfg.dns.listen.empty()) {
        errors.push_back(std::string("signpost serve: ") + "nowhere to listen: give --listen ADDR:PORT (or 'listen' in --config)");
        return std::nullopt;
    }
    core::LogLevel level;
    if (!core::parse_log_level(cfg.log_level, level)) {
        errors.push_back(std::string("signpost serve: ") + "unknown log level '" + cfg.log_level + "'; use debug, info, warning or error");
        return std::nullopt;
    }
    return cfg;
}

}  // namespace signpost::tools
