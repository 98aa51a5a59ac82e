// The server configuration file (`serve --config FILE`): where to listen, how
// many workers, limits. Command-line flags override its keys.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api_server.hpp"
#include "cluster/options.hpp"
#include "core/address.hpp"
#include "core/diagnostics.hpp"
#include "core/version.hpp"
#include "dns/server.hpp"
#include "probes/health_monitor.hpp"
#include "resolve/resolver.hpp"
#include "tools/privileges.hpp"
#include "zones/loader.hpp"
#include "xfr/options.hpp"

namespace signpost::tools {

// What `signpost --version` prints after "signpost "; version.bind answers with both.
inline constexpr std::string_view kSignpostVersion = core::kVersion;

// The DNS server options before any config key: `identity` is the host name
// (gethostname()) and `version` "signpost <kSignpostVersion>".
dns::ServerOptions default_dns_options();

struct ServerConfig {
    std::string zones_dir;
    // `identity` and `version` (CH TXT id.server/hostname.bind and version.bind/version.server,
    // and the NSID) are in dns.identity; "" turns that answer off (REFUSED; no NSID).
    dns::ServerOptions dns = default_dns_options();
    std::string log_level = "info";
    std::string log_format = "text";  // "text" or "json" (one object per line; core::LogStyle)
    std::string state_file;        // empty: no warm restart
    // Where signed zones keep their DNSSEC keys; empty: the state file's directory
    // (dnssec_key_dir() in tools/dnssec_command.hpp).
    std::string dnssec_key_dir;
    // A state file older than this is not trusted for endpoint health (re-probe first).
    core::Millis state_max_age{30000};
    bool api_enabled = true;       // the status/control API (loopback by default)
    api::ApiOptions api;
    bool watch_zones = true;       // reload when the zones directory changes
    xfr::XfrOptions xfr;           // [[tsig_keys]], [[secondaries]], [xfr]: zone transfers and NOTIFY
    PrivilegeConfig privileges;    // `user`, `group`: who to run as after start-up
    zones::Limits limits;          // [limits]: caps on what the zones directory may bring in
    probes::MonitorOptions probes; // [probes] source: the local addresses probes leave from
    cluster::ClusterOptions cluster;  // [cluster]: instances that share verdicts (docs/cluster.md)
    // `resolvers`, `resolve_min_ttl`, `resolve_max_ttl`, `resolve_timeout`: how endpoint
    // hostnames are resolved (servers empty: /etc/resolv.conf's, read at start).
    resolve::ResolverOptions resolver;
    // Who may ask CH TXT NAME.explain.signpost (explain over DNS); empty: nobody (off).
    // MaxMind DB files the geo policy locates clients with, asked in order (a City or
    // Country file, then an ASN file); loaded at start, again on SIGHUP and when one
    // changes (docs/policies.md, "geo").
    std::vector<std::string> geoip_databases;
    std::vector<core::IpPrefix> explain_allow = {*core::IpPrefix::parse("127.0.0.0/8"),
                                                 *core::IpPrefix::parse("::1/128")};
};

// Reads a TOML server config; errors carry file:line:col.
std::optional<ServerConfig> load_server_config(const std::string& path, core::Diagnostics& diags);

// Every key the loader accepts, from the lists it checks unknown keys against:
// "zones", "api", "api.listen", "cluster.peers.url", ... (checked against
// docs/man/signpost.toml.5 by a unit test, so the man page cannot drift).
std::vector<std::string> server_config_keys();

}  // namespace signpost::tools
