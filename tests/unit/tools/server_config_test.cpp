// tools/server_config: the server config file read with zones' typed TOML reader.
// Its errors have the zone files' form (file:line:col: error: ...) and rules: unknown
// keys with what is allowed, exact types, ranges, and every error in one load.
#include "tools/server_config.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace signpost;

namespace {

// A config file with `text`, in its own temporary directory, removed at the end.
struct ConfigFile {
    std::filesystem::path dir;
    std::string path;
    explicit ConfigFile(const std::string& text) {
        dir = std::filesystem::temp_directory_path() / ("signpost-server-config-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        path = (dir / "server.toml").string();
        std::ofstream(path) << text;
    }
    ~ConfigFile() { std::filesystem::remove_all(dir); }
};

struct Loaded {
    std::optional<tools::ServerConfig> config;
    core::Diagnostics diags;
    std::string file;
    // True when one diagnostic reads exactly "<file>:<rest>".
    bool has(const std::string& rest) const {
        for (auto& d : diags.items())
            if (d.to_string() == file + ":" + rest) return true;
        return false;
    }
};

Loaded load(const std::string& text) {
    ConfigFile f(text);
    Loaded out;
    out.file = f.path;
    out.config = tools::load_server_config(f.path, out.diags);
    return out;
}

}  // namespace

TEST_CASE("server config: every key of a good file is read") {
    auto r = load("zones = \"/etc/signpost/zones\"\n"
                  "listen = [\"127.0.0.1:5300\", \"[::1]:5300\"]\n"
                  "workers = 2\n"
                  "tcp_idle_timeout = \"3s\"\n"
                  "tcp_query_timeout = 2\n"
                  "log_level = \"warning\"\n"
                  "explain_allow = []\n"
                  "[api]\nlisten = \"127.0.0.1:8054\"\nread_allow = [\"192.0.2.0/24\"]\n"
                  "[rrl]\nenabled = true\nrate = 20\n"
                  "[limits]\nmax_zones = 3\nmax_file_bytes = 0\n"
                  "[probes]\nsource = [\"192.0.2.1\", \"2001:db8::1\"]\n");
    INFO(r.diags.to_string());
    REQUIRE(r.config);
    CHECK(r.diags.empty());
    auto& c = *r.config;
    CHECK(c.zones_dir == "/etc/signpost/zones");
    CHECK(c.dns.listen.size() == 2);
    CHECK(c.dns.workers == 2);
    CHECK(c.dns.tcp_idle_timeout == core::Millis(3000));
    CHECK(c.dns.tcp_query_timeout == core::Millis(2000));
    CHECK(c.log_level == "warning");
    CHECK(c.explain_allow.empty());
    CHECK(c.api.host == "127.0.0.1");
    CHECK(c.api.port == 8054);
    CHECK(c.api.read_allow.size() == 1);
    CHECK(c.dns.rrl.enabled);
    CHECK(c.dns.rrl.rate == 20);
    CHECK(c.limits.max_zones == 3);
    CHECK(c.limits.max_file_bytes == 0);
    CHECK(c.probes.source_v4 == "192.0.2.1");
    CHECK(c.probes.source_v6 == "2001:db8::1");
}

TEST_CASE("server config: an unknown key points at the key, suggests the near one and lists what is allowed") {
    auto r = load("listen = [\"127.0.0.1:5300\"]\nlog_levle = \"info\"\n[api]\ntokn = \"x\"\n");
    CHECK_FALSE(r.config);
    INFO(r.diags.to_string());
    CHECK(r.has("2:1: error: unknown key 'log_levle'; did you mean 'log_level'?; allowed: zones, listen, workers, "
                "udp_payload_size, tcp_max_connections, tcp_idle_timeout, log_level, state_file, watch_zones, api, "
                "tsig_keys, secondaries, xfr, tcp_max_connections_per_client, tcp_query_timeout, user, group, rrl, "
                "limits, query_log, explain_allow, probes, cluster, state_max_age, resolvers, resolve_min_ttl, "
                "resolve_max_ttl, resolve_timeout, identity, version, log_format, geoip_databases, dnssec_key_dir"));
    CHECK(r.has("4:1: error: unknown key 'api.tokn'; did you mean 'api.token'?; allowed: enabled, listen, token, "
                "token_file, read_allow"));
}

TEST_CASE("server config: wrong types and values out of range say what is allowed and what was found") {
    auto r = load("workers = 300\n"
                  "query_log = \"yes\"\n"
                  "tcp_idle_timeout = \"0s\"\n"
                  "workers_unused = 1\n"
                  "[limits]\nmax_zones = -1\n"
                  "[rrl]\nslip = 11\n"
                  "[cluster]\nid = \"ns1\"\ntoken = \"0123456789abcdef\"\npoll_interval = \"10ms\"\n"
                  "[[cluster.peers]]\nid = \"ns2\"\nurl = \"ftp://192.0.2.2\"\n");
    CHECK_FALSE(r.config);
    INFO(r.diags.to_string());
    CHECK(r.has("1:11: error: 'workers' must be an integer 0..256 (0: one per core), got integer 300"));
    CHECK(r.has("2:13: error: 'query_log' must be true or false, got string \"yes\""));
    CHECK(r.has("3:20: error: 'tcp_idle_timeout' must be a duration such as \"10s\", got string \"0s\""));
    CHECK(r.has("6:13: error: 'limits.max_zones' must be an integer >= 0 (0: no limit), got integer -1"));
    CHECK(r.has("8:8: error: 'rrl.slip' must be an integer 0..10, got integer 11"));
    CHECK(r.has("12:17: error: 'cluster.poll_interval' must be a duration from 50ms to 10m, e.g. \"500ms\", got "
                "string \"10ms\""));
    CHECK(r.has("15:7: error: 'cluster.peers.url' must be its API URL, e.g. \"http://192.0.2.2:8054\", got string "
                "\"ftp://192.0.2.2\""));
    // Every error, not only the first: also the unknown key, the peer without a URL and so no peer.
    CHECK(r.diags.error_count() == 10);
}

TEST_CASE("server config: section shapes, addresses and prefixes keep their messages") {
    auto r = load("explain_allow = [\"127.0.0.1/33\"]\n"
                  "rrl = 5\n"
                  "[probes]\nsource = [\"127.0.0.2\", \"127.0.0.3\"]\n"
                  "[xfr]\nnotify_source = [\"nope\"]\n");
    CHECK_FALSE(r.config);
    INFO(r.diags.to_string());
    CHECK(r.has("1:18: error: 'explain_allow': not a prefix: expected \"192.0.2.0/24\" or \"2001:db8::/32\", got "
                "string \"127.0.0.1/33\""));
    CHECK(r.has("2:7: error: 'rrl' must be a table: [rrl] enabled, rate, slip, window, ipv4_prefix, ipv6_prefix, "
                "allow, table_size, got integer 5"));
    CHECK(r.has("4:24: error: 'probes.source': a second IPv4 address; give at most one per family"));
    CHECK(r.has("6:18: error: 'xfr.notify_source': not an address: expected \"192.0.2.1\" or \"2001:db8::1\", got "
                "string \"nope\""));
}

TEST_CASE("server config: secrets are never repeated in a message") {
    auto r = load("[api]\ntoken = 12345\n"
                  "[cluster]\nid = \"ns1\"\ntoken = \"short-secret\"\n"
                  "[[cluster.peers]]\nid = \"ns2\"\nurl = \"http://192.0.2.2:8054\"\n");
    CHECK_FALSE(r.config);
    INFO(r.diags.to_string());
    CHECK(r.has("2:9: error: 'api.token' must be a string"));
    CHECK(r.has("5:9: error: 'cluster.token' must be a string of at least 16 characters, the same on every instance"));
    CHECK(r.has("3:1: error: [cluster] needs 'token' (or token_file): peers must authenticate"));
    CHECK(r.diags.to_string().find("short-secret") == std::string::npos);
    CHECK(r.diags.to_string().find("12345") == std::string::npos);
}

TEST_CASE("server config: a secondary's key must name a [[tsig_keys]] entry") {
    auto r = load("[[tsig_keys]]\nname = \"transfer-key\"\nsecret = \"c2VjcmV0\"\n"
                  "[[secondaries]]\nzones = [\"*\"]\naddress = \"192.0.2.53\"\nkey = \"transfer-key2\"\n");
    CHECK_FALSE(r.config);
    INFO(r.diags.to_string());
    CHECK(r.has("7:7: error: 'secondaries.key': no [[tsig_keys]] entry named 'transfer-key2.'"));
}

TEST_CASE("server config: a TOML syntax error and a missing file are reported like a zone file's") {
    auto r = load("listen = [\"127.0.0.1:5300\"\nworkers = 1\n");
    CHECK_FALSE(r.config);
    REQUIRE(r.diags.items().size() == 1);
    auto& d = r.diags.items()[0];
    CHECK(d.where.file == r.file);
    CHECK(d.where.line >= 1);
    CHECK(d.message.rfind("TOML syntax error: ", 0) == 0);

    core::Diagnostics missing;
    CHECK_FALSE(tools::load_server_config("/nonexistent/signpost/server.toml", missing));
    CHECK(missing.to_string() ==
          "/nonexistent/signpost/server.toml: error: cannot read the server config: No such file or directory\n");
}

TEST_CASE("server config: state_max_age is how old a state file may be to answer from") {
    auto ok = load("state_max_age = \"2m\"\n");
    REQUIRE(ok.config);
    CHECK(ok.config->state_max_age == core::Millis(120000));
    auto dflt = load("log_level = \"info\"\n");
    REQUIRE(dflt.config);
    CHECK(dflt.config->state_max_age == core::Millis(30000));
    auto bad = load("state_max_age = \"soon\"\n");
    CHECK_FALSE(bad.config);
    CHECK(bad.has("1:17: error: 'state_max_age' must be a duration from 0s to 24h, e.g. \"30s\", got string \"soon\""));
}

TEST_CASE("server config: resolvers and the re-resolution bounds for endpoint hostnames") {
    auto ok = load("resolvers = [\"127.0.0.53\", \"[::1]:5353\", \"127.0.0.1:5300\"]\n"
                   "resolve_min_ttl = \"10s\"\n"
                   "resolve_max_ttl = \"2h\"\n"
                   "resolve_timeout = \"500ms\"\n");
    INFO(ok.diags.to_string());
    REQUIRE(ok.config);
    auto& res = ok.config->resolver;
    REQUIRE(res.servers.size() == 3);
    CHECK(res.servers[0].to_string() == "127.0.0.53:53");
    CHECK(res.servers[1].to_string() == "[::1]:5353");
    CHECK(res.servers[2].to_string() == "127.0.0.1:5300");
    CHECK(res.bounds.min_ttl == core::Millis(10000));
    CHECK(res.bounds.max_ttl == core::Millis(7200000));
    CHECK(res.bounds.timeout == core::Millis(500));

    auto dflt = load("log_level = \"info\"\n");
    REQUIRE(dflt.config);
    CHECK(dflt.config->resolver.servers.empty());  // /etc/resolv.conf's, at start
    CHECK(dflt.config->resolver.bounds == resolve::Bounds{});
    CHECK(dflt.config->resolver.bounds.min_ttl == core::Millis(5000));
    CHECK(dflt.config->resolver.bounds.max_ttl == core::Millis(3600000));
    CHECK(dflt.config->resolver.bounds.timeout == core::Millis(2000));
}

TEST_CASE("server config: a bad resolver or bound names the entry and what is allowed") {
    auto r = load("resolvers = [\"127.0.0.53\", \"10.0.0.300\", 53, \"127.0.0.53:53\", \"[::1]:0\"]\n"
                  "resolve_min_ttl = \"500ms\"\n"
                  "resolve_max_ttl = \"2d\"\n"
                  "resolve_timeout = \"1m\"\n");
    CHECK_FALSE(r.config);
    INFO(r.diags.to_string());
    CHECK(r.has("1:28: error: 'resolvers': \"10.0.0.300\" is not \"ADDR[:PORT]\" (e.g. \"192.0.2.53\", "
                "\"192.0.2.53:5353\", \"[2001:db8::53]:53\")"));
    CHECK(r.has("1:42: error: 'resolvers': integer 53 is not \"ADDR[:PORT]\" (e.g. \"192.0.2.53\", "
                "\"192.0.2.53:5353\", \"[2001:db8::53]:53\")"));
    CHECK(r.has("1:46: error: 'resolvers': 127.0.0.53:53 is listed twice"));
    CHECK(r.has("1:63: error: 'resolvers': \"[::1]:0\" is not \"ADDR[:PORT]\" (e.g. \"192.0.2.53\", "
                "\"192.0.2.53:5353\", \"[2001:db8::53]:53\")"));
    CHECK(r.has("2:19: error: 'resolve_min_ttl' must be a duration from 1s to 1h, e.g. \"5s\", got string \"500ms\""));
    CHECK(r.has("3:19: error: 'resolve_max_ttl' must be a duration from 1s to 24h, e.g. \"1h\", got string \"2d\""));
    CHECK(r.has("4:19: error: 'resolve_timeout' must be a duration from 100ms to 30s, e.g. \"2s\", got string \"1m\""));
    CHECK(r.diags.error_count() == 7);

    auto order = load("resolve_min_ttl = \"10m\"\nresolve_max_ttl = \"1m\"\n");
    CHECK_FALSE(order.config);
    INFO(order.diags.to_string());
    CHECK(order.has("2:19: error: 'resolve_max_ttl' (1m) must not be below 'resolve_min_ttl' (10m)"));
    auto low_default = load("resolve_max_ttl = \"2s\"\n");  // below the default min_ttl of 5s
    CHECK_FALSE(low_default.config);
    CHECK(low_default.has("1:19: error: 'resolve_max_ttl' (2s) must not be below 'resolve_min_ttl' (5s)"));

    auto shape = load("resolvers = \"127.0.0.53\"\n");
    CHECK_FALSE(shape.config);
    CHECK(shape.has("1:13: error: 'resolvers' must be an array of \"ADDR[:PORT]\" strings, e.g. [\"127.0.0.53\", "
                    "\"[::1]:5353\"], got string \"127.0.0.53\""));
}

TEST_CASE("server config: identity and version answer CH TXT and NSID, \"\" turns each off") {
    char host[256] = {};
    REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    SUBCASE("defaults: the host name and signpost's version") {
        auto r = load("log_level = \"info\"\n");
        REQUIRE(r.config);
        CHECK(r.config->dns.identity.identity() == std::string(host));
        CHECK(r.config->dns.identity.version() == "signpost " + std::string(tools::kSignpostVersion));
        tools::ServerConfig no_file;  // `serve` without --config
        CHECK(no_file.dns.identity.identity() == std::string(host));
        CHECK(no_file.dns.identity.version() == r.config->dns.identity.version());
    }
    SUBCASE("set, and version hidden") {
        auto r = load("identity = \"ns1.fra\"\nversion = \"\"\n");
        REQUIRE(r.config);
        CHECK(r.config->dns.identity.identity() == "ns1.fra");
        CHECK(r.config->dns.identity.version().empty());
        CHECK(r.config->dns.identity.version_record().empty());
        CHECK(r.config->dns.identity.identity_record().size() == 12 + 1 + 7);
    }
    SUBCASE("255 bytes is the most; a wrong type says what is allowed") {
        auto ok = load("identity = \"" + std::string(255, 'x') + "\"\n");
        REQUIRE(ok.config);
        CHECK(ok.config->dns.identity.identity().size() == 255);
        auto r = load("workers = 1\nidentity = \"" + std::string(256, 'x') + "\"\nversion = 2\n");
        CHECK_FALSE(r.config);
        INFO(r.diags.to_string());
        CHECK(r.has("2:12: error: 'identity': at most 255 bytes (one TXT string, and the NSID), got 256"));
        CHECK(r.has("3:11: error: 'version' must be a string of at most 255 bytes (\"\": not answered), got integer 2"));
        CHECK(r.diags.error_count() == 2);
    }
}
