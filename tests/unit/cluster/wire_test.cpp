// The peer protocol's document: verdicts and the command log, and what a
// malformed answer does (the verdicts still count, bad commands are ignored).
#include <doctest/doctest.h>

#include "cluster/wire.hpp"

namespace signpost::cluster {
namespace {

TEST_CASE("wire: commands travel with the verdicts and come back equal") {
    PeerVerdicts v;
    v.instance = "ns1";
    v.by_endpoint["example.com/primary/192.0.2.10"] = {"ns1", core::HealthState::Up, false, "HTTP 200"};
    control::ReplicatedCommand o;
    o.kind = control::CommandKind::Override;
    o.target = "example.com/primary";
    o.state = core::Override::ForceDown;
    o.reason = "drill";
    o.expires_ms = 1'800'000'060'000;
    o.at_ms = 1'800'000'000'000;
    o.origin = "ns1";
    control::ReplicatedCommand d;
    d.kind = control::CommandKind::Drain;
    d.target = "example.com/primary/192.0.2.10";
    d.active = false;
    d.at_ms = 1'800'000'000'001;
    d.origin = "ns2";
    control::ReplicatedCommand r;
    r.kind = control::CommandKind::Release;
    r.target = "example.com/site";
    r.at_ms = 1'800'000'000'002;
    r.origin = "ns3";
    v.commands = {o, d, r};
    std::string error;
    auto back = decode_verdicts(encode_verdicts(v), &error);
    REQUIRE(back);
    CHECK(back->commands_error.empty());
    CHECK(back->commands == v.commands);
    CHECK(back->by_endpoint.size() == 1);
}

TEST_CASE("wire: an answer without commands (an older peer) has none") {
    std::string error;
    auto got = decode_verdicts(R"({"instance":"ns2","verdicts":[]})", &error);
    REQUIRE(got);
    CHECK(got->commands.empty());
    CHECK(got->commands_error.empty());
}

TEST_CASE("wire: malformed commands are reported, the verdicts still count") {
    std::string error;
    SUBCASE("not an array") {
        auto got = decode_verdicts(
            R"({"instance":"ns2","verdicts":[{"endpoint":"e","state":"down"}],"commands":{}})", &error);
        REQUIRE(got);
        CHECK(got->by_endpoint.size() == 1);
        CHECK(got->commands_error == "'commands' is not an array");
    }
    SUBCASE("one bad record spoils the list, nothing half applied") {
        auto got = decode_verdicts(
            R"({"instance":"ns2","verdicts":[],"commands":[
                {"kind":"override","target":"example.com/primary","state":"down","at_ms":5,"origin":"ns2"},
                {"kind":"override","target":"example.com/primary","state":"sideways","at_ms":6,"origin":"ns2"}]})",
            &error);
        REQUIRE(got);
        CHECK(got->commands.empty());
        CHECK(got->commands_error == "override state 'sideways' is not up, down or auto");
    }
    SUBCASE("each field checked") {
        using nlohmann::json;
        CHECK_FALSE(command_from_json(json::parse(R"({"kind":"reboot","target":"x","at_ms":1})"), &error));
        CHECK(error == "command kind 'reboot' is not override, drain or release");
        CHECK_FALSE(command_from_json(json::parse(R"({"kind":"drain","target":"x","at_ms":1})"), &error));
        CHECK(error == "drain of x has no boolean 'active'");
        CHECK_FALSE(command_from_json(json::parse(R"({"kind":"drain","target":"x","at_ms":"soon","active":true})"), &error));
        CHECK(error == "a command lacks 'kind', 'target' or 'at_ms'");
        CHECK_FALSE(command_from_json(json::parse(R"({"kind":"drain","target":"x","at_ms":0,"active":true})"), &error));
        CHECK(error == "command on x has no time");
        CHECK_FALSE(command_from_json(
            json::parse(R"({"kind":"override","target":"x","at_ms":1,"state":"up","expires_ms":"later"})"), &error));
        CHECK(error == "override of x: 'expires_ms' is not an integer");
    }
}

}  // namespace
}  // namespace signpost::cluster
