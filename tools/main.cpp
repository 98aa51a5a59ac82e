// signpost: the daemon and its command-line tools.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <ctime>
#include <iostream>

#include <unistd.h>

#include "core/log.hpp"
#include "core/version.hpp"
#include "tools/client_commands.hpp"
#include "tools/daemon.hpp"
#include "tools/dnssec_command.hpp"
#include "tools/privileges.hpp"
#include "tools/serve_config.hpp"
#include "tools/server_config.hpp"
#include "zones/import.hpp"
#include "zones/loader.hpp"

using namespace signpost;

namespace {

int cmd_check(const std::string& path) {
    auto result = zones::load_path(path);
    for (auto& d : result.diagnostics.items()) std::cerr << d.to_string() << '\n';
    if (!result.catalog) {
        std::cerr << path << ": " << result.diagnostics.error_count() << " error(s)\n";
        return 1;
    }
    std::size_t records = 0;
    for (auto& z : result.catalog->zones)
        for (auto& [name, node] : z.nodes)
            for (auto& set : node.rrsets) records += set.rdatas.size();
    std::cout << path << ": ok: " << result.catalog->zones.size() << " zone(s), " << records << " record(s), "
              << result.catalog->services.size() << " service(s), " << result.catalog->endpoints.size()
              << " endpoint(s)";
    auto warnings = result.diagnostics.items().size();
    if (warnings) std::cout << ", " << warnings << " warning(s)";
    std::cout << '\n';
    return 0;
}

// `signpost check --config FILE [--zones DIR]`: the server config (every key,
// file:line:col), then the zones it names (or --zones). Exit 1 on any error.
int cmd_check_config(const std::string& config_file, const std::string& zones_override) {
    core::Diagnostics diags;
    auto cfg = tools::load_server_config(config_file, diags);
    for (auto& d : diags.items()) std::cerr << d.to_string() << '\n';
    if (!cfg) {
        std::cerr << config_file << ": " << diags.error_count() << " error(s)\n";
        return 1;
    }
    std::string listen;
    for (auto& l : cfg->dns.listen) listen += (listen.empty() ? "" : ", ") + l.to_string();
    std::cout << config_file << ": ok: listen " << (listen.empty() ? std::string("(none: give --listen)") : listen)
              << "; api " << (cfg->api_enabled ? cfg->api.host + ":" + std::to_string(cfg->api.port) : std::string("off"))
              << "; " << cfg->xfr.secondaries.size() << " secondar" << (cfg->xfr.secondaries.size() == 1 ? "y" : "ies")
              << "; resolvers "
              << (cfg->resolver.servers.empty() ? std::string("from /etc/resolv.conf")
                                                : std::to_string(cfg->resolver.servers.size()));
    if (!diags.items().empty()) std::cout << ", " << diags.items().size() << " warning(s)";
    std::cout << '\n';
    std::string zones = zones_override.empty() ? cfg->zones_dir : zones_override;
    if (zones.empty()) {
        std::cout << config_file << ": no zones named ('zones' key or --zones): zones not checked\n";
        return 0;
    }
    if (int rc = cmd_check(zones); rc != 0) return rc;
    // Signed zones: what `serve` would refuse (key directory, key files, what is not
    // built yet), without writing anything (serve makes missing keys).
    auto loaded = zones::load_path(zones, cfg->limits);
    if (!loaded.catalog) return 1;
    auto keys = tools::dnssec_load_keys(*loaded.catalog, *cfg, int64_t(std::time(nullptr)), false);
    for (auto& e : keys.errors) std::cerr << e << '\n';
    return keys.errors.empty() ? 0 : 1;
}

int cmd_import(const std::string& origin, const std::string& file) {
    core::Diagnostics diags;
    auto toml = zones::import_master_file(origin, file, diags);
    for (auto& d : diags.items()) std::cerr << d.to_string() << '\n';
    if (!toml) return 1;
    std::cout << *toml;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"signpost: a DNS traffic manager that answers with the healthy region"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "signpost " + std::string(core::kVersion));

    // serve
    auto* serve = app.add_subcommand("serve", "Answer DNS queries for the zones in a directory");
    tools::ServeFlags flags;
    serve->add_option("--zones", flags.zones_dir, "Directory of TOML zone files (or one file)");
    serve->add_option("--listen", flags.listen, "ADDR:PORT to serve UDP and TCP on; repeatable; [::1]:8053 for IPv6");
    serve->add_option("--config", flags.config_file, "Server config file (TOML); flags override its keys")
        ->check(CLI::ExistingFile);
    serve->add_option("--workers", flags.workers, "DNS worker threads (0: one per core)")->check(CLI::Range(0, 256));
    serve->add_option("--log-level", flags.log_level, "debug, info, warning or error");
    serve->add_option("--state", flags.state_file, "State file for warm restarts (health, overrides, drains, serials)");
    serve->add_option("--api", flags.api_listen, "ADDR:PORT of the status/control API (default 127.0.0.1:8054)");
    serve->add_flag("--no-api", flags.no_api, "Do not start the status/control API");
    serve->add_flag("--query-log", flags.query_log, "Log every answered query (at most 1000 lines/s per worker)");
    serve->add_option("--user", flags.user, "Run as this user after start-up (start as root; keeps only the right to bind port 53)");
    serve->add_option("--group", flags.group, "Run as this group (default: the user's primary group)");

    // check
    auto* check = app.add_subcommand("check", "Validate a zone file or a directory of them, or a server config");
    std::string check_path, check_config, check_zones;
    check->add_option("PATH", check_path, "Zone file or directory");
    check->add_option("--config", check_config, "Server config file to validate (and the zones it names)");
    check->add_option("--zones", check_zones, "With --config: the zones to check instead of its 'zones' key");

    // import
    auto* import = app.add_subcommand("import", "Convert an RFC 1035 master file to a TOML zone on stdout");
    std::string origin, zonefile;
    import->add_option("--origin", origin, "The zone's origin, e.g. example.com")->required();
    import->add_option("ZONEFILE", zonefile, "Master file (BIND/NSD/Knot format)")->required();

    tools::add_client_commands(app);
    tools::add_dnssec_commands(app, tools::api_reload);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (auto rc = tools::run_client_commands()) return *rc;
    if (auto rc = tools::run_dnssec_commands()) return *rc;
    if (*check) {
        if (!check_config.empty()) {
            if (!check_path.empty() && check_zones.empty()) check_zones = check_path;
            return cmd_check_config(check_config, check_zones);
        }
        if (check_path.empty()) {
            std::cerr << "signpost check: give a zone file or directory, or --config FILE\n";
            return 1;
        }
        return cmd_check(check_path);
    }
    if (*import) return cmd_import(origin, zonefile);

    // serve: the config file first, then flags on top (again at every reload).
    std::vector<std::string> errors, warnings;
    auto composed = tools::compose_server_config(flags, errors, warnings);
    // Under systemd these lines carry their priority too (journalctl -p err shows them).
    bool journal = core::stderr_is_journal();
    for (auto& w : warnings) std::cerr << (journal ? core::journal_prefix(core::LogLevel::Warning) : "") << w << '\n';
    for (auto& e : errors) std::cerr << (journal ? core::journal_prefix(core::LogLevel::Error) : "") << e << '\n';
    if (!composed) return 1;
    tools::ServerConfig cfg = std::move(*composed);
    core::LogLevel level;
    core::parse_log_level(cfg.log_level, level);
    core::set_log_level(level);
    // Under systemd (stderr is the journal's stream) lines carry priorities, not times.
    core::LogStyle style;
    if (!core::parse_log_format(cfg.log_format, style)) {
        std::cerr << "signpost serve: unknown log format '" << cfg.log_format << "'; use text or json\n";
        return 1;
    }
    style.journal = journal;
    core::set_log_style(style);
    // A closed stdout or a dead peer must not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    // Hardening: leave root before anything runs (probes, hooks, exec checks), keeping
    // only CAP_NET_BIND_SERVICE so the DNS listeners can still bind port 53 later.
    if (std::string err; !tools::drop_privileges(cfg.privileges, &err)) {
        std::cerr << "signpost serve: cannot drop privileges: " << err << "; not running\n";
        return 1;
    }
    if (!cfg.privileges.user.empty() && !cfg.state_file.empty()) {
        auto dir = std::filesystem::path(cfg.state_file).parent_path();
        if (dir.empty()) dir = ".";
        if (::access(dir.c_str(), W_OK | X_OK) != 0)
            std::cerr << "signpost serve: warning: " << dir.string() << " is not writable by user '" << cfg.privileges.user
                      << "': the state file " << cfg.state_file << " cannot be saved (use systemd's StateDirectory=)\n";
    }
    return tools::run_daemon(cfg, flags);
}
