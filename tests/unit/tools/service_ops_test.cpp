// Operator conventions in tools/: the systemd STATUS= line, the log_format key,
// and signpost.toml(5) against the keys the server config loader accepts.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tools/server_config.hpp"
#include "tools/service_status.hpp"

using namespace signpost;

namespace {

policy::Evaluation evaluation(std::string label, bool all_down = false) {
    policy::Evaluation e;
    e.decision.label = std::move(label);
    e.decision.all_down = all_down;
    return e;
}

std::optional<tools::ServerConfig> load_text(const std::string& text, core::Diagnostics& diags, std::string& path) {
    auto dir = std::filesystem::temp_directory_path() / ("signpost-ops-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    path = (dir / "server.toml").string();
    std::ofstream(path) << text;
    auto cfg = tools::load_server_config(path, diags);
    std::filesystem::remove_all(dir);
    return cfg;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The keys signpost.toml(5) documents: `.TP` then `.B key` items under
// "TOP-LEVEL KEYS" (top-level keys) and under `.SS "[section]"` or
// `.SS "[[section]]"` (section.key); each section heading documents the section.
std::set<std::string> documented_keys(const std::string& roff) {
    std::set<std::string> keys;
    std::istringstream in(roff);
    std::string line, prev;
    std::optional<std::string> section;  // nullopt: not a section of keys
    while (std::getline(in, line)) {
        if (line.rfind(".SH", 0) == 0) {
            section = line.find("TOP-LEVEL KEYS") != std::string::npos ? std::optional<std::string>("") : std::nullopt;
        } else if (line.rfind(".SS", 0) == 0) {
            std::string name = line.substr(3);
            name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == '"' || c == '[' || c == ']' || c == ' '; }),
                       name.end());
            section = name;
            keys.insert(name);
        } else if (section && prev == ".TP" && line.rfind(".B ", 0) == 0) {
            std::string key = line.substr(3);
            keys.insert(section->empty() ? key : *section + "." + key);
        }
        prev = line;
    }
    return keys;
}

}  // namespace

TEST_CASE("systemd status: zones and services, then what is failed over or down") {
    std::vector<policy::Evaluation> evs = {evaluation("primary"), evaluation("failover:secondary"), evaluation("weighted"),
                                           evaluation("all-down", true), evaluation("subnet:eu"), evaluation("failover:b")};
    auto s = tools::summarize(true, 2, evs, false);
    CHECK(s.services == 6);
    CHECK(s.in_failover == 2);
    CHECK(s.all_down == 1);
    CHECK(tools::status_text(s) == "serving 2 zone(s), 6 service(s); 2 in failover; 1 all down");
    SUBCASE("all on their first pool") {
        std::vector<policy::Evaluation> ok = {evaluation("primary"), evaluation("weighted")};
        CHECK(tools::status_text(tools::summarize(true, 1, ok, false)) == "serving 1 zone(s), 2 service(s)");
    }
    SUBCASE("a failed reload is shown until the next good one") {
        CHECK(tools::status_text(tools::summarize(true, 2, evs, true)) ==
              "serving 2 zone(s), 6 service(s); 2 in failover; 1 all down; last reload failed, serving the previous "
              "configuration");
    }
    SUBCASE("before the first answer") {
        CHECK(tools::status_text(tools::summarize(false, 2, evs, false)) == "starting: waiting for the first probe round");
    }
}

TEST_CASE("server config: log_format is \"text\" or \"json\"") {
    core::Diagnostics diags;
    std::string path;
    auto json = load_text("log_format = \"json\"\n", diags, path);
    REQUIRE(json);
    CHECK(json->log_format == "json");
    auto dflt = load_text("log_level = \"info\"\n", diags, path);
    REQUIRE(dflt);
    CHECK(dflt->log_format == "text");
    core::Diagnostics bad;
    CHECK_FALSE(load_text("log_level = \"info\"\nlog_format = \"yaml\"\n", bad, path));
    REQUIRE(bad.items().size() == 1);
    CHECK(bad.items()[0].to_string() == path + ":2:14: error: 'log_format' must be \"text\" or \"json\", got string \"yaml\"");
}

TEST_CASE("signpost.toml(5) documents every server config key, and only those") {
    const std::string page = std::string(SIGNPOST_FIXTURES) + "/../../docs/man/signpost.toml.5";
    std::string roff = read_file(page);
    REQUIRE_MESSAGE(!roff.empty(), "cannot read " << page);
    auto documented = documented_keys(roff);
    auto keys = tools::server_config_keys();
    CHECK(keys.size() > 40);
    for (auto& k : keys) CHECK_MESSAGE(documented.count(k), "'" << k << "' is accepted but not in " << page);
    std::set<std::string> accepted(keys.begin(), keys.end());
    for (auto& k : documented) CHECK_MESSAGE(accepted.count(k), "'" << k << "' is in " << page << " but not accepted");
}
