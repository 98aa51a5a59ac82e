#include <doctest/doctest.h>

#include <map>

#include "cluster/quorum.hpp"
#include "cluster/wire.hpp"

using namespace signpost;
using cluster::Vote;
using core::HealthState;

namespace {
Vote up(const char* who) { return Vote{who, HealthState::Up, false, "HTTP 200"}; }
Vote down(const char* who) { return Vote{who, HealthState::Down, false, "HTTP 500"}; }
}  // namespace

TEST_CASE("quorum: one of three down stays up with quorum 2 and warns") {
    std::vector<Vote> v{down("ns1"), up("ns2"), up("ns3")};
    auto o = cluster::combine(v, 2);
    CHECK(o.state == HealthState::Up);
    CHECK(o.suspect);
    CHECK(o.down_votes == 1);
    CHECK(o.needed == 2);
    CHECK(o.reason == "up: down at only 1/3 vantage points, 2 needed (ns1: HTTP 500)");
}

TEST_CASE("quorum: two of three down goes down and names who saw it") {
    std::vector<Vote> v{down("ns1"), up("ns2"), down("ns3")};
    auto o = cluster::combine(v, 2);
    CHECK(o.state == HealthState::Down);
    CHECK(o.reason == "down at 2/3 vantage points (ns1: HTTP 500; ns3: HTTP 500)");
}

TEST_CASE("quorum: zero means a majority of the voters") {
    CHECK(cluster::combine(std::vector<Vote>{down("a"), up("b")}, 0).state == HealthState::Up);
    CHECK(cluster::combine(std::vector<Vote>{down("a"), down("b"), up("c")}, 0).state == HealthState::Down);
    CHECK(cluster::combine(std::vector<Vote>{down("a"), down("b"), up("c"), up("d")}, 0).state == HealthState::Up);
    CHECK(cluster::combine(std::vector<Vote>{down("a")}, 0).state == HealthState::Down);
}

TEST_CASE("quorum: capped at the voters left so a lone instance uses its own probes") {
    auto o = cluster::combine(std::vector<Vote>{down("ns1")}, 2);
    CHECK(o.needed == 1);
    CHECK(o.state == HealthState::Down);
    auto all_up = cluster::combine(std::vector<Vote>{up("ns1"), up("ns2")}, 2);
    CHECK(all_up.state == HealthState::Up);
    CHECK_FALSE(all_up.suspect);
    CHECK(all_up.reason == "HTTP 200 (up at 2/2 vantage points)");
}

TEST_CASE("quorum: a suspect vote makes the outcome suspect") {
    Vote s = up("ns2");
    s.suspect = true;
    CHECK(cluster::combine(std::vector<Vote>{up("ns1"), s}, 0).suspect);
}

TEST_CASE("assignment: every endpoint gets exactly the configured number of probers") {
    std::vector<std::string> live{"ns1", "ns2", "ns3", "ns4"};
    for (unsigned probers = 1; probers <= 4; ++probers) {
        std::map<std::string, int> load;
        for (int e = 0; e < 400; ++e) {
            std::string key = "example.com/pool/192.0.2." + std::to_string(e);
            unsigned n = 0;
            for (auto& self : live)
                if (cluster::probes_endpoint(key, self, live, probers)) {
                    ++n;
                    ++load[self];
                }
            CHECK(n == probers);
        }
        // Spread: no instance carries much more than its share.
        for (auto& [who, count] : load) CHECK(count < int(400 * probers / 4 * 1.3));
    }
}

TEST_CASE("assignment: zero probers or fewer instances than probers means everyone probes") {
    std::vector<std::string> live{"ns1", "ns2"};
    CHECK(cluster::probes_endpoint("k", "ns1", live, 0));
    CHECK(cluster::probes_endpoint("k", "ns2", live, 2));
    CHECK(cluster::probes_endpoint("k", "ns1", live, 5));
}

TEST_CASE("assignment: when an instance dies only its endpoints move") {
    std::vector<std::string> all{"ns1", "ns2", "ns3"}, without3{"ns1", "ns2"};
    int moved = 0;
    for (int e = 0; e < 300; ++e) {
        std::string key = "z/p/" + std::to_string(e);
        for (auto& self : without3) {
            bool before = cluster::probes_endpoint(key, self, all, 1);
            bool after = cluster::probes_endpoint(key, self, without3, 1);
            if (before) CHECK(after);  // nothing is taken away from survivors
            moved += !before && after;
        }
    }
    CHECK(moved > 50);   // ns3's third moved over
    CHECK(moved < 150);
}

TEST_CASE("assignment: self missing from the live list still counts as an instance") {
    std::vector<std::string> peers{"ns2", "ns3"};
    int mine = 0;
    for (int e = 0; e < 300; ++e) mine += cluster::probes_endpoint("z/p/" + std::to_string(e), "ns1", peers, 1);
    CHECK(mine > 50);
    CHECK(mine < 150);
}

TEST_CASE("stable hash: fixed values so every build agrees") {
    CHECK(cluster::stable_hash("ns1\nexample.com/a/1") != cluster::stable_hash("ns2\nexample.com/a/1"));
    CHECK(cluster::stable_hash("abc") == 0x0dd490490804b508ULL);  // FNV-1a + splitmix64, checked in Python; pinned: a change breaks mixed-version clusters
}

TEST_CASE("wire: verdicts round-trip") {
    cluster::PeerVerdicts v;
    v.instance = "ns2";
    v.by_endpoint["example.com/primary/127.0.0.10"] = Vote{"ns2", HealthState::Down, true, "timeout after 1000 ms"};
    v.by_endpoint["example.com/backup/127.0.0.11"] = Vote{"ns2", HealthState::Up, false, "HTTP 200"};
    std::string err;
    auto back = cluster::decode_verdicts(cluster::encode_verdicts(v), &err);
    REQUIRE(back);
    CHECK(back->instance == "ns2");
    REQUIRE(back->by_endpoint.size() == 2);
    auto& d = back->by_endpoint["example.com/primary/127.0.0.10"];
    CHECK(d.state == HealthState::Down);
    CHECK(d.suspect);
    CHECK(d.reason == "timeout after 1000 ms");
    CHECK(d.instance == "ns2");
}

TEST_CASE("wire: malformed answers are rejected with a reason") {
    std::string err;
    CHECK_FALSE(cluster::decode_verdicts("not json", &err));
    CHECK(err == "answer is not a JSON object");
    CHECK_FALSE(cluster::decode_verdicts(R"({"verdicts": []})", &err));
    CHECK(err == "answer has no 'instance'");
    CHECK_FALSE(cluster::decode_verdicts(R"({"instance": "a", "verdicts": {}})", &err));
    CHECK_FALSE(cluster::decode_verdicts(R"({"instance": "a", "verdicts": [{"endpoint": "k", "state": "sideways"}]})", &err));
    CHECK(err == "verdict state 'sideways' is neither up nor down");
    CHECK_FALSE(cluster::decode_verdicts(R"({"instance": "a", "verdicts": [{"state": "up"}]})", &err));
    auto ok = cluster::decode_verdicts(R"({"instance": "a", "verdicts": []})", &err);
    CHECK(ok);
}
