// dnssec_key_dir: read from the server config, restart-only, defaulting to the state
// file's directory; and the key loading that never lets a signed zone be served unsigned.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tools/config_reload.hpp"
#include "tools/dnssec_command.hpp"
#include "tools/server_config.hpp"
#include "zones/loader.hpp"

using namespace signpost;
using namespace signpost::tools;

namespace {

struct Dir {
    std::filesystem::path path;
    Dir() {
        char tmpl[] = "/tmp/signpost-dnssec-config-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~Dir() { std::filesystem::remove_all(path); }
};

std::optional<ServerConfig> load(const Dir& d, const std::string& text, core::Diagnostics& diags) {
    auto p = (d.path / "signpost.toml").string();
    std::ofstream(p) << text;
    return load_server_config(p, diags);
}

zones::Catalog signed_catalog() {
    auto r = zones::load_text("origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n[dnssec]\nsign = true\n",
                              "zones/example.com.toml");
    REQUIRE(r.catalog);
    return *r.catalog;
}

}  // namespace

TEST_CASE("dnssec config: dnssec_key_dir is read, and an empty one is an error") {
    Dir d;
    core::Diagnostics diags;
    auto cfg = load(d, "dnssec_key_dir = \"/var/lib/signpost/keys\"\n", diags);
    REQUIRE(cfg);
    CHECK(cfg->dnssec_key_dir == "/var/lib/signpost/keys");
    core::Diagnostics bad;
    CHECK_FALSE(load(d, "dnssec_key_dir = \"\"\n", bad));
    REQUIRE(bad.items().size() == 1);
    CHECK(bad.items()[0].to_string() == (d.path / "signpost.toml").string() +
                                            ":1:18: error: 'dnssec_key_dir' must be a directory path such as "
                                            "\"/var/lib/signpost/keys\", got string \"\"");
}

TEST_CASE("dnssec config: dnssec_key_dir needs a restart") {
    ServerConfig running, read;
    read.dnssec_key_dir = "/elsewhere";
    auto c = config_changes(running, read);
    CHECK(c.restart == std::vector<std::string>{"dnssec_key_dir"});
    CHECK(config_to_apply(running, read).dnssec_key_dir.empty());
}

TEST_CASE("dnssec config: the key directory defaults to the state file's directory") {
    ServerConfig cfg;
    CHECK(dnssec_key_dir(cfg).empty());
    cfg.state_file = "/var/lib/signpost/state.json";
    CHECK(dnssec_key_dir(cfg) == "/var/lib/signpost");
    cfg.state_file = "state.json";
    CHECK(dnssec_key_dir(cfg) == ".");
    cfg.dnssec_key_dir = "/keys";
    CHECK(dnssec_key_dir(cfg) == "/keys");
}

TEST_CASE("dnssec config: a signed zone never starts unsigned") {
    ServerConfig cfg;
    auto catalog = signed_catalog();
    const int64_t now = 1796390000;
    SUBCASE("no key directory") {
        auto r = dnssec_load_keys(catalog, cfg, now);
        CHECK_FALSE(r.keys);
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0] == "zones/example.com.toml:4:1: error: zone 'example.com' [dnssec]: sign = true needs a key "
                             "directory: set dnssec_key_dir (or state_file) in the server config");
    }
    SUBCASE("a key directory that is not there") {
        cfg.dnssec_key_dir = "/nonexistent/signpost-keys";
        auto r = dnssec_load_keys(catalog, cfg, now);
        CHECK_FALSE(r.keys);
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0] == "dnssec_key_dir /nonexistent/signpost-keys: No such file or directory; create it (mode "
                             "0700, owned by the user signpost runs as) or set dnssec_key_dir");
    }
    SUBCASE("a transferred signed zone is served signed: its keys load as for any other") {
        Dir d;
        cfg.dnssec_key_dir = d.path.string();
        xfr::Secondary sec;
        sec.zones = {"*"};
        cfg.xfr.secondaries.push_back(sec);
        auto r = dnssec_load_keys(catalog, cfg, now);
        CHECK(r.errors.empty());
        REQUIRE(r.keys);
        CHECK(r.keys->size() == 1);
    }
    SUBCASE("a good directory: a CSK is made once, then found") {
        Dir d;
        cfg.dnssec_key_dir = d.path.string();
        auto r = dnssec_load_keys(catalog, cfg, now);
        CHECK(r.errors.empty());
        REQUIRE(r.keys);
        REQUIRE(r.keys->size() == 1);
        auto& keys = r.keys->begin()->second;
        REQUIRE(keys.keys.size() == 1);
        CHECK(keys.keys[0].role == dnssec::KeyRole::Csk);
        CHECK(r.generated.size() == 1);
        auto again = dnssec_load_keys(catalog, cfg, now + 10);
        REQUIRE(again.keys);
        CHECK(again.generated.empty());
        CHECK(again.keys->begin()->second.keys[0].signer.key_tag() == keys.keys[0].signer.key_tag());
    }
    SUBCASE("a zone signed with NSEC3 loads its keys as with NSEC (it is served, no longer refused)") {
        Dir d;
        cfg.dnssec_key_dir = d.path.string();
        auto z = zones::load_text("origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n[dnssec]\nsign = "
                                  "true\ndenial = \"nsec3\"\n",
                                  "zones/example.com.toml");
        REQUIRE(z.catalog);
        REQUIRE(z.catalog->zones[0].dnssec().denial == zones::DenialKind::Nsec3);
        auto r = dnssec_load_keys(*z.catalog, cfg, now);
        CHECK(r.errors.empty());
        REQUIRE(r.keys);
        CHECK(r.keys->size() == 1);
    }
    SUBCASE("unsigned zones pass and need no directory") {
        auto r = zones::load_text("origin = \"example.com\"\n[records.\"@\"]\nNS = \"ns.example.net.\"\n", "z.toml");
        REQUIRE(r.catalog);
        auto k = dnssec_load_keys(*r.catalog, cfg, now);
        CHECK(k.errors.empty());
        REQUIRE(k.keys);
        CHECK(k.keys->empty());
    }
}
