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

TEST_CASE("state file: the operator commands' log round trips with origins and stamps") {
    auto path = temp_path("commands");
    control::PersistedState s;
    s.written_ms = 1'800'000'000'000;
    s.has_commands = true;
    s.command_clock_ms = 1'800'000'000'002;
    control::ReplicatedCommand o;
    o.kind = control::CommandKind::Override;
    o.target = "example.com/primary";
    o.state = core::Override::ForceDown;
    o.reason = "drill";
    o.expires_ms = 1'800'000'060'000;
    o.at_ms = 1'800'000'000'001;
    o.origin = "ns1";
    control::ReplicatedCommand d;
    d.kind = control::CommandKind::Drain;
    d.target = "example.com/primary/192.0.2.10";
    d.at_ms = 1'800'000'000'002;
    d.origin = "ns2";
    s.commands = {o, d};
    std::string err;
    REQUIRE(tools::save_state(path, s, &err));
    auto back = tools::load_state(path, &err);
    REQUIRE(back);
    CHECK(back->has_commands);
    CHECK(back->command_clock_ms == 1'800'000'000'002);
    CHECK(back->commands == s.commands);
    std::remove(path.c_str());
}

TEST_CASE("state file: a malformed command record is skipped, the rest of the file loads") {
    auto path = temp_path("bad-command");
    {
        std::ofstream f(path);
        f << R"({"version":1,"written":1800000000000,"overrides":{},"commands":[
                 {"kind":"override","target":"example.com/primary","state":"down","at_ms":5,"origin":"ns1"},
                 {"kind":"override","target":"example.com/primary","state":"sideways","at_ms":6,"origin":"ns1"}],
                 "command_clock":6})";
    }
    std::string err;
    auto back = tools::load_state(path, &err);
    REQUIRE(back);
    CHECK(back->has_commands);
    REQUIRE(back->commands.size() == 1);
    CHECK(back->commands[0].state == core::Override::ForceDown);
    std::remove(path.c_str());
}

TEST_CASE("state file: a file from before replicated commands has none (the core rebuilds them)") {
    auto path = temp_path("no-commands");
    {
        std::ofstream f(path);
        f << R"({"version":1,"written":1800000000000,"overrides":{"example.com/primary":{"state":"down","reason":"","set":1,"expires":null}}})";
    }
    std::string err;
    auto back = tools::load_state(path, &err);
    REQUIRE(back);
    CHECK_FALSE(back->has_commands);
    CHECK(back->overrides.size() == 1);
    std::remove(path.c_str());
}
