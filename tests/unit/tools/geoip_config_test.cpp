// The server config's geoip_databases key (the geo policy's MaxMind DB files) and
// tools/geoip_files: what a reload keeps when a file cannot be read.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "tools/config_reload.hpp"
#include "tools/geoip_files.hpp"
#include "tools/server_config.hpp"

using namespace signpost;

namespace {

struct Dir {
    std::filesystem::path path;
    Dir() {
        path = std::filesystem::temp_directory_path() / ("signpost-geoip-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
    }
    ~Dir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) {
        auto p = (path / name).string();
        std::ofstream(p) << text;
        return p;
    }
};

std::string diagnostics(const core::Diagnostics& d) {
    std::string out;
    for (auto& i : d.items()) out += i.to_string() + "\n";
    return out;
}

const std::string kCity = std::string(SIGNPOST_FIXTURES) + "/geo/test-city.mmdb";

}  // namespace

TEST_CASE("geoip config: geoip_databases is a list of paths, none empty or twice") {
    Dir d;
    core::Diagnostics diags;
    auto ok = tools::load_server_config(d.write("a.toml", "geoip_databases = [\"/x/City.mmdb\", \"/x/ASN.mmdb\"]\n"), diags);
    REQUIRE(ok);
    CHECK(ok->geoip_databases == std::vector<std::string>{"/x/City.mmdb", "/x/ASN.mmdb"});
    core::Diagnostics bad;
    auto file = d.write("b.toml", "geoip_databases = [\"/x/a.mmdb\", \"\", \"/x/a.mmdb\"]\n");
    CHECK_FALSE(tools::load_server_config(file, bad));
    auto text = diagnostics(bad);
    INFO(text);
    CHECK(text.find(file + ":1:33: error: 'geoip_databases': a path is empty; give MaxMind DB files such as \"/var/lib/GeoIP/GeoLite2-City.mmdb\"\n") != std::string::npos);
    CHECK(text.find(file + ":1:37: error: 'geoip_databases': \"/x/a.mmdb\" is listed twice") != std::string::npos);
}

TEST_CASE("geoip config: a reload applies geoip_databases without a restart") {
    tools::ServerConfig a, b;
    b.geoip_databases = {"/x/City.mmdb"};
    auto c = tools::config_changes(a, b);
    CHECK(c.live == std::vector<std::string>{"geoip_databases"});
    CHECK(c.restart.empty());
}

TEST_CASE("geoip files: a file that cannot be read keeps the databases in use, a change is noticed") {
    Dir d;
    auto db = (d.path / "City.mmdb").string();
    std::filesystem::copy_file(kCity, db);
    tools::GeoIpFiles files;
    std::string error;
    REQUIRE(files.load({db}, error));
    auto first = files.databases();
    REQUIRE(first);
    CHECK_FALSE(files.changed());
    // Replaced by something that is not a MaxMind DB (renamed in, as geoipupdate does).
    auto junk = d.write("junk", std::string(3000, 'x'));
    std::filesystem::rename(junk, db);
    CHECK(files.changed());
    CHECK_FALSE(files.load({db}, error));
    CHECK(error.rfind(db + ": cannot open the GeoIP database: ", 0) == 0);
    CHECK(files.databases() == first);  // kept
    CHECK_FALSE(files.changed());       // not retried until the file changes again
    std::filesystem::copy_file(kCity, d.path / "new.mmdb");
    std::filesystem::rename(d.path / "new.mmdb", db);
    CHECK(files.changed());
    REQUIRE(files.load({db}, error));
    CHECK(files.databases() != first);
}
