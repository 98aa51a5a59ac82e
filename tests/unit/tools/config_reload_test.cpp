#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "tools/config_reload.hpp"
#include "tools/serve_config.hpp"

using namespace signpost;
using namespace signpost::tools;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string write_config(const std::string& text) {
    static int n = 0;
    std::string path = "/tmp/signpost-config-reload-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".toml";
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST_CASE("config reload: nothing changed, nothing to apply") {
    ServerConfig a;
    auto c = config_changes(a, a);
    CHECK(c.live.empty());
    CHECK(c.restart.empty());
}

TEST_CASE("config reload: live keys are applied, restart keys keep their running values") {
    ServerConfig running;
    running.dns.listen = {*dns::ListenAddress::parse("127.0.0.1:5300")};
    running.dns.workers = 2;
    running.api.token = "old";
    ServerConfig read = running;
    read.dns.listen = {*dns::ListenAddress::parse("127.0.0.1:5301")};
    read.dns.workers = 4;
    read.api.token = "new";
    read.dns.rrl.rate = 500;
    read.log_level = "debug";
    read.dns.identity = dns::ServerIdentity("ns9.test", "");
    auto c = config_changes(running, read);
    CHECK(has(c.restart, "listen"));
    CHECK(has(c.restart, "workers"));
    CHECK(c.restart.size() == 2);
    CHECK(has(c.live, "api.token"));
    CHECK(has(c.live, "rrl"));
    CHECK(has(c.live, "log_level"));
    CHECK(has(c.live, "identity"));
    CHECK(has(c.live, "version"));
    auto applied = config_to_apply(running, read);
    CHECK(applied.dns.listen == running.dns.listen);  // kept until a restart
    CHECK(applied.dns.workers == 2);
    CHECK(applied.api.token == "new");
    CHECK(applied.dns.rrl.rate == 500);
    CHECK(applied.dns.identity.identity() == "ns9.test");
    CHECK(applied.log_level == "debug");
}

TEST_CASE("config reload: a key named twice in the table is reported once") {
    ServerConfig running, read;
    read.api.host = "127.0.0.2";
    read.api.port = 9999;
    auto c = config_changes(running, read);
    CHECK(c.restart == std::vector<std::string>{"api.listen"});
}

TEST_CASE("config reload: every key group is either live or restart, and the table names each once") {
    auto& keys = config_keys();
    CHECK(keys.size() > 30);
    for (std::size_t i = 0; i < keys.size(); ++i)
        for (std::size_t j = i + 1; j < keys.size(); ++j) CHECK(std::string(keys[i].name) != keys[j].name);
    auto live = [&](const char* name) {
        for (auto& k : keys)
            if (std::string(k.name) == name) return k.live;
        FAIL("no key ", name);
        return false;
    };
    CHECK(live("rrl"));
    CHECK(live("secondaries"));
    CHECK(live("explain_allow"));
    CHECK(live("resolvers"));
    CHECK_FALSE(live("listen"));
    CHECK_FALSE(live("user"));
    CHECK_FALSE(live("cluster"));
}

TEST_CASE("serve config: flags win over the file, at start and at every reload") {
    auto path = write_config("zones = \"/srv/zones\"\nlisten = [\"127.0.0.1:5300\"]\nlog_level = \"warning\"\n");
    ServeFlags f;
    f.config_file = path;
    f.listen = {"127.0.0.1:5400"};
    std::vector<std::string> errors, warnings;
    auto c = compose_server_config(f, errors, warnings);
    REQUIRE(c);
    CHECK(c->zones_dir == "/srv/zones");
    CHECK(c->dns.listen.size() == 1);
    CHECK(c->dns.listen[0].port == 5400);
    CHECK(c->log_level == "warning");
    std::remove(path.c_str());
}

TEST_CASE("serve config: a broken file gives its file:line:col errors and no config") {
    auto path = write_config("zones = \"/srv/zones\"\nlisten = [\"127.0.0.1:5300\"]\nrrl = { rate = \"fast\" }\n");
    ServeFlags f;
    f.config_file = path;
    std::vector<std::string> errors, warnings;
    auto c = compose_server_config(f, errors, warnings);
    CHECK_FALSE(c);
    REQUIRE(!errors.empty());
    CHECK(errors[0].find(path + ":3:") == 0);
    std::remove(path.c_str());
}

TEST_CASE("serve config: bad flags are named") {
    ServeFlags f;
    f.zones_dir = "/srv/zones";
    f.listen = {"nonsense"};
    std::vector<std::string> errors, warnings;
    CHECK_FALSE(compose_server_config(f, errors, warnings));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("signpost serve: --listen nonsense") == 0);
}
