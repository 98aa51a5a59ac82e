// The state file keeps runtime TXT records (value, TTL, set and expiry times) and
// still reads files written before they existed.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tools/state_store.hpp"

using namespace signpost;

namespace {

std::string temp_path(const char* tag) { return "/tmp/signpost-state-test-" + std::to_string(::getpid()) + "-" + tag; }

}  // namespace

TEST_CASE("state file: runtime TXT records round trip with their times") {
    auto path = temp_path("txt");
    control::PersistedState s;
    s.written_ms = 1'800'000'000'000;
    s.runtime_txt["_acme-challenge.example.com"] = {{"one", 60, 1'800'000'000'000, 1'800'003'600'000},
                                                    {"two", 120, 1'800'000'000'500, 1'800'000'600'500}};
    std::string err;
    REQUIRE(tools::save_state(path, s, &err));
    auto back = tools::load_state(path, &err);
    REQUIRE(back);
    auto& list = back->runtime_txt.at("_acme-challenge.example.com");
    REQUIRE(list.size() == 2);
    CHECK(list[1].value == "two");
    CHECK(list[1].ttl == 120);
    CHECK(list[1].set_ms == 1'800'000'000'500);
    CHECK(list[1].expires_ms == 1'800'000'600'500);
    std::remove(path.c_str());
}

TEST_CASE("state file: a file without runtime TXT records still loads") {
    auto path = temp_path("old");
    std::ofstream(path) << R"({"version": 1, "written": 5, "event_seq": 3, "endpoints": {}, "overrides": {},
                             "drains": {}, "services": {}, "serials": {"example.com": 7}, "zone_digests": {}})";
    std::string err;
    auto s = tools::load_state(path, &err);
    REQUIRE(s);
    CHECK(s->runtime_txt.empty());
    CHECK(s->serials.at("example.com") == 7);
    std::remove(path.c_str());
}
